"""The audit events panels' services write: who did what to which meeting, agenda item,
decision or Director approval, about which child, what changed and why; the agenda
builder's events have no actor; a refused action writes none.

The referral's own moves (listed, decided, approved) are placements' events; here only
panels' own records are looked at."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ActionNotPermitted, Conflict, InvalidInput, TransitionNotAllowed
from core.models import AuditEvent
from core.roles import Role
from panels import services
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from panels.tasks import schedule_next_meetings
from placements.models import ReferralStatus
from tests.factories import (
    DEMO_DAY,
    AgendaItemFactory,
    DecisionFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    PlacementCostFactory,
    PlacementFactory,
    emergency_referral_in,
    listed_item,
    referral_in,
)

S = ReferralStatus
O = Decision.Outcome
K = AgendaItem.Kind
MONDAY = DEMO_DAY  # 15 June 2026
WEDNESDAY = MONDAY + datetime.timedelta(days=2)


@pytest.fixture
def chair(personas):
    return personas[Role.PANEL_CHAIR]


@pytest.fixture
def director(personas):
    return personas[Role.DIRECTOR]


@pytest.fixture
def panel(chair):
    return PanelFactory(name="Resource Panel", kind=Panel.Kind.RESOURCE,
                        weekday=Panel.Weekday.WEDNESDAY, default_chair=chair)


@pytest.fixture
def meeting(panel):
    return PanelMeetingFactory(panel=panel, date=WEDNESDAY)


def panel_events(**filters):
    """Events about panels' own records, oldest first."""
    return list(
        AuditEvent.objects.filter(object_type__startswith="panels.", **filters).order_by("id")
    )


def event(action, obj):
    return AuditEvent.objects.get(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


def close(meeting):
    meeting.status, meeting.closed_at = PanelMeeting.Status.CLOSED, timezone.now()
    meeting.save(update_fields=["status", "closed_at"])


# --- The agenda builder (the system) ------------------------------------------------------


def test_the_agenda_builder_audits_the_meeting_and_each_item_it_lists(panel, north):
    endorsed = referral_in(S.ENDORSED, team=north)
    emergency = emergency_referral_in(S.SOURCING, team=north, review_due=MONDAY)

    meeting = services.meeting_schedule_next(panel=panel, today=MONDAY)

    scheduled = event("meeting.schedule", meeting)
    assert (scheduled.actor, scheduled.child_id) == (None, None)
    assert scheduled.changes == {
        "panel": [None, panel.pk], "date": [None, WEDNESDAY.isoformat()],
        "chair": [None, panel.default_chair_id], "status": [None, "scheduled"],
    }
    listed, review = meeting.items.order_by("position")
    added = event("agenda_item.add", listed)
    assert (added.actor, added.child_id, added.reason) == (
        None, endorsed.child_id, "Endorsed for panel."
    )
    assert added.changes == {
        "meeting": [None, meeting.pk], "kind": [None, K.REFERRAL],
        "referral": [None, endorsed.pk], "position": [None, 1],
    }
    reviewed = event("agenda_item.add", review)
    assert (reviewed.actor, reviewed.child_id) == (None, emergency.child_id)
    assert "retrospective review" in reviewed.reason


def test_a_rerun_of_the_weekly_task_writes_no_more_events(panel, north):
    referral_in(S.ENDORSED, team=north)

    schedule_next_meetings.delay(today=MONDAY.isoformat()).get()
    first = len(panel_events())
    schedule_next_meetings.delay(today=MONDAY.isoformat()).get()

    assert first == 2 and len(panel_events()) == first
    assert {e.actor for e in panel_events()} == {None}


def test_each_costliest_placement_listed_for_review_names_its_child(chair, settings):
    settings.HIGH_COST_REVIEW_COUNT = 2
    placements = [PlacementFactory(start_date=datetime.date(2026, 1, 5)) for _ in range(3)]
    for placement, cost in zip(placements, ("3000", "5000", "4000"), strict=True):
        PlacementCostFactory(placement=placement, weekly_amount=Decimal(cost))
    review_panel = PanelFactory(kind=Panel.Kind.HIGH_COST_REVIEW, default_chair=chair)

    meeting = services.meeting_schedule_next(panel=review_panel, today=MONDAY)

    added = panel_events(action="agenda_item.add")
    assert [e.child_id for e in added] == [placements[1].child_id, placements[2].child_id]
    assert [e.object_id for e in added] == [
        str(pk) for pk in meeting.items.order_by("position").values_list("pk", flat=True)
    ]
    assert all(e.actor is None and "2 costliest" in e.reason for e in added)


# --- The chair's agenda -------------------------------------------------------------------


def test_adding_removing_and_adding_back_an_item(meeting, chair, north):
    referral = referral_in(S.ENDORSED, team=north)

    item = services.agenda_item_add(meeting=meeting, referral=referral, by=chair)
    services.agenda_item_remove(item=item, by=chair, reason="Papers not ready")
    services.agenda_item_add(meeting=meeting, referral=referral, by=chair)

    added, removed, added_back = panel_events(object_id=str(item.pk))
    assert [e.action for e in (added, removed, added_back)] == [
        "agenda_item.add", "agenda_item.remove", "agenda_item.add"
    ]
    assert {e.actor for e in (added, removed, added_back)} == {chair}
    assert {e.child_id for e in (added, removed, added_back)} == {referral.child_id}
    assert added.changes["referral"] == [None, referral.pk]
    assert removed.reason == "Papers not ready"
    assert removed.changes["removed_by"] == [None, chair.pk]
    assert removed.changes["removed_at"][0] is None
    assert added_back.changes["removed_by"] == [chair.pk, None]
    assert added_back.changes["removed_at"][1] is None


def test_reordering_the_agenda_records_the_order_before_and_after(meeting, chair, north):
    first, second = listed_item(meeting, team=north), listed_item(meeting, team=north)

    services.agenda_reorder(meeting=meeting, item_ids=[second.pk, first.pk], by=chair)

    reordered = event("agenda.reorder", meeting)
    assert reordered.actor == chair
    assert reordered.changes == {"order": [[first.pk, second.pk], [second.pk, first.pk]]}


def test_reordering_into_the_same_order_writes_nothing(meeting, chair, north):
    first, second = listed_item(meeting, team=north), listed_item(meeting, team=north)

    services.agenda_reorder(meeting=meeting, item_ids=[first.pk, second.pk], by=chair)

    assert panel_events() == []


# --- Decisions and the Director -----------------------------------------------------------


def test_a_decision_is_audited_with_its_rationale_as_the_reason(meeting, chair, north):
    item = listed_item(meeting, team=north)

    decision = services.decision_record(
        item=item, by=chair, outcome=O.DECLINE, rationale="Support at home is enough",
        conditions="Family support plan",
    )

    recorded = event("decision.record", decision)
    assert (recorded.actor, recorded.child_id, recorded.reason) == (
        chair, item.referral.child_id, "Support at home is enough"
    )
    assert recorded.changes["outcome"] == [None, O.DECLINE]
    assert recorded.changes["agenda_item"] == [None, item.pk]
    assert recorded.changes["conditions"] == [None, "Family support plan"]
    assert recorded.changes["decided_by"] == [None, chair.pk]
    assert not panel_events(action="director_approval.request")


def test_an_external_approval_asks_the_director_and_says_why(meeting, chair, north, settings):
    settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD = 4000
    item = listed_item(meeting, team=north)

    decision = services.decision_record(
        item=item, by=chair, outcome=O.APPROVE_EXTERNAL, rationale="No in-house match",
        estimated_weekly_cost=Decimal("4500.00"), out_of_area=True,
    )

    assert event("decision.record", decision).changes["estimated_weekly_cost"] == [
        None, "4500.00"
    ]
    approval = DirectorApproval.objects.get(decision=decision)
    asked = event("director_approval.request", approval)
    assert (asked.actor, asked.child_id) == (chair, item.referral.child_id)
    assert asked.reason == (
        "Needs the Director: an external placement, out of area, above the weekly cost "
        "threshold."
    )
    assert asked.changes["status"] == [None, "pending"]


def test_a_review_decision_names_the_placements_child(meeting, chair, north):
    placement = PlacementFactory(child__team=north)
    item = AgendaItemFactory(meeting=meeting, kind=K.HIGH_COST_REVIEW, referral=None,
                             placement=placement)

    decision = services.decision_record(
        item=item, by=chair, outcome=O.CONTINUE, rationale="Still the right home",
        review_date=MONDAY + datetime.timedelta(days=90),
    )

    recorded = event("decision.record", decision)
    assert recorded.child_id == placement.child_id
    assert recorded.changes["review_date"] == [None, "2026-09-13"]


def test_a_correction_records_what_it_changed_and_what_it_supersedes(meeting, chair, north):
    item = listed_item(meeting, team=north)
    original = DecisionFactory(agenda_item=item, outcome=O.DECLINE, rationale="Frist reason")
    close(meeting)

    correction = services.decision_correct(decision=original, by=chair, outcome=O.DECLINE,
                                           rationale="First reason")

    corrected = event("decision.correct", correction)
    assert (corrected.actor, corrected.child_id, corrected.reason) == (
        chair, item.referral.child_id, "First reason"
    )
    assert corrected.changes == {
        "rationale": ["Frist reason", "First reason"], "supersedes": [None, original.pk]
    }


def test_closing_a_meeting_is_audited(meeting, chair):
    services.meeting_close(meeting=meeting, by=chair)

    closed = event("meeting.close", meeting)
    assert closed.actor == chair
    assert closed.changes["status"] == ["scheduled", "closed"]
    assert closed.changes["closed_at"][0] is None


@pytest.mark.parametrize("approved,reason,status", [
    (True, "", "approved"), (False, "Too far from school", "refused"),
])
def test_the_directors_decision_is_audited(director, approved, reason, status):
    approval = DirectorApprovalFactory()

    services.director_decide(approval=approval, by=director, approved=approved, reason=reason)

    decided = event("director_approval.decide", approval)
    assert (decided.actor, decided.child_id, decided.reason) == (
        director, approval.referral.child_id, reason
    )
    assert decided.changes["status"] == ["pending", status]
    assert decided.changes["decided_by"] == [None, director.pk]


# --- Refused actions write nothing ----------------------------------------------------------


def _add_as_member(ctx):
    services.agenda_item_add(meeting=ctx["meeting"], referral=referral_in(S.ENDORSED),
                             by=ctx["personas"][Role.PANEL_MEMBER])


def _decide_on_closed_meeting(ctx):
    item = listed_item(ctx["meeting"])
    close(ctx["meeting"])
    services.decision_record(item=item, by=ctx["chair"], outcome=O.DECLINE, rationale="No")


def _decide_twice(ctx):
    item = listed_item(ctx["meeting"])
    DecisionFactory(agenda_item=item)
    services.decision_record(item=item, by=ctx["chair"], outcome=O.DECLINE, rationale="No")


def _decide_without_rationale(ctx):
    services.decision_record(item=listed_item(ctx["meeting"]), by=ctx["chair"],
                             outcome=O.DECLINE, rationale=" ")


def _correct_an_open_meeting(ctx):
    decision = DecisionFactory(agenda_item=listed_item(ctx["meeting"]))
    services.decision_correct(decision=decision, by=ctx["chair"], outcome=decision.outcome,
                              rationale="Better")


def _remove_a_decided_item(ctx):
    item = listed_item(ctx["meeting"])
    DecisionFactory(agenda_item=item)
    services.agenda_item_remove(item=item, by=ctx["chair"], reason="Oops")


def _reorder_with_an_item_missing(ctx):
    item = listed_item(ctx["meeting"])
    listed_item(ctx["meeting"])
    services.agenda_reorder(meeting=ctx["meeting"], item_ids=[item.pk], by=ctx["chair"])


def _close_with_an_undecided_item(ctx):
    listed_item(ctx["meeting"])
    services.meeting_close(meeting=ctx["meeting"], by=ctx["chair"])


def _director_decides_as_chair(ctx):
    services.director_decide(approval=DirectorApprovalFactory(), by=ctx["chair"], approved=True)


def _director_refuses_without_reason(ctx):
    services.director_decide(approval=DirectorApprovalFactory(),
                             by=ctx["personas"][Role.DIRECTOR], approved=False, reason="")


def _director_decides_twice(ctx):
    director = ctx["personas"][Role.DIRECTOR]
    approval = DirectorApprovalFactory(status=DirectorApproval.Status.APPROVED,
                                       decided_by=director, decided_at=timezone.now())
    services.director_decide(approval=approval, by=director, approved=True)


REFUSED = [
    (_add_as_member, ActionNotPermitted),
    (_decide_on_closed_meeting, TransitionNotAllowed),
    (_decide_twice, Conflict),
    (_decide_without_rationale, InvalidInput),
    (_correct_an_open_meeting, TransitionNotAllowed),
    (_remove_a_decided_item, Conflict),
    (_reorder_with_an_item_missing, InvalidInput),
    (_close_with_an_undecided_item, Conflict),
    (_director_decides_as_chair, ActionNotPermitted),
    (_director_refuses_without_reason, InvalidInput),
    (_director_decides_twice, TransitionNotAllowed),
]


@pytest.mark.parametrize("attempt,error", REFUSED, ids=[a.__name__[1:] for a, _ in REFUSED])
def test_a_refused_action_writes_no_event(meeting, chair, personas, attempt, error):
    before = AuditEvent.objects.count()

    with pytest.raises(error):
        attempt({"meeting": meeting, "chair": chair, "personas": personas})

    assert AuditEvent.objects.count() == before
