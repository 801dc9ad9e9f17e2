"""Writing the rollups: refresh the weeks a change touched, rebuild a financial year,
snapshot budget positions. ADR 0009 explains the design.

The ledger holds the days before today (the days that have happened). A week that spans 31
March / 1 April has a row per year: the days before 1 April go to the old year's budget
line, the rest to the new year's (lines are per year; rows are keyed by week and line).

Every writer takes the financial year's row lock first (select_for_update), so two runs
for one year queue rather than interleave, and deletes and re-inserts its rows in the same
transaction, so a failure part-way leaves the previous rows as they were.
"""

import dataclasses
import datetime
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from placements.models import BudgetPositionSnapshot, FinancialYear, WeeklyCostLedgerRow
from placements.rollups import sql
from placements.rollups.progress import record_progress
from providers.reference import financial_year_bounds, financial_year_start

ONE_DAY = datetime.timedelta(days=1)
ONE_WEEK = datetime.timedelta(weeks=1)
# The rebuild inserts the ledger a few weeks per statement, to report progress.
REBUILD_CHUNK_WEEKS = 8

StepCallback = Callable[[int, int], None]


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@dataclasses.dataclass(frozen=True)
class YearWindow:
    """A financial year's row and its days: [start, after)."""

    financial_year: FinancialYear

    @property
    def start(self) -> datetime.date:
        return financial_year_bounds(self.financial_year.start_year)[0]

    @property
    def after(self) -> datetime.date:
        return financial_year_bounds(self.financial_year.start_year)[1] + ONE_DAY

    def position_week(self, today: datetime.date) -> datetime.date | None:
        """The week whose snapshot is the year's position now: this week; once the year
        is over, the Monday after its last week (all actual, nothing committed); None
        before the year starts."""
        if today < self.start:
            return None
        return min(monday_of(today), self.closing_week)

    def position_day(self, week: datetime.date, today: datetime.date) -> datetime.date:
        """The day a week's position is taken at: its Monday (1 April in the year's first
        week; the day after the year in its closing week), or today in the current week,
        so that the current position is as things stand the day it is taken."""
        day = today if week == monday_of(today) else week
        return min(max(day, self.start), self.after)

    def actual_before(self, week: datetime.date, today: datetime.date) -> datetime.date:
        """The first ledger week not in a week's actual to date: the week itself, or in the
        current week the next (the ledger holds the days before today)."""
        return week + ONE_WEEK if week == monday_of(today) else week

    @property
    def closing_week(self) -> datetime.date:
        return monday_of(self.after - ONE_DAY) + ONE_WEEK


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _lock(start_year: int) -> YearWindow | None:
    """Lock the year's row: rollups of one year run one at a time."""
    year = FinancialYear.objects.select_for_update().filter(start_year=start_year).first()
    return YearWindow(year) if year else None


def sql_params(window: YearWindow, **values) -> dict:
    """The named parameters of the rollup statements for one year, adapted for the
    database (SQLite keeps dates as ISO text)."""
    ops = connection.ops
    params = {
        "fy": window.financial_year.pk,
        "far": sql.FAR_FUTURE,
        "year_start": window.start,
        "year_after": window.after,
        **values,
    }
    return {
        name: ops.adapt_datefield_value(value) if isinstance(value, datetime.date) else value
        for name, value in params.items()
    }


def _execute(statement: str, params: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def insert_ledger(window: YearWindow, *, lo: datetime.date, hi: datetime.date) -> None:
    """Insert the ledger rows for the days [lo, hi) of the year (whole weeks' parts)."""
    if lo >= hi:
        return
    params = sql_params(
        window, first_week=monday_of(lo), last_week=monday_of(hi - ONE_DAY), lo=lo, hi=hi
    )
    _execute(sql.ledger_insert(sql.dialect()), params)


def position_params(window: YearWindow, *, first_week, last_week, today, **values) -> dict:
    """The parameters of the positions' statements for the weeks first_week…last_week,
    the current week's position taken as at `today`."""
    return sql_params(
        window, first_week=first_week, last_week=last_week, today=today,
        current_week=monday_of(today), **values,
    )


def insert_positions(
    window: YearWindow, *, first_week: datetime.date, last_week: datetime.date, today: datetime.date
):
    params = position_params(window, first_week=first_week, last_week=last_week, today=today)
    params["taken_at"] = connection.ops.adapt_datetimefield_value(timezone.now())
    _execute(sql.positions_insert(sql.dialect()), params)


def _ledger_days(window: YearWindow, *, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return window.start, min(window.after, today)


def _refresh_ledger_weeks(window: YearWindow, *, first_day, last_day, today) -> None:
    """Recompute the week parts of the year that hold any day in [first_day, last_day]."""
    year_lo, year_hi = _ledger_days(window, today=today)
    lo = max(first_day, year_lo)
    hi = min(last_day + ONE_DAY, year_hi) if last_day else year_hi
    if lo >= hi:
        return
    first_week, last_week = monday_of(lo), monday_of(hi - ONE_DAY)
    WeeklyCostLedgerRow.objects.filter(
        financial_year=window.financial_year, week_start__range=(first_week, last_week)
    ).delete()
    insert_ledger(
        window, lo=max(first_week, year_lo), hi=min(last_week + ONE_WEEK, year_hi)
    )


def _replace_positions(window: YearWindow, *, first_week, last_week, today) -> None:
    BudgetPositionSnapshot.objects.filter(
        budget_line__financial_year=window.financial_year,
        week_start__range=(first_week, last_week),
    ).delete()
    insert_positions(window, first_week=first_week, last_week=last_week, today=today)


def refresh_days(
    *, first_day: datetime.date, last_day: datetime.date | None, today: datetime.date | None = None
) -> None:
    """Recompute the ledger weeks holding the days first_day…last_day (inclusive; None:
    every day since, so an open-ended change reaches the later years too) and each touched
    year's current budget position. Earlier weeks' snapshots are kept as they were."""
    today = _today(today)
    until = last_day or today
    for start_year in range(financial_year_start(first_day), financial_year_start(until) + 1):
        with transaction.atomic():
            window = _lock(start_year)
            if window is None:
                continue
            _refresh_ledger_weeks(window, first_day=first_day, last_day=last_day, today=today)
            week = window.position_week(today)
            if week is not None:
                _replace_positions(window, first_week=week, last_week=week, today=today)


def snapshot_positions(*, year: int, today: datetime.date | None = None) -> None:
    """Take (or retake) the year's budget position for the current week."""
    today = _today(today)
    with transaction.atomic():
        window = _lock(year)
        week = window.position_week(today) if window else None
        if week is not None:
            _replace_positions(window, first_week=week, last_week=week, today=today)


def weekly_rollup(*, today: datetime.date | None = None) -> None:
    """The Monday job: bring the ledger of the year holding last week up to date (the whole
    year, so a change whose refresh was lost is caught within a week) and take this week's
    budget positions."""
    today = _today(today)
    first_day = financial_year_bounds(financial_year_start(today - ONE_WEEK))[0]
    refresh_days(first_day=first_day, last_day=None, today=today)


def _chunks(first_week: datetime.date, last_week: datetime.date) -> list[tuple]:
    starts = []
    week = first_week
    while week <= last_week:
        starts.append(week)
        week += REBUILD_CHUNK_WEEKS * ONE_WEEK
    return [(start, min(start + (REBUILD_CHUNK_WEEKS - 1) * ONE_WEEK, last_week)) for start in starts]


def rebuild_financial_year(
    *, year: int, today: datetime.date | None = None, on_step: StepCallback | None = None
) -> bool:
    """Rebuild a year's ledger and every weekly budget position from the source rows, in
    one transaction. Returns False when the year does not exist. Progress goes to the
    cache (for a page) and to `on_step(done, total)` (for the command's progress bar)."""
    today = _today(today)

    def report(done: int, total: int) -> None:
        record_progress(year, state="running", done=done, total=total)
        if on_step:
            on_step(done, total)

    try:
        with transaction.atomic():
            window = _lock(year)
            if window is None:
                record_progress(year, state="failed", error="No such financial year")
                return False
            steps = _rebuild(window, today=today, report=report)
    except Exception as error:
        record_progress(year, state="failed", error=type(error).__name__)
        raise
    record_progress(year, state="done", done=steps, total=steps)
    return True


def _rebuild(window: YearWindow, *, today: datetime.date, report: StepCallback) -> int:
    lo, hi = _ledger_days(window, today=today)
    chunks = _chunks(monday_of(lo), monday_of(hi - ONE_DAY)) if lo < hi else []
    total = len(chunks) + 2
    report(0, total)
    WeeklyCostLedgerRow.objects.filter(financial_year=window.financial_year).delete()
    BudgetPositionSnapshot.objects.filter(
        budget_line__financial_year=window.financial_year
    ).delete()
    report(1, total)
    for done, (first_week, last_week) in enumerate(chunks, start=2):
        insert_ledger(window, lo=max(first_week, lo), hi=min(last_week + ONE_WEEK, hi))
        report(done, total)
    week = window.position_week(today)
    if week is not None:
        insert_positions(
            window, first_week=monday_of(window.start), last_week=week, today=today
        )
    report(total, total)
    return total
