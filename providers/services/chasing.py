"""Chasing providers that have not answered a sourcing request (run by a Celery task)."""

import dataclasses
import datetime
from collections import defaultdict

from django.utils import timezone

from providers.models import SourcingInvitation, SourcingRequest


@dataclasses.dataclass
class ChaseResult:
    chased: dict[int, list[int]]  # request id → invitation ids claimed for a chase
    no_response: int


def invitations_chase(*, now: datetime.datetime | None = None) -> ChaseResult:
    """Claim a chase for each provider that has not answered once half the response time
    has gone, and mark as 'no response' those whose deadline has passed. Safe to run twice
    or at once: a chase is claimed by a conditional update, so only one run e-mails it."""
    now = now or timezone.now()
    waiting = SourcingInvitation.objects.filter(
        status=SourcingInvitation.Status.SENT,
        sourcing_request__status=SourcingRequest.Status.SENT,
    )
    expired = waiting.filter(sourcing_request__response_deadline__lte=now).update(
        status=SourcingInvitation.Status.NO_RESPONSE
    )
    due = waiting.filter(
        chased_at__isnull=True, sourcing_request__response_deadline__gt=now
    ).values_list("pk", "sourcing_request_id", "sent_at", "sourcing_request__response_deadline")
    chased = defaultdict(list)
    for pk, request_id, sent_at, deadline in due:
        if now < sent_at + (deadline - sent_at) / 2:
            continue
        if SourcingInvitation.objects.filter(pk=pk, chased_at__isnull=True).update(chased_at=now):
            chased[request_id].append(pk)
    return ChaseResult(dict(chased), expired)
