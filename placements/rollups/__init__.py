"""The weekly cost ledger and budget positions: derived tables, rebuilt set-based in SQL
(ADR 0009). Writers in `refresh`, reads in `selectors`, the SQL in `sql`."""

import datetime

from django.db import transaction

from core.errors import ActionNotPermitted
from core.roles import Role, has_role
from placements.rollups.progress import rebuild_progress, record_progress
from placements.rollups.refresh import (
    rebuild_financial_year,
    refresh_days,
    snapshot_positions,
    weekly_rollup,
)
from placements.rollups.selectors import (
    LinePosition,
    TrendWeek,
    budget_positions,
    ledger_rows,
    outturn_trend,
)

__all__ = [
    "LinePosition",
    "TrendWeek",
    "budget_positions",
    "enqueue_positions",
    "enqueue_rebuild",
    "enqueue_refresh",
    "ledger_rows",
    "outturn_trend",
    "rebuild_financial_year",
    "rebuild_progress",
    "refresh_days",
    "rollup_rebuild_start",
    "snapshot_positions",
    "weekly_rollup",
]


def enqueue_refresh(*, first_day: datetime.date, last_day: datetime.date | None) -> None:
    """Once the change is committed, queue the refresh of the ledger weeks and budget
    positions touched by a change between first_day and last_day (inclusive; None: open
    ended). A rolled-back change queues nothing; a broker failure is logged, not raised
    (the Monday rollup catches the year up)."""
    from placements.tasks import refresh_ledger_task  # tasks import this module

    first = first_day.isoformat()
    last = last_day.isoformat() if last_day else None
    transaction.on_commit(
        lambda: refresh_ledger_task.delay(first_day=first, last_day=last), robust=True
    )


def enqueue_positions(*, financial_year: int) -> None:
    """Once committed, retake the year's current budget positions (after a budget amount
    changes: the ledger is unaffected)."""
    from placements.tasks import snapshot_positions_task

    transaction.on_commit(
        lambda: snapshot_positions_task.delay(year=financial_year), robust=True
    )


def enqueue_rebuild(*, financial_year: int) -> None:
    """Once committed, rebuild the year's ledger and positions (after its budget lines or
    their rules change, which moves placements between lines in every week)."""
    from placements.tasks import rebuild_financial_year_task

    record_progress(financial_year, state="queued")
    transaction.on_commit(
        lambda: rebuild_financial_year_task.delay(year=financial_year), robust=True
    )


def rollup_rebuild_start(*, year: int, by) -> None:
    """The dashboard's rebuild button: queue a rebuild of a financial year's rollups
    (finance managers and administrators); read its progress with rebuild_progress(year)."""
    if not has_role(by, Role.FINANCE_MANAGER, Role.ADMINISTRATOR):
        raise ActionNotPermitted(
            "Only a finance manager or an administrator can rebuild the rollups."
        )
    enqueue_rebuild(financial_year=year)
