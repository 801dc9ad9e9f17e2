"""The weekly cost ledger and budget positions: proration, year boundaries, the worked
example from issue 5, idempotency, atomicity and the refresh after a cost change."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from placements import rollups
from placements.models import (
    BudgetPositionSnapshot,
    PlacementCost,
    WeeklyCostLedgerRow,
)
from placements.rollups import refresh
from providers.reference import ProviderKind, financial_year_bounds, financial_year_start
from tests.factories import (
    ContributionFactory,
    PlacementCostFactory,
    UserFactory,
)
from tests.placements.rollup_builders import (
    brute_force_ledger,
    brute_force_position,
    monday_of,
    placement_costing,
    service_of_kind,
    stored_ledger,
    stored_positions,
    year_with_lines,
)

D = datetime.date
TODAY = D(2026, 6, 10)  # a Wednesday in 2026/27
IFA_RULES = [("U4", "PR4")]
RESIDENTIAL_RULES = [("K2", "PR4")]


@pytest.fixture
def lines(db):
    """2025/26 and 2026/27, each with an IFA and an external residential line."""
    return {
        year: year_with_lines(year, {
            "IFA": (Decimal("100000.00"), IFA_RULES),
            "Residential": (Decimal("200000.00"), RESIDENTIAL_RULES),
        })
        for year in (2025, 2026)
    }


def ledger(**filters):
    return list(WeeklyCostLedgerRow.objects.filter(**filters).order_by("week_start", "pk"))


def rebuild(*years, today=TODAY):
    for year in years:
        assert rollups.rebuild_financial_year(year=year, today=today)


# ---- proration ------------------------------------------------------------------------


def test_a_part_week_is_prorated_by_day_from_the_weekly_rate(lines):
    placement_costing("700.00", start=D(2026, 5, 7))  # a Thursday: 4 days that week
    rebuild(2026)
    first, second = ledger()[:2]
    assert (first.week_start, first.child_days, first.gross_cost) == (D(2026, 5, 4), 4, Decimal("400.00"))
    assert (second.week_start, second.child_days, second.gross_cost) == (D(2026, 5, 11), 7, Decimal("700.00"))
    assert first.active_placements == second.active_placements == 1


def test_a_rate_change_mid_week_splits_the_week_by_day(lines):
    placement = placement_costing("700.00", start=D(2026, 5, 4))
    PlacementCost.objects.filter(placement=placement).update(effective_to=D(2026, 5, 6))
    PlacementCostFactory(placement=placement, effective_from=D(2026, 5, 6), weekly_amount=Decimal("1400.00"))
    rebuild(2026)
    week = ledger(week_start=D(2026, 5, 4)).pop()
    # Monday and Tuesday at £100 a day, Wednesday to Sunday at £200.
    assert (week.child_days, week.gross_cost) == (7, Decimal("1200.00"))


def test_the_end_date_is_the_day_the_placement_ceased(lines):
    placement_costing("700.00", start=D(2026, 5, 4), end=D(2026, 5, 8))  # left on Friday
    rebuild(2026)
    (week,) = ledger()
    assert (week.child_days, week.gross_cost) == (4, Decimal("400.00"))


def test_a_part_week_rounds_half_up_to_the_penny_once_per_row(lines):
    """Friday to Sunday is 3/7 of a week. Two placements at £3,303: 2 × £1,415.571428… =
    £2,831.142857…, so £2,831.14. Two at 6p a week: 2 × 2.571428…p = 5.142857…p, so 5p
    (rounding each placement first would give 3p + 3p = 6p: the row is rounded once)."""
    for _ in range(2):
        placement_costing("3303.00", start=D(2026, 5, 8), placement_type="K2")
        placement_costing("0.06", start=D(2026, 5, 8))
    rebuild(2026)
    rows = {row.budget_line.name: row for row in ledger(week_start=D(2026, 5, 4))}
    assert rows["Residential"].gross_cost == Decimal("2831.14")
    assert rows["IFA"].gross_cost == Decimal("0.05")
    assert rows["IFA"].child_days == 6 and rows["IFA"].active_placements == 2


def test_half_a_penny_rounds_up(lines):
    """7p a week shared 50%: 3 days are 1.5p of contribution, which rounds up to 2p."""
    placement = placement_costing("0.07", start=D(2026, 5, 8))
    ContributionFactory(placement=placement, weekly_amount=None, percentage=Decimal("50"),
                        start_date=D(2026, 5, 8))
    rebuild(2026)
    week = ledger(week_start=D(2026, 5, 4)).pop()
    assert (week.gross_cost, week.contributions, week.net_cost) == (
        Decimal("0.03"), Decimal("0.02"), Decimal("0.01"))


def test_a_week_spanning_1_april_splits_between_the_two_years_lines(lines):
    """1 April 2026 is a Wednesday: Monday 30 and Tuesday 31 March belong to 2025/26's IFA
    line, Wednesday to Sunday to 2026/27's."""
    placement_costing("700.00", start=D(2026, 3, 23))
    rebuild(2025, 2026)
    rows = WeeklyCostLedgerRow.objects.filter(week_start=D(2026, 3, 30)).order_by(
        "financial_year__start_year")
    assert [(r.financial_year.start_year, r.budget_line, r.child_days, r.gross_cost) for r in rows] == [
        (2025, lines[2025]["IFA"], 2, Decimal("200.00")),
        (2026, lines[2026]["IFA"], 5, Decimal("500.00")),
    ]


def test_ledger_rows_split_by_provider_kind_and_framework(lines):
    home = service_of_kind(ProviderKind.CHILDRENS_HOME)
    placement_costing("700.00", start=D(2026, 5, 4))
    placement_costing("700.00", start=D(2026, 5, 4), on_framework=True)
    placement_costing("1400.00", start=D(2026, 5, 4), on_framework=True)
    placement_costing("3500.00", start=D(2026, 5, 4), service=home, placement_type="K2")
    rebuild(2026)
    rows = {
        (r.budget_line.name, r.provider_kind, r.on_framework): (r.active_placements, r.gross_cost)
        for r in ledger(week_start=D(2026, 5, 4))
    }
    assert rows == {
        ("IFA", ProviderKind.IFA, False): (1, Decimal("700.00")),
        ("IFA", ProviderKind.IFA, True): (2, Decimal("2100.00")),
        ("Residential", ProviderKind.CHILDRENS_HOME, False): (1, Decimal("3500.00")),
    }


def test_a_placement_no_budget_line_covers_is_not_in_the_ledger(lines):
    placement_costing("700.00", start=D(2026, 5, 4), placement_type="K1")
    rebuild(2026)
    assert not WeeklyCostLedgerRow.objects.exists()


def test_contributions_count_from_their_start_day_until_the_day_before_their_end(lines):
    """A £70 weekly health contribution from Wednesday to Friday (end exclusive) pays for
    Wednesday and Thursday: £20; 50% of gross from Saturday: 2 days of £100 × 50% = £100."""
    placement = placement_costing("700.00", start=D(2026, 5, 4))
    ContributionFactory(placement=placement, weekly_amount=Decimal("70.00"),
                        start_date=D(2026, 5, 6), end_date=D(2026, 5, 8))
    ContributionFactory(placement=placement, weekly_amount=None, percentage=Decimal("50"),
                        start_date=D(2026, 5, 9))
    rebuild(2026)
    week = ledger(week_start=D(2026, 5, 4)).pop()
    assert (week.gross_cost, week.contributions, week.net_cost) == (
        Decimal("700.00"), Decimal("120.00"), Decimal("580.00"))


def test_a_percentage_contribution_shares_only_the_cost_rows_it_overlaps(lines):
    """£700 Monday–Tuesday then no cost row; 10% from Thursday shares nothing of the first
    row, 10% of the £1,400 row from Friday: 3 days × £200 × 10% = £60."""
    placement = placement_costing("700.00", start=D(2026, 5, 4))
    PlacementCost.objects.filter(placement=placement).update(effective_to=D(2026, 5, 6))
    PlacementCostFactory(placement=placement, effective_from=D(2026, 5, 8), weekly_amount=Decimal("1400.00"))
    ContributionFactory(placement=placement, weekly_amount=None, percentage=Decimal("10"),
                        start_date=D(2026, 5, 7))
    rebuild(2026)
    week = ledger(week_start=D(2026, 5, 4)).pop()
    assert (week.child_days, week.gross_cost, week.contributions) == (7, Decimal("800.00"), Decimal("60.00"))


def test_the_ledger_holds_only_the_days_before_today(lines):
    placement_costing("700.00", start=D(2026, 6, 1))
    rebuild(2026, today=D(2026, 6, 10))  # Wednesday: Monday 8 and Tuesday 9 June so far
    assert [(r.week_start, r.child_days) for r in ledger()] == [(D(2026, 6, 1), 7), (D(2026, 6, 8), 2)]


# ---- budget positions -------------------------------------------------------------------


def snapshot(line, week):
    return BudgetPositionSnapshot.objects.get(budget_line=line, week_start=week)


def test_committed_runs_to_the_planned_end_when_it_comes_before_the_year_end(lines):
    placement_costing("700.00", start=D(2026, 5, 4), planned_end_date=D(2026, 6, 22))
    rebuild(2026)  # current week: Monday 8 June, taken on Wednesday 10 June
    position = snapshot(lines[2026]["IFA"], D(2026, 6, 8))
    assert position.actual_to_date == Decimal("3700.00")  # 37 days, 4 May – 9 June
    assert position.committed_to_year_end == Decimal("1200.00")  # 12 days to the planned end
    assert position.projected_outturn == Decimal("4900.00")
    assert position.variance == Decimal("4900.00") - Decimal("100000.00")


def test_a_past_weeks_position_is_taken_at_its_monday(lines):
    placement_costing("700.00", start=D(2026, 5, 4), planned_end_date=D(2026, 6, 22))
    rebuild(2026)
    position = snapshot(lines[2026]["IFA"], D(2026, 6, 1))
    assert position.actual_to_date == Decimal("2800.00")  # 28 days, 4 – 31 May
    assert position.committed_to_year_end == Decimal("2100.00")  # 21 days, 1 – 21 June


def test_committed_counts_booked_uplifts_and_step_downs_and_contributions_over_their_ranges(
    lines,
):
    placement = placement_costing("700.00", start=D(2026, 5, 4))
    PlacementCost.objects.filter(placement=placement).update(effective_to=D(2026, 6, 22))
    PlacementCostFactory(placement=placement, effective_from=D(2026, 6, 22),
                         effective_to=D(2026, 7, 6), weekly_amount=Decimal("1400.00"))
    PlacementCostFactory(placement=placement, effective_from=D(2026, 7, 6),
                         weekly_amount=Decimal("350.00"))
    ContributionFactory(placement=placement, percentage=Decimal("10.00"), weekly_amount=None,
                        start_date=D(2026, 6, 29), end_date=D(2026, 7, 13))
    rebuild(2026)
    position = snapshot(lines[2026]["IFA"], D(2026, 6, 8))
    after_step_down = (D(2027, 4, 1) - D(2026, 7, 6)).days
    gross = 100 * 12 + 200 * 14 + 50 * after_step_down  # from Wednesday 10 June
    shared = Decimal("140.00") + Decimal("35.00")  # 10%: a week at £1,400, one at £350
    assert position.committed_to_year_end == Decimal(gross) - shared


def test_a_placement_past_its_planned_end_is_committed_to_the_year_end(lines):
    placement_costing("700.00", start=D(2026, 5, 4), planned_end_date=D(2026, 6, 1))
    rebuild(2026)
    position = snapshot(lines[2026]["IFA"], D(2026, 6, 8))
    days_left = (D(2027, 4, 1) - TODAY).days  # 295, from Wednesday 10 June
    assert position.committed_to_year_end == Decimal(100 * days_left)


def test_a_known_end_date_stops_the_commitment_and_contributions_reduce_it(lines):
    placement = placement_costing("700.00", start=D(2026, 5, 4), end=D(2026, 6, 29))
    ContributionFactory(placement=placement, weekly_amount=Decimal("70.00"), start_date=D(2026, 5, 4))
    rebuild(2026)
    position = snapshot(lines[2026]["IFA"], D(2026, 6, 8))
    assert position.committed_to_year_end == Decimal("19") * (100 - 10)  # 10 – 28 June, net


def test_every_week_of_the_year_has_a_position_and_a_past_year_closes_with_all_actual(lines):
    placement_costing("700.00", start=D(2026, 3, 2))
    rebuild(2025, 2026)
    weeks_2026 = BudgetPositionSnapshot.objects.filter(
        budget_line=lines[2026]["IFA"]).values_list("week_start", flat=True)
    assert list(weeks_2026) == [D(2026, 3, 30) + datetime.timedelta(weeks=n) for n in range(11)]
    closing = snapshot(lines[2025]["IFA"], D(2026, 4, 6))  # the Monday after 2025/26's last week
    assert closing.actual_to_date == Decimal("3000.00")  # 2 – 31 March: 30 days at £100
    assert closing.committed_to_year_end == Decimal("0.00")
    assert closing.variance == Decimal("3000.00") - Decimal("100000.00")


def test_worked_example_106_ifa_and_26_residential_placements_running_all_year(db):
    """Issue 5's worked example, in 2025/26 (1 April 2025 – 31 March 2026: 365 days).

    IFA: 106 placements × £875 a week = £92,750 a week; × 365/7 = £4,836,250.00.
      Budget £3,030,748, so the projected overspend is £1,805,502.00.
    External residential: 26 × £3,303 = £85,878 a week; × 365/7 = £31,345,470/7 =
      £4,477,924.2857…, so £4,477,924.29. Budget £2,457,373: overspend £2,020,551.29.
    Together: outturn £9,314,174.29 against £5,488,121, an overspend of £3,826,053.29.

    Half way, on Monday 6 October 2025, 188 days have passed (6 days to Sunday 6 April,
    then 26 whole weeks) and 177 remain:
      IFA actual 106 × £125 × 188 = £2,491,000.00, committed 106 × £125 × 177 =
      £2,345,250.00: outturn £4,836,250.00 again.
      Residential actual £85,878 × 6/7 = £73,609.714… → £73,609.71 for the first part
      week, plus 26 × £85,878 = £2,232,828.00: £2,306,437.71; committed £85,878 × 177/7 =
      £2,171,486.571… → £2,171,486.57; outturn £4,477,924.28: a penny less than in April,
      because each ledger week is rounded to the penny on its own.
    """
    made = year_with_lines(2025, {
        "Independent fostering agencies": (Decimal("3030748.00"), IFA_RULES),
        "External residential": (Decimal("2457373.00"), RESIDENTIAL_RULES),
    })
    ifa, residential = made["Independent fostering agencies"], made["External residential"]
    agency, home = service_of_kind(ProviderKind.IFA), service_of_kind(ProviderKind.CHILDRENS_HOME)
    officer = UserFactory()
    for count, weekly, service, placement_type in ((106, "875.00", agency, "U4"),
                                                   (26, "3303.00", home, "K2")):
        for _ in range(count):
            placement_costing(weekly, start=D(2025, 4, 1), service=service,
                              placement_type=placement_type, created_by=officer)

    rebuild(2025, today=D(2025, 4, 1))
    april = {p.budget_line.name: p for p in rollups.budget_positions(financial_year=2025)}
    assert april["Independent fostering agencies"].projected_outturn == Decimal("4836250.00")
    assert april["Independent fostering agencies"].variance == Decimal("1805502.00")
    assert april["External residential"].projected_outturn == Decimal("4477924.29")
    assert april["External residential"].variance == Decimal("2020551.29")
    assert sum(p.variance for p in april.values()) == Decimal("3826053.29")
    assert all(p.actual_to_date == 0 for p in april.values())

    rebuild(2025, today=D(2025, 10, 6))
    assert (snapshot(ifa, D(2025, 10, 6)).actual_to_date,
            snapshot(ifa, D(2025, 10, 6)).committed_to_year_end) == (
        Decimal("2491000.00"), Decimal("2345250.00"))
    october = snapshot(residential, D(2025, 10, 6))
    assert (october.actual_to_date, october.committed_to_year_end, october.projected_outturn,
            october.variance) == (Decimal("2306437.71"), Decimal("2171486.57"),
                                  Decimal("4477924.28"), Decimal("2020551.28"))
    trend = rollups.outturn_trend(financial_year=2025)
    assert len(trend) == 28  # Mondays 31 March – 6 October 2025
    assert trend[0].total_outturn == Decimal("9314174.29")
    assert trend[0].total_budget == Decimal("5488121.00")


# ---- idempotency and atomicity --------------------------------------------------------


@pytest.fixture
def busy_year(lines):
    """A few placements across the year boundary, with contributions and a rate change."""
    first = placement_costing("812.34", start=D(2026, 2, 11))
    ContributionFactory(placement=first, weekly_amount=None, percentage=Decimal("33.33"),
                        start_date=D(2026, 3, 20))
    placement_costing("3456.78", start=D(2026, 3, 27), placement_type="K2",
                      planned_end_date=D(2026, 9, 1))
    third = placement_costing("999.99", start=D(2026, 4, 15), end=D(2026, 5, 20))
    PlacementCost.objects.filter(placement=third).update(effective_to=D(2026, 5, 1))
    PlacementCostFactory(placement=third, effective_from=D(2026, 5, 1), weekly_amount=Decimal("1050.50"))
    return lines


def test_rebuilding_twice_gives_the_same_rows(busy_year):
    rebuild(2025, 2026)
    ledger_rows, positions = stored_ledger(), stored_positions()
    assert ledger_rows == brute_force_ledger(today=TODAY) and positions
    rebuild(2026, 2025)
    assert (stored_ledger(), stored_positions()) == (ledger_rows, positions)


def test_refresh_weekly_rollup_and_snapshot_twice_give_the_same_rows(busy_year):
    rebuild(2025, 2026)
    before = (stored_ledger(), stored_positions())
    for _ in range(2):
        rollups.refresh_days(first_day=D(2026, 3, 1), last_day=None, today=TODAY)
        rollups.weekly_rollup(today=TODAY)
        rollups.snapshot_positions(year=2026, today=TODAY)
        assert (stored_ledger(), stored_positions()) == before


def test_a_refresh_only_touches_the_weeks_of_the_days_it_is_given(busy_year):
    rebuild(2026)
    before = stored_ledger()
    PlacementCost.objects.update(weekly_amount=Decimal("7.00"))  # every cost, every week
    rollups.refresh_days(first_day=D(2026, 5, 13), last_day=D(2026, 5, 19), today=TODAY)
    now, truth = stored_ledger(), brute_force_ledger(today=TODAY)

    def week(rows, monday):
        return {row for row in rows if row[0] == monday}

    for monday in (D(2026, 5, 11), D(2026, 5, 18)):  # the weeks holding 13–19 May
        assert week(now, monday) == week(truth, monday) != week(before, monday)
    for monday in (D(2026, 5, 4), D(2026, 5, 25)):
        assert week(now, monday) == week(before, monday) != week(truth, monday)


def test_a_failure_part_way_through_a_rebuild_leaves_the_previous_rows(busy_year):
    rebuild(2025, 2026)
    before = (stored_ledger(), stored_positions())
    PlacementCost.objects.update(weekly_amount=Decimal("1.00"))
    with mock.patch.object(refresh, "insert_positions", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            rollups.rebuild_financial_year(year=2026, today=TODAY)
    assert (stored_ledger(), stored_positions()) == before
    assert rollups.rebuild_progress(2026)["state"] == "failed"


def test_a_failure_part_way_through_a_refresh_leaves_the_previous_rows(busy_year):
    rebuild(2026)
    before = (stored_ledger(), stored_positions())
    PlacementCost.objects.update(weekly_amount=Decimal("1.00"))
    with mock.patch.object(refresh, "insert_ledger", side_effect=RuntimeError("killed")):
        with pytest.raises(RuntimeError):
            rollups.refresh_days(first_day=D(2026, 4, 1), last_day=None, today=TODAY)
    assert (stored_ledger(), stored_positions()) == before


# ---- a cost change, end to end ----------------------------------------------------------


def test_changing_a_placement_cost_updates_the_ledger_and_projection_after_the_task_runs(
    db, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    year = financial_year_start(today)
    made = {y: year_with_lines(y, {"IFA": (Decimal("50000.00"), IFA_RULES)}) for y in (year - 1, year)}
    placement = placement_costing("700.00", start=today - datetime.timedelta(days=70))
    rebuild(year - 1, year, today=today)
    line = made[year]["IFA"]
    before = snapshot(line, monday_of(today))

    change_day = today - datetime.timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        PlacementCost.objects.filter(placement=placement).update(effective_to=change_day)
        PlacementCostFactory(placement=placement, effective_from=change_day,
                             weekly_amount=Decimal("1400.00"))
        rollups.enqueue_refresh(first_day=change_day, last_day=None)
    assert len(callbacks) == 1

    assert stored_ledger() == brute_force_ledger(today=today)
    after = snapshot(line, monday_of(today))
    days_left = (financial_year_bounds(year)[1] + datetime.timedelta(days=1) - max(
        today, financial_year_bounds(year)[0])).days
    assert after.committed_to_year_end == Decimal(200 * days_left)
    assert after.projected_outturn > before.projected_outturn
    ledger_now = stored_ledger()
    assert (after.budget, after.actual_to_date, after.committed_to_year_end,
            after.projected_outturn, after.variance) == brute_force_position(
        line=line, week_start=monday_of(today), ledger=ledger_now, today=today)


def test_a_rolled_back_change_queues_no_refresh(db, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            rollups.enqueue_refresh(first_day=TODAY, last_day=TODAY)
            1 / 0  # noqa: B018
    assert callbacks == []


def test_the_refresh_is_queued_with_iso_dates(db, django_capture_on_commit_callbacks):
    with mock.patch("placements.tasks.refresh_ledger_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            rollups.enqueue_refresh(first_day=D(2026, 5, 4), last_day=None)
    delay.assert_called_once_with(first_day="2026-05-04", last_day=None)


def test_ledger_rows_selector_filters_by_week_and_line(busy_year):
    rebuild(2026)
    ifa = busy_year[2026]["IFA"]
    rows = rollups.ledger_rows(financial_year=2026, first_week=D(2026, 4, 6),
                               last_week=D(2026, 4, 20), budget_line=ifa)
    assert {row.week_start for row in rows} == {D(2026, 4, 6), D(2026, 4, 13), D(2026, 4, 20)}
    assert {row.budget_line for row in rows} == {ifa}
    assert not rollups.ledger_rows(financial_year=2024).exists()
