"""What the sourcing-request and quote endpoints share: the documented error responses,
ID fields that refuse out-of-range numbers, reading a request body, and locking a sourcing
request's referral before the referral's services act on it."""

import contextlib

from django.db import transaction
from rest_framework import serializers

from core.api import error_responses
from core.errors import Conflict, TransitionNotAllowed
from placements.access import referrals_visible_to, sourcing_requests_visible_to
from placements.models import Referral, ReferralSourcingRequest
from placements.services import sourcing as journey
from providers.models import SourcingRequest

LIST_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
CREATE_ERRORS = error_responses(400, 403, 409)
# Primary keys are 64-bit (BigAutoField): a larger number is refused as input (400), never
# handed to the database.
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must be a whole number in range (1.5, 1e30 and "x" are 400)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", id_field())
        super().__init__(**kwargs)


class VisibleReferralField(IdRelatedField):
    """A referral ID the user may see; any other ID is refused as if it did not exist
    (as placements.api.VisibleChildField does)."""

    def get_queryset(self):
        return referrals_visible_to(self.context["request"].user)


class VisibleSourcingRequestField(IdRelatedField):
    def get_queryset(self):
        return sourcing_requests_visible_to(self.context["request"].user)


def validated(serializer_class, request, **kwargs) -> dict:
    """The request body checked by `serializer_class` (400 when it is wrong)."""
    body = serializer_class(data=request.data, **kwargs)
    body.is_valid(raise_exception=True)
    return body.validated_data


# --- Acting on the referral -------------------------------------------------------------


def _lock_referral_of(sourcing_request: SourcingRequest) -> Referral:
    """The request's referral, locked (the lock order is referral, then request), after
    checking that this request is the one the referral's services will act on: the
    placements services act on the referral's *open* request, which for an old, closed
    request is another one. Call inside a transaction."""
    link = (
        ReferralSourcingRequest.objects.filter(sourcing_request=sourcing_request)
        .only("referral_id")
        .first()
    )
    if link is None:
        raise Conflict(f"Sourcing request {sourcing_request.reference} has no referral.")
    referral = Referral.objects.select_for_update().get(pk=link.referral_id)
    current = journey.open_request_link(referral)
    if current is not None and current.sourcing_request_id != sourcing_request.pk:
        fresh = SourcingRequest.objects.get(pk=sourcing_request.pk)
        raise TransitionNotAllowed(
            f"Sourcing request {fresh.reference} is '{fresh.get_status_display()}'; the "
            f"referral's open request is {current.sourcing_request.reference}.",
            current=fresh.status, allowed=[],
        )
    return referral


@contextlib.contextmanager
def referral_locked_for(sourcing_request: SourcingRequest):
    """A transaction holding the request's referral locked (see _lock_referral_of), for
    the placements services, which act on the referral."""
    with transaction.atomic():
        yield _lock_referral_of(sourcing_request)
