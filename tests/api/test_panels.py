"""/api/v1/panels/, meetings/, agenda-items/, decisions/ and director-approvals/ through
HTTP: the chair runs the meeting, the Director approves, everyone else is refused."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.roles import Role
from panels.models import AgendaItem, Decision, DirectorApproval, PanelMeeting
from placements.models import ReferralStatus
from tests.factories import (
    AgendaItemFactory,
    ChildFactory,
    DecisionFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    ReferralFactory,
    UserFactory,
)

S = ReferralStatus


@pytest.fixture
def chair(personas):
    return personas[Role.PANEL_CHAIR]


@pytest.fixture
def member(personas):
    return personas[Role.PANEL_MEMBER]


@pytest.fixture
def panel(chair, member):
    panel = PanelFactory(name="Resource Panel", default_chair=chair)
    panel.members.add(member)
    return panel


@pytest.fixture
def meeting(panel):
    return PanelMeetingFactory(panel=panel, date=datetime.date(2026, 6, 17))


@pytest.fixture
def item(meeting, north):
    referral = ReferralFactory(child=ChildFactory(team=north), status=S.LISTED)
    return AgendaItemFactory(meeting=meeting, referral=referral)


def closed(meeting) -> PanelMeeting:
    PanelMeeting.objects.filter(pk=meeting.pk).update(status="closed", closed_at=timezone.now())
    meeting.refresh_from_db()
    return meeting


def ids(response) -> set[int]:
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


# --- Panels and meetings -----------------------------------------------------------------


def test_panels_are_listed_with_their_members(as_user, personas, panel, member):
    response = as_user(personas[Role.SOCIAL_WORKER]).get("/api/v1/panels/")
    assert response.status_code == 200
    [row] = response.data["results"]
    assert (row["name"], row["kind"], row["members"]) == ("Resource Panel", "resource", [member.pk])
    assert as_user(member).get(f"/api/v1/panels/{panel.pk}/").status_code == 200


def test_members_see_their_panels_meetings_and_others_get_404(as_user, personas, meeting, member):
    elsewhere = PanelMeetingFactory()  # a panel the persona chair does not sit on
    client = as_user(member)
    assert ids(client.get("/api/v1/meetings/")) == {meeting.pk}
    detail = client.get(f"/api/v1/meetings/{meeting.pk}/")
    assert detail.status_code == 200
    assert (detail.data["status"], detail.data["item_count"]) == ("scheduled", 0)
    assert client.get(f"/api/v1/meetings/{elsewhere.pk}/").status_code == 404
    outsider = as_user(personas[Role.SOCIAL_WORKER])
    assert outsider.get(f"/api/v1/meetings/{meeting.pk}/").status_code == 404


def test_meetings_filter_on_panel_status_and_dates(as_user, personas, panel):
    june = PanelMeetingFactory(panel=panel, date=datetime.date(2026, 6, 3))
    july = closed(PanelMeetingFactory(panel=panel, date=datetime.date(2026, 7, 1)))
    other = PanelMeetingFactory(date=datetime.date(2026, 6, 10))
    client = as_user(personas[Role.DIRECTOR])

    def meetings(**filters) -> set[int]:
        return ids(client.get("/api/v1/meetings/", filters))

    assert meetings(panel=panel.pk) == {june.pk, july.pk}
    assert meetings(status="closed") == {july.pk}
    assert meetings(date_after="2026-06-04") == {july.pk, other.pk}
    assert meetings(date_before="2026-06-10") == {june.pk, other.pk}
    assert meetings(date_after="2026-06-04", date_before="2026-06-30") == {other.pk}
    assert client.get("/api/v1/meetings/", {"date_after": "soon"}).status_code == 400


def test_the_chair_closes_a_fully_decided_meeting(as_user, chair, meeting, item):
    DecisionFactory(agenda_item=item)
    response = as_user(chair).post(f"/api/v1/meetings/{meeting.pk}/close/")
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["item_count"]) == ("closed", 1)
    meeting.refresh_from_db()
    assert meeting.status == PanelMeeting.Status.CLOSED


def test_closing_with_an_undecided_item_is_409(as_user, chair, meeting, item):
    response = as_user(chair).post(f"/api/v1/meetings/{meeting.pk}/close/")
    assert response.status_code == 409
    assert "no decision" in response.data["detail"]
    meeting.refresh_from_db()
    assert meeting.status == PanelMeeting.Status.SCHEDULED


def test_a_member_who_is_not_a_chair_cannot_close(as_user, member, meeting):
    response = as_user(member).post(f"/api/v1/meetings/{meeting.pk}/close/")
    assert response.status_code == 403
    meeting.refresh_from_db()
    assert meeting.status == PanelMeeting.Status.SCHEDULED


def test_closing_twice_is_409_with_the_state(as_user, chair, meeting):
    closed(meeting)
    response = as_user(chair).post(f"/api/v1/meetings/{meeting.pk}/close/")
    assert response.status_code == 409
    assert (response.data["current_status"], response.data["allowed_transitions"]) == ("closed", [])


def two_items(meeting, north) -> list[AgendaItem]:
    return [
        AgendaItemFactory(
            meeting=meeting, position=position,
            referral=ReferralFactory(child=ChildFactory(team=north), status=S.LISTED),
        )
        for position in (1, 2)
    ]


def positions(meeting) -> list[int]:
    return list(meeting.items.order_by("position").values_list("pk", flat=True))


def test_the_chair_reorders_the_agenda(as_user, chair, meeting, north):
    first, second = two_items(meeting, north)
    response = as_user(chair).post(
        f"/api/v1/meetings/{meeting.pk}/reorder/", {"item_ids": [second.pk, first.pk]},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert (response.data["id"], response.data["item_count"]) == (meeting.pk, 2)
    assert positions(meeting) == [second.pk, first.pk]


def test_a_member_who_is_not_the_chair_cannot_reorder(as_user, member, meeting, north):
    first, second = two_items(meeting, north)
    response = as_user(member).post(
        f"/api/v1/meetings/{meeting.pk}/reorder/", {"item_ids": [second.pk, first.pk]},
        format="json",
    )
    assert response.status_code == 403
    assert positions(meeting) == [first.pk, second.pk]


@pytest.mark.parametrize(
    "body",
    [
        lambda first, second: {"item_ids": "first"},
        lambda first, second: {"item_ids": ["x"]},
        lambda first, second: {},
        lambda first, second: {"item_ids": [second.pk]},
        lambda first, second: {"item_ids": [second.pk, second.pk]},
        lambda first, second: {"item_ids": [second.pk, first.pk, 10**30]},
    ],
    ids=["not-a-list", "not-ids", "no-list", "missing-one", "one-twice", "unknown-id"],
)
def test_a_reorder_that_is_not_the_whole_agenda_once_is_400(as_user, chair, meeting, north, body):
    first, second = two_items(meeting, north)
    response = as_user(chair).post(
        f"/api/v1/meetings/{meeting.pk}/reorder/", body(first, second), format="json"
    )
    assert response.status_code == 400
    assert "item_ids" in response.data
    assert positions(meeting) == [first.pk, second.pk]


def test_reordering_a_closed_meeting_is_409_and_another_panels_is_404(
    as_user, chair, meeting, north
):
    first, second = two_items(meeting, north)
    closed(meeting)
    elsewhere = PanelMeetingFactory()
    client = as_user(chair)
    reordered = {"item_ids": [second.pk, first.pk]}
    assert client.post(f"/api/v1/meetings/{meeting.pk}/reorder/", reordered,
                       format="json").status_code == 409
    assert client.post(f"/api/v1/meetings/{elsewhere.pk}/reorder/", reordered,
                       format="json").status_code == 404


# --- Agenda items --------------------------------------------------------------------------


def test_agenda_items_list_filters_by_meeting(as_user, member, meeting, item, panel):
    later = PanelMeetingFactory(panel=panel, date=datetime.date(2026, 6, 24))
    AgendaItemFactory(meeting=later)
    response = as_user(member).get("/api/v1/agenda-items/", {"meeting": meeting.pk})
    assert ids(response) == {item.pk}
    [row] = response.data["results"]
    assert (row["meeting"], row["referral"], row["decisions"]) == (meeting.pk, item.referral_id, [])


def test_the_chair_adds_an_endorsed_referral(as_user, chair, meeting, north):
    referral = ReferralFactory(child=ChildFactory(team=north), status=S.ENDORSED)
    response = as_user(chair).post(
        "/api/v1/agenda-items/", {"meeting": meeting.pk, "referral": referral.pk}, format="json"
    )
    assert response.status_code == 201, response.data
    assert (response.data["meeting"], response.data["referral"]) == (meeting.pk, referral.pk)
    referral.refresh_from_db()
    assert referral.status == S.LISTED
    assert meeting.items.get().referral == referral


def test_adding_a_referral_that_is_not_endorsed_is_409(as_user, chair, meeting, north):
    referral = ReferralFactory(child=ChildFactory(team=north), status=S.SUBMITTED)
    response = as_user(chair).post(
        "/api/v1/agenda-items/", {"meeting": meeting.pk, "referral": referral.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.data["current_status"] == "submitted"
    assert not meeting.items.exists()
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED


def test_a_member_cannot_change_the_agenda(as_user, member, meeting, north):
    referral = ReferralFactory(child=ChildFactory(team=north), status=S.ENDORSED)
    response = as_user(member).post(
        "/api/v1/agenda-items/", {"meeting": meeting.pk, "referral": referral.pk}, format="json"
    )
    assert response.status_code == 403
    assert not meeting.items.exists()


def test_adding_needs_a_meeting_and_a_referral(as_user, chair):
    response = as_user(chair).post("/api/v1/agenda-items/", {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"meeting", "referral"}


def test_the_chair_takes_an_undecided_item_off(as_user, chair, item):
    response = as_user(chair).delete(f"/api/v1/agenda-items/{item.pk}/")
    assert response.status_code == 204
    assert not AgendaItem.objects.on_agenda().filter(pk=item.pk).exists()
    item.referral.refresh_from_db()
    assert item.referral.status == S.ENDORSED


def test_a_decided_item_stays_on_the_agenda(as_user, chair, item):
    DecisionFactory(agenda_item=item)
    response = as_user(chair).delete(f"/api/v1/agenda-items/{item.pk}/")
    assert response.status_code == 409
    assert AgendaItem.objects.on_agenda().filter(pk=item.pk).exists()


def test_items_of_meetings_the_user_cannot_see_are_404(as_user, personas, item):
    client = as_user(personas[Role.SOCIAL_WORKER])
    assert client.get(f"/api/v1/agenda-items/{item.pk}/").status_code == 404
    assert client.delete(f"/api/v1/agenda-items/{item.pk}/").status_code == 404
    assert ids(client.get("/api/v1/agenda-items/")) == set()
    assert AgendaItem.objects.on_agenda().filter(pk=item.pk).exists()


# --- Decisions -----------------------------------------------------------------------------


def decide(client, item, **answers):
    body = {"agenda_item": item.pk, "outcome": "approve_in_house", "rationale": "Best fit"}
    return client.post("/api/v1/decisions/", {**body, **answers}, format="json")


def test_the_chair_records_a_decision_and_the_referral_moves_on(as_user, chair, item):
    response = decide(as_user(chair), item, conditions="Review in 3 months")
    assert response.status_code == 201, response.data
    decision = Decision.objects.get()
    assert (response.data["id"], response.data["meeting"]) == (decision.pk, item.meeting_id)
    assert (decision.outcome, decision.decided_by, decision.conditions) == (
        "approve_in_house", chair, "Review in 3 months"
    )
    item.referral.refresh_from_db()
    assert item.referral.status == S.READY_FOR_SOURCING


def test_an_external_approval_waits_for_the_director(as_user, chair, item):
    response = decide(
        as_user(chair), item, outcome="approve_external", estimated_weekly_cost="4200.00"
    )
    assert response.status_code == 201, response.data
    approval = DirectorApproval.objects.get()
    assert (approval.referral, approval.is_external, approval.is_above_threshold) == (
        item.referral, True, True
    )
    assert Decision.objects.get().estimated_weekly_cost == Decimal("4200.00")


def test_two_chairs_deciding_the_same_item_give_one_decision(as_user, chair, panel, item):
    second_chair = UserFactory(roles=[Role.PANEL_CHAIR])
    panel.members.add(second_chair)

    first = decide(as_user(chair), item, outcome="approve_in_house")
    second = decide(as_user(second_chair), item, outcome="decline")

    assert first.status_code == 201, first.data
    assert second.status_code == 409
    assert "already been recorded" in second.data["detail"]
    assert Decision.objects.get().outcome == "approve_in_house"
    item.referral.refresh_from_db()
    assert item.referral.status == S.READY_FOR_SOURCING


def test_a_member_cannot_decide(as_user, member, item):
    assert decide(as_user(member), item).status_code == 403
    assert not Decision.objects.exists()
    item.referral.refresh_from_db()
    assert item.referral.status == S.LISTED


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"outcome": "continue"}, "outcome"),  # refused by the service: not for a referral
        ({"outcome": "maybe"}, "outcome"),  # refused by the serializer: no such outcome
        ({"rationale": ""}, "rationale"),
        ({"review_date": "soon"}, "review_date"),
        ({"estimated_weekly_cost": "-5"}, "estimated_weekly_cost"),
    ],
)
def test_invalid_decisions_are_400_on_their_field(as_user, chair, item, answers, field):
    response = decide(as_user(chair), item, **answers)
    assert response.status_code == 400
    assert field in response.data
    assert not Decision.objects.exists()


def test_give_an_item_or_the_decision_corrected_not_both(as_user, chair, item):
    earlier = DecisionFactory(agenda_item=AgendaItemFactory(meeting=item.meeting))
    response = decide(as_user(chair), item, supersedes=earlier.pk)
    assert response.status_code == 400
    assert "non_field_errors" in response.data
    client = as_user(chair)
    nothing = client.post(
        "/api/v1/decisions/", {"outcome": "decline", "rationale": "x"}, format="json"
    )
    assert nothing.status_code == 400
    assert Decision.objects.count() == 1


def test_a_closed_meetings_decision_is_corrected_by_a_new_record(as_user, chair, item):
    original = DecisionFactory(agenda_item=item, outcome="approve_in_house")
    closed(item.meeting)
    response = as_user(chair).post("/api/v1/decisions/", {
        "supersedes": original.pk, "outcome": "approve_in_house", "rationale": "Minutes corrected",
    }, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["supersedes"], response.data["agenda_item"]) == (original.pk, item.pk)
    original.refresh_from_db()
    assert original.rationale != "Minutes corrected"  # never edited
    listed = as_user(chair).get("/api/v1/decisions/", {"meeting": item.meeting_id})
    by_id = {row["id"]: row for row in listed.data["results"]}
    assert by_id[original.pk]["superseded_by"] == response.data["id"]


def test_a_correction_changes_neither_cost_nor_area(as_user, chair, item):
    original = DecisionFactory(agenda_item=item)
    closed(item.meeting)
    response = as_user(chair).post("/api/v1/decisions/", {
        "supersedes": original.pk, "outcome": "approve_external", "rationale": "x",
        "estimated_weekly_cost": "100.00",
    }, format="json")
    assert response.status_code == 400
    assert "estimated_weekly_cost" in response.data


def test_an_open_meetings_decision_is_not_corrected_but_redecided(as_user, chair, item):
    original = DecisionFactory(agenda_item=item)
    response = as_user(chair).post("/api/v1/decisions/", {
        "supersedes": original.pk, "outcome": "decline", "rationale": "Changed our minds",
    }, format="json")
    assert response.status_code == 409
    assert response.data["current_status"] == "scheduled"
    assert Decision.objects.count() == 1


def test_deciding_on_a_closed_meeting_is_409(as_user, chair, item):
    closed(item.meeting)
    response = decide(as_user(chair), item)
    assert response.status_code == 409
    assert response.data["current_status"] == "closed"
    assert not Decision.objects.exists()


def test_decisions_of_meetings_the_user_cannot_see_are_hidden(as_user, personas, member, item):
    decision = DecisionFactory(agenda_item=item)
    elsewhere = DecisionFactory()
    client = as_user(member)
    assert ids(client.get("/api/v1/decisions/")) == {decision.pk}
    assert client.get(f"/api/v1/decisions/{decision.pk}/").status_code == 200
    assert client.get(f"/api/v1/decisions/{elsewhere.pk}/").status_code == 404
    refused = decide(as_user(personas[Role.SOCIAL_WORKER]), item)
    assert refused.status_code == 400  # an item the user cannot see is not a valid item
    assert "agenda_item" in refused.data


# --- The Director's approvals --------------------------------------------------------------


@pytest.fixture
def approval(north):
    return DirectorApprovalFactory(referral__child=ChildFactory(team=north))


def test_the_director_approves_and_the_referral_reaches_sourcing(as_user, personas, approval):
    client = as_user(personas[Role.DIRECTOR])
    assert ids(client.get("/api/v1/director-approvals/")) == {approval.pk}
    response = client.post(f"/api/v1/director-approvals/{approval.pk}/approve/")
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["decided_by"]) == (
        "approved", personas[Role.DIRECTOR].pk
    )
    approval.referral.refresh_from_db()
    assert approval.referral.status == S.READY_FOR_SOURCING


def test_refusing_needs_a_reason(as_user, personas, approval):
    client = as_user(personas[Role.DIRECTOR])
    url = f"/api/v1/director-approvals/{approval.pk}/refuse/"
    assert client.post(url, {"reason": ""}, format="json").status_code == 400
    approval.refresh_from_db()
    assert approval.status == DirectorApproval.Status.PENDING

    response = client.post(url, {"reason": "An in-house carer is available."}, format="json")
    assert response.status_code == 200, response.data
    approval.refresh_from_db()
    assert (approval.status, approval.reason) == ("refused", "An in-house carer is available.")
    approval.referral.refresh_from_db()
    assert approval.referral.status == S.DECLINED


def test_a_decided_approval_is_409(as_user, personas, approval):
    client = as_user(personas[Role.DIRECTOR])
    client.post(f"/api/v1/director-approvals/{approval.pk}/approve/")
    response = client.post(f"/api/v1/director-approvals/{approval.pk}/refuse/", {"reason": "x"})
    assert response.status_code == 409
    assert response.data["current_status"] == "approved"
    approval.refresh_from_db()
    assert approval.status == DirectorApproval.Status.APPROVED


def test_administrators_see_the_queue_but_cannot_decide(as_user, personas, approval):
    client = as_user(personas[Role.ADMINISTRATOR])
    assert ids(client.get("/api/v1/director-approvals/")) == {approval.pk}
    assert client.post(f"/api/v1/director-approvals/{approval.pk}/approve/").status_code == 403
    approval.refresh_from_db()
    assert approval.status == DirectorApproval.Status.PENDING


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.PANEL_CHAIR, Role.FINANCE_MANAGER])
def test_everyone_else_is_refused_the_queue(as_user, personas, approval, role):
    client = as_user(personas[role])
    assert client.get("/api/v1/director-approvals/").status_code == 403
    assert client.post(f"/api/v1/director-approvals/{approval.pk}/approve/").status_code == 403
    approval.refresh_from_db()
    assert approval.status == DirectorApproval.Status.PENDING


def test_approvals_filter_on_status(as_user, personas, approval, north):
    done = DirectorApprovalFactory(
        referral__child=ChildFactory(team=north), status="approved",
        decided_by=personas[Role.DIRECTOR], decided_at=timezone.now(),
    )
    client = as_user(personas[Role.DIRECTOR])
    assert ids(client.get("/api/v1/director-approvals/", {"status": "pending"})) == {approval.pk}
    assert ids(client.get("/api/v1/director-approvals/", {"status": "approved"})) == {done.pk}


def test_a_correction_that_changes_a_referral_outcome_is_400(as_user, chair, item):
    original = DecisionFactory(agenda_item=item, outcome="approve_in_house")
    closed(item.meeting)
    response = as_user(chair).post("/api/v1/decisions/", {
        "supersedes": original.pk, "outcome": "decline", "rationale": "Changed our minds",
    }, format="json")
    assert response.status_code == 400
    assert "outcome" in response.data


@pytest.mark.parametrize("value", ["1e30", "abc", "99999999999999999999999"])
def test_a_decision_filter_that_is_not_a_meeting_is_400(as_user, chair, value):
    assert as_user(chair).get("/api/v1/decisions/", {"meeting": value}).status_code == 400
