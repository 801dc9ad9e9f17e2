"""The Celery app. Tasks live in each app's tasks.py as thin wrappers around plain functions."""

import os

from celery import Celery

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
# Static schedule, edited in code review rather than in a database. Later issues add the
# weekly rollups (Monday 06:00 Europe/London) and the panel-meeting builder here.
app.conf.beat_schedule = {}
app.autodiscover_tasks()
