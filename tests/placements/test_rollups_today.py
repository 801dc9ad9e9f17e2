"""The current budget position is taken as things stand the day it is taken: a cost change
dated today moves the projection at once (through the service and its on-commit refresh),
and a closed year's spend by how placements are bought adds up to its actual to date."""

import datetime
from decimal import Decimal

from django.utils import timezone

from core.roles import Role
from placements import dashboard, rollups
from placements.models import BudgetPositionSnapshot, PlacementCost
from placements.services import placements as services
from providers.reference import ProviderKind, financial_year_bounds, financial_year_start
from tests.factories import PlacementCostFactory
from tests.placements.rollup_builders import (
    monday_of,
    placement_costing,
    service_of_kind,
    year_with_lines,
)

D = datetime.date
IFA_RULES = [("U4", "PR4")]


def current_position(line, today):
    return BudgetPositionSnapshot.objects.get(budget_line=line, week_start=monday_of(today))


def test_a_cost_change_dated_today_moves_the_projected_outturn_once_its_refresh_runs(
    personas, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    year = financial_year_start(today)
    made = {y: year_with_lines(y, {"IFA": (Decimal("50000.00"), IFA_RULES)}) for y in (year - 1, year)}
    placement = placement_costing(
        "700.00", start=today - datetime.timedelta(days=70),
        service=service_of_kind(ProviderKind.IFA),
    )
    for y in (year - 1, year):
        assert rollups.rebuild_financial_year(year=y, today=today)
    line = made[year]["IFA"]
    before = current_position(line, today)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.placement_cost_change(
            by=personas[Role.FINANCE_MANAGER], placement=placement, effective_from=today,
            weekly_amount="1400.00", reason=PlacementCost.Reason.UPLIFT,
        )
    assert callbacks

    after = current_position(line, today)
    days_left = (financial_year_bounds(year)[1] + datetime.timedelta(days=1) - today).days
    assert after.actual_to_date == before.actual_to_date  # the ledger holds the days before today
    assert after.committed_to_year_end - before.committed_to_year_end == Decimal(100 * days_left)
    assert after.projected_outturn - before.projected_outturn == Decimal(100 * days_left) > 0


def test_a_cost_change_booked_for_later_this_week_counts_in_the_current_position(db):
    today = D(2026, 6, 9)  # a Tuesday
    line = year_with_lines(2026, {"IFA": (Decimal("50000.00"), IFA_RULES)})["IFA"]
    placement = placement_costing("700.00", start=D(2026, 4, 1))
    assert rollups.rebuild_financial_year(year=2026, today=today)
    before = current_position(line, today)

    PlacementCost.objects.filter(placement=placement).update(effective_to=D(2026, 6, 12))
    PlacementCostFactory(placement=placement, effective_from=D(2026, 6, 12),
                         weekly_amount=Decimal("1400.00"))
    rollups.refresh_days(first_day=D(2026, 6, 12), last_day=None, today=today)

    after = current_position(line, today)
    assert after.actual_to_date == before.actual_to_date == Decimal(100 * 69)  # 1 April – 8 June
    days_from_friday = (D(2027, 4, 1) - D(2026, 6, 12)).days
    assert after.projected_outturn - before.projected_outturn == Decimal(100 * days_from_friday)


def test_a_closed_years_spend_by_supply_adds_up_to_its_actual_to_date(db):
    """2025/26 ends on Tuesday 31 March 2026: its last part week (30 – 31 March) counts."""
    today = D(2026, 6, 10)
    year_with_lines(2025, {"IFA": (Decimal("50000.00"), IFA_RULES)})
    agency = service_of_kind(ProviderKind.IFA)
    placement_costing("700.00", start=D(2026, 3, 1), service=agency, on_framework=True)
    placement_costing("1400.00", start=D(2026, 3, 1), service=agency, on_framework=False)
    assert rollups.rebuild_financial_year(year=2025, today=today)

    spend = dashboard.spend_to_date_by_supply(
        dashboard.DashboardScope(financial_year=2025, team=None, today=today)
    )
    positions = rollups.budget_positions(financial_year=2025, today=today)
    assert spend["framework"] == Decimal("3100.00")  # 31 days of March at £100 a day
    assert spend["off_framework"] == Decimal("6200.00")
    assert sum(spend.values()) == sum(p.actual_to_date for p in positions) == Decimal("9300.00")
