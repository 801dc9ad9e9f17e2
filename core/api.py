"""What every API endpoint shares: the one exception handler that turns the services'
domain errors into status codes, and the error shapes the OpenAPI schema documents.

The services refuse with core.errors; pages show those as messages and the API answers
with a status code, so a client can tell "you may not" (403) from "not now" (409) from
"not like that" (400). Nothing a service raises on purpose becomes a 500.
"""

import logging

from django.db import IntegrityError
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import (
    ActionNotPermitted,
    Conflict,
    DomainError,
    InvalidInput,
    TransitionNotAllowed,
)

logger = logging.getLogger(__name__)

INTEGRITY_CONFLICT = (
    "The change clashes with a change someone else made at the same time. "
    "Reload and try again."
)


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: domain errors and database integrity errors
    first, then DRF's own handling (validation, authentication, Http404, PermissionDenied)."""
    if isinstance(exc, DomainError):
        set_rollback()
        return _domain_error_response(exc)
    if isinstance(exc, IntegrityError):
        # A database constraint caught what the service's checks did not (usually two
        # requests racing). The database's message can quote column values, which may be
        # personal data, so log only where it happened and the constraint's name.
        set_rollback()
        logger.warning(
            "Integrity error answered with 409 in %s (constraint %s)",
            type(context.get("view")).__name__,
            constraint_name(exc),
        )
        return Response({"detail": INTEGRITY_CONFLICT}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)


def _domain_error_response(error: DomainError) -> Response:
    if isinstance(error, ActionNotPermitted):
        return Response({"detail": error.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(error, TransitionNotAllowed):
        body = {
            "detail": error.message,
            "current_status": error.current,
            "allowed_transitions": list(error.allowed),
        }
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(error, InvalidInput):
        field = error.field or api_settings.NON_FIELD_ERRORS_KEY
        return Response({field: [error.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, Conflict):
        return Response({"detail": error.message}, status=status.HTTP_409_CONFLICT)
    # A DomainError subclass added later without a mapping still refused the action and
    # changed nothing: say so rather than fail with a 500.
    return Response({"detail": error.message}, status=status.HTTP_400_BAD_REQUEST)


def constraint_name(exc: IntegrityError) -> str:
    """The violated constraint's name, for the logs: psycopg exposes it; SQLite does not."""
    diagnostics = getattr(exc.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) or "unknown"


# --- Error shapes, for the OpenAPI schema -----------------------------------------------


# These shapes are for the schema only; the handler above writes the bodies. Their
# docstrings become the schema's descriptions.


class ErrorSerializer(serializers.Serializer):
    """Why the request was refused."""

    detail = serializers.CharField()


class ConflictErrorSerializer(serializers.Serializer):
    """Why the object cannot change now: its state does not allow the move, or someone
    changed it first."""

    detail = serializers.CharField()
    current_status = serializers.CharField(
        required=False,
        help_text="Present when the object's state refused the move: the state it is in.",
    )
    allowed_transitions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Present with current_status: the states the object may move to from here.",
    )


class FieldErrorsSerializer(serializers.Serializer):
    """Messages for each field that was refused (schema from FieldErrorsSchema)."""


class FieldErrorsSchema(OpenApiSerializerExtension):
    """A 400 body is keyed by field name, which no fixed serializer can describe. A field's
    errors are a list of messages; a nested object's or a map's are keyed again (by field,
    by key, or by a list item's position); a list of objects has one entry per item. A body
    that could not be read at all (malformed JSON) has only `detail`."""

    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "Messages for each field that was refused, or under "
            f"'{api_settings.NON_FIELD_ERRORS_KEY}' for the request as a whole.",
            "properties": {
                "detail": {
                    "type": "string",
                    "description": "Alone, when the body could not be read (e.g. malformed JSON).",
                },
            },
            "additionalProperties": {
                "oneOf": [
                    {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}},
                    {"type": "object", "description": "Errors of a nested object or a map."},
                ],
            },
        }


ERROR_RESPONSES = {
    400: OpenApiResponse(FieldErrorsSerializer, description="The data was refused."),
    401: OpenApiResponse(
        ErrorSerializer,
        description="No valid credentials: send `Authorization: Token <key>` (or sign in).",
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="The user's role or team does not allow this.",
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such object, or the user may not see it (for a list: no such page).",
    ),
    409: OpenApiResponse(
        ConflictErrorSerializer,
        description="The object's state does not allow this now, or someone changed it first.",
    ),
    415: OpenApiResponse(
        ErrorSerializer,
        description="The body is not JSON, a form or multipart form data, or cannot be read "
        "as the type it claims.",
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses for an operation, e.g. error_responses(400, 403)."""
    return {code: ERROR_RESPONSES[code] for code in codes}


# --- Every operation documents every refusal it can give ------------------------------

WRITE_METHODS = {"post", "put", "patch", "delete"}


def refusals_of(method: str, operation: dict) -> list[int]:
    """The error codes an operation can answer with, whatever its view declared:

    401 and 403 anywhere (no token; a role that may not); 400 where it reads a body or
    query parameters (a list's filters and page included); 404 where it names an object
    in its path, and for a list, a page past the end; 409 on every write, since a
    database constraint can refuse any write that raced another; 415 where it reads a
    body (one it cannot parse as the content type claimed)."""
    parameters = operation.get("parameters", [])
    codes = [401, 403]
    if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
        codes.append(400)
    if any(p["in"] == "path" or p["name"] == "page" for p in parameters):
        codes.append(404)
    if method in WRITE_METHODS:
        codes += [400, 404, 409]
    if "requestBody" in operation:
        codes.append(415)
    return sorted(set(codes))


def document_refusals(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: add the shared error responses an
    operation can give but its view did not list, so that no endpoint can leave one out
    (tests/api/test_fuzz.py calls every operation and checks each answer is documented)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in refusals_of(method, operation):
                if str(code) not in operation["responses"]:
                    operation["responses"][str(code)] = _error_response(code, schemas)
    return result


def _error_response(code: int, schemas: dict) -> dict:
    documented = ERROR_RESPONSES[code]
    name = documented.response.__name__.removesuffix("Serializer")
    if name not in schemas:
        # Every error shape is used by some view's own error_responses(...); one missing
        # means that changed, and a dangling $ref would make the schema invalid.
        raise LookupError(f"The {name} error shape is not in the schema's components.")
    return {
        "description": documented.description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


# Every state-changing action on an existing object can answer all four.
ACTION_ERRORS = error_responses(400, 403, 404, 409)


# --- Addresses no route matches --------------------------------------------------------


class UnknownEndpoint(APIView):
    """The last route under /api/v1/: an address no other route matches (an unknown
    resource, or an ID that is not a number, like /api/v1/children/1.5/) answers a JSON
    404, as every other API refusal does, rather than Django's HTML page. Signing in is
    still required first, so the answer says nothing about which addresses exist."""

    schema = None  # not an operation of the API

    def refuse(self, request, *args, **kwargs):
        raise NotFound("No such address in the API.")

    get = post = put = patch = delete = refuse


# --- Choice fields named after their code list ----------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as one enum component named after its code list, e.g.
    ReferralStatusEnum for a referral's status and its timeline's from/to states.

    drf-spectacular otherwise names enums after field names, and warns when one code list
    sits under several names (suitability_foster, suitability_residential, …) or one name
    carries several lists (a referral's, a meeting's and an approval's status)."""

    def __init__(self, choices_class, **kwargs):
        self.choices_class = choices_class
        super().__init__(choices=choices_class.choices, **kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        choices_class = self.target.choices_class
        lines = "\n".join(f"* `{choice.value}` - {choice.label}" for choice in choices_class)
        component = ResolvedComponent(
            name=f"{choices_class.__name__}Enum",
            type=ResolvedComponent.SCHEMA,
            object=choices_class,
            schema={"type": "string", "enum": list(choices_class.values), "description": lines},
        )
        auto_schema.registry.register_on_missing(component)
        if self.target.allow_blank:
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


# --- Request shapes several endpoints share ---------------------------------------------


class ReasonSerializer(serializers.Serializer):
    """Why: required (returning, withdrawing, refusing)."""

    reason = serializers.CharField()


class OptionalReasonSerializer(serializers.Serializer):
    """Why, if the user wants to say (endorsing, approving)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")
