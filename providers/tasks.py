"""Thin Celery wrappers around the providers' plain functions: they take IDs, and are
safe to run twice."""

import logging

from celery import shared_task

from core.tasks import RETRY_ON_TRANSIENT_ERRORS
from providers.emails import provider_emails
from providers.services.chasing import invitations_chase

logger = logging.getLogger(__name__)


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=60, time_limit=90)
def send_provider_emails(*, kind: str, request_id: int, service_ids=None, invitation_ids=None) -> int:
    return provider_emails(
        kind=kind, request_id=request_id, service_ids=service_ids, invitation_ids=invitation_ids
    )


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=120, time_limit=180)
def chase_sourcing_invitations() -> dict:
    """Chase providers that have not answered; each chase is e-mailed by its own task."""
    result = invitations_chase()
    for request_id, invitation_ids in result.chased.items():
        try:
            send_provider_emails.delay(
                kind="chase", request_id=request_id, invitation_ids=invitation_ids
            )
        except Exception:
            # Run in-process (no broker), one request's failed e-mail must not stop the
            # chases of the others, which are already claimed.
            logger.exception("Chase e-mails for sourcing request %s failed", request_id)
    return {"chased": sum(len(ids) for ids in result.chased.values()),
            "no_response": result.no_response}
