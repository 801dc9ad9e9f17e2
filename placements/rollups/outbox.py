"""The rollups' outbox: rollup work is recorded as a PendingRollup row in the
transaction of the change that needs it, and a task is queued once that commits. The
task does the work and deletes the rows it claimed in one transaction, so the row goes
exactly when the work is done; if the broker is down, the message lost or the worker
killed, the row stays and the periodic sweep does the work when a worker is back.

Claims skip rows another worker holds (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL), so
two workers never do one row's work at once; rows with the same work are done once.
The work itself is idempotent, so doing it again (a task and the sweep racing) is safe.
"""

import datetime
import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction

from core.tasks import TRANSIENT_ERRORS
from placements.models import PendingRollup
from placements.rollups.refresh import rebuild_financial_year, refresh_days, snapshot_positions

K = PendingRollup.Kind
T = TypeVar("T")
logger = logging.getLogger(__name__)


def record_pending(
    kind: str, *, first_day: datetime.date | None = None, last_day: datetime.date | None = None,
    financial_year: int | None = None,
) -> None:
    """Record work to do, in the caller's transaction (a rolled-back change records none)."""
    PendingRollup.objects.create(
        kind=kind, first_day=first_day, last_day=last_day, financial_year=financial_year
    )


def _key(kind: str, first_day, last_day, financial_year) -> dict:
    if kind == K.REFRESH:
        return {"kind": kind, "first_day": first_day, "last_day": last_day}
    return {"kind": kind, "financial_year": financial_year}


def _work(kind: str, first_day, last_day, financial_year) -> Callable:
    if kind == K.REFRESH:
        return lambda: refresh_days(first_day=first_day, last_day=last_day)
    if kind == K.POSITIONS:
        return lambda: snapshot_positions(year=financial_year)
    return lambda: rebuild_financial_year(year=financial_year)


def _run(key: dict, work: Callable[[], T], *, only_if_claimed: bool) -> tuple[bool, T | None]:
    """Claim the pending rows with this key, do the work and delete them, in one
    transaction: a failure leaves both the rollups and the rows as they were."""
    with transaction.atomic():
        claimed = list(
            PendingRollup.objects.select_for_update(skip_locked=True)
            .filter(**key).values_list("pk", flat=True)
        )
        if only_if_claimed and not claimed:
            return False, None
        result = work()
        PendingRollup.objects.filter(pk__in=claimed).delete()
    return True, result


def run_refresh(*, first_day: datetime.date, last_day: datetime.date | None) -> None:
    """The refresh task's work: refresh the days, and settle the rows that asked for it.
    It runs even with no row to claim (a message sent before the outbox, or run by hand)."""
    key = _key(K.REFRESH, first_day, last_day, None)
    _run(key, _work(K.REFRESH, first_day, last_day, None), only_if_claimed=False)


def run_positions(*, year: int) -> None:
    key = _key(K.POSITIONS, None, None, year)
    _run(key, _work(K.POSITIONS, None, None, year), only_if_claimed=False)


def run_rebuild(*, year: int) -> bool:
    """Rebuild a year; False when it does not exist (its pending rows are settled too)."""
    key = _key(K.REBUILD, None, None, year)
    return _run(key, _work(K.REBUILD, None, None, year), only_if_claimed=False)[1]


def pending_keys() -> list[tuple]:
    """The distinct pieces of pending work, oldest first: (kind, first_day, last_day, year)."""
    rows = PendingRollup.objects.order_by("pk").values_list(
        "kind", "first_day", "last_day", "financial_year"
    )
    return list(dict.fromkeys(rows))


def sweep_pending() -> int:
    """Do every piece of pending work that no other worker holds; returns how many were
    done. A transient error stops the sweep (its task retries it with backoff); any other
    failure is logged and the sweep goes on, leaving that work pending."""
    done = 0
    for kind, first_day, last_day, year in pending_keys():
        key, work = _key(kind, first_day, last_day, year), _work(kind, first_day, last_day, year)
        try:
            ran, _ = _run(key, work, only_if_claimed=True)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            logger.error("Pending rollup work (%s) failed: %s; it stays pending.",
                         kind, type(error).__name__)
            continue
        done += ran
    return done

