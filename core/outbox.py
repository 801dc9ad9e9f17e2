"""Tasks that must not be lost, such as e-mails (ADR 0011): `enqueue` records the task as
a PendingTask row in the transaction of the change that asks for it, and queues a runner
once that commits. The runner claims the row, runs the task in-process and deletes the row,
all in one transaction. If the broker is down, the message lost or the worker killed, the
row stays, and the periodic sweep runs it when a worker is back. Callers record one row per
e-mail, so that one refused address neither holds up nor repeats anybody else's.

On PostgreSQL a claim skips rows another worker holds (SELECT … FOR UPDATE SKIP LOCKED), so
the runner and the sweep never run one row at once. (SQLite has no row locks; it is the
embedded default, with tasks run in the web process.) A task that has finished but whose
transaction then fails to commit runs again: delivery is at least once.

An outage (core.tasks.is_transient: the mail server, the database or the broker
unreachable) leaves the row as it was and stops the sweep, to be tried again with backoff
and at the next sweep, however long the outage lasts. Any other error, a mail server
refusing the message (for now or for good) among them, is a failure of that row only: it
is tried again at each sweep, and after MAX_FAILURES the sweep leaves it alone for an
administrator to look at (it stays in the admin, which can send it round again).

What the runner raises names the original error's class only: an SMTP refusal's message
names its recipient, and Celery logs what a task raises.
"""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from core import audit
from core.errors import ActionNotPermitted
from core.models import PendingTask
from core.roles import Role, has_role
from core.tasks import TryLater, is_transient, publish_on_commit, run_pending_task

logger = logging.getLogger(__name__)
# About an hour of sweeps: a mail server's "later" (greylisting, a full mailbox) has time to
# clear; a bug or an address refused for good is set aside soon enough.
MAX_FAILURES = 12


class TaskFailed(Exception):
    """A recorded task failed (not an outage); its text gives the error's class only."""


def enqueue(task, **kwargs) -> PendingTask:
    """Record `task` with keyword arguments (JSON: IDs and fixed words) in the caller's
    transaction, and queue its run once that commits. A rolled-back change records and
    sends nothing."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("core.outbox.enqueue must run inside the change's transaction.")
    row = PendingTask.objects.create(task=task.name, kwargs=kwargs)
    publish_on_commit(run_pending_task, pk=row.pk)
    return row


def run(pk: int) -> bool:
    """Claim the row, run its task and delete the row in one transaction; False when there
    is no row to claim (done already, or another worker holds it). An error is noted on
    the row, then raised as TryLater (an outage) or TaskFailed."""
    try:
        with transaction.atomic():
            row = PendingTask.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                return False
            # By its module path, so that no import order or autodiscovery is needed.
            import_string(row.task)(**row.kwargs)
            row.delete()
    except SoftTimeLimitExceeded:
        raise  # the runner's time is up, not the row's fault: it stays as it was
    except Exception as error:
        _note_error(pk, error)
        what = f"Pending task {pk} failed ({type(error).__name__})"
        raise (TryLater if is_transient(error) else TaskFailed)(what) from None
    return True


def _note_error(pk: int, error: Exception) -> None:
    changes = {"last_error": type(error).__name__[:100], "last_tried_at": timezone.now()}
    if not is_transient(error):
        changes["failures"] = F("failures") + 1
    try:
        PendingTask.objects.filter(pk=pk).update(**changes)
    except Exception as note_error:
        # The database is away, or the caller's transaction is broken: the row stays as it
        # was, to be swept; the task's own error is the one to raise.
        logger.warning("Could not note the error of pending task %s (%s)", pk,
                       type(note_error).__name__)


def due() -> list[int]:
    """The rows the sweep should run, oldest first."""
    return list(
        PendingTask.objects.filter(failures__lt=MAX_FAILURES).values_list("pk", flat=True)
    )


def sweep() -> int:
    """Run every due row that no other worker holds; returns how many ran. An outage (or
    the sweep's own time limit) stops it, to be retried; a row's failure is logged, by the
    error's class only, and the sweep goes on to the next row."""
    done = 0
    for pk in due():
        try:
            done += run(pk)
        except TaskFailed as failure:
            logger.error("%s; it stays pending.", failure)
    return done


@transaction.atomic
def retry(*, by, pks) -> int:
    """An administrator sends set-aside tasks round again (a person's or a provider's
    e-mail address was wrong and has been corrected, say): their failures go back to 0, so
    the next sweep runs them. Audited, one event per task; returns how many were set aside."""
    if not (by.is_superuser or has_role(by, Role.ADMINISTRATOR)):
        raise ActionNotPermitted("Only an administrator can retry pending tasks.")
    rows = list(PendingTask.objects.select_for_update()
                .filter(pk__in=pks, failures__gte=MAX_FAILURES))
    for row in rows:
        audit.record(by, "pending_task.retry", row,
                     changes={"failures": [row.failures, 0]}, reason=row.last_error)
    PendingTask.objects.filter(pk__in=[row.pk for row in rows]).update(failures=0)
    return len(rows)
