"""Two rollups of one year at once give the same rows as one: they queue on the financial
year's row lock. Needs PostgreSQL (SQLite serialises writers, so there is no race)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from placements import rollups
from tests.factories import ContributionFactory
from tests.placements.rollup_builders import (
    brute_force_ledger,
    placement_costing,
    stored_ledger,
    stored_positions,
    year_with_lines,
)

D = datetime.date
TODAY = D(2026, 6, 10)


def run_together(*calls):
    """Start the calls in threads at the same moment; return what each raised (or None)."""
    both_ready = threading.Barrier(len(calls), timeout=10)
    errors = [None] * len(calls)

    def run(index, call):
        try:
            both_ready.wait()
            call()
        except Exception as error:  # reported by the assertion below
            errors[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture
def year_with_placements(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    lines = year_with_lines(2026, {"IFA": (Decimal("1000.00"), [("U4", "PR4")]),
                                   "Residential": (Decimal("9000.00"), [("K2", "PR4")])})
    for n in range(30):
        placement = placement_costing(f"{700 + n}.13", start=D(2026, 4, 1) + datetime.timedelta(days=n),
                                      placement_type="K2" if n % 3 else "U4")
        if n % 4 == 0:
            ContributionFactory(placement=placement, weekly_amount=None, percentage=Decimal("12.5"),
                                start_date=placement.start_date)
    return lines


def rebuild():
    rollups.rebuild_financial_year(year=2026, today=TODAY)


def refresh():
    rollups.refresh_days(first_day=D(2026, 4, 20), last_day=None, today=TODAY)


def snapshot():
    rollups.snapshot_positions(year=2026, today=TODAY)


def weekly():
    rollups.weekly_rollup(today=TODAY)


@pytest.mark.parametrize(
    "calls",
    [(rebuild, rebuild), (refresh, refresh), (rebuild, refresh), (snapshot, snapshot),
     (weekly, weekly), (weekly, rebuild)],
    ids=["two rebuilds", "two refreshes", "a rebuild and a refresh", "two snapshots",
         "two weekly rollups", "a weekly rollup and a rebuild"],
)
def test_two_rollups_of_one_year_at_once_give_the_same_rows_as_one(year_with_placements, calls):
    rebuild()
    expected = (stored_ledger(), stored_positions())
    assert expected[0] == brute_force_ledger(today=TODAY)

    assert run_together(*calls) == [None] * len(calls)
    assert (stored_ledger(), stored_positions()) == expected
