"""Redis down (broker and cache at a closed port): a placement's cost change through the
page and through the API still succeeds, quickly, and leaves its ledger refresh recorded
in the outbox; the sweep task, run once a worker is back, brings the ledger up to date
(the same rows as a fresh rebuild); the dashboard and the rebuild progress page render.

Transactional tests: the changes really commit, so the on-commit publish really runs and
really fails against the closed port."""

import datetime
import logging
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from placements import rollups
from placements.models import BudgetPositionSnapshot, PendingRollup
from placements.rollups.refresh import monday_of
from placements.tasks import sweep_pending_rollups_task
from tests.faults.conftest import rebuild
from tests.placements.placement_changes import running_placement
from tests.placements.rollup_builders import brute_force_ledger, stored_ledger, stored_positions

pytestmark = pytest.mark.django_db(transaction=True)
DAY = datetime.timedelta(days=1)
# Well above a refused publish (under a second), well below a hung one.
QUICK_SECONDS = 3
# Two publish attempts, each giving up after the 2-second socket timeout.
HUNG_SECONDS = 8


@pytest.fixture
def placement(years, north, today):
    """A placement running for ten weeks at £700 a week, its ledger built."""
    placement = running_placement(team=north, days_ago=70, amount="700.00")
    rebuild(years, today=today)
    return placement


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def current_positions(today) -> set[tuple]:
    return {row for row in stored_positions() if row[0] == monday_of(today)}


def test_a_cost_change_succeeds_with_redis_down_and_the_sweep_does_its_refresh(
    client, finance, placement, years, today, redis_down, caplog
):
    caplog.set_level(logging.WARNING)
    built = stored_ledger()
    client.force_login(finance)
    page_url = reverse("placement-change-cost", args=[placement.pk])
    assert client.get(page_url).status_code == 200  # as a user opens the form first

    page, page_seconds = timed(lambda: client.post(
        page_url,
        {"effective_from": (today - 10 * DAY).isoformat(), "weekly_amount": "900.00",
         "reason": "uplift"},
    ))
    api, api_seconds = timed(lambda: client.post(
        f"/api/v1/placements/{placement.pk}/change-cost/",
        {"effective_from": (today - 5 * DAY).isoformat(), "weekly_amount": "950.00",
         "reason": "renegotiation"},
        content_type="application/json",
    ))

    assert (page.status_code, api.status_code) == (302, 200)
    assert page_seconds < QUICK_SECONDS and api_seconds < QUICK_SECONDS
    assert [c.weekly_amount for c in placement.costs.order_by("effective_from")] == [
        Decimal("700.00"), Decimal("900.00"), Decimal("950.00")]
    # The work is recorded, not done: the ledger still has the old costs.
    pending = PendingRollup.objects.filter(kind=PendingRollup.Kind.REFRESH)
    assert {row.first_day for row in pending} >= {today - 10 * DAY, today - 5 * DAY}
    assert stored_ledger() == built != brute_force_ledger(today=today)
    # Logged without personal data: the task's name and the error's class only.
    assert "Could not queue or run task placements.tasks.refresh_ledger_task" in caplog.text
    child = placement.child
    for personal in (child.last_name, child.local_child_id, child.home_postcode):
        assert personal not in caplog.text

    assert sweep_pending_rollups_task.apply().get() >= 2

    assert not PendingRollup.objects.exists()
    swept = stored_ledger(), current_positions(today)
    assert swept[0] == brute_force_ledger(today=today)
    rebuild(years, today=today)
    assert (stored_ledger(), current_positions(today)) == swept


def test_the_sweep_leaves_nothing_pending_and_running_it_again_changes_nothing(
    client, finance, placement, years, today, redis_down
):
    client.force_login(finance)
    client.post(reverse("placement-change-cost", args=[placement.pk]),
                {"effective_from": (today - 3 * DAY).isoformat(), "weekly_amount": "780.00",
                 "reason": "uplift"})
    sweep_pending_rollups_task.apply().get()
    once = stored_ledger(), stored_positions()

    assert sweep_pending_rollups_task.apply().get() == 0
    assert (stored_ledger(), stored_positions()) == once


def test_a_rolled_back_change_leaves_no_pending_work(finance, placement, today, redis_down):
    from django.db import transaction

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        rollups.enqueue_refresh(first_day=today - DAY, last_day=None)
        1 / 0  # noqa: B018
    assert not PendingRollup.objects.exists()


# --- (d) pages that read the cache ---------------------------------------------------------


def test_the_rebuild_button_and_progress_page_work_with_redis_down(
    client, finance, years, today, redis_down
):
    client.force_login(finance)
    year = years[-1]
    progress_url = reverse("dashboard-rebuild-progress", args=[year])

    idle = client.get(progress_url)
    assert idle.status_code == 200
    assert "progress cannot be shown just now" in idle.content.decode()

    started, seconds = timed(lambda: client.post(reverse("dashboard-rebuild"), {"year": year}))
    assert started.status_code == 302 and started.url == progress_url
    assert seconds < QUICK_SECONDS
    assert PendingRollup.objects.filter(kind="rebuild", financial_year=year).count() == 1

    queued = client.get(progress_url)
    assert queued.status_code == 200
    assert "Waiting for a worker to start the rebuild." in queued.content.decode()

    sweep_pending_rollups_task.apply().get()
    assert not PendingRollup.objects.exists()
    assert BudgetPositionSnapshot.objects.filter(
        budget_line__financial_year__start_year=year, week_start=monday_of(today)).exists()
    # Done, but with the cache down the page cannot know: it says so, and does not fail.
    after = client.get(progress_url)
    assert after.status_code == 200
    assert "progress cannot be shown just now" in after.content.decode()


def test_the_dashboard_renders_with_redis_down(client, finance, placement, years, redis_down):
    client.force_login(finance)
    response = client.get(reverse("dashboard"), {"year": years[-1]})
    assert response.status_code == 200
    assert "IFA" in response.content.decode()


# --- Redis hung: accepts connections, never answers ----------------------------------------


def test_a_cost_change_does_not_hang_when_redis_never_answers(
    client, finance, placement, today, redis_hung
):
    """Without the broker's socket timeouts (config/celery.py) the publish waits forever."""
    client.force_login(finance)
    response, seconds = timed(lambda: client.post(
        f"/api/v1/placements/{placement.pk}/change-cost/",
        {"effective_from": (today - 2 * DAY).isoformat(), "weekly_amount": "750.00",
         "reason": "uplift"},
        content_type="application/json",
    ))
    assert response.status_code == 200
    assert seconds < HUNG_SECONDS
    assert PendingRollup.objects.filter(first_day=today - 2 * DAY).exists()
    progress = client.get(reverse("dashboard-rebuild-progress", args=[today.year]))
    assert progress.status_code == 200
