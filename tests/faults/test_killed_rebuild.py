"""A worker killed mid-rebuild leaves no partial rollup rows (PostgreSQL).

The real command (`manage.py rollup --rebuild --year Y`) runs in a subprocess against the
test database. To catch it deterministically in the middle of its transaction — old rows
deleted, the first weeks' new rows inserted, more being inserted — another connection has
inserted, and not committed, a ledger row with a key the rebuild will write in a later
week: the rebuild's INSERT of that week waits on the unique index until that connection
ends. There we SIGKILL it. PostgreSQL rolls its transaction back: every ledger row and
budget position is as it was before."""

import datetime
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from placements.models import BudgetLine, PlacementCost, WeeklyCostLedgerRow
from placements.rollups.refresh import monday_of
from providers.reference import financial_year_bounds
from tests.faults.conftest import rebuild
from tests.placements.placement_changes import running_placement
from tests.placements.rollup_builders import stored_ledger, stored_positions

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="kills a PostgreSQL backend's client mid-transaction"),
]
APP_NAME = "faults-killed-rebuild"
WAIT_SECONDS = 60


def database_url() -> str:
    """The test database, for the subprocess."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")


def start_rebuild(year: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(), "PGAPPNAME": APP_NAME,
           "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "rollup", "--rebuild",
         "--year", str(year)],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def rebuild_backend(cursor) -> tuple | None:
    """(pid, waiting on a lock, has written, query) of the rebuild's database backend."""
    cursor.execute(
        "SELECT pid, wait_event_type = 'Lock', backend_xid IS NOT NULL, query"
        " FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
    return cursor.fetchone()


def wait_for(predicate, *, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


@pytest.fixture
def world(years, north, today):
    """Last year's ledger and positions built for a placement bought off framework; then a
    second placement on framework (new ledger keys) and every cost changed, so that a
    rebuild that finished would write different rows. Returns (year, the new placement)."""
    running_placement(team=north, days_ago=800, amount="800.00", on_framework=False)
    rebuild(years, today=today)
    added = running_placement(team=north, days_ago=800, amount="900.00", on_framework=True)
    PlacementCost.objects.update(weekly_amount=Decimal("1234.56"))
    return years[0], added


def hold_a_ledger_key(holder, *, year: int, placement) -> None:
    """Insert, uncommitted, the ledger row the rebuild will want for `placement` in the
    year's 30th week (its fourth 8-week chunk), so that its INSERT waits there."""
    line = BudgetLine.objects.get(financial_year__start_year=year)
    week = monday_of(financial_year_bounds(year)[0]) + datetime.timedelta(weeks=30)
    holder.cursor().execute(
        f"INSERT INTO {WeeklyCostLedgerRow._meta.db_table} (week_start, financial_year_id,"
        " budget_line_id, provider_kind, on_framework, active_placements, child_days,"
        " gross_cost, contributions, net_cost) VALUES (%s, %s, %s, %s, true, 0, 0, 0, 0, 0)",
        [week, line.financial_year_id, line.pk, placement.service.provider.kind])


def test_a_rebuild_killed_mid_insert_leaves_the_previous_rows(world):
    year, added = world
    before = stored_ledger(), stored_positions()
    assert before[0] and before[1]
    params = connection.get_connection_params()
    holder, watcher = connection.get_new_connection(params), connection.get_new_connection(params)
    watcher.autocommit = True
    process = None
    try:
        hold_a_ledger_key(holder, year=year, placement=added)
        process = start_rebuild(year)

        pid, waiting, written, query = wait_for(
            lambda: (row := rebuild_backend(watcher.cursor())) and row[1] and row,
            what="the rebuild to wait inside its INSERT")
        assert written and query.lstrip().startswith(
            "INSERT INTO placements_weeklycostledgerrow"), query

        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL
    finally:
        if process and process.poll() is None:
            process.kill()
        holder.rollback()  # the backend finishes its statement, then finds its client gone
        holder.close()
        wait_for(lambda: rebuild_backend(watcher.cursor()) is None,
                 what="PostgreSQL to end the killed rebuild's backend")
        watcher.close()

    assert (stored_ledger(), stored_positions()) == before


def test_the_same_rebuild_left_alone_does_replace_the_rows(world):
    """The control: the subprocess, not killed, commits a different ledger."""
    year, _ = world
    before = stored_ledger()
    process = start_rebuild(year)
    _, errors = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, errors.decode()[-2000:]
    assert stored_ledger() != before
