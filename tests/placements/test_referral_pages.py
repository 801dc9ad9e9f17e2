"""The referral pages through HTTP: writing a referral over three question pages, check
your answers, endorsing, returning and withdrawing with reasons, the timeline; who may
see what; and query counts that do not grow with the rows."""

import datetime
import html as html_lib
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import PendingTask
from core.roles import Role
from core.tasks import sweep_pending_tasks
from placements.models import Referral, ReferralStatus, ReferralStatusChange
from tests.factories import ChildFactory, UserFactory, referral_in
from tests.mail import REFUSING, RefusingEmailBackend, refused_and_kept

S = ReferralStatus

PLACEMENT_ANSWERS = {
    "urgency": "within_5_days",
    "placement_type_sought": "U4",
    "wanted_start_date": "2026-07-01",
    "must_be_within_20_miles": "on",
    "preferred_location": "Near her school in Headingley",
    "suitability_foster": "preferred",
    "suitability_residential": "unsuitable",
    "suitability_supported": "not_specified",
}
NEEDS_ANSWERS = {
    "needs_summary": "Needs a calm home with one-to-one time.",
    "communication_and_language_needs": "Speaks English and Polish.",
    "cultural_needs": "",
    "home_adaptations": "",
    "can_live_alongside": "Younger children",
    "pets": "Loves dogs",
    "additional_support": "",
}
RISK_ANSWERS = {
    "risks_to_child": ["going_missing"],
    "risks_to_others": [],
    "risk_details": "Went missing twice last month; returns by morning.",
}


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def error_links(response) -> list[str]:
    """The fragment each error-summary link points to."""
    page = response.content.decode()
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL)
    assert summary, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def timeline_of(referral) -> list[tuple]:
    return list(ReferralStatusChange.objects.filter(referral=referral)
                .values_list("from_status", "to_status"))


@pytest.fixture
def child(north, personas):
    return ChildFactory(team=north, social_worker=personas[Role.SOCIAL_WORKER],
                        first_name="Maya", last_name="Okafor")


def sign_in(client, user):
    client.force_login(user)
    return client


# --- A social worker writes and submits a referral -----------------------------------


def test_a_social_worker_refers_a_child_over_three_question_pages(client, personas, child):
    sign_in(client, personas[Role.SOCIAL_WORKER])
    assert reverse("referral-create", args=[child.pk]) in text(
        client.get(reverse("child-detail", args=[child.pk])))

    response = client.post(reverse("referral-create", args=[child.pk]), PLACEMENT_ANSWERS)
    referral = Referral.objects.get(child=child)
    assert response["Location"] == reverse("referral-edit", args=[referral.pk, "needs"])
    assert referral.status == S.DRAFT

    response = client.post(response["Location"], NEEDS_ANSWERS)
    assert response["Location"] == reverse("referral-edit", args=[referral.pk, "risks"])
    response = client.post(response["Location"], RISK_ANSWERS)
    assert response["Location"] == reverse("referral-check", args=[referral.pk])

    check = text(client.get(response["Location"]))
    assert "Check your answers before submitting" in check
    for answer in ("Near her school in Headingley", "Speaks English and Polish.", "Going missing",
                   "Went missing twice last month", "1 July 2026", "Within 5 days"):
        assert answer in check

    response = client.post(reverse("referral-check", args=[referral.pk]))
    assert response["Location"] == reverse("referral-detail", args=[referral.pk])
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED
    assert referral.risks.get().risk == "going_missing"
    assert timeline_of(referral) == [("", S.DRAFT), (S.DRAFT, S.SUBMITTED)]
    assert "Referral submitted. It is now &#x27;Awaiting endorsement&#x27;." in client.get(
        response["Location"]).content.decode()


def test_half_siblings_with_another_surname_can_be_chosen(client, personas, child, north, south):
    half_sister = ChildFactory(team=north, first_name="Zoe", last_name="Adeyemi")
    brother = ChildFactory(team=north, first_name="Tom", last_name="Okafor")
    elsewhere = ChildFactory(team=south, last_name="Okafor")
    sign_in(client, personas[Role.SOCIAL_WORKER])
    url = reverse("referral-create", args=[child.pk])

    form = client.get(url).context["form"]
    response = client.post(url, {**PLACEMENT_ANSWERS, "siblings": [half_sister.pk, brother.pk]})

    assert list(form.fields["siblings"].queryset) == [half_sister, brother]  # by surname
    assert elsewhere not in form.fields["siblings"].queryset
    assert "Children on your team's caseload. Leave empty if none." in text(client.get(url))
    assert response.status_code == 302
    assert set(Referral.objects.get(child=child).siblings.all()) == {half_sister, brother}


def test_saving_the_page_keeps_siblings_set_through_the_api(client, personas, child, north):
    half_brother = ChildFactory(team=north, last_name="Brown")
    referral = referral_in(S.DRAFT, child=child)
    referral.siblings.set([half_brother])  # as a PATCH to /api/v1/referrals/ would
    sign_in(client, personas[Role.SOCIAL_WORKER])
    url = reverse("referral-edit", args=[referral.pk, "placement"])

    form = client.get(url).context["form"]
    answers = {**PLACEMENT_ANSWERS, "siblings": [str(pk) for pk in form["siblings"].value()]}
    response = client.post(url, answers)

    assert response.status_code == 302
    assert list(referral.siblings.all()) == [half_brother]


def test_missing_answers_are_named_in_an_error_summary_linked_to_the_fields(
    client, personas, child
):
    sign_in(client, personas[Role.SOCIAL_WORKER])
    answers = {**PLACEMENT_ANSWERS, "placement_type_sought": "", "wanted_start_date": ""}
    answers.pop("urgency")

    response = client.post(reverse("referral-create", args=[child.pk]), answers)

    assert response.status_code == 200
    assert "There is a problem" in text(response)
    assert error_links(response) == ["id_urgency_0", "id_placement_type_sought",
                                     "id_wanted_start_date"]
    for field_id in ("id_placement_type_sought", "id_wanted_start_date", "id_urgency"):
        assert f'id="{field_id}_error"' in text(response)
    assert not Referral.objects.exists()


def test_risks_chosen_without_details_are_refused_on_the_details_field(client, personas, north):
    referral = referral_in(S.DRAFT, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])

    response = client.post(reverse("referral-edit", args=[referral.pk, "risks"]),
                           {**RISK_ANSWERS, "risk_details": " "})

    assert error_links(response) == ["id_risk_details"]
    assert "Describe the risks you selected." in text(response)
    assert not referral.risks.exists()


def test_change_links_on_check_your_answers_come_back_to_it(client, personas, north):
    referral = referral_in(S.DRAFT, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])
    check = text(client.get(reverse("referral-check", args=[referral.pk])))
    change = reverse("referral-edit", args=[referral.pk, "needs"]) + "?then=check"
    assert change in check

    response = client.post(change, NEEDS_ANSWERS)

    assert response["Location"] == reverse("referral-check", args=[referral.pk])
    assert Referral.objects.get(pk=referral.pk).pets == "Loves dogs"


def test_a_submitted_referral_can_no_longer_be_edited(client, personas, north):
    referral = referral_in(S.SUBMITTED, team=north, needs_summary="As submitted")
    sign_in(client, personas[Role.SOCIAL_WORKER])

    response = client.post(reverse("referral-edit", args=[referral.pk, "needs"]),
                           {**NEEDS_ANSWERS, "needs_summary": "Changed"}, follow=True)

    assert response.redirect_chain == [(reverse("referral-detail", args=[referral.pk]), 302)]
    assert "cannot be edited" in text(response)
    assert Referral.objects.get(pk=referral.pk).needs_summary == "As submitted"


def test_an_emergency_is_submitted_straight_to_sourcing(client, personas, north):
    referral = referral_in(S.DRAFT, team=north, is_emergency=True)
    sign_in(client, personas[Role.SOCIAL_WORKER])

    assert "goes straight to the commissioning team" in text(
        client.get(reverse("referral-check", args=[referral.pk])))
    client.post(reverse("referral-check", args=[referral.pk]))

    page = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert "Ready for sourcing" in page and "retrospective panel review due by" in page


# --- The team manager endorses or returns ---------------------------------------------


def test_the_team_manager_endorses_from_the_referral_page(client, personas, north):
    referral = referral_in(S.SUBMITTED, team=north)
    sign_in(client, personas[Role.TEAM_MANAGER])
    endorse = reverse("referral-action", args=[referral.pk, "endorse"])
    assert endorse in text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert client.get(endorse).status_code == 200

    response = client.post(endorse, {"reason": ""})  # a note is optional

    assert response["Location"] == reverse("referral-detail", args=[referral.pk])
    assert Referral.objects.get(pk=referral.pk).status == S.ENDORSED
    assert "Referral endorsed" in text(client.get(response["Location"]))


def test_returning_without_a_reason_shows_an_error_and_changes_nothing(client, personas, north):
    referral = referral_in(S.SUBMITTED, team=north)
    sign_in(client, personas[Role.TEAM_MANAGER])
    url = reverse("referral-action", args=[referral.pk, "return"])

    response = client.post(url, {"reason": "  "})

    assert response.status_code == 200
    assert error_links(response) == ["id_reason"]
    assert "Enter reason for returning it" in text(response)
    assert Referral.objects.get(pk=referral.pk).status == S.SUBMITTED
    assert timeline_of(referral) == []

    response = client.post(url, {"reason": "Add the latest health assessment."})

    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == S.RETURNED
    page = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert "Add the latest health assessment." in page


def test_a_social_worker_is_not_offered_endorsement_and_cannot_force_it(client, personas, north):
    referral = referral_in(S.SUBMITTED, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])
    endorse = reverse("referral-action", args=[referral.pk, "endorse"])
    assert endorse not in text(client.get(reverse("referral-detail", args=[referral.pk])))

    response = client.post(endorse, {"reason": ""})

    assert response.status_code == 200
    assert "Only the child" in text(response)
    assert Referral.objects.get(pk=referral.pk).status == S.SUBMITTED


def test_withdrawing_asks_for_confirmation_and_a_reason(client, personas, north):
    referral = referral_in(S.ENDORSED, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])
    url = reverse("referral-action", args=[referral.pk, "withdraw"])

    page = text(client.get(url))
    assert "A withdrawn referral cannot be reopened" in page
    assert 'name="reason"' in page
    assert Referral.objects.get(pk=referral.pk).status == S.ENDORSED  # a GET changes nothing

    assert error_links(client.post(url, {"reason": ""})) == ["id_reason"]
    assert Referral.objects.get(pk=referral.pk).status == S.ENDORSED

    client.post(url, {"reason": "Child returned home to mum."})
    assert Referral.objects.get(pk=referral.pk).status == S.WITHDRAWN


def test_a_closed_referral_offers_no_withdrawal_and_refuses_one(client, personas, north):
    referral = referral_in(S.DECLINED, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])
    url = reverse("referral-action", args=[referral.pk, "withdraw"])
    assert url not in text(client.get(reverse("referral-detail", args=[referral.pk])))

    response = client.post(url, {"reason": "Try anyway"})

    assert "cannot become" in text(response)
    assert Referral.objects.get(pk=referral.pk).status == S.DECLINED


def test_the_referral_page_shows_the_whole_timeline(client, personas, north):
    from placements.services import referrals as services

    sw, tm = personas[Role.SOCIAL_WORKER], personas[Role.TEAM_MANAGER]
    tm.first_name, tm.last_name = "Tess", "Manager"
    tm.save()
    referral = services.referral_create(
        child=ChildFactory(team=north), by=sw,
        fields={"placement_type_sought": "U4", "wanted_start_date": datetime.date(2026, 7, 1)},
    )
    services.referral_submit(referral=referral, by=sw)
    services.referral_return(referral=referral, by=tm, reason="Needs the school's view")
    services.referral_submit(referral=referral, by=sw)
    services.referral_endorse(referral=referral, by=tm, reason="Ready for panel")
    services.referral_mark_listed(referral=referral, by=None, reason="Listed for Resource Panel")

    page = text(sign_in(client, sw).get(reverse("referral-detail", args=[referral.pk])))

    timeline = page[page.index("Timeline"):]
    steps = re.findall(r'<h3 class="govuk-heading-s[^"]*">([^<]+)</h3>', timeline)
    assert steps == ["Draft", "Awaiting endorsement", "Returned to social worker",
                     "Awaiting endorsement", "Endorsed, awaiting panel", "Listed for panel"]
    for said in ("Needs the school's view", "Ready for panel", "by Tess Manager",
                 "by the panel scheduler", "Referral started"):
        assert said in timeline


@pytest.mark.django_db(transaction=True)
def test_submitting_succeeds_when_the_mail_server_is_down(
    client, settings, caplog, role_groups, north
):
    """Tasks run eagerly without a broker, so the e-mail is sent as the submit commits.
    The submit has happened by then: a refused connection is logged, not a 500, and the
    e-mail waits in the outbox until the sweep sends it."""
    settings.EMAIL_BACKEND = REFUSING
    RefusingEmailBackend.attempts = 0
    worker = UserFactory(roles=[Role.SOCIAL_WORKER], team=north)
    UserFactory(roles=[Role.TEAM_MANAGER], team=north, email="manager@example.gov.uk")
    referral = referral_in(S.DRAFT, team=north, created_by=worker)
    sign_in(client, worker)

    response = client.post(reverse("referral-check", args=[referral.pk]))

    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == S.SUBMITTED
    refused_and_kept(caplog)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert sweep_pending_tasks.delay().get() == 1
    assert [m.to for m in mail.outbox] == [["manager@example.gov.uk"]]
    assert mail.outbox[0].subject == f"Referral {referral.pk} awaits your endorsement"
    assert not PendingTask.objects.exists()


# --- Who may see what ------------------------------------------------------------------


def referral_pages(referral) -> list[str]:
    return [
        reverse("referral-detail", args=[referral.pk]),
        reverse("referral-edit", args=[referral.pk, "placement"]),
        reverse("referral-edit", args=[referral.pk, "needs"]),
        reverse("referral-check", args=[referral.pk]),
        *[reverse("referral-action", args=[referral.pk, a]) for a in ("endorse", "return",
                                                                      "withdraw")],
    ]


def child_pages(child) -> list[str]:
    return [reverse("child-detail", args=[child.pk]), reverse("referral-create", args=[child.pk])]


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.TEAM_MANAGER])
def test_another_teams_staff_get_404_on_the_referral_and_child_pages(client, south, north, role):
    referral = referral_in(S.SUBMITTED, team=north)
    sign_in(client, UserFactory(roles=[role], team=south))

    for url in referral_pages(referral) + child_pages(referral.child):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    assert Referral.objects.get(pk=referral.pk).status == S.SUBMITTED


@pytest.mark.parametrize("role", [Role.PANEL_CHAIR, Role.PANEL_MEMBER, Role.DIRECTOR,
                                  Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER])
def test_drafts_are_404_outside_the_team(client, personas, north, role):
    referral = referral_in(S.DRAFT, team=north)
    sign_in(client, personas[role])
    for url in referral_pages(referral):
        assert client.get(url).status_code == 404, url


def test_finance_sees_no_childrens_records_or_referrals(client, personas, north):
    referral = referral_in(S.SUBMITTED, team=north)
    sign_in(client, personas[Role.FINANCE_MANAGER])
    for url in referral_pages(referral) + child_pages(referral.child):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", [Role.PANEL_CHAIR, Role.PANEL_MEMBER, Role.DIRECTOR,
                                  Role.COMMISSIONING_OFFICER])
def test_children_never_referred_beyond_their_team_are_404_to_panel_and_commissioners(
    client, personas, north, role
):
    referred = referral_in(S.SUBMITTED, team=north).child
    only_draft = referral_in(S.DRAFT, team=north).child
    never_referred = ChildFactory(team=north)
    sign_in(client, personas[role])

    assert client.get(reverse("child-detail", args=[referred.pk])).status_code == 200
    for child in (only_draft, never_referred):
        assert client.get(reverse("child-detail", args=[child.pk])).status_code == 404
    listed = client.get(reverse("child-list")).context["page"].object_list
    assert [child.pk for child in listed] == [referred.pk]


@pytest.mark.parametrize("role", [Role.PANEL_CHAIR, Role.DIRECTOR, Role.COMMISSIONING_OFFICER,
                                  Role.ADMINISTRATOR])
def test_others_read_a_submitted_referral_but_are_offered_nothing_to_do_with_it(
    client, personas, north, role
):
    referral = referral_in(S.SUBMITTED, team=north)
    page = text(sign_in(client, personas[role]).get(reverse("referral-detail", args=[referral.pk])))
    for action in ("endorse", "return"):
        assert reverse("referral-action", args=[referral.pk, action]) not in page


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.SOCIAL_WORKER,
                                                              Role.TEAM_MANAGER)])
def test_roles_that_cannot_refer_get_404_on_the_referral_form(client, personas, child, role):
    sign_in(client, personas[role])
    url = reverse("referral-create", args=[child.pk])
    assert url not in text(client.get(reverse("child-detail", args=[child.pk])))
    assert client.get(url).status_code == 404
    assert client.post(url, PLACEMENT_ANSWERS).status_code == 404
    assert not Referral.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, north):
    referral = referral_in(S.SUBMITTED, team=north)
    urls = [reverse("referral-list"), reverse("child-list")] + referral_pages(referral) + (
        child_pages(referral.child))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


# --- Query counts ------------------------------------------------------------------------


def add_casework(north, south, n):
    for _ in range(n):
        for team in (north, south):
            child = ChildFactory(team=team, social_worker=UserFactory(team=team))
            referral_in(S.SUBMITTED, child=child, is_emergency=True)
            referral_in(S.ENDORSED, child=child)


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


LIST_PAGES = ["referral-list", "child-list"]
READERS = [Role.SOCIAL_WORKER, Role.PANEL_CHAIR, Role.ADMINISTRATOR]


@pytest.mark.parametrize("page", LIST_PAGES)
@pytest.mark.parametrize("role", READERS)
def test_list_pages_use_the_same_number_of_queries_for_1_or_5_rows(
    client, personas, north, south, page, role
):
    sign_in(client, personas[role])
    add_casework(north, south, 1)
    few = queries_for(client, reverse(page))
    add_casework(north, south, 4)
    many = queries_for(client, reverse(page))
    assert many == few, f"{page} as {role.label}: {few} queries for 1 row, {many} for 5"


def test_the_referral_list_shows_each_visible_referral(client, personas, north, south):
    add_casework(north, south, 2)
    page = text(sign_in(client, personas[Role.SOCIAL_WORKER]).get(reverse("referral-list")))
    assert "4 referrals" in page
    for referral in Referral.objects.filter(child__team=north):
        assert reverse("referral-detail", args=[referral.pk]) in page
    for referral in Referral.objects.filter(child__team=south):
        assert reverse("referral-detail", args=[referral.pk]) not in page


@pytest.mark.parametrize("value", ["99999999999999999999999", "1e30", "abc"])
def test_a_child_filter_that_is_not_a_child_is_an_error_on_the_list_page(
    client, personas, north, value
):
    referral = referral_in(S.SUBMITTED, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])

    response = client.get(reverse("referral-list"), {"child": value})

    assert response.status_code == 200
    assert error_links(response) == ["id_child"]
    assert 'id="id_child"' in response.content.decode()
    assert "Enter the system ID of a child" in text(response)
    assert reverse("referral-detail", args=[referral.pk]) in text(response)  # filter ignored


def test_the_child_filter_is_a_text_box_not_a_list_of_every_child(client, personas, north):
    mine = referral_in(S.SUBMITTED, team=north)
    other = referral_in(S.SUBMITTED, team=north)
    sign_in(client, personas[Role.SOCIAL_WORKER])

    page = text(client.get(reverse("referral-list"), {"child": mine.child_id}))

    assert reverse("referral-detail", args=[mine.pk]) in page
    assert reverse("referral-detail", args=[other.pk]) not in page
    assert other.child.last_name not in page


def test_the_referral_detail_page_uses_a_fixed_number_of_queries(client, personas, north):
    from placements.services import referrals as services

    sw = personas[Role.SOCIAL_WORKER]
    sign_in(client, sw)
    referral = referral_in(S.DRAFT, team=north)
    url = reverse("referral-detail", args=[referral.pk])
    few = queries_for(client, url)
    for _ in range(2):
        services.referral_submit(referral=referral, by=sw)
        services.referral_return(referral=referral, by=personas[Role.TEAM_MANAGER], reason="More")
    many = queries_for(client, url)
    assert many == few


def test_someone_outside_the_team_cannot_open_a_draft_for_editing(client, personas, north):
    referral = referral_in(ReferralStatus.DRAFT, team=north)
    client.force_login(personas[Role.COMMISSIONING_OFFICER])  # sees referrals, may not edit

    response = client.get(reverse("referral-edit", args=[referral.pk, "placement"]))

    assert response.status_code == 404  # drafts stay with their team


# --- The children list -------------------------------------------------------------------


def test_children_are_searched_by_local_child_id(client, personas, north):
    maya = ChildFactory(team=north, local_child_id="LC-1001", last_name="Okafor")
    other = ChildFactory(team=north, local_child_id="LC-2002", last_name="Okoro")
    sign_in(client, personas[Role.SOCIAL_WORKER])

    page = text(client.get(reverse("child-list"), {"local_child_id": "LC-1001"}))

    assert "Search by local child ID" in page
    assert "surname" not in page
    assert reverse("child-detail", args=[maya.pk]) in page
    assert reverse("child-detail", args=[other.pk]) not in page


def test_a_surname_typed_into_the_search_finds_no_one(client, personas, north):
    """Surnames must not be searchable: the search sits in the URL, and so in access logs."""
    ChildFactory(team=north, local_child_id="LC-1001", last_name="Okafor")
    sign_in(client, personas[Role.SOCIAL_WORKER])

    by_surname = text(client.get(reverse("child-list"), {"local_child_id": "Okafor"}))
    old_parameter = client.get(reverse("child-list"), {"q": "Okafor"})

    assert "No children have a local child ID matching" in by_surname
    assert old_parameter.context["search"] == ""  # ignored: the whole list shows


def test_the_children_list_is_sorted_by_surname_and_paged_keeping_the_search(
    client, personas, north
):
    from placements.views import PAGE_SIZE

    for n, surname in enumerate(["Zed", "Adams", "Moss"] * 10):
        ChildFactory(team=north, local_child_id=f"LC-{n:03d}", last_name=surname)
    sign_in(client, personas[Role.SOCIAL_WORKER])

    some = client.get(reverse("child-list"), {"local_child_id": "LC-00"}).context["page"]
    everyone = client.get(reverse("child-list"), {"local_child_id": "LC-"})

    assert some.paginator.count == 10  # LC-000 … LC-009
    assert [c.last_name for c in some.object_list] == ["Adams"] * 3 + ["Moss"] * 3 + ["Zed"] * 4
    assert len(everyone.context["page"].object_list) == PAGE_SIZE
    assert [c.last_name for c in everyone.context["page"].object_list][:10] == ["Adams"] * 10
    assert "?local_child_id=LC-&amp;page=2" in everyone.content.decode()
