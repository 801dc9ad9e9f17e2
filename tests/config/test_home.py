"""Signing in, and each role's home page: its real work queue, its empty state, and a
number of queries that does not grow with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from placements.models import Referral, ReferralStatus
from providers.reference import financial_year_start
from tests.factories import (
    AgendaItemFactory,
    BudgetLineFactory,
    ChildFactory,
    DirectorApprovalFactory,
    FinancialYearFactory,
    PanelFactory,
    PanelMeetingFactory,
    PlacementCostFactory,
    PlacementFactory,
    ReferralFactory,
    UserFactory,
)

# What each role's page must show once the world has work in it.
EXPECTED_HEADINGS = {
    Role.SOCIAL_WORKER: ["Children allocated to you", "Your team's open referrals"],
    Role.TEAM_MANAGER: ["Referrals awaiting your endorsement"],
    Role.PANEL_CHAIR: ["Meetings you chair"],
    Role.PANEL_MEMBER: ["Your panels' upcoming meetings"],
    Role.DIRECTOR: ["Approvals waiting for you"],
    Role.COMMISSIONING_OFFICER: ["Sourcing queue"],
    Role.FINANCE_MANAGER: ["Budget lines", "Most expensive placements today"],
    Role.ADMINISTRATOR: ["People and teams"],
}
EMPTY_STATES = {
    Role.SOCIAL_WORKER: "No children are allocated to you.",
    Role.TEAM_MANAGER: "No referrals are waiting for your endorsement.",
    Role.PANEL_CHAIR: "You are not chairing any upcoming meetings.",
    Role.PANEL_MEMBER: "Your panels have no upcoming meetings.",
    Role.DIRECTOR: "Nothing is waiting for your approval.",
    Role.COMMISSIONING_OFFICER: "No approved referrals are waiting for sourcing.",
    Role.FINANCE_MANAGER: "No placements are running today.",
}


def add_work(personas, north, n):
    """n more items in every role's queue."""
    today = timezone.localdate()
    panel = PanelFactory(default_chair=personas[Role.PANEL_CHAIR])
    panel.members.add(personas[Role.PANEL_MEMBER])
    year = FinancialYearFactory(start_year=financial_year_start(today))
    for i in range(n):
        child = ChildFactory(team=north, social_worker=personas[Role.SOCIAL_WORKER])
        ReferralFactory(child=child, status=ReferralStatus.SUBMITTED)
        ReferralFactory(child=child, status=ReferralStatus.READY_FOR_SOURCING, is_emergency=False)
        meeting = PanelMeetingFactory(panel=panel, date=today + datetime.timedelta(days=7 * i + 1))
        AgendaItemFactory(meeting=meeting, referral__child=child)
        DirectorApprovalFactory(referral__child=child)
        placement = PlacementFactory(child=child, start_date=today - datetime.timedelta(days=30))
        PlacementCostFactory(placement=placement, weekly_amount=Decimal("800.00") + i)
        BudgetLineFactory(financial_year=year)
        UserFactory(roles=[Role.SOCIAL_WORKER], team=north)


def home_queries(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return response, len(queries)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_home_shows_its_queue_with_constant_queries(client, personas, north, role):
    add_work(personas, north, 1)
    response, few = home_queries(client, personas[role])
    add_work(personas, north, 4)
    response, many = home_queries(client, personas[role])
    assert many == few, f"{role.label} home page: {few} queries with 1 item, {many} with 5"
    html = response.content.decode()
    for heading in EXPECTED_HEADINGS[role]:
        assert heading in html
    assert EMPTY_STATES.get(role, "no empty state expected") not in html


@pytest.mark.parametrize("role", list(EMPTY_STATES))
def test_each_role_home_has_an_empty_state(client, personas, role):
    client.force_login(personas[role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert EMPTY_STATES[role] in response.content.decode()


def test_social_worker_sees_own_children_and_not_another_teams(client, personas, north, south):
    mine = ChildFactory(team=north, social_worker=personas[Role.SOCIAL_WORKER], last_name="Mine")
    theirs = ChildFactory(team=south, last_name="Theirs")
    ReferralFactory(child=theirs, status=ReferralStatus.SUBMITTED)
    client.force_login(personas[Role.SOCIAL_WORKER])
    html = client.get(reverse("home")).content.decode()
    assert mine.local_child_id in html
    assert theirs.local_child_id not in html


def test_someone_with_two_roles_sees_both_sections(client, north):
    user = UserFactory(roles=[Role.TEAM_MANAGER, Role.PANEL_MEMBER], team=north)
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert "Referrals awaiting your endorsement" in html
    assert "Your panels' upcoming meetings" in html


def test_a_user_without_a_role_is_told_so(client, db):
    client.force_login(UserFactory())
    assert "You do not have a role" in client.get(reverse("home")).content.decode()


def test_home_needs_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_renders_govuk_fields(client, db):
    html = client.get(reverse("login")).content.decode()
    assert '<h1 class="govuk-heading-l">Sign in</h1>' in html
    assert 'class="govuk-input"' in html
    assert 'for="id_username"' in html


def test_wrong_password_shows_an_error_summary_and_keeps_you_out(client, personas):
    response = client.post(reverse("login"), {"username": "director", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "<title>Error: " in html
    assert "_auth_user_id" not in client.session


def test_empty_sign_in_names_the_missing_fields(client, db):
    html = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert 'href="#id_username"' in html
    assert 'id="id_username_error"' in html
    assert "govuk-input--error" in html


def test_sign_in_then_sign_out(client, personas):
    response = client.post(
        reverse("login"), {"username": "director", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "Sign out" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_api_schema_needs_sign_in(client, personas):
    assert client.get(reverse("api-schema")).status_code == 401
    client.force_login(personas[Role.COMMISSIONING_OFFICER])
    response = client.get(reverse("api-schema"))
    assert response.status_code == 200
    assert b"Placement commissioning API" in response.content


def test_the_team_s_open_referrals_show_returned_ones_first_then_latest_changed(
    client, personas, north
):
    def referral(status, days_ago, local_id):
        made = ReferralFactory(child=ChildFactory(team=north, local_child_id=local_id),
                               status=status)
        Referral.objects.filter(pk=made.pk).update(
            updated_at=timezone.now() - datetime.timedelta(days=days_ago)
        )

    referral(ReferralStatus.SUBMITTED, 3, "OLD-SUBMITTED")
    referral(ReferralStatus.RETURNED, 9, "OLD-RETURNED")
    referral(ReferralStatus.DRAFT, 1, "NEW-DRAFT")
    referral(ReferralStatus.RETURNED, 5, "NEWER-RETURNED")
    client.force_login(personas[Role.SOCIAL_WORKER])

    html = client.get(reverse("home")).content.decode()
    shown = sorted(["OLD-SUBMITTED", "OLD-RETURNED", "NEW-DRAFT", "NEWER-RETURNED"],
                   key=html.index)

    assert shown == ["NEWER-RETURNED", "OLD-RETURNED", "NEW-DRAFT", "OLD-SUBMITTED"]
