"""Thin Celery wrappers: each takes IDs and calls a plain function."""

import datetime

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.utils import timezone

from core.tasks import RETRY_ON_TRANSIENT_ERRORS
from placements import rollups
from placements.rollups import outbox
from providers.reference import financial_year_start


def send_notification_emails(*, user_ids: list[int], subject: str, path: str) -> int:
    addresses = (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    body = f"{subject}.\n\nOpen it in Find a placement: {settings.SITE_URL}{path}\n"
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
    return send_mass_mail(messages, fail_silently=False)


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=60, time_limit=90)
def send_notification(*, user_ids: list[int], subject: str, path: str) -> int:
    return send_notification_emails(user_ids=user_ids, subject=subject, path=path)


# The rollup tasks do their work through the outbox (placements.rollups.outbox): each
# settles the pending rows it did, in the transaction that did the work.


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=10 * 60, time_limit=12 * 60)
def refresh_ledger_task(*, first_day: str, last_day: str | None) -> None:
    """Refresh the ledger weeks and budget positions touched by a change (ISO dates)."""
    outbox.run_refresh(
        first_day=datetime.date.fromisoformat(first_day),
        last_day=datetime.date.fromisoformat(last_day) if last_day else None,
    )


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=25 * 60, time_limit=30 * 60)
def rebuild_financial_year_task(*, year: int) -> bool:
    """Rebuild a financial year's ledger and weekly budget positions."""
    return outbox.run_rebuild(year=year)


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=10 * 60, time_limit=12 * 60)
def weekly_rollup_task() -> None:
    """Monday: bring the ledger up to date and take this week's budget positions."""
    rollups.weekly_rollup()


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=5 * 60, time_limit=6 * 60)
def snapshot_positions_task(*, year: int | None = None) -> None:
    """Take this week's budget positions for a year (default: the current one)."""
    outbox.run_positions(year=year or financial_year_start(timezone.localdate()))


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=25 * 60, time_limit=30 * 60)
def sweep_pending_rollups_task() -> int:
    """Beat, every few minutes: do the rollup work that committed changes recorded and no
    worker has done (the broker was down, a message was lost, a worker was killed)."""
    return rollups.sweep_pending()
