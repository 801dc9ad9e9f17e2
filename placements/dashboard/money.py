"""What placements cost: net weekly cost and spend to date by how they are bought, the
costliest placements, and the placement list for export."""

from decimal import Decimal

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value, When

from placements import rollups
from placements.dashboard.scope import (
    LIST_LIMIT,
    DashboardScope,
    placements_in_scope,
    pounds,
    running_on,
)
from placements.models import BudgetLineRule, FinancialYear, Placement
from placements.rollups.refresh import YearWindow
from placements.selectors import with_net_weekly_cost
from providers.reference import ProviderKind

# In-house, or bought on or off a framework: the three ways a placement is paid for.
SUPPLY = Case(
    When(service__provider__kind=ProviderKind.IN_HOUSE, then=Value("in_house")),
    When(on_framework=True, then=Value("framework")),
    default=Value("off_framework"),
)
SUPPLY_LABELS = {
    "in_house": "In-house",
    "framework": "Bought on a framework",
    "off_framework": "Bought off framework (spot purchase)",
}


def weekly_cost_by_supply(scope: DashboardScope) -> dict[str, dict]:
    """Running placements and their net weekly cost to the council on the scope's day, by
    in-house / framework / off-framework."""
    rows = (
        with_net_weekly_cost(running_on(placements_in_scope(scope), scope.as_of), on=scope.as_of)
        .annotate(supply=SUPPLY)
        .order_by()
        .values("supply")
        .annotate(placements=Count("pk"), weekly_net=Sum("net_weekly_cost"))
    )
    found = {row["supply"]: row for row in rows}
    return {
        supply: {
            "supply": supply,
            "label": label,
            "placements": found.get(supply, {}).get("placements", 0),
            "weekly_net": pounds(found.get(supply, {}).get("weekly_net")) or Decimal("0.00"),
        }
        for supply, label in SUPPLY_LABELS.items()
    }


LEDGER_SUPPLY = Case(
    When(provider_kind=ProviderKind.IN_HOUSE, then=Value("in_house")),
    When(on_framework=True, then=Value("framework")),
    default=Value("off_framework"),
)


def spend_to_date_by_supply(scope: DashboardScope) -> dict[str, Decimal]:
    """Net spend in the year so far from the weekly ledger, by in-house / framework /
    off-framework: the weeks before the budget position's week, as the positions' actual
    to date counts them. The ledger is the whole authority's (it has no team)."""
    spend = dict.fromkeys(SUPPLY_LABELS, Decimal("0.00"))
    # Only the year's dates are read from the (unsaved) row: no query.
    window = YearWindow(FinancialYear(start_year=scope.financial_year))
    week = window.position_week(scope.today)
    if week is None:
        return spend
    rows = (
        rollups.ledger_rows(financial_year=scope.financial_year)
        .filter(week_start__lt=window.actual_before(week, scope.today))
        .annotate(supply=LEDGER_SUPPLY)
        .order_by()
        .values("supply")
        .annotate(net=Sum("net_cost"))
    )
    spend.update({row["supply"]: pounds(row["net"]) for row in rows})
    return spend


def costliest_placements(scope: DashboardScope, *, visible: QuerySet[Placement]) -> list[Placement]:
    """The scope's most expensive running placements by net weekly cost to the council."""
    running = running_on(placements_in_scope(scope), scope.as_of).filter(
        pk__in=visible.values("pk")
    )
    return list(
        with_net_weekly_cost(running, on=scope.as_of)
        .filter(weekly_cost__isnull=False)
        .select_related("child", "service", "service__provider")
        .order_by("-net_weekly_cost", "pk")[:LIST_LIMIT]
    )


# --- Exports ---------------------------------------------------------------------------------


def placements_for_export(scope: DashboardScope, *, visible: QuerySet[Placement]
                          ) -> QuerySet[Placement]:
    """The scope's placements with a night in the year, as far as the viewer may see them,
    with their gross and net weekly cost on the scope's day and the year's budget line."""
    in_year = (
        placements_in_scope(scope)
        .filter(pk__in=visible.values("pk"), start_date__lte=scope.last_day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=scope.first_day))
    )
    line = BudgetLineRule.objects.filter(
        financial_year__start_year=scope.financial_year,
        placement_type=OuterRef("placement_type"), place_provider=OuterRef("place_provider"),
    ).values("budget_line__name")[:1]
    return (
        with_net_weekly_cost(in_year, on=scope.as_of)
        .annotate(budget_line_name=Subquery(line))
        .select_related("child__team", "service__provider")
        .order_by("start_date", "pk")
    )
