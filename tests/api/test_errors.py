"""core.api.exception_handler: each domain error becomes its documented status and body.
(The HTTP tests show the same through real requests; these pin the mapping itself,
including what no request can easily provoke, like an IntegrityError.)"""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404
from rest_framework.exceptions import ValidationError

from core.api import INTEGRITY_CONFLICT, exception_handler
from core.errors import (
    ActionNotPermitted,
    Conflict,
    DomainError,
    InvalidInput,
    TransitionNotAllowed,
)

CONTEXT = {"view": None}


def test_action_not_permitted_is_403():
    response = exception_handler(ActionNotPermitted("Only the team."), CONTEXT)
    assert (response.status_code, response.data) == (403, {"detail": "Only the team."})


def test_transition_not_allowed_is_409_with_the_state_and_the_moves():
    error = TransitionNotAllowed("No.", current="draft", allowed=["submitted", "withdrawn"])
    response = exception_handler(error, CONTEXT)
    assert response.status_code == 409
    assert response.data == {
        "detail": "No.",
        "current_status": "draft",
        "allowed_transitions": ["submitted", "withdrawn"],
    }


def test_conflict_is_409_with_a_detail_only():
    response = exception_handler(Conflict("Already decided."), CONTEXT)
    assert (response.status_code, response.data) == (409, {"detail": "Already decided."})


def test_invalid_input_names_its_field():
    response = exception_handler(InvalidInput("Enter a reason.", field="reason"), CONTEXT)
    assert (response.status_code, response.data) == (400, {"reason": ["Enter a reason."]})


def test_invalid_input_without_a_field_is_a_non_field_error():
    response = exception_handler(InvalidInput("Unknown fields."), CONTEXT)
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["Unknown fields."]})


def test_a_domain_error_without_its_own_mapping_still_is_not_a_500():
    response = exception_handler(DomainError("Refused."), CONTEXT)
    assert (response.status_code, response.data) == (400, {"detail": "Refused."})


def test_integrity_error_is_409_and_does_not_repeat_the_database_message(caplog):
    error = IntegrityError('duplicate key value violates "x" DETAIL: Key (name)=(Jo Bloggs)')
    response = exception_handler(error, CONTEXT)
    assert (response.status_code, response.data) == (409, {"detail": INTEGRITY_CONFLICT})
    # The database's message can quote personal data: it stays out of the logs too.
    assert "Jo Bloggs" not in caplog.text
    assert "Integrity error answered with 409" in caplog.text


@pytest.mark.parametrize(
    ("error", "status_code"),
    [(Http404("No such referral"), 404), (PermissionDenied("No."), 403),
     (ValidationError({"reason": ["Required."]}), 400)],
)
def test_django_and_drf_errors_are_handled_as_drf_does(error, status_code):
    assert exception_handler(error, CONTEXT).status_code == status_code


def test_anything_else_is_left_to_django():
    assert exception_handler(ZeroDivisionError(), CONTEXT) is None


# --- Found by tests/api/test_fuzz.py ----------------------------------------------------


@pytest.fixture
def officer_api(as_user, personas):
    from core.roles import Role

    return as_user(personas[Role.COMMISSIONING_OFFICER])


@pytest.mark.parametrize("path", [
    "/api/v1/children/1.5/", "/api/v1/children/2.399e-242/", "/api/v1/no-such-thing/",
    "/api/v1/budget-positions/.%23a%0Ab/", "/api/v1/placements/-1.0/change-cost/",
])
def test_an_address_no_route_matches_is_a_json_404_not_djangos_html_page(officer_api, path):
    """An ID with a dot in it matched no route, so Django answered its HTML 404 page."""
    for method in ("get", "post", "patch", "delete"):
        response = getattr(officer_api, method)(path)
        assert response.status_code == 404, (method, path)
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"detail"}


def test_an_unknown_address_still_asks_for_credentials_first(anonymous):
    response = anonymous.get("/api/v1/no-such-thing/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_an_address_without_its_slash_is_still_redirected(officer_api):
    assert officer_api.get("/api/v1/children").status_code == 301


def test_a_body_that_is_not_json_is_a_400_the_schema_describes(officer_api, schema_json):
    """A malformed body answers {"detail": "JSON parse error …"}, which the documented 400
    shape (field → list of messages) did not allow."""
    response = officer_api.post("/api/v1/providers/", b"\xf3n{", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    shape = schema_json["components"]["schemas"]["FieldErrors"]
    assert shape["properties"]["detail"] == {
        "type": "string",
        "description": "Alone, when the body could not be read (e.g. malformed JSON).",
    }


def test_nested_field_errors_fit_the_documented_400_shape(officer_api, schema_json):
    """A list field's and a map's errors are keyed again, not lists of strings."""
    from jsonschema import Draft202012Validator

    response = officer_api.post("/api/v1/services/", {
        "provider": 10**30, "name": "x", "postcode": "LS1", "placement_types": ["NOPE"],
    }, format="json")
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body["placement_types"], dict)  # {"0": ["…not a valid choice."]}
    shape = dict(schema_json["components"]["schemas"]["FieldErrors"])
    Draft202012Validator(shape).validate(body)


def test_a_provider_without_an_email_address_matches_its_schema(officer_api, schema_json):
    """A provider's email may be empty; the schema said format "email", which "" is not."""
    from tests.factories import ProviderFactory

    provider = ProviderFactory(email="")
    assert officer_api.get(f"/api/v1/providers/{provider.pk}/").json()["email"] == ""
    email = schema_json["components"]["schemas"]["Provider"]["properties"]["email"]
    assert "format" not in email


def test_every_operation_documents_every_refusal_it_can_give(schema_json):
    """core.api.document_refusals: 401 and 403 everywhere, 400 with a body or query,
    404 with a path ID or a page, 409 on writes, 415 with a body. Before it, a list's
    page past the end (404), a missing token (401) and an unreadable body (415) were
    answered but not documented."""
    for path, operations in schema_json["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            params = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            expected = {"401", "403"}
            if "requestBody" in operation:
                expected |= {"400", "415"}
            if ("query", "page") in params or any(where == "path" for where, _ in params):
                expected.add("404")
            if method in ("post", "patch", "put", "delete"):
                expected |= {"400", "404", "409"}
            assert expected <= codes, (method, path, expected - codes)


@pytest.fixture
def schema_json(as_user, personas):
    from core.roles import Role

    response = as_user(personas[Role.SOCIAL_WORKER]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()
