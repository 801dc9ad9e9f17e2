"""Thin Celery wrappers around the providers' plain functions: they take IDs, and are
safe to run twice."""

from celery import shared_task

from core.tasks import RETRY_ON_TRANSIENT_ERRORS
from providers.emails import provider_emails


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=60, time_limit=90)
def send_provider_emails(*, kind: str, request_id: int, service_ids=None, invitation_ids=None) -> int:
    return provider_emails(
        kind=kind, request_id=request_id, service_ids=service_ids, invitation_ids=invitation_ids
    )


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=120, time_limit=180)
def chase_sourcing_invitations() -> dict:
    """Chase providers that have not answered; each chase's e-mail is recorded with its
    claim (core.outbox) and sent by its own task."""
    from providers.services.chasing import invitations_chase  # it queues the task above

    result = invitations_chase()
    return {"chased": sum(len(ids) for ids in result.chased.values()),
            "no_response": result.no_response}
