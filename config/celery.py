"""The Celery app. Tasks live in each app's tasks.py as thin wrappers around plain functions."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("placements")
# Every CELERY_* Django setting configures Celery (broker, eager mode, time limits).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)
# Static schedule, edited in code review rather than in a database. Times are in the
# council's time zone (CELERY_TIMEZONE).
app.conf.beat_schedule = {
    # Each panel's next meeting, a week ahead, with endorsed referrals and due reviews.
    "schedule-next-panel-meetings": {
        "task": "panels.tasks.schedule_next_meetings",
        "schedule": crontab(hour=7, minute=0),
    },
    # Chase providers who have not answered a sourcing request; mark them after the deadline.
    "chase-sourcing-invitations": {
        "task": "providers.tasks.chase_sourcing_invitations",
        "schedule": crontab(minute="*/15"),
    },
    # Monday 06:00: bring the weekly cost ledger up to date and snapshot budget positions.
    "weekly-cost-rollup": {
        "task": "placements.tasks.weekly_rollup_task",
        "schedule": crontab(hour=6, minute=0, day_of_week="mon"),
    },
}
app.autodiscover_tasks()
