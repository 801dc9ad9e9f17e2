"""placements.services.placements: a placement's cost over time, retainers, contributions,
its end and the child's move. Every change against every persona, its refusals (bad
input with a field, an ended placement), that a past week's cost never changes, the
ledger refresh queued on commit for the days touched, atomicity, and two officers racing
on PostgreSQL."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import ActionNotPermitted, Conflict, InvalidInput, TransitionNotAllowed
from core.roles import Role
from placements import rollups
from placements.models import Contribution, Placement, PlacementCost
from placements.services import placements as services
from providers.models import PostcodeDistrict
from providers.reference import PlaceProvider, ProviderKind
from tests.factories import (
    ContributionFactory,
    PlacementCostFactory,
    PlacementFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
)
from tests.placements.placement_changes import (
    CHANGERS,
    CHANGES,
    DAY,
    make_change,
    running_placement,
    snapshot,
    today,
)

R = PlacementCost.Reason
FM, CO = Role.FINANCE_MANAGER, Role.COMMISSIONING_OFFICER


@pytest.fixture
def finance(personas):
    return personas[FM]


@pytest.fixture
def placement(north):
    return running_placement(team=north, contribution=True)


def cost_rows(placement) -> list[tuple]:
    return list(placement.costs.order_by("effective_from").values_list(
        "effective_from", "effective_to", "weekly_amount", "reason"
    ))


@pytest.fixture
def refreshes(monkeypatch):
    """The (first_day, last_day) of every ledger refresh the services ask for."""
    asked = []
    monkeypatch.setattr(
        rollups, "enqueue_refresh",
        lambda *, first_day, last_day: asked.append((first_day, last_day)),
    )
    return asked


# --- Who may change a placement ---------------------------------------------------------


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("role", list(Role))
def test_only_finance_managers_and_commissioning_officers_change_placements(
    personas, placement, role, change
):
    before = snapshot()
    if role in CHANGERS:
        make_change(change, by=personas[role], placement=placement)
        assert snapshot() != before
    else:
        with pytest.raises(ActionNotPermitted):
            make_change(change, by=personas[role], placement=placement)
        assert snapshot() == before


@pytest.mark.parametrize("change", CHANGES)
def test_a_superuser_without_the_roles_changes_nothing(placement, change):
    superuser = UserFactory(is_superuser=True, is_staff=True, roles=[Role.ADMINISTRATOR])
    before = snapshot()

    with pytest.raises(ActionNotPermitted):
        make_change(change, by=superuser, placement=placement)

    assert snapshot() == before


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("ends", [-10, 0, 30], ids=["ended", "ends-today", "ends-later"])
def test_a_placement_with_an_end_date_takes_no_more_changes(finance, north, change, ends):
    placement = running_placement(team=north, contribution=True)
    services.placement_end(by=finance, placement=placement, end_date=today() + ends * DAY,
                           reason="CARPL")
    placement.refresh_from_db()
    before = snapshot()

    with pytest.raises(TransitionNotAllowed) as refused:
        make_change(change, by=finance, placement=placement)

    assert refused.value.current == "ended"
    assert snapshot() == before


# --- Weekly cost ----------------------------------------------------------------------------


def test_a_cost_change_ends_the_row_in_force_and_starts_a_new_one(finance, placement):
    start = placement.start_date
    row = services.placement_cost_change(
        by=finance, placement=placement, effective_from=today() - 3 * DAY,
        weekly_amount=Decimal("855.555"), reason=R.RENEGOTIATION, note="  Letter of 3 May  ",
    )

    assert cost_rows(placement) == [
        (start, today() - 3 * DAY, Decimal("820.00"), R.INITIAL),
        (today() - 3 * DAY, None, Decimal("855.56"), R.RENEGOTIATION),  # pence, half up
    ]
    assert (row.created_by, row.note) == (finance, "Letter of 3 May")


def test_a_past_weeks_cost_never_changes_when_the_rate_changes_later(finance, placement):
    """Two later changes: the first rows' amounts and dates stay as they were."""
    services.placement_cost_change(by=finance, placement=placement, effective_from=today() - 7 * DAY,
                                   weekly_amount=Decimal("850.00"), reason=R.UPLIFT)
    first_two = cost_rows(placement)
    services.placement_cost_change(by=finance, placement=placement, effective_from=today() + 30 * DAY,
                                   weekly_amount=Decimal("700.00"), reason=R.STEP_DOWN)

    rows = cost_rows(placement)
    assert rows[0] == first_two[0]
    assert rows[1][:1] + rows[1][2:] == first_two[1][:1] + first_two[1][2:]
    assert rows[1][1] == today() + 30 * DAY  # only the open row's end was set
    assert rows[2] == (today() + 30 * DAY, None, Decimal("700.00"), R.STEP_DOWN)


@pytest.mark.parametrize("days", [0, -1], ids=["same-day", "earlier"])
def test_a_cost_change_must_come_after_the_latest_row(finance, placement, days):
    services.placement_cost_change(by=finance, placement=placement, effective_from=today() + 10 * DAY,
                                   weekly_amount=Decimal("850.00"), reason=R.UPLIFT)
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.placement_cost_change(
            by=finance, placement=placement, effective_from=today() + (10 + days) * DAY,
            weekly_amount=Decimal("900.00"), reason=R.UPLIFT,
        )

    assert refused.value.field == "effective_from"
    assert "an earlier week's cost never changes" in refused.value.message
    assert snapshot() == before


def test_a_cost_change_is_back_dated_within_the_window_only(finance, placement, settings):
    settings.PLACEMENT_CHANGE_BACKDATE_DAYS = 14
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.placement_cost_change(by=finance, placement=placement,
                                       effective_from=today() - 15 * DAY,
                                       weekly_amount=Decimal("850.00"), reason=R.UPLIFT)
    assert refused.value.field == "effective_from"
    assert "back-dated 14 days at most" in refused.value.message
    assert snapshot() == before

    services.placement_cost_change(by=finance, placement=placement, effective_from=today() - 14 * DAY,
                                   weekly_amount=Decimal("850.00"), reason=R.UPLIFT)
    assert placement.costs.count() == 2


def test_the_default_window_is_four_weeks(settings):
    assert settings.PLACEMENT_CHANGE_BACKDATE_DAYS == 28
    assert services.earliest_change_date(datetime.date(2026, 5, 1)) == datetime.date(2026, 4, 3)


@pytest.mark.parametrize(
    ("reason", "amount", "field"),
    [
        (R.UPLIFT, "800.00", "weekly_amount"),  # an uplift must raise the cost
        (R.STEP_DOWN, "900.00", "weekly_amount"),  # a step-down must lower it
        (R.RENEGOTIATION, "820.00", "weekly_amount"),  # no change at all
        (R.RENEGOTIATION, "-1", "weekly_amount"),
        (R.RENEGOTIATION, "12345678901", "weekly_amount"),
        (R.RENEGOTIATION, "lots", "weekly_amount"),
        (R.RENEGOTIATION, "NaN", "weekly_amount"),
        (R.INITIAL, "900.00", "reason"),
        (R.RETAINER, "900.00", "reason"),
        ("cheaper", "900.00", "reason"),
    ],
)
def test_a_cost_change_refuses_bad_input_with_its_field(finance, placement, reason, amount, field):
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.placement_cost_change(by=finance, placement=placement, effective_from=today(),
                                       weekly_amount=amount, reason=reason)

    assert refused.value.field == field
    assert snapshot() == before


@pytest.mark.parametrize(
    "effective_from",
    ["2026-05-01", datetime.datetime(2026, 5, 1, 12, 0), datetime.date(2101, 1, 4), None],
)
def test_a_cost_change_needs_a_real_date(finance, placement, effective_from):
    with pytest.raises(InvalidInput) as refused:
        services.placement_cost_change(by=finance, placement=placement,
                                       effective_from=effective_from,
                                       weekly_amount=Decimal("900.00"), reason=R.UPLIFT)
    assert refused.value.field == "effective_from"


def test_a_cost_change_cannot_precede_the_placement(finance, north):
    placement = PlacementFactory(child__team=north, start_date=today() + 10 * DAY)

    with pytest.raises(InvalidInput) as refused:
        services.placement_cost_change(by=finance, placement=placement, effective_from=today(),
                                       weekly_amount=Decimal("900.00"), reason=R.UPLIFT)
    assert refused.value.field == "effective_from"


def test_a_placement_without_a_cost_gets_its_first_row(finance, north):
    placement = PlacementFactory(child__team=north, start_date=today() - 10 * DAY)

    services.placement_cost_change(by=finance, placement=placement, effective_from=today(),
                                   weekly_amount=Decimal("900.00"), reason=R.RENEGOTIATION)

    assert cost_rows(placement) == [(today(), None, Decimal("900.00"), R.RENEGOTIATION)]


# --- Retainers ------------------------------------------------------------------------------


def test_a_retainer_replaces_the_cost_for_its_period_then_the_cost_resumes(finance, placement):
    start, day = placement.start_date, today()
    retainer = services.retainer_record(
        by=finance, placement=placement, effective_from=day, effective_to=day + 21 * DAY,
        weekly_amount=Decimal("410.00"), court_order_reference="  LS24C00123 ",
    )

    assert cost_rows(placement) == [
        (start, day, Decimal("820.00"), R.INITIAL),
        (day, day + 21 * DAY, Decimal("410.00"), R.RETAINER),
        (day + 21 * DAY, None, Decimal("820.00"), R.INITIAL),
    ]
    assert retainer.court_order_reference == "LS24C00123"


def test_an_open_ended_retainer_runs_until_a_later_cost_change(finance, placement):
    services.retainer_record(by=finance, placement=placement, effective_from=today(),
                             effective_to=None, weekly_amount=Decimal("410.00"),
                             court_order_reference="LS24C00123")

    assert cost_rows(placement)[-1] == (today(), None, Decimal("410.00"), R.RETAINER)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"court_order_reference": ""}, "court_order_reference"),
        ({"court_order_reference": "   "}, "court_order_reference"),
        ({"court_order_reference": "X" * 51}, "court_order_reference"),
        ({"effective_to": "today"}, "effective_to"),
        ({"effective_from": "before start"}, "effective_from"),
        ({"weekly_amount": "-5"}, "weekly_amount"),
    ],
)
def test_a_retainer_refuses_bad_input_with_its_field(finance, placement, changes, field):
    arguments = {"effective_from": today(), "effective_to": today() + 7 * DAY,
                 "weekly_amount": Decimal("400.00"), "court_order_reference": "LS24C00123"}
    arguments.update(changes)
    if arguments["effective_to"] == "today":
        arguments["effective_to"] = today()
    if arguments["effective_from"] == "before start":
        arguments["effective_from"] = placement.start_date
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.retainer_record(by=finance, placement=placement, **arguments)

    assert refused.value.field == field
    assert snapshot() == before


# --- Contributions ------------------------------------------------------------------------


def test_a_contribution_is_a_weekly_amount_or_a_percentage(finance, north):
    placement = running_placement(team=north)

    fixed = services.contribution_add(
        by=finance, placement=placement, funder=Contribution.Funder.HEALTH,
        funder_name=" Leeds ICB ", weekly_amount=Decimal("120.005"), start_date=today(),
    )
    share = services.contribution_add(
        by=finance, placement=placement, funder=Contribution.Funder.EDUCATION,
        percentage=Decimal("12.5"), start_date=today(), end_date=today() + 90 * DAY,
    )

    assert (fixed.weekly_amount, fixed.percentage, fixed.funder_name, fixed.end_date) == (
        Decimal("120.01"), None, "Leeds ICB", None)
    assert (share.weekly_amount, share.percentage, share.end_date) == (
        None, Decimal("12.50"), today() + 90 * DAY)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekly_amount": None, "percentage": None}, "weekly_amount"),
        ({"weekly_amount": Decimal("10"), "percentage": Decimal("10")}, "percentage"),
        ({"weekly_amount": Decimal("0")}, "weekly_amount"),
        ({"weekly_amount": Decimal("820.01")}, "weekly_amount"),  # more than the cost
        ({"weekly_amount": None, "percentage": Decimal("0")}, "percentage"),
        ({"weekly_amount": None, "percentage": Decimal("100.01")}, "percentage"),
        ({"weekly_amount": None, "percentage": "half"}, "percentage"),
        ({"funder": "nhs"}, "funder"),
        ({"funder": Contribution.Funder.OTHER, "funder_name": " "}, "funder_name"),
        ({"funder_name": "N" * 201}, "funder_name"),
        ({"start_date": "before start"}, "start_date"),
        ({"start_date": "before window"}, "start_date"),
        ({"end_date": "same day"}, "end_date"),
    ],
)
def test_a_contribution_refuses_bad_input_with_its_field(finance, north, changes, field):
    placement = running_placement(team=north, days_ago=10)
    arguments = {"funder": Contribution.Funder.HEALTH, "funder_name": "",
                 "weekly_amount": Decimal("100.00"), "percentage": None, "start_date": today(),
                 "end_date": None}
    arguments.update(changes)
    arguments["start_date"] = {
        "before start": placement.start_date - DAY, "before window": today() - 29 * DAY,
    }.get(arguments["start_date"], arguments["start_date"])
    if arguments["end_date"] == "same day":
        arguments["end_date"] = arguments["start_date"]
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.contribution_add(by=finance, placement=placement, **arguments)

    assert refused.value.field == field
    assert snapshot() == before


def test_percentages_that_overlap_total_100_at_most(finance, north):
    placement = running_placement(team=north)
    services.contribution_add(by=finance, placement=placement, funder="health",
                              percentage=Decimal("60"), start_date=today(),
                              end_date=today() + 30 * DAY)

    with pytest.raises(InvalidInput) as refused:
        services.contribution_add(by=finance, placement=placement, funder="education",
                                  percentage=Decimal("40.01"), start_date=today() + 29 * DAY)
    assert refused.value.field == "percentage"

    # Exactly 100%, and a share that starts when the first one has ended, are fine.
    services.contribution_add(by=finance, placement=placement, funder="education",
                              percentage=Decimal("40"), start_date=today() + 29 * DAY)
    services.contribution_add(by=finance, placement=placement, funder="other",
                              funder_name="Youth offending service",
                              percentage=Decimal("5"), start_date=today() + 30 * DAY,
                              end_date=today() + 40 * DAY)
    assert placement.contributions.count() == 3


def test_ending_a_contribution_sets_its_end_date(finance, placement):
    contribution = placement.contributions.get()

    services.contribution_end(by=finance, contribution=contribution, end_date=today() + 7 * DAY)

    contribution.refresh_from_db()
    assert contribution.end_date == today() + 7 * DAY


def test_a_contribution_may_end_sooner_but_never_later(finance, placement):
    contribution = placement.contributions.get()
    services.contribution_end(by=finance, contribution=contribution, end_date=today() + 7 * DAY)

    with pytest.raises(InvalidInput) as refused:
        services.contribution_end(by=finance, contribution=contribution, end_date=today() + 8 * DAY)
    assert refused.value.field == "end_date"

    services.contribution_end(by=finance, contribution=contribution, end_date=today() + 2 * DAY)
    contribution.refresh_from_db()
    assert contribution.end_date == today() + 2 * DAY


@pytest.mark.parametrize(
    ("end", "field"),
    [("start", "end_date"), ("before window", "end_date"), ("text", "end_date")],
)
def test_ending_a_contribution_refuses_bad_dates(finance, north, end, field):
    placement = running_placement(team=north)
    contribution = ContributionFactory(placement=placement, start_date=today() - 40 * DAY)
    end_date = {"start": contribution.start_date, "before window": today() - 29 * DAY,
                "text": "tomorrow"}[end]
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.contribution_end(by=finance, contribution=contribution, end_date=end_date)

    assert refused.value.field == field
    assert snapshot() == before


def test_an_ended_contribution_cannot_end_again(finance, north):
    placement = running_placement(team=north)
    contribution = ContributionFactory(placement=placement, end_date=today())

    with pytest.raises(TransitionNotAllowed):
        services.contribution_end(by=finance, contribution=contribution, end_date=today() - DAY)


# --- Ending a placement -----------------------------------------------------------------------


def test_ending_a_placement_closes_its_costs_and_contributions_that_day(finance, placement):
    end = today() + 5 * DAY
    services.placement_cost_change(by=finance, placement=placement, effective_from=today() + 20 * DAY,
                                   weekly_amount=Decimal("850.00"), reason=R.UPLIFT)
    later = ContributionFactory(placement=placement, start_date=today() + 10 * DAY,
                                funder=Contribution.Funder.EDUCATION)

    services.placement_end(by=finance, placement=placement, end_date=end, reason="CHILD")

    placement.refresh_from_db()
    assert (placement.end_date, placement.reason_for_change) == (end, "CHILD")
    # The scheduled uplift never took effect; the open row ends (exclusively) that day.
    assert cost_rows(placement) == [(placement.start_date, end, Decimal("820.00"), R.INITIAL)]
    assert list(placement.contributions.values_list("start_date", "end_date")) == [
        (placement.start_date, end)
    ]
    assert not Contribution.objects.filter(pk=later.pk).exists()


@pytest.mark.parametrize(
    ("end", "reason", "field"),
    [
        ("start", "CARPL", "end_date"),  # at least one night
        ("before window", "CARPL", "end_date"),
        (None, "CARPL", "end_date"),
        ("today", "", "reason"),
        ("today", "MOVED", "reason"),
    ],
)
def test_ending_a_placement_refuses_bad_input_with_its_field(finance, north, end, reason, field):
    placement = running_placement(team=north, days_ago=5)
    end_date = {"start": placement.start_date, "before window": today() - 29 * DAY,
                "today": today(), None: None}[end]
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.placement_end(by=finance, placement=placement, end_date=end_date, reason=reason)

    assert refused.value.field == field
    assert snapshot() == before


# --- Moving the child -------------------------------------------------------------------------


def test_a_move_ends_one_placement_and_starts_the_next_the_same_day(finance, placement):
    PostcodeDistrict.objects.create(outward_code="LS6", latitude=Decimal("53.82000"),
                                    longitude=Decimal("-1.57500"))
    home = ServiceFactory(provider=ProviderFactory(kind=ProviderKind.CHILDRENS_HOME,
                                                   place_provider=PlaceProvider.PR5),
                          latitude=Decimal("53.79700"), longitude=Decimal("-1.54800"),
                          local_authority_area="Leeds")
    day = today() - 2 * DAY

    new = services.child_move(
        by=finance, placement=placement, end_date=day, reason="CARPL", service=home,
        placement_type="K2", weekly_amount=Decimal("3303.00"), on_framework=True,
        planned_end_date=day + 180 * DAY,
    )

    placement.refresh_from_db()
    assert (placement.end_date, placement.reason_for_change) == (day, "CARPL")
    assert cost_rows(placement)[-1][1] == day
    assert placement.contributions.get().end_date == day
    assert (new.child_id, new.start_date, new.end_date, new.service, new.placement_type) == (
        placement.child_id, day, None, home, "K2")
    assert (new.place_provider, new.on_framework, new.planned_end_date, new.created_by) == (
        PlaceProvider.PR5, True, day + 180 * DAY, finance)
    assert new.out_of_authority and new.distance_from_home_miles == Decimal("1.9")
    assert new.referral is None and new.quote is None
    assert cost_rows(new) == [(day, None, Decimal("3303.00"), R.INITIAL)]


def test_a_temporary_placement_has_no_provider_code(finance, placement):
    new = services.child_move(by=finance, placement=placement, end_date=today(), reason="OTHER",
                              service=ServiceFactory(), placement_type="T0",
                              weekly_amount=Decimal("500.00"), on_framework=False)
    assert new.place_provider == ""


def test_a_move_onto_a_booked_placement_changes_nothing(finance, placement):
    """SQLite has no exclusion constraint, so an overlapping placement can exist there
    (PostgreSQL refuses to build this one): the service's check refuses the move."""
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses the overlapping booked placement itself")
    booked = PlacementFactory(child=placement.child, start_date=today() + 30 * DAY,
                              end_date=today() + 40 * DAY, reason_for_change="OTHER")
    PlacementCostFactory(placement=booked)
    before = snapshot()

    with pytest.raises(Conflict):
        services.child_move(by=finance, placement=placement, end_date=today(), reason="CARPL",
                            service=ServiceFactory(), placement_type="U4",
                            weekly_amount=Decimal("800.00"), on_framework=False)

    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"placement_type": "Q9"}, "placement_type"),
        ({"service": "inactive"}, "service"),
        ({"service": None}, "service"),
        ({"planned_end_date": "same day"}, "planned_end_date"),
        ({"weekly_amount": "-1"}, "weekly_amount"),
        ({"reason": "SHRUG"}, "reason"),
        ({"end_date": "start"}, "end_date"),
    ],
)
def test_a_move_refuses_bad_input_with_its_field(finance, placement, changes, field):
    arguments = {"end_date": today(), "reason": "CARPL", "service": ServiceFactory(),
                 "placement_type": "U4", "weekly_amount": Decimal("800.00"),
                 "on_framework": False, "planned_end_date": None}
    arguments.update(changes)
    if arguments["service"] == "inactive":
        arguments["service"] = ServiceFactory(is_active=False)
    if arguments["planned_end_date"] == "same day":
        arguments["planned_end_date"] = arguments["end_date"]
    if arguments["end_date"] == "start":
        arguments["end_date"] = placement.start_date
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        services.child_move(by=finance, placement=placement, **arguments)

    assert refused.value.field == field
    assert snapshot() == before


# --- The ledger refresh ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "days"),
    [
        ("cost_change", lambda day: [(day, None)]),
        ("retainer", lambda day: [(day, day + 13 * DAY)]),
        ("contribution_add", lambda day: [(day, None)]),
        ("contribution_end", lambda day: [(day, None)]),
        ("placement_end", lambda day: [(day, None)]),
        ("child_move", lambda day: [(day, None)]),
    ],
)
def test_each_change_asks_for_the_days_it_touched(finance, placement, refreshes, change, days):
    make_change(change, by=finance, placement=placement)

    assert refreshes == days(today())


def test_bounded_contributions_refresh_their_own_days(finance, north, refreshes):
    placement = running_placement(team=north)
    contribution = services.contribution_add(
        by=finance, placement=placement, funder="health", weekly_amount=Decimal("10.00"),
        start_date=today() + 3 * DAY, end_date=today() + 31 * DAY,
    )
    services.contribution_end(by=finance, contribution=contribution, end_date=today() + 10 * DAY)

    assert refreshes == [(today() + 3 * DAY, today() + 30 * DAY),
                         (today() + 10 * DAY, today() + 30 * DAY)]


def test_an_open_ended_change_refreshes_each_financial_year_to_the_current_one(
    refreshes, monkeypatch
):
    monkeypatch.setattr(services.timezone, "localdate", lambda: datetime.date(2026, 4, 20))

    services.queue_ledger_refresh(first_day=datetime.date(2026, 3, 25), last_day=None)
    services.queue_ledger_refresh(first_day=datetime.date(2026, 4, 6), last_day=None)

    assert refreshes == [
        (datetime.date(2026, 3, 25), None), (datetime.date(2026, 4, 1), None),
        (datetime.date(2026, 4, 6), None),
    ]


@pytest.mark.parametrize("change", CHANGES)
def test_the_refresh_is_queued_on_commit_and_not_for_a_refusal(
    finance, placement, change, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ActionNotPermitted):
            make_change(change, by=UserFactory(roles=[Role.SOCIAL_WORKER]), placement=placement)
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        make_change(change, by=finance, placement=placement)
    assert len(callbacks) >= 1


# --- Atomicity ----------------------------------------------------------------------------


@pytest.mark.parametrize("change", CHANGES)
def test_a_failure_at_the_last_step_leaves_nothing_behind(finance, placement, change, monkeypatch):
    """Queueing the refresh is each service's last step: failing there rolls back every
    row the change wrote."""

    def broken(**_):
        raise RuntimeError("broker down")

    monkeypatch.setattr(rollups, "enqueue_refresh", broken)
    before = snapshot()

    with pytest.raises(RuntimeError):
        make_change(change, by=finance, placement=placement)

    assert snapshot() == before


# --- Two officers at once (PostgreSQL) ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_officers_moving_the_same_child_at_once_make_one_move(role_groups, north):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    placement = running_placement(team=north)
    officers = [UserFactory(username=f"officer_{n}", roles=[CO]) for n in range(2)]
    service = ServiceFactory()
    both_ready = threading.Barrier(2, timeout=10)
    outcomes = {}

    def move(officer):
        try:
            both_ready.wait()
            services.child_move(by=officer, placement=placement, end_date=today(),
                                reason="CARPL", service=service, placement_type="U4",
                                weekly_amount=Decimal("800.00"), on_framework=False)
        except (TransitionNotAllowed, Conflict) as error:
            outcomes[officer.username] = type(error).__name__
        except Exception as error:  # anything else fails the assertions below
            outcomes[officer.username] = repr(error)
        else:
            outcomes[officer.username] = "moved"
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(o,)) for o in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["TransitionNotAllowed", "moved"], outcomes
    assert Placement.objects.filter(child=placement.child).count() == 2
    assert PlacementCost.objects.count() == 2
