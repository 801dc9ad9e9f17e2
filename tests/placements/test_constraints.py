"""The database itself refuses placement, cost, budget and referral data that breaks a rule:
every CheckConstraint and UniqueConstraint on the placements models, and on PostgreSQL the
exclusion constraints of migration 0002 (no overlapping placements for a child, no
overlapping cost rows for a placement). Each test first writes a valid row, then makes the
violating write with .create() or .update(), so no Python-side validation runs."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from placements.models import (
    BudgetAdjustment,
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    Contribution,
    FinancialYear,
    Placement,
    PlacementCost,
    Referral,
    ReferralRisk,
    ReferralStatus,
    ReferralStatusChange,
    UnmetDemand,
    WeeklyCostLedgerRow,
)
from providers.reference import PlaceProvider, ProviderKind, Risk
from tests.constraints import refused_by
from tests.factories import (
    BudgetLineFactory,
    BudgetLineRuleFactory,
    ChildFactory,
    ContributionFactory,
    FinancialYearFactory,
    PlacementCostFactory,
    PlacementFactory,
    ReferralFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

JAN_5 = datetime.date(2026, 1, 5)
FEB_2 = datetime.date(2026, 2, 2)
MAR_31 = datetime.date(2026, 3, 31)
ONE_DAY = datetime.timedelta(days=1)
MONDAY = datetime.date(2026, 4, 6)




def skip_unless_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints exist only on PostgreSQL (migration 0002)")


def closed_placement(child, start=JAN_5, end=MAR_31, **fields):
    return PlacementFactory(
        child=child, start_date=start, end_date=end, reason_for_change="CARPL", **fields
    )


# --- Money is never negative -------------------------------------------------------------


def a_placement():
    return PlacementFactory(distance_from_home_miles=Decimal("12.5"))


def a_budget_adjustment():
    line = BudgetLineFactory()
    return BudgetAdjustment.objects.create(
        budget_line=line,
        previous_amount=line.amount,
        new_amount=Decimal("900000.00"),
        reason="Mid-year savings",
        by=UserFactory(),
    )


def a_ledger_row(**fields):
    line = BudgetLineFactory()
    values = {
        "week_start": MONDAY,
        "financial_year": line.financial_year,
        "budget_line": line,
        "provider_kind": ProviderKind.IFA,
        "on_framework": True,
        "active_placements": 1,
        "child_days": 7,
        "gross_cost": Decimal("820.00"),
        "contributions": Decimal("100.00"),
        "net_cost": Decimal("720.00"),
    }
    return WeeklyCostLedgerRow.objects.create(**values | fields)


@pytest.mark.parametrize(
    "build, field, constraint",
    [
        (PlacementCostFactory, "weekly_amount", "placement_cost_non_negative"),
        (ContributionFactory, "weekly_amount", "contribution_amount_non_negative"),
        (BudgetLineFactory, "amount", "budget_line_amount_non_negative"),
        (a_budget_adjustment, "new_amount", "budget_adjustment_non_negative"),
        (a_ledger_row, "gross_cost", "ledger_gross_non_negative"),
        (a_ledger_row, "contributions", "ledger_contributions_non_negative"),
        (a_placement, "distance_from_home_miles", "placement_distance_non_negative"),
    ],
    ids=[
        "placement-cost",
        "contribution",
        "budget-line",
        "budget-adjustment",
        "ledger-gross",
        "ledger-contributions",
        "placement-distance",
    ],
)
def test_negative_money_or_distance_is_refused(build, field, constraint):
    row = build()
    manager = type(row).objects
    manager.filter(pk=row.pk).update(**{field: Decimal("0.00")})  # zero is allowed

    with refused_by(constraint):
        manager.filter(pk=row.pk).update(**{field: Decimal("-1.00")})


# --- Budgets -----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [1999, 2101])
def test_an_unlikely_financial_year_is_refused(year):
    financial_year = FinancialYearFactory(start_year=2000)
    FinancialYearFactory(start_year=2100)

    with refused_by("financial_year_range"):
        FinancialYear.objects.filter(pk=financial_year.pk).update(start_year=year)


def test_two_budget_lines_with_one_name_in_a_year_are_refused():
    first = BudgetLineFactory(name="Fostering")
    BudgetLineFactory(name="Fostering", financial_year=FinancialYearFactory(start_year=2027))
    second = BudgetLineFactory(name="Residential", financial_year=first.financial_year)

    with refused_by("budget_line_name_once"):
        BudgetLine.objects.filter(pk=second.pk).update(name="Fostering")


def test_a_second_rule_for_one_year_type_and_provider_code_is_refused():
    first = BudgetLineRuleFactory(placement_type="U4", place_provider=PlaceProvider.PR4)
    next_year = BudgetLineFactory(financial_year=FinancialYearFactory(start_year=2027))
    BudgetLineRuleFactory(budget_line=next_year, placement_type="U4", place_provider="PR4")
    other_line = BudgetLineFactory(financial_year=first.financial_year)
    second = BudgetLineRuleFactory(
        budget_line=other_line, placement_type="U4", place_provider=PlaceProvider.PR5
    )

    with refused_by("budget_line_rule_once_per_year"):
        BudgetLineRule.objects.filter(pk=second.pk).update(place_provider=PlaceProvider.PR4)


def test_a_budget_adjustment_without_a_reason_is_refused():
    adjustment = a_budget_adjustment()

    with refused_by("budget_adjustment_has_reason"):
        BudgetAdjustment.objects.filter(pk=adjustment.pk).update(reason="")


def test_a_second_ledger_row_for_one_week_line_kind_and_framework_is_refused():
    first = a_ledger_row(on_framework=True)
    second = a_ledger_row(budget_line=first.budget_line, on_framework=False)

    with refused_by("ledger_row_once"):
        WeeklyCostLedgerRow.objects.filter(pk=second.pk).update(on_framework=True)


def test_a_second_budget_position_for_one_line_and_week_is_refused():
    line = BudgetLineFactory()
    money = {
        "budget": line.amount,
        "actual_to_date": Decimal("0.00"),
        "committed_to_year_end": Decimal("0.00"),
        "projected_outturn": Decimal("0.00"),
        "variance": Decimal("-1000000.00"),
    }
    BudgetPositionSnapshot.objects.create(week_start=MONDAY, budget_line=line, **money)
    next_week = MONDAY + 7 * ONE_DAY
    BudgetPositionSnapshot.objects.create(week_start=next_week, budget_line=line, **money)

    with refused_by("budget_position_once_per_week"):
        BudgetPositionSnapshot.objects.create(week_start=MONDAY, budget_line=line, **money)


# --- Placements --------------------------------------------------------------------------


def test_a_placement_planned_to_end_before_it_starts_is_refused():
    placement = PlacementFactory(start_date=JAN_5, planned_end_date=JAN_5)  # same day allowed

    with refused_by("placement_planned_end_not_before_start"):
        Placement.objects.filter(pk=placement.pk).update(planned_end_date=JAN_5 - ONE_DAY)


@pytest.mark.parametrize("days_after_start", [0, -1], ids=["same-day", "day-before"])
def test_a_placement_not_ending_after_it_starts_is_refused(days_after_start):
    placement = PlacementFactory(
        start_date=JAN_5, end_date=JAN_5 + ONE_DAY, reason_for_change="CARPL"  # one night
    )

    with refused_by("placement_end_after_start"):
        Placement.objects.filter(pk=placement.pk).update(
            end_date=JAN_5 + days_after_start * ONE_DAY
        )


def test_a_second_open_placement_for_a_child_is_refused():
    child = ChildFactory()
    closed_placement(child, end=MAR_31)
    PlacementFactory(child=child, start_date=MAR_31)
    PlacementFactory(start_date=MAR_31)  # another child may be placed too

    with refused_by("placement_one_open_per_child"):
        PlacementFactory(child=child, start_date=MAR_31 + 30 * ONE_DAY)


def test_an_ended_placement_without_a_reason_for_change_is_refused():
    placement = closed_placement(ChildFactory())

    with refused_by("placement_ended_has_reason"):
        Placement.objects.filter(pk=placement.pk).update(reason_for_change="")


# --- Placement costs ---------------------------------------------------------------------


@pytest.mark.parametrize("days_after_start", [0, -1], ids=["same-day", "day-before"])
def test_a_cost_row_not_ending_after_it_starts_is_refused(days_after_start):
    cost = PlacementCostFactory(effective_from=JAN_5, effective_to=JAN_5 + ONE_DAY)

    with refused_by("placement_cost_dates"):
        PlacementCost.objects.filter(pk=cost.pk).update(
            effective_to=JAN_5 + days_after_start * ONE_DAY
        )


def test_a_retainer_without_a_court_order_reference_is_refused():
    cost = PlacementCostFactory(
        reason=PlacementCost.Reason.RETAINER, court_order_reference="LS26C00123"
    )

    with refused_by("placement_cost_retainer_needs_court_order"):
        PlacementCost.objects.filter(pk=cost.pk).update(court_order_reference="")


def test_two_cost_rows_from_one_date_for_a_placement_are_refused():
    first = PlacementCostFactory(effective_from=JAN_5, effective_to=FEB_2)
    second = PlacementCostFactory(placement=first.placement, effective_from=FEB_2)

    with refused_by("placement_cost_once_per_date"):
        PlacementCost.objects.filter(pk=second.pk).update(effective_from=JAN_5, effective_to=FEB_2)


# --- Contributions -----------------------------------------------------------------------


def test_a_contribution_may_be_a_percentage_instead_of_an_amount():
    contribution = ContributionFactory(weekly_amount=None, percentage=Decimal("100.00"))

    assert contribution.pk is not None


@pytest.mark.parametrize(
    "change",
    [{"percentage": Decimal("50.00")}, {"weekly_amount": None}],
    ids=["both", "neither"],
)
def test_a_contribution_with_both_or_neither_amount_and_percentage_is_refused(change):
    contribution = ContributionFactory(weekly_amount=Decimal("100.00"), percentage=None)

    with refused_by("contribution_amount_or_percentage"):
        Contribution.objects.filter(pk=contribution.pk).update(**change)


@pytest.mark.parametrize("percentage", ["0.00", "-10.00", "100.01"])
def test_a_contribution_percentage_outside_0_to_100_is_refused(percentage):
    contribution = ContributionFactory(weekly_amount=None, percentage=Decimal("0.01"))

    with refused_by("contribution_percentage_range"):
        Contribution.objects.filter(pk=contribution.pk).update(percentage=Decimal(percentage))


def test_a_contribution_ending_before_it_starts_is_refused():
    contribution = ContributionFactory(start_date=JAN_5, end_date=JAN_5)

    with refused_by("contribution_dates"):
        Contribution.objects.filter(pk=contribution.pk).update(end_date=JAN_5 - ONE_DAY)


# --- Referrals ---------------------------------------------------------------------------


def test_recording_the_same_unmet_demand_twice_for_a_referral_is_refused():
    referral = ReferralFactory()
    UnmetDemand.objects.create(referral=referral, kind=UnmetDemand.Kind.TOO_FAR)
    UnmetDemand.objects.create(referral=referral, kind=UnmetDemand.Kind.NO_OFFER)

    with refused_by("unmet_demand_once"):
        UnmetDemand.objects.create(referral=referral, kind=UnmetDemand.Kind.TOO_FAR)


def test_recording_the_same_risk_twice_for_a_referral_is_refused():
    referral = ReferralFactory()
    ReferralRisk.objects.create(referral=referral, risk=Risk.GOING_MISSING)
    ReferralRisk.objects.create(referral=referral, risk=Risk.SELF_HARM)

    with refused_by("referral_risk_once"):
        ReferralRisk.objects.create(referral=referral, risk=Risk.GOING_MISSING)


def test_a_retrospective_review_date_on_a_planned_referral_is_refused():
    ReferralFactory(is_emergency=True, retrospective_review_due=JAN_5)
    planned = ReferralFactory(is_emergency=False)

    with refused_by("referral_retrospective_review_only_for_emergency"):
        Referral.objects.filter(pk=planned.pk).update(retrospective_review_due=JAN_5)


def test_a_status_change_that_does_not_move_is_refused():
    referral = ReferralFactory()
    change = ReferralStatusChange.objects.create(
        referral=referral,
        from_status="",
        to_status=ReferralStatus.DRAFT,
        by=referral.created_by,
        at=referral.created_at,
    )

    with refused_by("referral_change_moves"):
        ReferralStatusChange.objects.filter(pk=change.pk).update(from_status=ReferralStatus.DRAFT)


# --- PostgreSQL only: exclusion constraints (migration 0002) -----------------------------


@pytest.mark.parametrize(
    "start, end",
    [
        (FEB_2, None),
        (FEB_2, datetime.date(2026, 4, 30)),
        (datetime.date(2025, 12, 1), datetime.date(2026, 4, 30)),
        (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)),
        (datetime.date(2025, 12, 1), JAN_5 + ONE_DAY),
    ],
    ids=["open-from-february", "february-to-april", "enclosing", "enclosed", "overlaps-one-day"],
)
def test_overlapping_placements_for_one_child_are_refused(start, end):
    skip_unless_postgresql()
    child = ChildFactory()
    closed_placement(child, start=JAN_5, end=MAR_31)
    PlacementFactory(start_date=FEB_2)  # another child's placement may overlap

    with refused_by("placement_no_overlap_per_child"):
        PlacementFactory(
            child=child, start_date=start, end_date=end, reason_for_change="CARPL" if end else ""
        )


def test_a_placement_may_start_on_the_day_the_previous_one_ended():
    skip_unless_postgresql()
    child = ChildFactory()
    closed_placement(child, start=JAN_5, end=MAR_31)
    closed_placement(child, start=datetime.date(2025, 12, 1), end=JAN_5)

    PlacementFactory(child=child, start_date=MAR_31)

    assert child.placements.count() == 3


@pytest.mark.parametrize(
    "first_to, second_from",
    [(FEB_2, FEB_2 - ONE_DAY), (None, MAR_31)],
    ids=["overlapping-by-a-day", "after-an-open-row"],
)
def test_overlapping_cost_rows_for_one_placement_are_refused(first_to, second_from):
    skip_unless_postgresql()
    first = PlacementCostFactory(effective_from=JAN_5, effective_to=first_to)
    PlacementCostFactory(effective_from=JAN_5)  # another placement's costs may overlap

    with refused_by("placement_cost_no_overlap"):
        PlacementCostFactory(placement=first.placement, effective_from=second_from)


def test_adjacent_cost_rows_for_one_placement_are_accepted():
    skip_unless_postgresql()
    first = PlacementCostFactory(effective_from=JAN_5, effective_to=FEB_2)

    PlacementCostFactory(placement=first.placement, effective_from=FEB_2, effective_to=MAR_31)
    PlacementCostFactory(placement=first.placement, effective_from=MAR_31)

    assert first.placement.costs.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_open_placements_for_one_child_let_exactly_one_win():
    skip_unless_postgresql()
    child, service, user = ChildFactory(), ServiceFactory(), UserFactory()
    both_ready = threading.Barrier(2, timeout=10)
    outcomes = []

    def place():
        try:
            with transaction.atomic():
                both_ready.wait()  # both transactions are open before either inserts
                Placement.objects.create(
                    child=child,
                    service=service,
                    placement_type="U4",
                    start_date=JAN_5,
                    created_by=user,
                )
                time.sleep(0.3)  # hold the row uncommitted while the other inserts
        except Exception as error:  # anything but IntegrityError fails the assertions below
            outcomes.append(error)
        else:
            outcomes.append("placed")
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("placed") == 1, outcomes
    assert [type(o) for o in outcomes if o != "placed"] == [IntegrityError], outcomes
    assert Placement.objects.filter(child=child).count() == 1
