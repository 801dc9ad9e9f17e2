"""The rollups' Celery tasks (run eagerly, as without a broker), beat entry, command,
rebuild button service and progress, and the dashboard's read selectors."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app
from core.errors import ActionNotPermitted
from core.roles import Role
from placements import rollups, tasks
from placements.models import BudgetLine, BudgetPositionSnapshot, WeeklyCostLedgerRow
from providers.reference import financial_year_start
from tests.factories import ChildFactory, TeamFactory
from tests.placements.rollup_builders import (
    monday_of,
    placement_costing,
    stored_ledger,
    stored_positions,
    year_with_lines,
)

ONE_DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_cache():
    """Rebuild progress lives in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def current_year(db, today):
    """This financial year and the one before, with an IFA and a residential line each, and
    a placement running since ten weeks ago."""
    year = financial_year_start(today)
    for start_year in (year - 1, year):
        year_with_lines(start_year, {
            "IFA": (Decimal("60000.00"), [("U4", "PR4")]),
            "Residential": (Decimal("90000.00"), [("K2", "PR4")]),
        })
    placement_costing("845.50", start=today - datetime.timedelta(weeks=10))
    return year


def test_the_refresh_task_refreshes_the_days_it_is_given(current_year, today):
    tasks.refresh_ledger_task.delay(first_day=(today - datetime.timedelta(weeks=10)).isoformat(),
                                    last_day=None)
    assert WeeklyCostLedgerRow.objects.exists()
    assert BudgetPositionSnapshot.objects.filter(week_start=monday_of(today)).exists()


def test_the_rebuild_task_rebuilds_a_year_and_reports_progress(current_year):
    assert rollups.rebuild_progress(current_year)["state"] == "idle"
    assert tasks.rebuild_financial_year_task.delay(year=current_year).get() is True
    progress = rollups.rebuild_progress(current_year)
    assert (progress["state"], progress["percent"]) == ("done", 100)
    assert progress["done"] == progress["total"] >= 2
    assert BudgetPositionSnapshot.objects.filter(
        budget_line__financial_year__start_year=current_year).exists()


def test_the_rebuild_task_for_a_missing_year_does_nothing(db):
    assert tasks.rebuild_financial_year_task.delay(year=2031).get() is False
    assert rollups.rebuild_progress(2031)["state"] == "failed"


def test_the_weekly_and_snapshot_tasks_run_the_same_functions_and_are_idempotent(current_year):
    tasks.weekly_rollup_task.delay()
    tasks.snapshot_positions_task.delay()
    first = (stored_ledger(), stored_positions())
    assert first[0] and first[1]
    tasks.weekly_rollup_task.delay()
    tasks.snapshot_positions_task.delay(year=current_year)
    assert (stored_ledger(), stored_positions()) == first
    call_command("rollup", "--rebuild", "--all-years", stdout=StringIO(), stderr=StringIO())
    assert stored_ledger() == first[0]


def test_the_beat_runs_the_weekly_rollup_every_monday_at_six_london_time():
    entry = app.conf.beat_schedule["weekly-cost-rollup"]
    assert entry["task"] == "placements.tasks.weekly_rollup_task" == tasks.weekly_rollup_task.name
    assert entry["schedule"] == crontab(hour=6, minute=0, day_of_week="mon")
    assert app.conf.timezone == "Europe/London"


def test_every_rollup_task_has_time_limits():
    for task in (tasks.refresh_ledger_task, tasks.rebuild_financial_year_task,
                 tasks.weekly_rollup_task, tasks.snapshot_positions_task):
        assert 0 < task.soft_time_limit < task.time_limit, task.name


# ---- the command ----------------------------------------------------------------------


def test_the_rollup_command_rebuilds_a_year(current_year, today):
    year = financial_year_start(today - ONE_DAY)  # this year, unless today is 1 April
    out = StringIO()
    call_command("rollup", "--rebuild", "--year", str(year), stdout=out, stderr=StringIO())
    assert "rollups up to date" in out.getvalue()
    assert WeeklyCostLedgerRow.objects.filter(financial_year__start_year=year).exists()
    assert rollups.rebuild_progress(year)["state"] == "done"


def test_the_rollup_command_without_rebuild_refreshes_the_current_year(current_year, today):
    call_command("rollup", stdout=StringIO())
    refreshed = stored_ledger()
    assert BudgetPositionSnapshot.objects.filter(
        budget_line__financial_year__start_year=current_year, week_start=monday_of(today)
    ).count() == 2
    call_command("rollup", "--rebuild", "--year", str(current_year), stdout=StringIO(),
                 stderr=StringIO())
    assert stored_ledger() == refreshed
    assert not WeeklyCostLedgerRow.objects.exclude(
        financial_year__start_year=current_year).exists()


def test_the_rollup_command_refuses_an_unknown_year(db):
    with pytest.raises(CommandError, match="2031/32"):
        call_command("rollup", "--year", "2031", stdout=StringIO())


# ---- the rebuild button's service -----------------------------------------------------


@pytest.mark.parametrize("role", [Role.FINANCE_MANAGER, Role.ADMINISTRATOR])
def test_finance_managers_and_administrators_can_start_a_rebuild(
    role, personas, current_year, today, django_capture_on_commit_callbacks
):
    year = financial_year_start(today - ONE_DAY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rollups.rollup_rebuild_start(year=year, by=personas[role])
    assert rollups.rebuild_progress(year)["state"] == "queued"
    assert not WeeklyCostLedgerRow.objects.exists()
    for callback in callbacks:
        callback()
    assert rollups.rebuild_progress(year)["state"] == "done"
    assert WeeklyCostLedgerRow.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role if r not in {Role.FINANCE_MANAGER, Role.ADMINISTRATOR}])
def test_no_one_else_can_start_a_rebuild(role, personas, current_year):
    with pytest.raises(ActionNotPermitted):
        rollups.rollup_rebuild_start(year=current_year, by=personas[role])
    assert rollups.rebuild_progress(current_year)["state"] == "idle"


# ---- read selectors ------------------------------------------------------------------


def add_lines_and_placements(year: int, today, *, count: int):
    for n in range(count):
        year_with_lines(year, {f"Extra {n}": (Decimal("1000.00"), [(f"U{n + 1}", "PR5")])})
        placement_costing("500.00", start=today - datetime.timedelta(days=30),
                          placement_type=f"U{n + 1}", place_provider="PR5")


def count_queries(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


def test_budget_positions_read_the_latest_snapshot_in_constant_queries(current_year, today):
    rollups.rebuild_financial_year(year=current_year)
    one = count_queries(lambda: rollups.budget_positions(financial_year=current_year))
    add_lines_and_placements(current_year, today, count=4)
    rollups.rebuild_financial_year(year=current_year)
    positions = rollups.budget_positions(financial_year=current_year)
    assert count_queries(lambda: rollups.budget_positions(financial_year=current_year)) == one == 2
    assert len(positions) == 6
    for position in positions:
        stored = BudgetPositionSnapshot.objects.get(
            budget_line=position.budget_line, week_start=monday_of(today))
        assert (position.budget, position.actual_to_date, position.committed_to_year_end,
                position.projected_outturn, position.variance) == (
            stored.budget, stored.actual_to_date, stored.committed_to_year_end,
            stored.projected_outturn, stored.variance)


def test_budget_positions_without_a_snapshot_are_computed_live_and_agree(current_year, today):
    live = rollups.budget_positions(financial_year=current_year)
    rollups.rebuild_financial_year(year=current_year)
    assert rollups.budget_positions(financial_year=current_year) == live
    assert any(position.projected_outturn > 0 for position in live)


def test_budget_positions_for_a_team_count_only_its_childrens_placements(current_year, today):
    north, south = TeamFactory(name="N"), TeamFactory(name="S")
    start = today - datetime.timedelta(days=30)
    placement_costing("700.00", start=start, child=ChildFactory(team=north))
    placement_costing("1400.00", start=start, child=ChildFactory(team=south))
    rollups.rebuild_financial_year(year=current_year)
    whole = {p.budget_line.name: p for p in rollups.budget_positions(financial_year=current_year)}
    by_team = {
        team: {p.budget_line.name: p for p in rollups.budget_positions(
            financial_year=current_year, team=team)}
        for team in (north, south)
    }
    cutoff = max(today, rollups.refresh.YearWindow(
        whole["IFA"].budget_line.financial_year).start)  # the current position: as at today
    committed_days = (rollups.refresh.YearWindow(
        whole["IFA"].budget_line.financial_year).after - cutoff).days
    assert by_team[north]["IFA"].committed_to_year_end == Decimal(100 * committed_days)
    assert by_team[south]["IFA"].committed_to_year_end == Decimal(200 * committed_days)
    assert by_team[north]["IFA"].budget is None and by_team[north]["IFA"].variance is None
    assert (by_team[north]["IFA"].projected_outturn + by_team[south]["IFA"].projected_outturn
            < whole["IFA"].projected_outturn)  # the fixture's own placement is in another team


def test_team_positions_take_constant_queries(current_year, today):
    team = TeamFactory(name="Q")
    placement_costing("700.00", start=today - datetime.timedelta(days=3), child=ChildFactory(team=team))
    one = count_queries(lambda: rollups.budget_positions(financial_year=current_year, team=team))
    add_lines_and_placements(current_year, today, count=4)
    for _ in range(5):
        placement_costing("700.00", start=today - datetime.timedelta(days=40),
                          child=ChildFactory(team=team))
    assert count_queries(
        lambda: rollups.budget_positions(financial_year=current_year, team=team)) == one == 3


def test_outturn_trend_and_ledger_rows_take_constant_queries(current_year, today):
    rollups.rebuild_financial_year(year=current_year)
    trend_one = count_queries(lambda: rollups.outturn_trend(financial_year=current_year))
    rows_one = count_queries(lambda: [
        (row.budget_line.name, row.financial_year.start_year)
        for row in rollups.ledger_rows(financial_year=current_year)])
    add_lines_and_placements(current_year, today, count=4)
    rollups.rebuild_financial_year(year=current_year)
    trend = rollups.outturn_trend(financial_year=current_year)
    assert count_queries(lambda: rollups.outturn_trend(financial_year=current_year)) == trend_one == 1
    assert count_queries(lambda: [
        (row.budget_line.name, row.financial_year.start_year)
        for row in rollups.ledger_rows(financial_year=current_year)]) == rows_one == 1
    latest = trend[-1]
    assert latest.week_start == monday_of(today)
    assert latest.total_outturn == sum(
        p.projected_outturn for p in rollups.budget_positions(financial_year=current_year))
    assert set(latest.outturn_by_line) == {"IFA", "Residential", *(f"Extra {n}" for n in range(4))}


def test_a_budget_change_can_queue_new_positions_and_a_rule_change_a_rebuild(
    current_year, today, django_capture_on_commit_callbacks
):
    year = financial_year_start(today - ONE_DAY)  # a year with days in the ledger already
    rollups.rebuild_financial_year(year=year)
    line = BudgetLine.objects.get(financial_year__start_year=year, name="IFA")
    assert WeeklyCostLedgerRow.objects.filter(budget_line=line).exists()
    line.amount = Decimal("1.00")
    line.save()
    with django_capture_on_commit_callbacks(execute=True):
        rollups.enqueue_positions(financial_year=year)
    latest = BudgetPositionSnapshot.objects.filter(budget_line=line).latest("week_start")
    assert latest.budget == Decimal("1.00")

    line.rules.update(place_provider="PR5")  # its placements fall out of the line
    with django_capture_on_commit_callbacks(execute=True):
        rollups.enqueue_rebuild(financial_year=year)
    assert not WeeklyCostLedgerRow.objects.filter(budget_line=line).exists()
    assert rollups.rebuild_progress(year)["state"] == "done"


# ---- the measuring tools behind docs/performance.md -------------------------------------


def test_seed_budget_history_copies_the_earliest_years_lines_to_earlier_years(current_year):
    out = StringIO()
    call_command("seed_budget_history", "--years", "2", stdout=out)
    earliest = current_year - 1
    copies = BudgetLine.objects.filter(financial_year__start_year=earliest - 2).order_by("name")
    assert [(line.name, line.amount, line.rules.count()) for line in copies] == [
        ("IFA", Decimal("54150.00"), 1), ("Residential", Decimal("81225.00"), 1)]  # 0.95²
    call_command("seed_budget_history", "--years", "2", stdout=out)  # nothing more
    assert BudgetLine.objects.count() == 8


def test_measure_rollups_reports_times_and_query_counts_and_changes_nothing(
    current_year, personas
):
    rollups.rebuild_financial_year(year=current_year)
    before = (stored_ledger(), stored_positions())
    out = StringIO()
    call_command("measure_rollups", "--user", personas[Role.FINANCE_MANAGER].username, stdout=out)
    report = out.getvalue()
    assert "budget_positions: 2 queries" in report and "outturn_trend: 1 queries" in report
    assert "GET /dashboard/" in report
    assert (stored_ledger(), stored_positions()) == before
