"""Reads of the rollups for the dashboard and the API, each a fixed number of queries."""

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from placements.models import BudgetLine, BudgetPositionSnapshot, WeeklyCostLedgerRow
from placements.rollups import sql
from placements.rollups.refresh import YearWindow, monday_of, position_params, sql_params

PENNY = Decimal("0.01")


@dataclasses.dataclass(frozen=True)
class LinePosition:
    """Where a budget line stands. `budget` and `variance` are None for one team's share,
    because budgets are set for the whole authority."""

    budget_line: BudgetLine
    week_start: datetime.date | None
    budget: Decimal | None
    actual_to_date: Decimal
    committed_to_year_end: Decimal
    projected_outturn: Decimal
    variance: Decimal | None


@dataclasses.dataclass(frozen=True)
class TrendWeek:
    week_start: datetime.date
    outturn_by_line: dict[str, Decimal]
    total_outturn: Decimal
    total_budget: Decimal


def budget_positions(
    *, financial_year: int, team=None, today: datetime.date | None = None
) -> list[LinePosition]:
    """Each line of the year, by name: the latest weekly snapshot (2 queries); computed
    live from the source rows, as the rollup would, for one team (3 queries) or when a
    line has no snapshot yet (4)."""
    lines = list(
        BudgetLine.objects.filter(financial_year__start_year=financial_year)
        .select_related("financial_year")
        .order_by("name")
    )
    if not lines:
        return []
    if team is None:
        latest = _latest_snapshots(financial_year)
        if all(line.pk in latest for line in lines):
            return [_from_snapshot(line, latest[line.pk]) for line in lines]
    return _live_positions(lines, team=team, today=today or timezone.localdate())


def _latest_snapshots(financial_year: int) -> dict[int, BudgetPositionSnapshot]:
    of_year = BudgetPositionSnapshot.objects.filter(
        budget_line__financial_year__start_year=financial_year
    )
    return {
        snapshot.budget_line_id: snapshot
        for snapshot in of_year.filter(
            week_start=of_year.order_by("-week_start").values("week_start")[:1]
        )
    }


def _from_snapshot(line: BudgetLine, snapshot: BudgetPositionSnapshot) -> LinePosition:
    return LinePosition(
        budget_line=line,
        week_start=snapshot.week_start,
        budget=snapshot.budget,
        actual_to_date=snapshot.actual_to_date,
        committed_to_year_end=snapshot.committed_to_year_end,
        projected_outturn=snapshot.projected_outturn,
        variance=snapshot.variance,
    )


def _pounds(pence) -> Decimal:
    return (Decimal(pence or 0) / 100).quantize(PENNY)


def _live_positions(lines: list[BudgetLine], *, team, today: datetime.date) -> list[LinePosition]:
    """Actual to date and committed computed from the source rows, as the rollup would."""
    window = YearWindow(lines[0].financial_year)
    week = window.position_week(today) or monday_of(window.start)
    cutoff = window.position_day(week, today)
    dialect, team_id = sql.dialect(), getattr(team, "pk", team)
    with connection.cursor() as cursor:
        cursor.execute(sql.live_actual_select(dialect, team=team_id is not None), sql_params(
            window, first_week=monday_of(window.start), last_week=monday_of(window.after),
            lo=window.start, hi=cutoff, team=team_id,
        ))
        actual = dict(cursor.fetchall())
        cursor.execute(sql.live_committed_select(dialect, team=team_id is not None), position_params(
            window, first_week=week, last_week=week, today=today, team=team_id
        ))
        committed = dict(cursor.fetchall())
    return [
        _live(line, week, actual.get(line.pk), committed.get(line.pk), team_id) for line in lines
    ]


def _live(line, week, actual_pence, committed_pence, team_id) -> LinePosition:
    actual, committed = _pounds(actual_pence), _pounds(committed_pence)
    outturn = actual + committed
    budget = None if team_id else line.amount
    return LinePosition(
        budget_line=line,
        week_start=week,
        budget=budget,
        actual_to_date=actual,
        committed_to_year_end=committed,
        projected_outturn=outturn,
        variance=None if budget is None else outturn - budget,
    )


def outturn_trend(*, financial_year: int) -> list[TrendWeek]:
    """Week by week from the snapshots: projected outturn per line (by name) and in total,
    with the total budget, for the forecast's trend chart (1 query)."""
    snapshots = (
        BudgetPositionSnapshot.objects.filter(
            budget_line__financial_year__start_year=financial_year
        )
        .select_related("budget_line")
        .order_by("week_start", "budget_line__name")
    )
    weeks: dict[datetime.date, list[BudgetPositionSnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        weeks[snapshot.week_start].append(snapshot)
    return [
        TrendWeek(
            week_start=week,
            outturn_by_line={s.budget_line.name: s.projected_outturn for s in rows},
            total_outturn=sum((s.projected_outturn for s in rows), Decimal("0.00")),
            total_budget=sum((s.budget for s in rows), Decimal("0.00")),
        )
        for week, rows in weeks.items()
    ]


def ledger_rows(
    *,
    financial_year: int,
    first_week: datetime.date | None = None,
    last_week: datetime.date | None = None,
    budget_line=None,
) -> QuerySet[WeeklyCostLedgerRow]:
    """The year's ledger rows, by week then line name, optionally for a week range (either
    end inclusive) and one budget line (an instance or its id)."""
    rows = WeeklyCostLedgerRow.objects.filter(financial_year__start_year=financial_year)
    if first_week is not None:
        rows = rows.filter(week_start__gte=first_week)
    if last_week is not None:
        rows = rows.filter(week_start__lte=last_week)
    if budget_line is not None:
        rows = rows.filter(budget_line=budget_line)
    return rows.select_related("budget_line", "financial_year").order_by(
        "week_start", "budget_line__name", "provider_kind", "on_framework"
    )
