"""Builders and a brute-force oracle for the rollup tests (tests/placements/test_rollups*.py).

The oracle walks every day of every placement in Python with exact fractions: the slow,
obvious calculation that the set-based SQL must agree with to the penny.
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from placements.models import (
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    FinancialYear,
    Placement,
    WeeklyCostLedgerRow,
)
from placements.reference import ReasonPlaceChange
from providers.reference import financial_year_bounds, financial_year_start
from tests.factories import (
    BudgetLineFactory,
    BudgetLineRuleFactory,
    FinancialYearFactory,
    PlacementCostFactory,
    PlacementFactory,
    ProviderFactory,
    ServiceFactory,
)

ONE_DAY = datetime.timedelta(days=1)
FAR = datetime.date(9999, 12, 31)


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def half_up_pence(amount: Fraction) -> Decimal:
    """Round a non-negative exact amount of pounds half up to pence."""
    pence = (amount * 100 + Fraction(1, 2)).__floor__()
    return Decimal(pence) / 100


def year_with_lines(start_year: int, lines: dict[str, tuple[Decimal, list]]) -> dict:
    """A financial year with budget lines {name: (amount, [(type, provider code), ...])};
    returns {name: BudgetLine}."""
    year = FinancialYear.objects.filter(start_year=start_year).first() or FinancialYearFactory(
        start_year=start_year
    )
    made = {}
    for name, (amount, rules) in lines.items():
        line = BudgetLineFactory(financial_year=year, name=name, amount=amount)
        for placement_type, place_provider in rules:
            BudgetLineRuleFactory(
                budget_line=line, financial_year=year, placement_type=placement_type,
                place_provider=place_provider,
            )
        made[name] = line
    return made


def placement_costing(weekly: str, *, start, end=None, service=None, **kwargs) -> Placement:
    """A placement with one cost row from its start."""
    if service is not None:
        kwargs["service"] = service
    if end is not None:
        kwargs.setdefault("reason_for_change", ReasonPlaceChange.CARPL)
    placement = PlacementFactory(start_date=start, end_date=end, **kwargs)
    PlacementCostFactory(placement=placement, weekly_amount=Decimal(weekly))
    return placement


def service_of_kind(kind: str):
    return ServiceFactory(provider=ProviderFactory(kind=kind))


# ---- the oracle ----------------------------------------------------------------------


def _rules() -> tuple[dict, dict]:
    lines = {}
    for rule in BudgetLineRule.objects.select_related("financial_year"):
        key = (rule.financial_year.start_year, rule.placement_type, rule.place_provider)
        lines[key] = rule.budget_line_id
    years = {year.start_year: year.pk for year in FinancialYear.objects.all()}
    return lines, years


def _placements():
    return list(
        Placement.objects.select_related("service__provider").prefetch_related(
            "costs", "contributions"
        )
    )


def _rate_on(placement: Placement, day: datetime.date) -> Fraction | None:
    for cost in placement.costs.all():
        if cost.effective_from <= day < (cost.effective_to or FAR):
            return Fraction(cost.weekly_amount)
    return None


def _contribution_on(placement: Placement, day: datetime.date, gross: Fraction) -> Fraction:
    """Weekly contributions in force on `day` (start inclusive, end exclusive)."""
    total = Fraction(0)
    for contribution in placement.contributions.all():
        if contribution.start_date <= day < (contribution.end_date or FAR):
            if contribution.percentage is not None:
                total += gross * Fraction(contribution.percentage) / 100
            else:
                total += Fraction(contribution.weekly_amount)
    return total


def brute_force_ledger(*, today: datetime.date) -> set[tuple]:
    """Every ledger row, day by day, for the days before `today`: (week_start, financial
    year id, budget line id, provider kind, on framework, active placements, child-days,
    gross, contributions, net)."""
    lines, years = _rules()
    totals = defaultdict(lambda: {"placements": set(), "days": 0, "gross": Fraction(0),
                                  "shared": Fraction(0)})
    for placement in _placements():
        day = placement.start_date
        while day < min(placement.end_date or FAR, today):
            start_year = financial_year_start(day)
            line = lines.get((start_year, placement.placement_type, placement.place_provider))
            if line is not None:
                key = (monday_of(day), years[start_year], line,
                       placement.service.provider.kind, placement.on_framework)
                gross = _rate_on(placement, day) or Fraction(0)
                row = totals[key]
                row["placements"].add(placement.pk)
                row["days"] += 1
                row["gross"] += gross / 7
                row["shared"] += _contribution_on(placement, day, gross) / 7
            day += ONE_DAY
    rows = set()
    for key, row in totals.items():
        gross, shared = half_up_pence(row["gross"]), half_up_pence(row["shared"])
        rows.add((*key, len(row["placements"]), row["days"], gross, shared, gross - shared))
    return rows


def stored_ledger() -> set[tuple]:
    return {
        (row.week_start, row.financial_year_id, row.budget_line_id, row.provider_kind,
         row.on_framework, row.active_placements, row.child_days, row.gross_cost,
         row.contributions, row.net_cost)
        for row in WeeklyCostLedgerRow.objects.all()
    }


def brute_force_position(*, line: BudgetLine, week_start: datetime.date, ledger: set[tuple],
                         today: datetime.date):
    """(budget, actual to date, committed, outturn, variance) of a line at a snapshot week,
    taken on `today` (the current week's position is taken as at today; earlier weeks' at
    their Monday). Committed walks each day from the cutoff to the horizon at the cost
    and contributions in force that day."""
    start_year = line.financial_year.start_year
    year_start, year_end = financial_year_bounds(start_year)
    year_after = year_end + ONE_DAY
    current = week_start == monday_of(today)
    cutoff = min(max(today if current else week_start, year_start), year_after)
    # The ledger holds the days before today, so the current week's rows are all actual.
    actual_before = week_start + datetime.timedelta(weeks=1) if current else week_start
    actual = sum((row[9] for row in ledger if row[2] == line.pk and row[0] < actual_before),
                 Decimal("0.00"))
    lines, _years = _rules()
    gross_total, shared_total = Fraction(0), Fraction(0)
    for placement in _placements():
        if lines.get((start_year, placement.placement_type, placement.place_provider)) != line.pk:
            continue
        if not placement.start_date <= cutoff < (placement.end_date or FAR):
            continue
        planned = placement.planned_end_date
        horizon = min(placement.end_date or FAR,
                      planned if planned and planned > cutoff else FAR, year_after)
        day = cutoff
        while day < horizon:
            gross = _rate_on(placement, day) or Fraction(0)
            gross_total += gross / 7
            shared_total += _contribution_on(placement, day, gross) / 7
            day += ONE_DAY
    committed = half_up_pence(gross_total) - half_up_pence(shared_total)
    outturn = actual + committed
    return (line.amount, actual, committed, outturn, outturn - line.amount)


def stored_position(*, line: BudgetLine, week_start: datetime.date) -> tuple:
    snapshot = BudgetPositionSnapshot.objects.get(budget_line=line, week_start=week_start)
    return (snapshot.budget, snapshot.actual_to_date, snapshot.committed_to_year_end,
            snapshot.projected_outturn, snapshot.variance)


def stored_positions() -> set[tuple]:
    return set(BudgetPositionSnapshot.objects.values_list(
        "week_start", "budget_line_id", "budget", "actual_to_date", "committed_to_year_end",
        "projected_outturn", "variance",
    ))
