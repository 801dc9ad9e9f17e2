"""Tasks that must not be lost, such as e-mails (ADR 0011): `enqueue` records the task as
a PendingTask row in the transaction of the change that asks for it, and queues a runner
once that commits. The runner claims the row, runs the task in-process and deletes the row,
all in one transaction. If the broker is down, the message lost or the worker killed, the
row stays, and the periodic sweep runs it when a worker is back.

A claim skips rows another worker holds (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL),
so the runner and the sweep never run one row at once. A task that has finished but whose
transaction then fails to commit runs again: delivery is at least once.

A transient error (core.tasks.is_transient: the mail server, the database or the broker
unreachable, or a mail server saying "later") leaves the row as it was, to be retried with
backoff and swept again, however long the outage. Any other error is a failure, a
recipient the mail server refuses among them: after MAX_FAILURES of them the sweep leaves
the row alone for an administrator to look at (it stays in the admin), and a failing row
never holds up the rows behind it.
"""

import logging

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.errors import ActionNotPermitted
from core.models import PendingTask
from core.roles import Role, has_role
from core.tasks import is_transient, publish_on_commit, run_pending_task

logger = logging.getLogger(__name__)
MAX_FAILURES = 5


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
    is no row to claim (done already, or another worker holds it). Errors propagate, after
    the row records them."""
    try:
        with transaction.atomic():
            row = PendingTask.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                return False
            current_app.tasks[row.task](**row.kwargs)
            row.delete()
    except Exception as error:
        _note_error(pk, error)
        raise
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
    """Run every due row that no other worker holds; returns how many ran. A transient
    error stops the sweep (its task retries with backoff); any other failure is logged
    with the error's class only, and the sweep goes on."""
    done = 0
    for pk in due():
        try:
            done += run(pk)
        except Exception as error:
            if is_transient(error):
                raise
            logger.error("Pending task %s failed (%s); it stays pending.", pk, type(error).__name__)
    return done


@transaction.atomic
def retry(*, by, pks) -> int:
    """An administrator sends set-aside tasks round again (the mail server's address was
    wrong, say, and is now mended): their failures go back to 0, so the next sweep runs
    them. Audited, one event per task; returns how many were set aside."""
    if not (by.is_superuser or has_role(by, Role.ADMINISTRATOR)):
        raise ActionNotPermitted("Only an administrator can retry pending tasks.")
    rows = list(PendingTask.objects.select_for_update()
                .filter(pk__in=pks, failures__gte=MAX_FAILURES))
    for row in rows:
        audit.record(by, "pending_task.retry", row,
                     changes={"failures": [row.failures, 0]}, reason=row.last_error)
    PendingTask.objects.filter(pk__in=[row.pk for row in rows]).update(failures=0)
    return len(rows)
