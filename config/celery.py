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
    # A worker that loses the broker keeps trying to reconnect until it is back (the
    # default gives up after 100 attempts), so queued work runs when Redis returns.
    broker_connection_max_retries=None,
    # Publishing happens inside web requests (on commit): with the broker down it must
    # fail fast, not hang. A refused connection fails in well under a second; a broker
    # that accepts but does not answer, after the socket timeout, once per attempt.
    # The rollups' work is also in the database's outbox, which the sweep below drains.
    broker_connection_timeout=2,
    broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 2},
    task_publish_retry_policy={
        "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
    },
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
    # Rollup work that committed changes recorded and no worker has done yet (the broker
    # was down, or a worker died mid-task): done within minutes of a worker being back.
    "sweep-pending-rollups": {
        "task": "placements.tasks.sweep_pending_rollups_task",
        "schedule": crontab(minute="*/5"),
    },
    # Tasks that committed changes recorded and no worker has run, such as e-mails to
    # staff and providers (core.outbox): sent within minutes of a worker being back.
    "sweep-pending-tasks": {
        "task": "core.tasks.sweep_pending_tasks",
        "schedule": crontab(minute="*/5"),
    },
    # 02:30: forget sign-in records older than SIGN_IN_LOG_DAYS.
    "trim-sign-in-logs": {
        "task": "core.tasks.trim_sign_in_logs",
        "schedule": crontab(hour=2, minute=30),
    },
    # Monday 06:00: bring the weekly cost ledger up to date and snapshot budget positions.
    "weekly-cost-rollup": {
        "task": "placements.tasks.weekly_rollup_task",
        "schedule": crontab(hour=6, minute=0, day_of_week="mon"),
    },
}
app.autodiscover_tasks()
