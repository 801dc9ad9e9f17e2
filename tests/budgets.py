"""Shared by the budget tests: a demo-like mapping of placements to lines, and rollup rows
made directly (the rollup writes them in real life)."""

import datetime
from decimal import Decimal

from placements.models import (
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    FinancialYear,
    WeeklyCostLedgerRow,
)
from providers.reference import ProviderKind

YEAR = 2026  # 1 April 2026 – 31 March 2027
YEAR_START, YEAR_END = datetime.date(2026, 4, 1), datetime.date(2027, 3, 31)
PRIVATE_OR_VOLUNTARY = ("PR4", "PR5")
# As the issue puts it: "IFA" = U4–U6 with private/voluntary providers, and so on.
DEMO_LIKE_LINES = {
    "Independent fostering agencies": (
        [(t, code) for t in ("U4", "U5", "U6") for code in PRIVATE_OR_VOLUNTARY], "3030748.00"),
    "External residential": ([("K2", code) for code in PRIVATE_OR_VOLUNTARY], "2457373.00"),
    "In-house fostering": ([(t, "PR1") for t in ("U1", "U2", "U3", "U4", "U5", "U6")],
                           "1200000.00"),
    "In-house residential": ([("K2", "PR1")], "400000.00"),
}
IFA_RULES = DEMO_LIKE_LINES["Independent fostering agencies"][0]


def year_of(start_year: int = YEAR) -> FinancialYear:
    return FinancialYear.objects.get_or_create(start_year=start_year)[0]


def line_with_rules(year: FinancialYear, name: str, rules, amount="1000000.00") -> BudgetLine:
    """A line and its rules written directly (the services are under test elsewhere)."""
    line = BudgetLine.objects.create(financial_year=year, name=name, amount=Decimal(amount))
    for placement_type, place_provider in rules:
        BudgetLineRule.objects.create(budget_line=line, financial_year=year,
                                      placement_type=placement_type, place_provider=place_provider)
    return line


def demo_like_lines(year: FinancialYear) -> dict[str, BudgetLine]:
    return {name: line_with_rules(year, name, rules, amount)
            for name, (rules, amount) in DEMO_LIKE_LINES.items()}


def ledger_row(line: BudgetLine, week_start: datetime.date, *, provider_kind=ProviderKind.IFA,
               on_framework=True, net="875.00") -> WeeklyCostLedgerRow:
    net = Decimal(net)
    return WeeklyCostLedgerRow.objects.create(
        week_start=week_start, financial_year=line.financial_year, budget_line=line,
        provider_kind=provider_kind, on_framework=on_framework, active_placements=1,
        child_days=7, gross_cost=net + Decimal("100.00"), contributions=Decimal("100.00"),
        net_cost=net,
    )


def position(line: BudgetLine, week_start: datetime.date, *, actual="1000.00",
             committed="2000.00") -> BudgetPositionSnapshot:
    actual, committed = Decimal(actual), Decimal(committed)
    outturn = actual + committed
    return BudgetPositionSnapshot.objects.create(
        week_start=week_start, budget_line=line, budget=line.amount, actual_to_date=actual,
        committed_to_year_end=committed, projected_outturn=outturn,
        variance=outturn - line.amount,
    )


def mondays(first: datetime.date, count: int) -> list[datetime.date]:
    return [first + datetime.timedelta(weeks=n) for n in range(count)]
