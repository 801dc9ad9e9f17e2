"""Thin Celery wrappers around panels' plain functions."""

import datetime

from celery import shared_task
from django.utils import timezone

from core.tasks import RETRY_ON_TRANSIENT_ERRORS
from panels.services import meetings_schedule_all


@shared_task(**RETRY_ON_TRANSIENT_ERRORS, soft_time_limit=300, time_limit=360)
def schedule_next_meetings(today: str | None = None) -> int:
    """Create each panel's next meeting a week ahead and list its agenda. `today` is an
    ISO date for reruns; default is today in the council's time zone."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    return len(meetings_schedule_all(today=day))
