"""Chasing providers that have not answered a sourcing request (run by a Celery task).

The system, not a person, makes these changes: each is audited with no actor, one event
per invitation changed, in the same transaction as the change."""

import dataclasses
import datetime
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from core import audit, outbox
from providers.models import SourcingInvitation, SourcingRequest
from providers.services import audit_child
from providers.tasks import send_provider_emails

INV = SourcingInvitation.Status


@dataclasses.dataclass
class ChaseResult:
    chased: dict[int, list[int]]  # request id → invitation ids claimed for a chase
    no_response: int


def invitations_chase(*, now: datetime.datetime | None = None) -> ChaseResult:
    """Claim a chase for each provider that has not answered once half the response time
    has gone, and mark as 'no response' those whose deadline has passed. Safe to run twice
    or at once: each change is a conditional update, so only one run makes it (and audits
    it), and only one run e-mails a chase."""
    now = now or timezone.now()
    waiting = SourcingInvitation.objects.filter(
        status=INV.SENT, sourcing_request__status=SourcingRequest.Status.SENT
    )
    expired = waiting.filter(sourcing_request__response_deadline__lte=now).values_list(
        "pk", "sourcing_request_id"
    )
    no_response = sum(_mark_no_response(pk, request_id) for pk, request_id in list(expired))
    due = waiting.filter(
        chased_at__isnull=True, sourcing_request__response_deadline__gt=now
    ).values_list("pk", "sourcing_request_id", "sent_at", "sourcing_request__response_deadline")
    chased = defaultdict(list)
    for pk, request_id, sent_at, deadline in due:
        if now < sent_at + (deadline - sent_at) / 2:
            continue
        if _claim_chase(pk, request_id, now=now):
            chased[request_id].append(pk)
    return ChaseResult(dict(chased), no_response)


@transaction.atomic
def _mark_no_response(pk: int, request_id: int) -> bool:
    if not SourcingInvitation.objects.filter(pk=pk, status=INV.SENT).update(
        status=INV.NO_RESPONSE
    ):
        return False  # answered, or marked by another run, since it was read
    _record("invitation.no_response", pk, request_id,
            changes={"status": [INV.SENT, INV.NO_RESPONSE]},
            reason="No answer by the response deadline.")
    return True


@transaction.atomic
def _claim_chase(pk: int, request_id: int, *, now: datetime.datetime) -> bool:
    if not SourcingInvitation.objects.filter(pk=pk, chased_at__isnull=True).update(chased_at=now):
        return False
    _record("invitation.chase", pk, request_id, changes={"chased_at": [None, now]},
            reason="No answer at half the response time.")
    outbox.enqueue(send_provider_emails, kind="chase", request_id=request_id, invitation_ids=[pk])
    return True


def _record(action: str, pk: int, request_id: int, *, changes: dict, reason: str) -> None:
    # The invitation is named, not read again: the event needs only its type and id.
    invitation = SourcingInvitation(pk=pk, sourcing_request_id=request_id)
    audit.record(audit.SYSTEM, action, invitation, changes=changes, reason=reason,
                 child=audit_child.child_of_request(request_id))
