"""Property: on random placements, cost rows and contributions around a financial-year
boundary, the set-based ledger and budget positions equal a brute-force day-by-day
calculation in exact fractions, to the penny, on SQLite and PostgreSQL alike; and so does
a refresh of the weeks a later cost change touched."""

import datetime
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placements import rollups
from placements.models import BudgetLine, PlacementCost
from placements.reference import ReasonPlaceChange
from providers.reference import ProviderKind
from tests.factories import ContributionFactory, PlacementCostFactory, PlacementFactory
from tests.placements.rollup_builders import (
    brute_force_ledger,
    brute_force_position,
    monday_of,
    service_of_kind,
    stored_ledger,
    stored_position,
    year_with_lines,
)

BASE = datetime.date(2026, 3, 9)  # a Monday, three weeks before 1 April 2026 (a Wednesday)
TODAY = datetime.date(2026, 5, 20)  # a Wednesday: the ledger holds the days before it
SPAN = 60  # days after BASE in which things start
TYPES = [("U4", "PR4"), ("K2", "PR4"), ("U1", "PR1"), ("K1", "PR4")]  # K1/PR4: no line


def day(offset: int) -> datetime.date:
    return BASE + datetime.timedelta(days=offset)


money_pence = st.integers(min_value=0, max_value=2_000_000)
contributions = st.lists(
    st.tuples(
        st.integers(min_value=-3, max_value=14),  # start, after the placement's
        st.one_of(st.none(), st.integers(min_value=0, max_value=10)),  # length (None: open)
        st.one_of(
            st.tuples(st.just("fixed"), st.integers(min_value=0, max_value=200_000)),
            st.tuples(st.just("percentage"), st.integers(min_value=1, max_value=10_000)),
        ),
    ),
    max_size=2,
)
placements = st.lists(
    st.fixed_dictionaries({
        "start": st.integers(min_value=0, max_value=SPAN),
        "length": st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
        "planned": st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
        "kind": st.sampled_from([ProviderKind.IFA, ProviderKind.CHILDRENS_HOME]),
        "framework": st.booleans(),
        "codes": st.sampled_from(TYPES),
        # cost rows: breaks after the placement's start (days) and each row's rate; a
        # missing rate leaves a gap with no cost row
        "breaks": st.lists(st.integers(min_value=1, max_value=40), max_size=3, unique=True),
        "rates": st.lists(st.one_of(st.none(), money_pence), min_size=4, max_size=4),
        "open_ended_cost": st.booleans(),
        "contributions": contributions,
    }),
    min_size=1,
    max_size=4,
)


def make_lines():
    # 2025/26 puts fostering and residential in one line; 2026/27 splits them.
    year_with_lines(2025, {
        "External": (Decimal("50000.00"), [("U4", "PR4"), ("K2", "PR4")]),
        "In-house": (Decimal("9000.00"), [("U1", "PR1")]),
    })
    year_with_lines(2026, {
        "IFA": (Decimal("40000.00"), [("U4", "PR4")]),
        "Residential": (Decimal("90000.00"), [("K2", "PR4")]),
        "In-house": (Decimal("9000.00"), [("U1", "PR1")]),
    })


def make_placement(spec):
    placement_type, place_provider = spec["codes"]
    start = day(spec["start"])
    end = start + datetime.timedelta(days=spec["length"]) if spec["length"] else None
    planned = start + datetime.timedelta(days=spec["planned"]) if spec["planned"] is not None else None
    placement = PlacementFactory(
        start_date=start, end_date=end, planned_end_date=planned,
        reason_for_change=ReasonPlaceChange.CARPL if end else "",
        placement_type=placement_type, place_provider=place_provider,
        on_framework=spec["framework"], service=service_of_kind(spec["kind"]),
    )
    edges = [start, *(start + datetime.timedelta(days=b) for b in sorted(spec["breaks"]))]
    for index, (edge, rate) in enumerate(zip(edges, spec["rates"], strict=False)):
        following = edges[index + 1] if index + 1 < len(edges) else None
        if following is None and not spec["open_ended_cost"]:
            following = edge + datetime.timedelta(days=30)
        if rate is not None:
            PlacementCostFactory(placement=placement, effective_from=edge,
                                 effective_to=following, weekly_amount=Decimal(rate) / 100)
    for offset, length, (kind, value) in spec["contributions"]:
        first = start + datetime.timedelta(days=offset)
        ContributionFactory(
            placement=placement, start_date=first,
            end_date=first + datetime.timedelta(days=length) if length is not None else None,
            weekly_amount=Decimal(value) / 100 if kind == "fixed" else None,
            percentage=Decimal(value) / 100 if kind == "percentage" else None,
        )
    return placement


def assert_positions_match(week_start, *, years):
    ledger = brute_force_ledger(today=TODAY)
    lines = BudgetLine.objects.filter(financial_year__start_year__in=years)
    assert lines.exists()
    for line in lines.select_related("financial_year"):
        expected = brute_force_position(
            line=line, week_start=week_start, ledger=ledger, today=TODAY
        )
        assert stored_position(line=line, week_start=week_start) == expected, line.name


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=placements, change=st.tuples(st.integers(0, 3), money_pence))
def test_ledger_and_positions_equal_a_day_by_day_calculation(db, specs, change):
    with transaction.atomic():
        make_lines()
        made = [make_placement(spec) for spec in specs]
        for year in (2025, 2026):
            assert rollups.rebuild_financial_year(year=year, today=TODAY)

        assert stored_ledger() == brute_force_ledger(today=TODAY)
        # 2025/26's closing position, and 2026/27's first, a middle and the current week
        assert_positions_match(day(21), years=(2025, 2026))  # 30 March 2026: both years
        assert_positions_match(day(28), years=(2025, 2026))  # 2025/26 closed, 2026/27 1st
        assert_positions_match(day(42), years=(2026,))
        assert_positions_match(monday_of(TODAY), years=(2026,))

        # A later change to one cost row, then a refresh of the days it touched only.
        index, pence = change
        cost = PlacementCost.objects.filter(placement__in=made).order_by("pk")[index:].first()
        if cost is not None:
            PlacementCost.objects.filter(pk=cost.pk).update(weekly_amount=Decimal(pence) / 100)
            last_day = cost.effective_to - datetime.timedelta(days=1) if cost.effective_to else None
            rollups.refresh_days(first_day=cost.effective_from, last_day=last_day, today=TODAY)
            assert stored_ledger() == brute_force_ledger(today=TODAY)
            assert_positions_match(monday_of(TODAY), years=(2026,))
        transaction.set_rollback(True)
