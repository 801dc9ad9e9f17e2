"""Tasks retry transient failures with exponential backoff: every task of ours carries the
policy, and a real one — the database refusing the sweep its lock because another
connection holds it — is retried once, after which the work is done and nothing is left
pending. The first attempt's failure leaves the rollups and the outbox as they were."""

import contextlib
import datetime

import pytest
from celery.signals import task_retry
from django.db import OperationalError, connection
from kombu.exceptions import OperationalError as BrokerOperationalError

from config.celery import app
from core.tasks import RETRY_ON_TRANSIENT_ERRORS
from placements import rollups
from placements.models import FinancialYear, PendingRollup
from placements.tasks import sweep_pending_rollups_task
from tests.faults.conftest import rebuild
from tests.placements.placement_changes import running_placement
from tests.placements.rollup_builders import brute_force_ledger, stored_ledger

DAY = datetime.timedelta(days=1)
OUR_APPS = ("core.", "placements.", "providers.", "panels.", "demo.")


def our_tasks() -> list:
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    return sorted((task for name, task in app.tasks.items() if name.startswith(OUR_APPS)),
                  key=lambda task: task.name)


def test_every_task_of_ours_is_found():
    names = {task.name for task in our_tasks()}
    assert {"placements.tasks.sweep_pending_rollups_task", "providers.tasks.send_provider_emails",
            "panels.tasks.schedule_next_meetings", "core.tasks.run_pending_task",
            "core.tasks.sweep_pending_tasks"} <= names


def test_beat_runs_both_sweeps_and_only_tasks_that_exist():
    names = {task.name for task in our_tasks()}
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"core.tasks.sweep_pending_tasks",
            "placements.tasks.sweep_pending_rollups_task"} <= scheduled <= names


@pytest.mark.parametrize("task", our_tasks(), ids=lambda task: task.name)
def test_every_task_retries_transient_errors_with_exponential_backoff(task):
    assert {OperationalError, BrokerOperationalError, OSError} <= set(task.autoretry_for)
    assert (task.retry_backoff, task.retry_backoff_max, task.retry_jitter, task.max_retries) == (
        2, 300, True, 5)
    assert task.soft_time_limit and task.time_limit > task.soft_time_limit


def test_the_policy_does_not_retry_mistakes():
    """A bug (ValueError, TypeError, an integrity error) would fail the same way again."""
    from django.db import IntegrityError

    for mistake in (ValueError, TypeError, KeyError, IntegrityError):
        assert not issubclass(mistake, RETRY_ON_TRANSIENT_ERRORS["autoretry_for"])


def test_a_task_does_not_retry_a_message_the_mail_server_refused(settings, role_groups):
    """A refused recipient is an OSError, but retrying sends it into the same refusal: the
    task fails at once and leaves it to the outbox, which counts it as a failure."""
    import smtplib

    from placements.tasks import send_notification
    from tests.factories import UserFactory
    from tests.mail import PICKY, PickyEmailBackend

    settings.EMAIL_BACKEND = PICKY
    PickyEmailBackend.refusals = 0
    user = UserFactory(email="bounce@example.gov.uk")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_notification.apply(kwargs={"user_ids": [user.pk], "subject": "s", "path": "/"})
    assert PickyEmailBackend.refusals == 1  # tried once, not six times


# --- one real retry --------------------------------------------------------------------------


@contextlib.contextmanager
def year_locked_by_another_connection(year: int):
    """Another database connection holds the financial year's row lock (PostgreSQL; the
    task's own lock wait gives up after 300 ms) or a write lock on its table (SQLite, where
    the task is refused at once). Yields a function that lets go."""
    holder = connection.get_new_connection(connection.get_connection_params())
    cursor = holder.cursor()
    table = FinancialYear._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(f"SELECT id FROM {table} WHERE start_year = %s FOR UPDATE", [year])
        with connection.cursor() as own:
            own.execute("SET lock_timeout = '300ms'")
    else:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(f"UPDATE {table} SET start_year = start_year WHERE start_year = ?", [year])
    try:
        yield holder.rollback
    finally:
        holder.rollback()
        holder.close()
        if connection.vendor == "postgresql":
            with connection.cursor() as own:
                own.execute("RESET lock_timeout")


@pytest.fixture
def retries():
    """(error class, countdown, pending rows at the time) of each retry of the sweep; the
    first retry lets go of the lock, so the second attempt succeeds."""
    seen, on_retry = [], []

    def record(sender=None, reason=None, **_):
        seen.append((type(reason.exc), reason.when, PendingRollup.objects.count()))
        for release in on_retry:
            release()

    task_retry.connect(record, sender=sweep_pending_rollups_task, weak=False)
    yield seen, on_retry
    task_retry.disconnect(record, sender=sweep_pending_rollups_task)


@pytest.mark.django_db(transaction=True)
def test_a_sweep_refused_its_lock_is_retried_with_backoff_and_then_does_the_work(
    years, north, today, retries
):
    placement = running_placement(team=north, days_ago=70, amount="700.00")
    rebuild(years, today=today)
    placement.costs.update(weekly_amount="910.00")  # a change whose refresh is pending
    rollups.outbox.record_pending("refresh", first_day=placement.start_date, last_day=None)
    built = stored_ledger()
    seen, on_retry = retries

    with year_locked_by_another_connection(years[-1]) as release:
        on_retry.append(release)
        # throw=False: Celery handles the failure as a worker does (retry), rather than
        # raising it to the caller as the test settings' eager mode otherwise would.
        result = sweep_pending_rollups_task.apply(throw=False)

    [(error, countdown, pending_then)] = seen
    assert error is OperationalError
    assert 0 <= countdown <= 2  # the first backoff: up to 2 s, drawn at random (jitter)
    assert pending_then == 1  # the failed attempt kept its work pending
    assert result.get() == 1
    assert not PendingRollup.objects.exists()
    assert stored_ledger() == brute_force_ledger(today=today) != built
