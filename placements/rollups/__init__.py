"""The weekly cost ledger and budget positions: derived tables, rebuilt set-based in SQL
(ADR 0009). Writers in `refresh`, reads in `selectors`, the SQL in `sql`."""

import datetime

from core.errors import ActionNotPermitted
from core.roles import Role, has_role
from core.tasks import publish_on_commit
from placements.models import PendingRollup
from placements.rollups import outbox
from placements.rollups.outbox import sweep_pending
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
    "sweep_pending",
    "weekly_rollup",
]


def enqueue_refresh(*, first_day: datetime.date, last_day: datetime.date | None) -> None:
    """Refresh the ledger weeks and budget positions touched by a change between first_day
    and last_day (inclusive; None: open ended): recorded in the change's transaction (the
    outbox), then queued once it commits. A rolled-back change records and queues nothing;
    a broker failure is logged, not raised, and the sweep does the work later."""
    from placements.tasks import refresh_ledger_task  # tasks import this module

    outbox.record_pending(PendingRollup.Kind.REFRESH, first_day=first_day, last_day=last_day)
    publish_on_commit(
        refresh_ledger_task,
        first_day=first_day.isoformat(), last_day=last_day.isoformat() if last_day else None,
    )


def enqueue_positions(*, financial_year: int) -> None:
    """Retake the year's current budget positions once committed (after a budget amount
    changes: the ledger is unaffected)."""
    from placements.tasks import snapshot_positions_task

    outbox.record_pending(PendingRollup.Kind.POSITIONS, financial_year=financial_year)
    publish_on_commit(snapshot_positions_task, year=financial_year)


def enqueue_rebuild(*, financial_year: int) -> None:
    """Rebuild the year's ledger and positions once committed (after its budget lines or
    their rules change, which moves placements between lines in every week)."""
    from placements.tasks import rebuild_financial_year_task

    outbox.record_pending(PendingRollup.Kind.REBUILD, financial_year=financial_year)
    record_progress(financial_year, state="queued")
    publish_on_commit(rebuild_financial_year_task, year=financial_year)


def rollup_rebuild_start(*, year: int, by) -> None:
    """The dashboard's rebuild button: queue a rebuild of a financial year's rollups
    (finance managers and administrators); read its progress with rebuild_progress(year)."""
    if not has_role(by, Role.FINANCE_MANAGER, Role.ADMINISTRATOR):
        raise ActionNotPermitted(
            "Only a finance manager or an administrator can rebuild the rollups."
        )
    enqueue_rebuild(financial_year=year)
