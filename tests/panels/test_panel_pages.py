"""The panel and Director pages through HTTP: the chair runs a meeting (decide, reorder,
remove, close), the minutes, the Director's queue; the whole front half from referral to
"ready for sourcing"; who may see what; and query counts that do not grow with the rows."""

import datetime
import html as html_lib
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from panels import services
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from panels.tasks import schedule_next_meetings
from placements.models import Referral, ReferralStatus, ReferralStatusChange
from tests.factories import (
    AgendaItemFactory,
    ChildFactory,
    ContributionFactory,
    DecisionFactory,
    DirectorApprovalFactory,
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


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def error_links(response) -> list[str]:
    page = response.content.decode()
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL)
    assert summary, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def status_of(referral) -> str:
    return Referral.objects.get(pk=referral.pk).status


def order_of(meeting) -> list[int]:
    return list(meeting.items.order_by("position", "pk").values_list("pk", flat=True))


@pytest.fixture
def panel(personas):
    resource = PanelFactory(name="Resource Panel", kind=Panel.Kind.RESOURCE,
                            weekday=Panel.Weekday.WEDNESDAY,
                            default_chair=personas[Role.PANEL_CHAIR])
    resource.members.add(personas[Role.PANEL_MEMBER])
    return resource


@pytest.fixture
def meeting(panel):
    return PanelMeetingFactory(panel=panel, date=timezone.localdate() + datetime.timedelta(days=2))


@pytest.fixture
def chair_client(client, personas):
    client.force_login(personas[Role.PANEL_CHAIR])
    return client


# --- The chair runs the meeting ----------------------------------------------------------


def test_the_chair_sees_the_agenda_with_decide_and_remove_links(chair_client, meeting, north):
    items = [listed_item(meeting, team=north) for _ in range(2)]

    page = text(chair_client.get(reverse("meeting-detail", args=[meeting.pk])))

    for item in items:
        assert reverse("item-decide", args=[item.pk]) in page
        assert reverse("item-remove", args=[item.pk]) in page
        assert f"Referral {item.referral_id}" in page
    assert reverse("meeting-close", args=[meeting.pk]) in page


def test_the_chair_records_a_decision_for_each_item(chair_client, meeting, north, settings):
    settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD = 4000
    in_house, external, declined = (listed_item(meeting, team=north) for _ in range(3))
    choices = [
        (in_house, {"outcome": O.APPROVE_IN_HOUSE, "estimated_weekly_cost": "350"},
         S.READY_FOR_SOURCING),
        (external, {"outcome": O.APPROVE_EXTERNAL, "estimated_weekly_cost": "850"},
         S.AWAITING_DIRECTOR),
        (declined, {"outcome": O.DECLINE}, S.DECLINED),
    ]
    for item, answers, expected in choices:
        response = chair_client.post(reverse("item-decide", args=[item.pk]),
                                     {"rationale": "Considered every option", **answers})
        assert response["Location"] == reverse("meeting-detail", args=[meeting.pk])
        assert status_of(item.referral) == expected

    page = text(chair_client.get(reverse("meeting-detail", args=[meeting.pk])))
    for label in ("Approve in-house placement", "Approve external placement", "Decline"):
        assert label in page
    assert reverse("item-decide", args=[in_house.pk]) not in page  # decided: no second go
    assert DirectorApproval.objects.get().referral == external.referral


def test_a_decision_without_an_outcome_or_rationale_is_named_in_the_error_summary(
    chair_client, meeting, north
):
    item = listed_item(meeting, team=north)

    response = chair_client.post(reverse("item-decide", args=[item.pk]), {"rationale": " "})

    assert response.status_code == 200
    assert error_links(response) == ["id_outcome_0", "id_rationale"]
    assert "Choose the panel's decision" in text(response)
    assert status_of(item.referral) == S.LISTED and not Decision.objects.exists()


def test_a_high_cost_item_needs_a_review_date_on_the_page(chair_client, meeting, north):
    item = AgendaItemFactory(meeting=meeting, kind=K.HIGH_COST_REVIEW, referral=None,
                             placement=PlacementFactory(child__team=north))
    page = text(chair_client.get(reverse("item-decide", args=[item.pk])))
    assert "Plan a step-down" in page and "Approve external placement" not in page

    response = chair_client.post(reverse("item-decide", args=[item.pk]),
                                 {"outcome": O.RENEGOTIATE, "rationale": "Above framework"})

    assert error_links(response) == ["id_review_date"]
    assert not Decision.objects.exists()


def test_deciding_an_item_twice_shows_the_conflict(chair_client, meeting, north):
    item = listed_item(meeting, team=north)
    url = reverse("item-decide", args=[item.pk])
    chair_client.post(url, {"outcome": O.DEFER, "rationale": "Wait for CAMHS"})

    response = chair_client.post(url, {"outcome": O.DECLINE, "rationale": "Changed mind"})

    assert response.status_code == 200
    assert "already been recorded" in text(response)
    assert Decision.objects.get().outcome == O.DEFER


@pytest.mark.parametrize("direction,expected", [("up", [1, 0, 2]), ("down", [0, 2, 1])])
def test_the_chair_moves_items_up_and_down(chair_client, meeting, north, direction, expected):
    items = [listed_item(meeting, team=north) for _ in range(3)]
    middle = items[1]

    response = chair_client.post(reverse("meeting-move-item", args=[meeting.pk]),
                                 {"item": middle.pk, "direction": direction})

    assert response["Location"] == reverse("meeting-detail", args=[meeting.pk])
    assert order_of(meeting) == [items[i].pk for i in expected]


def test_moving_an_item_from_another_agenda_is_refused(chair_client, meeting, north):
    items = [listed_item(meeting, team=north) for _ in range(2)]
    stranger = AgendaItemFactory()
    chair_client.post(reverse("meeting-move-item", args=[meeting.pk]),
                      {"item": stranger.pk, "direction": "up"})
    assert order_of(meeting) == [item.pk for item in items]


def test_the_chair_removes_an_item_after_confirming(chair_client, meeting, north):
    item = listed_item(meeting, team=north)
    url = reverse("item-remove", args=[item.pk])

    assert "Take this item off the agenda?" in text(chair_client.get(url))
    assert AgendaItem.objects.on_agenda().filter(pk=item.pk).exists()  # a GET changes nothing

    response = chair_client.post(url)

    assert response["Location"] == reverse("meeting-detail", args=[meeting.pk])
    assert not AgendaItem.objects.on_agenda().filter(pk=item.pk).exists()
    assert status_of(item.referral) == S.ENDORSED


def test_the_chair_adds_an_endorsed_referral(chair_client, meeting, north):
    referral = referral_in(S.ENDORSED, team=north)
    page = text(chair_client.get(reverse("meeting-detail", args=[meeting.pk])))
    assert f'<option value="{referral.pk}">' in page

    chair_client.post(reverse("meeting-add-referral", args=[meeting.pk]), {"referral": referral.pk})

    assert meeting.items.get().referral == referral
    assert status_of(referral) == S.LISTED


def test_closing_asks_for_confirmation_and_refuses_while_items_are_undecided(
    chair_client, meeting, north
):
    item = listed_item(meeting, team=north)
    url = reverse("meeting-close", args=[meeting.pk])
    assert "Closing locks every decision" in text(chair_client.get(url))

    response = chair_client.post(url, follow=True)
    assert "1 agenda item(s) have no decision" in text(response)
    assert PanelMeeting.objects.get(pk=meeting.pk).status == PanelMeeting.Status.SCHEDULED

    chair_client.post(reverse("item-decide", args=[item.pk]),
                      {"outcome": O.RETURN, "rationale": "Needs a sibling assessment"})
    response = chair_client.post(url)

    assert response["Location"] == reverse("meeting-minutes", args=[meeting.pk])
    assert PanelMeeting.objects.get(pk=meeting.pk).status == PanelMeeting.Status.CLOSED


def test_a_closed_meeting_offers_corrections_not_decisions(chair_client, meeting, north):
    item = listed_item(meeting, team=north)
    decision = services.decision_record(item=item, by=meeting.chair, outcome=O.DEFER,
                                        rationale="Wait")
    services.meeting_close(meeting=meeting, by=meeting.chair)

    page = text(chair_client.get(reverse("meeting-detail", args=[meeting.pk])))
    assert reverse("item-decide", args=[item.pk]) not in page
    assert reverse("meeting-close", args=[meeting.pk]) not in page
    correct = reverse("decision-correct", args=[decision.pk])
    assert correct in page

    response = chair_client.post(reverse("item-decide", args=[item.pk]),
                                 {"outcome": O.DECLINE, "rationale": "Too late"})
    assert "This meeting is closed" in text(response)
    assert Decision.objects.count() == 1

    refused = chair_client.post(correct, {"outcome": O.DECLINE, "rationale": "Minuted wrongly"})
    assert "cannot change the outcome for a referral" in text(refused)
    chair_client.post(correct, {"outcome": O.DEFER, "rationale": "Minuted wrongly"})
    correction = Decision.objects.get(supersedes=decision)
    assert (correction.outcome, correction.rationale) == (O.DEFER, "Minuted wrongly")
    minutes = text(chair_client.get(reverse("meeting-minutes", args=[meeting.pk])))
    assert "Wait" in minutes and "Correction: Defer to the next meeting" in minutes


def test_the_minutes_list_every_item_and_decision(chair_client, meeting, north):
    referral_item = listed_item(meeting, team=north)
    review_item = AgendaItemFactory(meeting=meeting, kind=K.RETROSPECTIVE_REVIEW,
                                    referral=emergency_referral_in(S.SOURCING, team=north))
    placement = PlacementFactory(child__team=north)
    PlacementCostFactory(placement=placement, weekly_amount=Decimal("5200.00"),
                         effective_from=datetime.date(2026, 1, 5))
    ContributionFactory(placement=placement, weekly_amount=Decimal("1000.00"))
    cost_item = AgendaItemFactory(meeting=meeting, kind=K.HIGH_COST_REVIEW, referral=None,
                                  placement=placement)
    chair = meeting.chair
    services.decision_record(item=referral_item, by=chair, outcome=O.DECLINE,
                             rationale="Kinship carer found", conditions="Support plan in 4 weeks")
    services.decision_record(item=review_item, by=chair, outcome=O.APPROVE_EXTERNAL,
                             rationale="Emergency was right")
    services.decision_record(item=cost_item, by=chair, outcome=O.STEP_DOWN,
                             rationale="Ready for fostering", review_date=datetime.date(2026, 9, 1))
    services.meeting_close(meeting=meeting, by=chair)

    minutes = text(chair_client.get(reverse("meeting-minutes", args=[meeting.pk])))

    for said in (f"Referral {referral_item.referral_id}", "Decline", "Kinship carer found",
                 "Conditions: Support plan in 4 weeks",
                 f"Referral {review_item.referral_id}", "Retrospective review of an emergency",
                 "Emergency was right", f"Placement {placement.pk}", "Plan a step-down",
                 "Review by 1 Sep 2026", "net weekly cost £4,200.00", "closed"):
        assert said in minutes, said
    assert "draft: the meeting is still open" not in minutes


# --- The Director ----------------------------------------------------------------------


@pytest.fixture
def approval(meeting, north):
    item = listed_item(meeting, team=north)
    services.decision_record(item=item, by=meeting.chair, outcome=O.APPROVE_EXTERNAL,
                             rationale="No in-house carer for a sibling group",
                             estimated_weekly_cost=Decimal("1700"))
    return DirectorApproval.objects.get()


@pytest.fixture
def director_client(client, personas):
    client.force_login(personas[Role.DIRECTOR])
    return client


def test_the_director_approves_from_the_queue(director_client, approval):
    queue = text(director_client.get(reverse("director-queue")))
    url = reverse("director-decide", args=[approval.pk])
    assert url in queue and "External placement." in queue

    page = text(director_client.get(url))
    assert "No in-house carer for a sibling group" in page and "£1700" in page

    response = director_client.post(url, {"decision": "approve", "reason": ""})

    assert response["Location"] == reverse("director-queue")
    assert status_of(approval.referral) == S.READY_FOR_SOURCING
    queue = text(director_client.get(reverse("director-queue")))
    assert "Nothing is waiting for approval." in queue


def test_the_director_must_give_a_reason_to_refuse(director_client, approval):
    url = reverse("director-decide", args=[approval.pk])

    response = director_client.post(url, {"decision": "refuse", "reason": " "})

    assert error_links(response) == ["id_reason"]
    assert status_of(approval.referral) == S.AWAITING_DIRECTOR

    director_client.post(url, {"decision": "refuse", "reason": "Try the regional framework"})
    assert status_of(approval.referral) == S.DECLINED
    assert DirectorApproval.objects.get().reason == "Try the regional framework"


def test_a_decided_approval_cannot_be_decided_again_from_the_page(director_client, approval):
    url = reverse("director-decide", args=[approval.pk])
    director_client.post(url, {"decision": "approve"})

    response = director_client.post(url, {"decision": "refuse", "reason": "Second thoughts"})

    assert "already approved" in text(response)
    assert status_of(approval.referral) == S.READY_FOR_SOURCING


# --- The whole front half --------------------------------------------------------------


def test_referral_to_ready_for_sourcing_through_the_pages(client, personas, north, panel):
    """A social worker refers, the manager endorses, the beat task lists it, the chair
    approves an external placement, the Director approves: ready for sourcing, with
    every step on the referral's timeline."""
    child = ChildFactory(team=north, social_worker=personas[Role.SOCIAL_WORKER])

    client.force_login(personas[Role.SOCIAL_WORKER])
    response = client.post(reverse("referral-create", args=[child.pk]), {
        "urgency": "later", "placement_type_sought": "U4", "wanted_start_date": "2026-09-01",
        "suitability_foster": "preferred", "suitability_residential": "unsuitable",
        "suitability_supported": "unsuitable",
    })
    referral = Referral.objects.get(child=child)
    client.post(response["Location"], {"needs_summary": "Needs a therapeutic foster home."})
    client.post(reverse("referral-edit", args=[referral.pk, "risks"]), {})
    client.post(reverse("referral-check", args=[referral.pk]))

    client.force_login(personas[Role.TEAM_MANAGER])
    client.post(reverse("referral-action", args=[referral.pk, "endorse"]),
                {"reason": "Agreed with the plan"})

    schedule_next_meetings.delay()
    meeting = PanelMeeting.objects.get(panel=panel)
    item = meeting.items.get()

    client.force_login(personas[Role.PANEL_CHAIR])
    assert f"Referral {referral.pk}" in text(client.get(reverse("meeting-detail",
                                                                args=[meeting.pk])))
    client.post(reverse("item-decide", args=[item.pk]), {
        "outcome": O.APPROVE_EXTERNAL, "rationale": "No in-house therapeutic carer",
        "estimated_weekly_cost": "950",
    })
    client.post(reverse("meeting-close", args=[meeting.pk]))

    client.force_login(personas[Role.DIRECTOR])
    approval = DirectorApproval.objects.get(referral=referral)
    client.post(reverse("director-decide", args=[approval.pk]), {"decision": "approve"})

    client.force_login(personas[Role.SOCIAL_WORKER])
    page = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert re.search(r'govuk-tag--green">Ready for sourcing<', page)
    timeline = page[page.index("Timeline"):]
    assert re.findall(r'<h3 class="govuk-heading-s[^"]*">([^<]+)</h3>', timeline) == [
        "Draft", "Awaiting endorsement", "Endorsed, awaiting panel", "Listed for panel",
        "Awaiting Director approval", "Ready for sourcing",
    ]
    for said in ("Agreed with the plan", "No in-house therapeutic carer",
                 "Approved by the Director"):
        assert said in timeline
    assert list(ReferralStatusChange.objects.filter(referral=referral)
                .values_list("by__username", flat=True)) == [
        "social_worker", "social_worker", "team_manager", None, "panel_chair", "director"]


# --- Who may see what ------------------------------------------------------------------


def meeting_pages(meeting, item, decision) -> list[str]:
    return [
        reverse("meeting-detail", args=[meeting.pk]),
        reverse("meeting-minutes", args=[meeting.pk]),
        reverse("meeting-close", args=[meeting.pk]),
        reverse("item-decide", args=[item.pk]),
        reverse("item-remove", args=[item.pk]),
        reverse("decision-correct", args=[decision.pk]),
    ]


@pytest.fixture
def meeting_with_pages(meeting, north):
    item = listed_item(meeting, team=north)
    decided = listed_item(meeting, team=north)
    decision = DecisionFactory(agenda_item=decided, outcome=O.DECLINE)
    return meeting_pages(meeting, item, decision)


NO_MEETINGS = [Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.COMMISSIONING_OFFICER,
               Role.FINANCE_MANAGER]


@pytest.mark.parametrize("role", NO_MEETINGS)
def test_roles_outside_panels_get_404_on_meeting_pages(client, personas, meeting_with_pages, role):
    client.force_login(personas[role])
    for url in meeting_with_pages:
        assert client.get(url).status_code == 404, url


def test_a_chair_of_another_panel_gets_404_and_changes_nothing(client, meeting_with_pages, meeting):
    client.force_login(UserFactory(roles=[Role.PANEL_CHAIR]))
    for url in meeting_with_pages:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"outcome": O.DECLINE, "rationale": "x"}).status_code == 404, url
    assert Decision.objects.count() == 1
    assert PanelMeeting.objects.get(pk=meeting.pk).status == PanelMeeting.Status.SCHEDULED


def test_a_member_reads_the_agenda_and_minutes_but_cannot_decide(client, personas, meeting, north):
    item = listed_item(meeting, team=north)
    client.force_login(personas[Role.PANEL_MEMBER])
    page = text(client.get(reverse("meeting-detail", args=[meeting.pk])))
    assert f"Referral {item.referral_id}" in page
    assert reverse("item-decide", args=[item.pk]) not in page
    assert client.get(reverse("meeting-minutes", args=[meeting.pk])).status_code == 200

    response = client.post(reverse("item-decide", args=[item.pk]),
                           {"outcome": O.DECLINE, "rationale": "Not mine"})

    assert "Only a chair of Resource Panel" in text(response)
    assert status_of(item.referral) == S.LISTED


@pytest.mark.parametrize("role", list(Role))
def test_the_director_queue_is_for_the_director_and_administrators(client, personas, role):
    approval = DirectorApprovalFactory()
    client.force_login(personas[role])

    queue = client.get(reverse("director-queue")).status_code
    decide = client.post(reverse("director-decide", args=[approval.pk]),
                         {"decision": "approve"}).status_code

    assert queue == (200 if role in (Role.DIRECTOR, Role.ADMINISTRATOR) else 403)
    assert decide == (302 if role == Role.DIRECTOR else 403)
    approval.refresh_from_db()
    expected = "approved" if role == Role.DIRECTOR else "pending"
    assert approval.status == expected


def test_anonymous_visitors_are_sent_to_sign_in(client, meeting_with_pages):
    approval = DirectorApprovalFactory()
    urls = [reverse("meeting-list"), reverse("director-queue"),
            reverse("director-decide", args=[approval.pk]), *meeting_with_pages]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


# --- Query counts ------------------------------------------------------------------------


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def fill_agenda(meeting, north, n):
    """n items of each kind, each decided, plus n endorsed referrals the chair could add."""
    for _ in range(n):
        item = listed_item(meeting, team=north)
        DecisionFactory(agenda_item=item, outcome=O.DEFER, decided_by=UserFactory())
        review = AgendaItemFactory(meeting=meeting, kind=K.RETROSPECTIVE_REVIEW,
                                   referral=emergency_referral_in(S.SOURCING, team=north))
        DecisionFactory(agenda_item=review, outcome=O.APPROVE_IN_HOUSE)
        placement = PlacementFactory(child__team=north)
        PlacementCostFactory(placement=placement, weekly_amount=Decimal("4100.00"))
        ContributionFactory(placement=placement, weekly_amount=Decimal("100.00"))
        AgendaItemFactory(meeting=meeting, kind=K.HIGH_COST_REVIEW, referral=None,
                          placement=placement)
        referral_in(S.ENDORSED, team=north)


@pytest.mark.parametrize("page", ["meeting-detail", "meeting-minutes"])
@pytest.mark.parametrize("role", [Role.PANEL_CHAIR, Role.PANEL_MEMBER, Role.DIRECTOR])
def test_the_meeting_page_and_minutes_use_the_same_queries_for_1_or_5_items(
    client, personas, meeting, north, page, role
):
    client.force_login(personas[role])
    url = reverse(page, args=[meeting.pk])
    fill_agenda(meeting, north, 1)
    few = queries_for(client, url)
    fill_agenda(meeting, north, 4)
    many = queries_for(client, url)
    assert many == few, f"{page} as {role.label}: {few} queries for 1 of each, {many} for 5"


def add_meetings(panel, n):
    for _ in range(n):
        last = panel.meetings.order_by("-date").first()
        day = (last.date if last else timezone.localdate()) + datetime.timedelta(days=7)
        meeting = PanelMeetingFactory(panel=panel, date=day, chair=UserFactory())
        AgendaItemFactory(meeting=meeting)


@pytest.mark.parametrize("role", [Role.PANEL_CHAIR, Role.PANEL_MEMBER, Role.DIRECTOR])
def test_the_meeting_list_uses_the_same_queries_for_1_or_5_meetings(client, personas, panel, role):
    client.force_login(personas[role])
    add_meetings(panel, 1)
    few = queries_for(client, reverse("meeting-list"))
    add_meetings(panel, 4)
    many = queries_for(client, reverse("meeting-list"))
    assert many == few


def add_approvals(north, n):
    for _ in range(n):
        item = AgendaItemFactory(referral=referral_in(S.AWAITING_DIRECTOR, team=north))
        decision = DecisionFactory(agenda_item=item, estimated_weekly_cost=Decimal("5000"))
        DirectorApprovalFactory(referral=item.referral, decision=decision, is_out_of_area=True)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ADMINISTRATOR])
def test_the_director_queue_uses_the_same_queries_for_1_or_5_approvals(
    client, personas, north, role
):
    client.force_login(personas[role])
    add_approvals(north, 1)
    few = queries_for(client, reverse("director-queue"))
    add_approvals(north, 4)
    many = queries_for(client, reverse("director-queue"))
    assert many == few
    assert text(client.get(reverse("director-queue"))).count("Outside the council's area.") == 5


@pytest.mark.parametrize("model", ["decision", "directorapproval", "panelmeeting"])
def test_the_admin_cannot_change_panel_records(client, db, model):
    root = UserFactory(is_superuser=True, is_staff=True)
    record = {"decision": DecisionFactory, "directorapproval": DirectorApprovalFactory,
              "panelmeeting": PanelMeetingFactory}[model]()
    client.force_login(root)

    assert client.get(f"/admin/panels/{model}/{record.pk}/change/").status_code == 200  # view
    response = client.post(f"/admin/panels/{model}/{record.pk}/change/", {})
    assert response.status_code == 403
    assert client.get(f"/admin/panels/{model}/add/").status_code == 403


@pytest.mark.parametrize("value", ["abc", "", "99999999999999999999999", "-1"])
def test_adding_a_referral_that_is_not_an_id_is_refused_politely(chair_client, meeting, value):
    response = chair_client.post(reverse("meeting-add-referral", args=[meeting.pk]),
                                 {"referral": value}, follow=True)
    assert response.status_code == 200
    assert "Choose a referral to add." in text(response)
