"""Panels at work: the agenda builder (and its beat task), the chair's agenda, decisions
for every outcome and item kind, two chairs racing for one item, closing, corrections,
and the Director's approvals."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from core.errors import ActionNotPermitted, Conflict, InvalidInput, TransitionNotAllowed
from core.roles import Role
from panels import services
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from panels.tasks import schedule_next_meetings
from placements.models import Referral, ReferralStatus, ReferralStatusChange
from tests.factories import (
    DEMO_DAY,
    AgendaItemFactory,
    ContributionFactory,
    DecisionFactory,
    PanelFactory,
    PanelMeetingFactory,
    PlacementCostFactory,
    PlacementFactory,
    UserFactory,
    emergency_referral_in,
    listed_item,
    referral_in,
)

S = ReferralStatus
O = Decision.Outcome
K = AgendaItem.Kind
MONDAY = DEMO_DAY  # 15 June 2026
WEDNESDAY = MONDAY + datetime.timedelta(days=2)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def panel(personas):
    """North's Resource Panel, on Wednesdays, chaired by the chair persona."""
    resource = PanelFactory(
        name="Resource Panel", kind=Panel.Kind.RESOURCE, weekday=Panel.Weekday.WEDNESDAY,
        default_chair=personas[Role.PANEL_CHAIR],
    )
    resource.members.add(personas[Role.PANEL_MEMBER])
    return resource


@pytest.fixture
def meeting(panel):
    return PanelMeetingFactory(panel=panel, date=WEDNESDAY)


@pytest.fixture
def chair(personas):
    return personas[Role.PANEL_CHAIR]


def agenda_of(meeting) -> list[tuple]:
    return list(
        AgendaItem.objects.on_agenda()
        .filter(meeting=meeting)
        .order_by("position", "pk")
        .values_list("kind", "referral_id", "placement_id", "position")
    )


def close(meeting):
    meeting.status, meeting.closed_at = PanelMeeting.Status.CLOSED, timezone.now()
    meeting.save(update_fields=["status", "closed_at"])
    return meeting


def status_of(referral) -> str:
    return Referral.objects.get(pk=referral.pk).status


# --- Scheduling ------------------------------------------------------------------------


@pytest.mark.parametrize("offset", range(7), ids=lambda n: (MONDAY + n * DAY).strftime("%A"))
def test_the_next_meeting_is_on_the_panels_weekday_within_the_coming_week(panel, offset):
    today = MONDAY + offset * DAY

    meeting = services.meeting_schedule_next(panel=panel, today=today)

    assert meeting.date.weekday() == Panel.Weekday.WEDNESDAY
    assert DAY <= meeting.date - today <= 7 * DAY
    assert (meeting.chair, meeting.status) == (panel.default_chair, PanelMeeting.Status.SCHEDULED)


def test_every_endorsed_referral_is_listed_and_nothing_else(panel, north):
    endorsed = [referral_in(S.ENDORSED, team=north) for _ in range(3)]
    others = [referral_in(status, team=north) for status in (S.DRAFT, S.SUBMITTED, S.RETURNED)]

    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)

    assert agenda_of(meeting) == [
        (K.REFERRAL, referral.pk, None, position)
        for position, referral in enumerate(endorsed, start=1)
    ]
    assert all(status_of(r) == S.LISTED for r in endorsed)
    assert [status_of(r) for r in others] == [S.DRAFT, S.SUBMITTED, S.RETURNED]
    change = ReferralStatusChange.objects.get(referral=endorsed[0])
    assert (change.from_status, change.to_status, change.by) == (S.ENDORSED, S.LISTED, None)
    assert "Resource Panel" in change.reason


def test_every_unreviewed_emergency_goes_on_the_next_meeting(panel, north):
    due_earlier = emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY - DAY)
    due_on_the_day = emergency_referral_in(S.READY_FOR_SOURCING, team=north,
                                           review_due=WEDNESDAY)
    # Not due until after this meeting, but the next one would be too late.
    due_later = emergency_referral_in(S.SOURCING, team=north, review_due=WEDNESDAY + DAY)
    emergency_referral_in(S.WITHDRAWN, team=north, review_due=MONDAY)  # nothing to review

    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)

    assert agenda_of(meeting) == [
        (K.RETROSPECTIVE_REVIEW, due_earlier.pk, None, 1),
        (K.RETROSPECTIVE_REVIEW, due_on_the_day.pk, None, 2),
        (K.RETROSPECTIVE_REVIEW, due_later.pk, None, 3),
    ]
    assert status_of(due_earlier) == S.SOURCING  # a review does not move the referral


def test_an_emergency_already_reviewed_is_not_reviewed_again(panel, north, chair):
    reviewed = emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY - 7 * DAY)
    last_week = PanelMeetingFactory(panel=panel, date=WEDNESDAY - 7 * DAY)
    item = AgendaItemFactory(meeting=last_week, kind=K.RETROSPECTIVE_REVIEW, referral=reviewed)
    DecisionFactory(agenda_item=item, outcome=O.APPROVE_EXTERNAL)
    close(last_week)

    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)

    assert agenda_of(meeting) == []


def high_cost_world():
    """Six running placements whose order by gross cost differs from their order by
    net cost to the council, plus one ended and one not yet started."""
    def running(gross, *, fixed=None, percentage=None, **fields):
        placement = PlacementFactory(start_date=datetime.date(2026, 1, 5), **fields)
        PlacementCostFactory(placement=placement, weekly_amount=Decimal(gross))
        if fixed or percentage:
            ContributionFactory(placement=placement, weekly_amount=fixed and Decimal(fixed),
                                percentage=percentage and Decimal(percentage))
        return placement

    by_name = {
        "A": running("5000", fixed="3200"),  # gross 1st, net 1800
        "B": running("4000"),  # net 4000
        "C": running("3600", percentage="50"),  # gross 3rd, net 1800
        "D": running("3000"),  # net 3000
        "E": running("2500"),  # net 2500
        "F": running("1900"),  # net 1900
    }
    by_name["ended"] = running("9000", end_date=MONDAY - DAY, reason_for_change="CARPL")
    by_name["future"] = running("8000")
    by_name["future"].start_date = WEDNESDAY + DAY
    by_name["future"].save(update_fields=["start_date"])
    by_name["future"].costs.update(effective_from=WEDNESDAY + DAY)
    return by_name


@pytest.fixture
def high_cost_panel(personas):
    return PanelFactory(name="High-cost review", kind=Panel.Kind.HIGH_COST_REVIEW,
                        weekday=Panel.Weekday.WEDNESDAY, default_chair=personas[Role.PANEL_CHAIR])


def test_the_high_cost_review_lists_the_n_costliest_running_placements_by_net_cost(
    high_cost_panel, settings
):
    settings.HIGH_COST_REVIEW_COUNT = 4
    placements = high_cost_world()

    meeting = services.meeting_schedule_next(panel=high_cost_panel, today=MONDAY)

    expected = [placements[name].pk for name in ("B", "D", "E", "F")]
    assert [placement for _, _, placement, _ in agenda_of(meeting)] == expected
    assert {kind for kind, *_ in agenda_of(meeting)} == {K.HIGH_COST_REVIEW}


def test_the_high_cost_review_count_defaults_to_27(settings):
    assert settings.HIGH_COST_REVIEW_COUNT == 27


def test_a_resource_panel_does_not_review_placements(panel):
    high_cost_world()
    assert agenda_of(services.meeting_schedule_next(panel=panel, today=MONDAY)) == []


@pytest.fixture
def world(panel, high_cost_panel, north, settings):
    settings.HIGH_COST_REVIEW_COUNT = 3
    high_cost_world()
    for _ in range(2):
        referral_in(S.ENDORSED, team=north)
    emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY)
    PanelFactory(name="Dormant", is_active=False, default_chair=panel.default_chair)


def all_agendas():
    return {meeting.panel.name: (meeting.date, agenda_of(meeting))
            for meeting in PanelMeeting.objects.select_related("panel")}


def test_scheduling_twice_gives_the_same_agendas(world):
    first = services.meetings_schedule_all(today=MONDAY)
    agendas = all_agendas()
    timeline_rows = ReferralStatusChange.objects.count()

    second = services.meetings_schedule_all(today=MONDAY)

    assert [m.pk for m in second] == [m.pk for m in first]
    assert all_agendas() == agendas
    assert ReferralStatusChange.objects.count() == timeline_rows
    assert set(agendas) == {"Resource Panel", "High-cost review"}  # not the inactive panel
    assert len(agendas["Resource Panel"][1]) == 3
    assert len(agendas["High-cost review"][1]) == 3


def test_the_beat_task_builds_the_agendas_eagerly_and_is_safe_to_rerun(world):
    assert schedule_next_meetings.delay(today=MONDAY.isoformat()).get() == 2
    agendas = all_agendas()

    assert schedule_next_meetings.delay(today=MONDAY.isoformat()).get() == 2

    assert all_agendas() == agendas
    assert agendas["Resource Panel"][0] == WEDNESDAY


def test_a_rerun_lists_referrals_endorsed_since_at_the_end(panel, north):
    first = referral_in(S.ENDORSED, team=north)
    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)
    later = referral_in(S.ENDORSED, team=north)

    services.meeting_schedule_next(panel=panel, today=MONDAY + DAY)

    assert agenda_of(meeting) == [(K.REFERRAL, first.pk, None, 1), (K.REFERRAL, later.pk, None, 2)]


def test_a_referral_deferred_before_the_meeting_is_not_listed_twice_on_it(panel, north, chair):
    referral = referral_in(S.ENDORSED, team=north)
    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)
    [item] = meeting.items.all()
    services.decision_record(item=item, by=chair, outcome=O.DEFER,
                             rationale="Need the CAMHS report")
    other = referral_in(S.ENDORSED, team=north)

    services.meeting_schedule_next(panel=panel, today=MONDAY + DAY)  # the next morning's run

    assert agenda_of(meeting) == [
        (K.REFERRAL, referral.pk, None, 1), (K.REFERRAL, other.pk, None, 2),
    ]
    assert status_of(referral) == S.ENDORSED  # waits for the following meeting
    next_week = services.meeting_schedule_next(panel=panel, today=WEDNESDAY)
    assert agenda_of(next_week) == [(K.REFERRAL, referral.pk, None, 1)]


def test_a_closed_meeting_is_left_alone(panel, north):
    meeting = close(PanelMeetingFactory(panel=panel, date=WEDNESDAY))
    referral_in(S.ENDORSED, team=north)

    assert services.meeting_schedule_next(panel=panel, today=MONDAY) == meeting
    assert agenda_of(meeting) == []


# --- The chair's agenda ----------------------------------------------------------------

OTHER_CHAIR = "chair of another panel"
EVERYONE = [*Role, OTHER_CHAIR]


def person(who, personas):
    if who == OTHER_CHAIR:
        return UserFactory(username="other_chair", roles=[Role.PANEL_CHAIR])
    return personas[who]


def _who_id(value):
    return str(value.value if isinstance(value, Role) else value)


@pytest.mark.parametrize("who", EVERYONE, ids=_who_id)
def test_only_the_chair_adds_a_referral_to_the_agenda(personas, meeting, north, who):
    referral = referral_in(S.ENDORSED, team=north)
    by = person(who, personas)

    if who == Role.PANEL_CHAIR:
        item = services.agenda_item_add(meeting=meeting, referral=referral, by=by)
        assert agenda_of(meeting) == [(K.REFERRAL, referral.pk, None, 1)]
        assert item.referral == referral and status_of(referral) == S.LISTED
    else:
        with pytest.raises(ActionNotPermitted):
            services.agenda_item_add(meeting=meeting, referral=referral, by=by)
        assert agenda_of(meeting) == [] and status_of(referral) == S.ENDORSED


@pytest.mark.parametrize("who", EVERYONE, ids=_who_id)
def test_only_the_chair_takes_an_item_off_the_agenda(personas, meeting, north, who):
    item = listed_item(meeting, team=north)
    by = person(who, personas)

    if who == Role.PANEL_CHAIR:
        services.agenda_item_remove(item=item, by=by, reason="Not ready")
        assert agenda_of(meeting) == [] and status_of(item.referral) == S.ENDORSED
    else:
        with pytest.raises(ActionNotPermitted):
            services.agenda_item_remove(item=item, by=by)
        assert len(agenda_of(meeting)) == 1 and status_of(item.referral) == S.LISTED


@pytest.mark.parametrize("who", EVERYONE, ids=_who_id)
def test_only_the_chair_reorders_the_agenda(personas, meeting, north, who):
    first, second = listed_item(meeting, team=north), listed_item(meeting, team=north)
    before = agenda_of(meeting)

    if who == Role.PANEL_CHAIR:
        services.agenda_reorder(meeting=meeting, item_ids=[second.pk, first.pk], by=personas[who])
        assert [r for _, r, _, _ in agenda_of(meeting)] == [second.referral_id, first.referral_id]
    else:
        with pytest.raises(ActionNotPermitted):
            services.agenda_reorder(meeting=meeting, item_ids=[second.pk, first.pk],
                                    by=person(who, personas))
        assert agenda_of(meeting) == before


def test_a_chair_who_sits_on_the_panel_may_run_it(meeting, north):
    deputy = UserFactory(roles=[Role.PANEL_CHAIR])
    meeting.panel.members.add(deputy)
    item = listed_item(meeting, team=north)
    services.agenda_item_remove(item=item, by=deputy)
    assert agenda_of(meeting) == []


@pytest.mark.parametrize("item_ids", ["none", "missing one", "twice", "foreign"])
def test_a_reorder_must_name_every_item_exactly_once(meeting, chair, north, item_ids):
    first, second = listed_item(meeting, team=north), listed_item(meeting, team=north)
    elsewhere = AgendaItemFactory()
    item_ids = {
        "none": [], "missing one": [first.pk], "twice": [first.pk, second.pk, first.pk],
        "foreign": [first.pk, elsewhere.pk],
    }[item_ids]
    before = agenda_of(meeting)

    with pytest.raises(InvalidInput):
        services.agenda_reorder(meeting=meeting, item_ids=item_ids, by=chair)

    assert agenda_of(meeting) == before


def test_an_item_with_a_decision_stays_on_the_agenda(meeting, chair, north):
    item = listed_item(meeting, team=north)
    services.decision_record(item=item, by=chair, outcome=O.DECLINE, rationale="Kinship option")

    with pytest.raises(Conflict):
        services.agenda_item_remove(item=item, by=chair)
    assert len(agenda_of(meeting)) == 1


def test_a_withdrawn_referral_can_be_taken_off_so_the_meeting_can_close(
    meeting, chair, personas, north
):
    from placements.services.referrals import referral_withdraw

    item = listed_item(meeting, team=north)
    referral_withdraw(referral=item.referral, by=personas[Role.SOCIAL_WORKER],
                      reason="Child returned home")

    services.agenda_item_remove(item=item, by=chair)
    services.meeting_close(meeting=meeting, by=chair)

    assert agenda_of(meeting) == [] and status_of(item.referral) == S.WITHDRAWN


def test_a_referral_the_chair_takes_off_waits_for_the_following_meeting(panel, north, chair):
    referral = referral_in(S.ENDORSED, team=north)
    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)
    [item] = meeting.items.on_agenda()
    services.agenda_item_remove(item=item, by=chair, reason="Papers not ready")

    services.meeting_schedule_next(panel=panel, today=MONDAY + DAY)  # the next morning's run

    assert agenda_of(meeting) == [] and status_of(referral) == S.ENDORSED
    following = services.meeting_schedule_next(panel=panel, today=WEDNESDAY)
    assert agenda_of(following) == [(K.REFERRAL, referral.pk, None, 1)]


def test_the_chair_can_put_a_removed_referral_back(meeting, chair, north):
    item = listed_item(meeting, team=north)
    services.agenda_item_remove(item=item, by=chair)
    other = listed_item(meeting, team=north)

    services.agenda_item_add(meeting=meeting, referral=item.referral, by=chair)

    assert [r for _, r, _, _ in agenda_of(meeting)] == [other.referral_id, item.referral_id]
    assert status_of(item.referral) == S.LISTED


def test_a_removed_item_cannot_be_decided(meeting, chair, north):
    item = listed_item(meeting, team=north)
    services.agenda_item_remove(item=item, by=chair)

    with pytest.raises(Conflict):
        services.decision_record(item=item, by=chair, outcome=O.DECLINE, rationale="Too late")
    assert not Decision.objects.exists()


# --- Decisions -------------------------------------------------------------------------

THRESHOLD = 4000
# (outcome, expected weekly cost, out of area) → (referral's next status, Director needed
# because: external, out of area, above the threshold)
REFERRAL_DECISIONS = [
    ((O.APPROVE_IN_HOUSE, None, False), (S.READY_FOR_SOURCING, None)),
    ((O.APPROVE_IN_HOUSE, Decimal(THRESHOLD), False), (S.READY_FOR_SOURCING, None)),
    ((O.APPROVE_IN_HOUSE, Decimal(THRESHOLD) + Decimal("0.01"), False),
     (S.AWAITING_DIRECTOR, (False, False, True))),
    ((O.APPROVE_IN_HOUSE, Decimal("350"), True), (S.AWAITING_DIRECTOR, (False, True, False))),
    ((O.APPROVE_EXTERNAL, Decimal("850"), False), (S.AWAITING_DIRECTOR, (True, False, False))),
    ((O.APPROVE_EXTERNAL, Decimal("9000"), True), (S.AWAITING_DIRECTOR, (True, True, True))),
    ((O.DECLINE, None, False), (S.DECLINED, None)),
    ((O.RETURN, None, False), (S.RETURNED, None)),
    ((O.DEFER, None, False), (S.ENDORSED, None)),
]


def _decision_id(value):
    if isinstance(value, tuple) and isinstance(value[0], O):
        outcome, cost, out_of_area = value
        return f"{outcome.value}-{cost}-{'out of area' if out_of_area else 'in area'}"
    return "→"


@pytest.mark.parametrize("given,expected", REFERRAL_DECISIONS, ids=_decision_id)
def test_a_referral_decision_moves_the_referral_on(
    meeting, chair, north, settings, given, expected
):
    settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD = THRESHOLD
    outcome, cost, out_of_area = given
    next_status, director_because = expected
    item = listed_item(meeting, team=north)

    decision = services.decision_record(
        item=item, by=chair, outcome=outcome, rationale="Considered every option",
        conditions=" Review in 12 weeks ", estimated_weekly_cost=cost, out_of_area=out_of_area,
    )

    assert status_of(item.referral) == next_status
    assert (decision.outcome, decision.chaired_by, decision.decided_by) == (outcome, chair, chair)
    assert decision.conditions == "Review in 12 weeks"
    change = item.referral.status_changes.get()
    assert (change.from_status, change.to_status, change.by) == (S.LISTED, next_status, chair)
    assert "Considered every option" in change.reason
    approvals = DirectorApproval.objects.filter(referral=item.referral)
    if director_because is None:
        assert not approvals.exists()
    else:
        approval = approvals.get()
        assert approval.status == DirectorApproval.Status.PENDING
        assert approval.decision == decision
        assert (approval.is_external, approval.is_out_of_area,
                approval.is_above_threshold) == director_because


def test_the_directors_threshold_is_configurable(meeting, chair, north, settings):
    settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD = 300
    item = listed_item(meeting, team=north)
    services.decision_record(item=item, by=chair, outcome=O.APPROVE_IN_HOUSE,
                             rationale="In-house carer", estimated_weekly_cost=Decimal("350"))
    assert status_of(item.referral) == S.AWAITING_DIRECTOR


# The outcomes each kind of item may have (issue 3).
OUTCOMES = {
    K.REFERRAL: {O.APPROVE_IN_HOUSE, O.APPROVE_EXTERNAL, O.DECLINE, O.RETURN, O.DEFER},
    K.RETROSPECTIVE_REVIEW: {O.APPROVE_IN_HOUSE, O.APPROVE_EXTERNAL, O.RETURN},
    K.HIGH_COST_REVIEW: {O.CONTINUE, O.RENEGOTIATE, O.STEP_DOWN},
}


def item_of_kind(kind, meeting, north):
    if kind == K.REFERRAL:
        return listed_item(meeting, team=north)
    if kind == K.RETROSPECTIVE_REVIEW:
        referral = emergency_referral_in(S.SOURCING, team=north)
        return AgendaItemFactory(meeting=meeting, kind=kind, referral=referral)
    return AgendaItemFactory(meeting=meeting, kind=kind, referral=None,
                             placement=PlacementFactory(child__team=north))


@pytest.mark.parametrize("kind,outcome", [
    (kind, outcome) for kind, outcomes in OUTCOMES.items() for outcome in sorted(outcomes)
    if kind != K.REFERRAL
])
def test_reviews_are_recorded_and_leave_the_referral_where_it_is(
    meeting, chair, north, kind, outcome
):
    item = item_of_kind(kind, meeting, north)

    decision = services.decision_record(item=item, by=chair, outcome=outcome,
                                        rationale="Reviewed", review_date=MONDAY + 90 * DAY)

    assert Decision.objects.get(agenda_item=item) == decision
    if item.referral_id:
        assert status_of(item.referral) == S.SOURCING
        assert not item.referral.status_changes.exists()
    assert not DirectorApproval.objects.exists()


@pytest.mark.parametrize("kind,outcome", [
    (kind, outcome) for kind in OUTCOMES for outcome in O if outcome not in OUTCOMES[kind]
])
def test_an_outcome_that_does_not_fit_the_item_is_refused(meeting, chair, north, kind, outcome):
    item = item_of_kind(kind, meeting, north)
    before = item.referral and status_of(item.referral)

    with pytest.raises(InvalidInput) as refused:
        services.decision_record(item=item, by=chair, outcome=outcome, rationale="Reasons",
                                 review_date=MONDAY + 90 * DAY)

    assert refused.value.field == "outcome"
    assert not Decision.objects.exists()
    assert (item.referral and status_of(item.referral)) == before


@pytest.mark.parametrize("outcome", sorted(OUTCOMES[K.HIGH_COST_REVIEW]))
def test_a_high_cost_decision_needs_a_review_date(meeting, chair, north, outcome):
    item = item_of_kind(K.HIGH_COST_REVIEW, meeting, north)
    with pytest.raises(InvalidInput) as refused:
        services.decision_record(item=item, by=chair, outcome=outcome, rationale="Reviewed")
    assert refused.value.field == "review_date"
    assert not Decision.objects.exists()


@pytest.mark.parametrize("rationale", ["", "  \n "])
def test_a_decision_needs_a_rationale(meeting, chair, north, rationale):
    item = listed_item(meeting, team=north)
    with pytest.raises(InvalidInput) as refused:
        services.decision_record(item=item, by=chair, outcome=O.DECLINE, rationale=rationale)
    assert refused.value.field == "rationale"
    assert status_of(item.referral) == S.LISTED and not Decision.objects.exists()


@pytest.mark.parametrize("who", [r for r in EVERYONE if r != Role.PANEL_CHAIR], ids=_who_id)
def test_only_a_chair_of_the_panel_records_decisions(personas, meeting, north, who):
    item = listed_item(meeting, team=north)
    with pytest.raises(ActionNotPermitted):
        services.decision_record(item=item, by=person(who, personas), outcome=O.DECLINE,
                                 rationale="Not mine to decide")
    assert status_of(item.referral) == S.LISTED and not Decision.objects.exists()


def test_a_second_decision_on_the_same_item_is_a_conflict(meeting, chair, north):
    item = listed_item(meeting, team=north)
    first = services.decision_record(item=item, by=chair, outcome=O.DEFER, rationale="Wait")

    with pytest.raises(Conflict):
        services.decision_record(item=item, by=chair, outcome=O.DECLINE, rationale="Changed mind")

    assert list(Decision.objects.filter(agenda_item=item)) == [first]
    assert status_of(item.referral) == S.ENDORSED
    assert item.referral.status_changes.count() == 1


def ensure_role_groups():
    """A transactional test runs after others have flushed the database, which takes the
    role groups (made by a data migration) with it."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.mark.django_db(transaction=True)
def test_two_chairs_deciding_one_item_at_once_give_exactly_one_decision(north):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    ensure_role_groups()
    first_chair = UserFactory(username="chair_one", roles=[Role.PANEL_CHAIR])
    second_chair = UserFactory(username="chair_two", roles=[Role.PANEL_CHAIR])
    panel = PanelFactory(default_chair=first_chair)
    panel.members.add(first_chair, second_chair)
    item = listed_item(PanelMeetingFactory(panel=panel, date=WEDNESDAY), team=north)
    both_ready = threading.Barrier(2, timeout=10)
    outcomes = {}

    def decide(chair, outcome):
        try:
            both_ready.wait()  # both requests arrive together
            services.decision_record(item=item, by=chair, outcome=outcome, rationale=outcome)
        except Conflict as error:
            outcomes[chair.username] = error
        except Exception as error:  # anything else fails the assertions below
            outcomes[chair.username] = repr(error)
        else:
            outcomes[chair.username] = "decided"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(first_chair, O.APPROVE_IN_HOUSE)),
        threading.Thread(target=decide, args=(second_chair, O.DECLINE)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ if o != "decided" else o for o in outcomes.values()) == [
        "Conflict", "decided"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "decided")
    decision = Decision.objects.get(agenda_item=item)
    assert decision.decided_by.username == winner
    assert item.referral.status_changes.count() == 1  # the referral moved once


@pytest.mark.django_db(transaction=True)
def test_a_racing_decision_waits_for_the_first_to_commit(north, monkeypatch):
    """A chair who decides while another's decision is still uncommitted waits for it,
    then is told of the conflict; nothing is half-written."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    ensure_role_groups()
    first_chair = UserFactory(username="chair_one", roles=[Role.PANEL_CHAIR])
    second_chair = UserFactory(username="chair_two", roles=[Role.PANEL_CHAIR])
    panel = PanelFactory(default_chair=first_chair)
    panel.members.add(second_chair)
    item = listed_item(PanelMeetingFactory(panel=panel, date=WEDNESDAY), team=north)
    real_create = Decision.objects.create
    first_inserted = threading.Event()
    outcomes = {}

    def slow_create(**fields):
        decision = real_create(**fields)
        first_inserted.set()
        time.sleep(0.5)  # hold the transaction open while the other chair tries
        return decision

    monkeypatch.setattr(Decision.objects, "create", slow_create)

    def decide(chair, wait_for=None):
        try:
            if wait_for:
                assert wait_for.wait(timeout=10)
            services.decision_record(item=item, by=chair, outcome=O.DECLINE, rationale="Race")
        except Exception as error:
            outcomes[chair.username] = type(error).__name__
        else:
            outcomes[chair.username] = "decided"
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(first_chair,)),
               threading.Thread(target=decide, args=(second_chair, first_inserted))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes == {"chair_one": "decided", "chair_two": "Conflict"}
    assert Decision.objects.filter(agenda_item=item).count() == 1


# --- Closing, and what a closed meeting refuses ---------------------------------------


def test_a_meeting_cannot_close_while_items_are_undecided(meeting, chair, north):
    decided, undecided = listed_item(meeting, team=north), listed_item(meeting, team=north)
    services.decision_record(item=decided, by=chair, outcome=O.DECLINE, rationale="No")

    with pytest.raises(Conflict) as refused:
        services.meeting_close(meeting=meeting, by=chair)
    assert "1 agenda item" in refused.value.message
    assert PanelMeeting.objects.get(pk=meeting.pk).status == PanelMeeting.Status.SCHEDULED

    services.decision_record(item=undecided, by=chair, outcome=O.DEFER, rationale="Later")
    services.meeting_close(meeting=meeting, by=chair)

    meeting.refresh_from_db()
    assert meeting.status == PanelMeeting.Status.CLOSED and meeting.closed_at is not None


@pytest.mark.parametrize("who", [r for r in EVERYONE if r != Role.PANEL_CHAIR], ids=_who_id)
def test_only_a_chair_of_the_panel_closes_the_meeting(personas, meeting, who):
    with pytest.raises(ActionNotPermitted):
        services.meeting_close(meeting=meeting, by=person(who, personas))
    assert PanelMeeting.objects.get(pk=meeting.pk).status == PanelMeeting.Status.SCHEDULED


@pytest.fixture
def closed(meeting, chair, north):
    """A closed meeting with one decided item and one (impossible in practice, but
    written directly here) undecided item."""
    decided = listed_item(meeting, team=north)
    services.decision_record(item=decided, by=chair, outcome=O.DEFER, rationale="Wait")
    undecided = listed_item(meeting, team=north)
    close(meeting)
    return {"meeting": meeting, "decided": decided, "undecided": undecided}


def test_closing_twice_is_refused(closed, chair):
    with pytest.raises(TransitionNotAllowed):
        services.meeting_close(meeting=closed["meeting"], by=chair)


@pytest.mark.parametrize("which", ["decided", "undecided"])
def test_a_closed_meetings_decisions_cannot_be_recorded_or_changed(closed, chair, which):
    item = closed[which]
    decisions = list(Decision.objects.values_list("pk", "outcome"))

    with pytest.raises(TransitionNotAllowed):
        services.decision_record(item=item, by=chair, outcome=O.DECLINE, rationale="Too late")

    assert list(Decision.objects.values_list("pk", "outcome")) == decisions
    assert status_of(closed["undecided"].referral) == S.LISTED


def test_a_closed_meetings_agenda_cannot_change(closed, chair, north):
    meeting = closed["meeting"]
    before = agenda_of(meeting)
    endorsed = referral_in(S.ENDORSED, team=north)

    with pytest.raises(TransitionNotAllowed):
        services.agenda_item_add(meeting=meeting, referral=endorsed, by=chair)
    with pytest.raises(TransitionNotAllowed):
        services.agenda_item_remove(item=closed["undecided"], by=chair)
    with pytest.raises(TransitionNotAllowed):
        services.agenda_reorder(
            meeting=meeting, item_ids=list(meeting.items.values_list("pk", flat=True))[::-1],
            by=chair,
        )

    assert agenda_of(meeting) == before
    assert status_of(endorsed) == S.ENDORSED


# --- Corrections -----------------------------------------------------------------------


def test_a_correction_is_a_new_record_that_supersedes_the_old(closed, chair):
    original = Decision.objects.get(agenda_item=closed["decided"])

    correction = services.decision_correct(decision=original, by=chair, outcome=O.DEFER,
                                           rationale=" Minuted wrongly ")

    assert correction.supersedes == original and correction.pk != original.pk
    assert (correction.outcome, correction.rationale, correction.decided_by) == (
        O.DEFER, "Minuted wrongly", chair)
    assert Decision.objects.get(pk=original.pk).rationale == "Wait"  # untouched
    assert status_of(closed["decided"].referral) == S.ENDORSED  # not moved again


def test_a_decision_of_an_open_meeting_is_not_corrected(meeting, chair, north):
    item = listed_item(meeting, team=north)
    original = services.decision_record(item=item, by=chair, outcome=O.DEFER, rationale="Wait")

    with pytest.raises(TransitionNotAllowed):
        services.decision_correct(decision=original, by=chair, outcome=O.DECLINE, rationale="No")

    assert Decision.objects.count() == 1


def test_a_decision_is_corrected_once_then_the_correction_is_corrected(closed, chair):
    original = Decision.objects.get(agenda_item=closed["decided"])
    correction = services.decision_correct(decision=original, by=chair, outcome=O.DEFER,
                                           rationale="First correction")

    with pytest.raises(Conflict):
        services.decision_correct(decision=original, by=chair, outcome=O.DEFER,
                                  rationale="Second correction of the original")
    assert Decision.objects.count() == 2

    again = services.decision_correct(decision=correction, by=chair, outcome=O.DEFER,
                                      rationale="Correcting the correction")
    assert again.supersedes == correction


@pytest.mark.parametrize("outcome", [O.DECLINE, O.APPROVE_IN_HOUSE, O.RETURN])
def test_a_correction_cannot_change_a_referral_outcome(closed, chair, outcome):
    original = Decision.objects.get(agenda_item=closed["decided"])

    with pytest.raises(InvalidInput):
        services.decision_correct(decision=original, by=chair, outcome=outcome,
                                  rationale="Should have been something else")

    assert Decision.objects.count() == 1
    assert status_of(closed["decided"].referral) == S.ENDORSED


def test_a_correction_must_fit_the_item(closed, chair):
    original = Decision.objects.get(agenda_item=closed["decided"])
    with pytest.raises(InvalidInput):
        services.decision_correct(decision=original, by=chair, outcome=O.CONTINUE,
                                  rationale="Not a referral outcome")
    assert Decision.objects.count() == 1


@pytest.mark.parametrize("who", [r for r in EVERYONE if r != Role.PANEL_CHAIR], ids=_who_id)
def test_only_a_chair_of_the_panel_corrects(closed, personas, who):
    original = Decision.objects.get(agenda_item=closed["decided"])
    with pytest.raises(ActionNotPermitted):
        services.decision_correct(decision=original, by=person(who, personas),
                                  outcome=O.DECLINE, rationale="Not mine")
    assert Decision.objects.count() == 1


# --- The Director ----------------------------------------------------------------------


@pytest.fixture
def awaiting(meeting, chair, north):
    """A referral the panel approved externally, now waiting for the Director."""
    item = listed_item(meeting, team=north)
    services.decision_record(item=item, by=chair, outcome=O.APPROVE_EXTERNAL,
                             rationale="No in-house carer", estimated_weekly_cost=Decimal("850"))
    return DirectorApproval.objects.get(referral=item.referral)


def test_the_director_approves_and_the_referral_is_ready_for_sourcing(awaiting, personas):
    director = personas[Role.DIRECTOR]

    services.director_decide(approval=awaiting, by=director, approved=True)

    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.decided_by) == (DirectorApproval.Status.APPROVED, director)
    assert awaiting.decided_at is not None
    assert status_of(awaiting.referral) == S.READY_FOR_SOURCING
    change = awaiting.referral.status_changes.last()
    assert (change.from_status, change.to_status, change.by) == (
        S.AWAITING_DIRECTOR, S.READY_FOR_SOURCING, director)


def test_the_director_refuses_with_a_reason_and_the_referral_is_declined(awaiting, personas):
    services.director_decide(approval=awaiting, by=personas[Role.DIRECTOR], approved=False,
                             reason="Explore kinship first")

    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.reason) == (DirectorApproval.Status.REFUSED,
                                                  "Explore kinship first")
    assert status_of(awaiting.referral) == S.DECLINED
    assert awaiting.referral.status_changes.last().reason == "Explore kinship first"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_refusal_needs_a_reason(awaiting, personas, reason):
    with pytest.raises(InvalidInput) as refused:
        services.director_decide(approval=awaiting, by=personas[Role.DIRECTOR], approved=False,
                                 reason=reason)
    assert refused.value.field == "reason"
    awaiting.refresh_from_db()
    assert awaiting.status == DirectorApproval.Status.PENDING
    assert status_of(awaiting.referral) == S.AWAITING_DIRECTOR


@pytest.mark.parametrize("first", [True, False], ids=["approved", "refused"])
def test_the_director_decides_once(awaiting, personas, first):
    director = personas[Role.DIRECTOR]
    services.director_decide(approval=awaiting, by=director, approved=first, reason="Because")
    status = status_of(awaiting.referral)

    with pytest.raises(TransitionNotAllowed):
        services.director_decide(approval=awaiting, by=director, approved=not first,
                                 reason="Changed my mind")

    awaiting.refresh_from_db()
    assert awaiting.status == (DirectorApproval.Status.APPROVED if first
                               else DirectorApproval.Status.REFUSED)
    assert status_of(awaiting.referral) == status


@pytest.mark.parametrize("role", [r for r in Role if r != Role.DIRECTOR], ids=_who_id)
def test_only_the_director_approves(awaiting, personas, role):
    with pytest.raises(ActionNotPermitted):
        services.director_decide(approval=awaiting, by=personas[role], approved=True)
    awaiting.refresh_from_db()
    assert awaiting.status == DirectorApproval.Status.PENDING
    assert status_of(awaiting.referral) == S.AWAITING_DIRECTOR


def test_a_failed_director_decision_leaves_the_approval_pending(awaiting, personas, monkeypatch):
    """The approval row is saved before the referral moves; a failure then undoes both."""
    def boom(**kwargs):
        raise RuntimeError("timeline insert failed")

    monkeypatch.setattr(ReferralStatusChange.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.director_decide(approval=awaiting, by=personas[Role.DIRECTOR], approved=True)
    monkeypatch.undo()

    awaiting.refresh_from_db()
    assert awaiting.status == DirectorApproval.Status.PENDING and awaiting.decided_by is None
    assert status_of(awaiting.referral) == S.AWAITING_DIRECTOR


def test_a_failed_approval_request_undoes_the_panel_decision(meeting, chair, north, monkeypatch):
    item = listed_item(meeting, team=north)

    def boom(**kwargs):
        raise RuntimeError("approval insert failed")

    monkeypatch.setattr(DirectorApproval.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.decision_record(item=item, by=chair, outcome=O.APPROVE_EXTERNAL,
                                 rationale="External")
    monkeypatch.undo()

    assert not Decision.objects.exists()
    assert status_of(item.referral) == S.LISTED
    assert not item.referral.status_changes.exists()



def test_a_referral_withdrawn_while_awaiting_the_director_leaves_the_queue(awaiting, personas):
    from panels.selectors import pending_director_approvals
    from placements.services.referrals import referral_withdraw

    director = personas[Role.DIRECTOR]
    assert list(pending_director_approvals(user=director)) == [awaiting]

    referral_withdraw(referral=awaiting.referral, by=personas[Role.SOCIAL_WORKER],
                      reason="Family found a kinship carer")

    assert list(pending_director_approvals(user=director)) == []


def test_a_superuser_without_the_roles_neither_chairs_nor_approves(awaiting, meeting, north):
    root = UserFactory(is_superuser=True, is_staff=True, roles=[Role.ADMINISTRATOR])
    item = listed_item(meeting, team=north)

    with pytest.raises(ActionNotPermitted):
        services.decision_record(item=item, by=root, outcome=O.DECLINE, rationale="Admin says")
    with pytest.raises(ActionNotPermitted):
        services.director_decide(approval=awaiting, by=root, approved=True)
    assert not Decision.objects.filter(agenda_item=item).exists()
    awaiting.refresh_from_db()
    assert awaiting.status == DirectorApproval.Status.PENDING


def test_a_referral_deferred_at_a_meeting_cannot_be_added_back_to_it(meeting, chair, north):
    from panels.selectors import referrals_ready_for_panel

    item = listed_item(meeting, team=north)
    services.decision_record(item=item, by=chair, outcome=O.DEFER, rationale="Need the report")
    assert status_of(item.referral) == S.ENDORSED
    assert item.referral not in referrals_ready_for_panel(meeting=meeting)

    with pytest.raises(Conflict):
        services.agenda_item_add(meeting=meeting, referral=item.referral, by=chair)
    assert status_of(item.referral) == S.ENDORSED


def test_an_emergency_past_its_review_date_and_unreviewed_is_overdue(panel, north, chair):
    from panels.selectors import retrospective_reviews_overdue

    overdue = emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY - DAY)
    emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY)  # due today: not yet
    reviewed = emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY - 2 * DAY)
    item = AgendaItemFactory(meeting=PanelMeetingFactory(panel=panel, date=MONDAY - 5 * DAY),
                             kind=K.RETROSPECTIVE_REVIEW, referral=reviewed)
    DecisionFactory(agenda_item=item, outcome=O.APPROVE_EXTERNAL)

    assert list(retrospective_reviews_overdue(user=chair, today=MONDAY)) == [overdue]
