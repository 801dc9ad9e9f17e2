"""Financial years, budget lines and the rules that put placements into them.

Budgets are sized from the seeded placements so the dashboard tells the usual story: the
bought-in lines (IFA, external residential) overspend by 10–15%, the council's own
provision is roughly on budget.
"""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from demo import pricing
from demo.clock import DemoCalendar
from placements.models import BudgetLine, BudgetLineRule, FinancialYear, Placement

FOSTERING = ("U1", "U2", "U3", "U4", "U5", "U6")
# Name → ((placement type, provider code) rules, budget as a share of the year's projected
# net cost this year, and last year, and the least the line is given).
BUDGET_LINES = {
    "In-house fostering": (
        [(t, "PR1") for t in FOSTERING], Decimal("1.01"), Decimal("1.02"), 500_000),
    "Independent fostering agencies": (
        [(t, code) for t in FOSTERING for code in ("PR4", "PR5")],
        Decimal("0.88"), Decimal("0.94"), 500_000),
    "External residential": (
        [("K2", "PR4"), ("K2", "PR5")], Decimal("0.87"), Decimal("0.92"), 1_000_000),
    "In-house residential": ([("K2", "PR1")], Decimal("1.00"), Decimal("1.02"), 250_000),
    "Secure": (
        [("K1", code) for code in ("PR1", "PR2", "PR3", "PR4", "PR5")],
        Decimal("0.93"), Decimal("0.95"), 350_000),
    "Supported accommodation": (
        [("K3", code) for code in ("PR1", "PR4", "PR5")], Decimal("0.97"), Decimal("1.00"),
        150_000),
}
THOUSAND = Decimal(1000)


def line_for(placement_type: str, place_provider: str) -> str | None:
    for name, (rules, *_rest) in BUDGET_LINES.items():
        if (placement_type, place_provider) in rules:
            return name
    return None


def seed_budgets(*, calendar: DemoCalendar) -> None:
    for year in calendar.years:
        financial_year, _created = FinancialYear.objects.get_or_create(start_year=year)
        costs = net_cost_by_line(start=financial_year.start_date,
                                 end=financial_year.end_date + datetime.timedelta(days=1))
        current = year == calendar.current_year
        for name, (rules, share_now, share_before, floor) in BUDGET_LINES.items():
            amount = budget_amount(cost=costs[name], share=share_now if current else share_before,
                                   floor=floor)
            line, _created = BudgetLine.objects.get_or_create(
                financial_year=financial_year, name=name, defaults={"amount": amount}
            )
            for placement_type, place_provider in rules:
                BudgetLineRule.objects.get_or_create(
                    financial_year=financial_year, placement_type=placement_type,
                    place_provider=place_provider, defaults={"budget_line": line},
                )


def budget_amount(*, cost: Decimal, share: Decimal, floor: int) -> Decimal:
    thousands = (cost * share / THOUSAND).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(thousands * THOUSAND, Decimal(floor)).quantize(pricing.PENNY)


def net_cost_by_line(*, start: datetime.date, end: datetime.date) -> dict[str, Decimal]:
    """Each line's net cost over [start, end), counting placements still open as running to
    the end: actual spend to date plus the committed cost to year end."""
    placements = (
        Placement.objects.filter(start_date__lt=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=start))
        .prefetch_related("costs", "contributions")
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for placement in placements:
        name = line_for(placement.placement_type, placement.place_provider)
        if name is not None:
            totals[name] += net_cost(placement=placement, start=start, end=end)
    return totals


def net_cost(*, placement: Placement, start: datetime.date, end: datetime.date) -> Decimal:
    window_start = max(start, placement.start_date)
    window_end = min(end, placement.end_date) if placement.end_date else end
    total = Decimal(0)
    for cost in placement.costs.all():
        days = pricing.overlap_days(cost.effective_from, cost.effective_to, window_start,
                                    window_end)
        gross = pricing.cost_over(weekly=cost.weekly_amount, days=days)
        total += gross - shared(placement=placement, cost=cost, gross_days=days,
                                window_start=window_start, window_end=window_end)
    return total


def shared(*, placement, cost, gross_days, window_start, window_end) -> Decimal:
    """What health or education paid towards this cost row inside the window."""
    total = Decimal(0)
    row_start = max(cost.effective_from, window_start)
    row_end = min(cost.effective_to, window_end) if cost.effective_to else window_end
    for contribution in placement.contributions.all():
        if not gross_days:
            continue
        days = pricing.overlap_days(contribution.start_date, contribution.end_date, row_start,
                                    row_end)
        if contribution.percentage is not None:
            total += pricing.cost_over(weekly=cost.weekly_amount, days=days) * (
                contribution.percentage / 100)
        else:
            total += pricing.cost_over(weekly=contribution.weekly_amount, days=days)
    return total


def projected_position(*, calendar: DemoCalendar) -> list[tuple[str, Decimal, Decimal]]:
    """(line, budget, projected net outturn) for the current year, for the command's summary."""
    financial_year = FinancialYear.objects.get(start_year=calendar.current_year)
    costs = net_cost_by_line(start=financial_year.start_date,
                             end=financial_year.end_date + datetime.timedelta(days=1))
    return [
        (line.name, line.amount, costs[line.name].quantize(pricing.PENNY))
        for line in BudgetLine.objects.filter(financial_year=financial_year).order_by("name")
    ]
