"""/api/v1/placements/ and /api/v1/contributions/ through HTTP: who sees what, the
filters, every action and its refusals (400/403/404/409, never 500), and list query
counts that do not grow with the rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from placements.models import Contribution, Placement
from placements.services import placements as services
from providers.reference import ProviderKind
from tests.factories import (
    BudgetLineFactory,
    BudgetLineRuleFactory,
    FinancialYearFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
)
from tests.placements.placement_changes import CHANGERS, DAY, running_placement, snapshot, today

FM, CO, SW, TM = (Role.FINANCE_MANAGER, Role.COMMISSIONING_OFFICER, Role.SOCIAL_WORKER,
                  Role.TEAM_MANAGER)
PLACEMENTS = "/api/v1/placements/"
CONTRIBUTIONS = "/api/v1/contributions/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


@pytest.fixture
def placement(north):
    return running_placement(team=north, contribution=True)


@pytest.fixture
def finance(as_user, personas):
    return as_user(personas[FM])


# --- Reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lists_the_placements_it_may_see(as_user, personas, north, south, role):
    ours = running_placement(team=north, contribution=True)
    theirs = running_placement(team=south, contribution=True)
    client = as_user(personas[role])

    expected = {ours.pk} if role in (SW, TM) else {ours.pk, theirs.pk}
    assert ids(client.get(PLACEMENTS)) == expected
    assert {row["placement"] for row in client.get(CONTRIBUTIONS).data["results"]} == expected
    assert client.get(f"{PLACEMENTS}{theirs.pk}/").status_code == (404 if role in (SW, TM) else 200)


def test_a_placement_shows_its_costs_contributions_and_todays_net_cost(finance, placement):
    body = finance.get(f"{PLACEMENTS}{placement.pk}/").json()

    assert body["child_local_id"] == placement.child.local_child_id
    assert "first_name" not in str(body) and placement.child.last_name not in str(body)
    assert (body["weekly_cost"], body["net_weekly_cost"]) == ("820.00", "770.00")
    assert body["costs"] == [{
        "id": placement.costs.get().pk, "effective_from": placement.start_date.isoformat(),
        "effective_to": None, "weekly_amount": "820.00", "reason": "initial",
        "court_order_reference": "", "note": "", "created_by": placement.created_by_id,
        "created_at": body["costs"][0]["created_at"],
    }]
    assert [(c["funder"], c["weekly_amount"], c["end_date"]) for c in body["contributions"]] == [
        ("health", "50.00", None)]
    assert (body["provider_kind"], body["placement_type"], body["reason_for_change"]) == (
        "ifa", "U4", "")


def test_the_filters(finance, personas, north, south):
    ifa = running_placement(team=north)
    home = running_placement(
        team=south, placement_type="K2", on_framework=True,
        service=ServiceFactory(provider=ProviderFactory(kind=ProviderKind.CHILDRENS_HOME)),
    )
    ended = running_placement(team=north, days_ago=50)
    services.placement_end(by=personas[FM], placement=ended, end_date=today(), reason="CARPL")
    year = FinancialYearFactory(start_year=today().year if today().month >= 4 else today().year - 1)
    line = BudgetLineFactory(financial_year=year, name="External residential")
    BudgetLineRuleFactory(budget_line=line, financial_year=year, placement_type="K2",
                          place_provider=home.place_provider)

    assert ids(finance.get(PLACEMENTS, {"status": "ended"})) == {ended.pk}
    assert ids(finance.get(PLACEMENTS, {"status": "active"})) == {ifa.pk, home.pk}
    assert ids(finance.get(PLACEMENTS, {"placement_type": "K2"})) == {home.pk}
    assert ids(finance.get(PLACEMENTS, {"provider": home.service.provider_id})) == {home.pk}
    assert ids(finance.get(PLACEMENTS, {"provider_kind": "childrens_home"})) == {home.pk}
    assert ids(finance.get(PLACEMENTS, {"team": north.pk})) == {ifa.pk, ended.pk}
    assert ids(finance.get(PLACEMENTS, {"on_framework": "true"})) == {home.pk}
    assert ids(finance.get(PLACEMENTS, {"budget_line": line.pk})) == {home.pk}


@pytest.mark.parametrize(
    "params",
    [{"placement_type": "Q9"}, {"provider": "abc"}, {"budget_line": "1e30"},
     {"team": str(2**70)}, {"status": "sleeping"}, {"ordering": "child__last_name"}],
)
def test_bad_filters_answer_400(finance, placement, params):
    assert finance.get(PLACEMENTS, params).status_code == 400


def test_contribution_filters(finance, north, placement):
    other = running_placement(team=north)
    ended = Contribution.objects.create(placement=other, funder="education",
                                        percentage=Decimal("10"), start_date=other.start_date,
                                        end_date=today())
    running = placement.contributions.get()

    assert ids(finance.get(CONTRIBUTIONS, {"placement": other.pk})) == {ended.pk}
    assert ids(finance.get(CONTRIBUTIONS, {"funder": "health"})) == {running.pk}
    assert ids(finance.get(CONTRIBUTIONS, {"active": "true"})) == {running.pk}
    assert ids(finance.get(CONTRIBUTIONS, {"active": "false"})) == {ended.pk}
    assert finance.get(CONTRIBUTIONS, {"placement": "x"}).status_code == 400


# --- Changing a placement ---------------------------------------------------------------------


def actions(placement) -> dict[str, tuple[str, dict, int]]:
    """Each action's URL, a valid body and its success status."""
    day = today().isoformat()
    contribution = placement.contributions.order_by("pk").first()
    return {
        "change-cost": (f"{PLACEMENTS}{placement.pk}/change-cost/",
                        {"effective_from": day, "weekly_amount": "860.00", "reason": "uplift"}, 200),
        "retainer": (f"{PLACEMENTS}{placement.pk}/retainer/",
                     {"effective_from": day, "effective_to": (today() + 7 * DAY).isoformat(),
                      "weekly_amount": "400.00", "court_order_reference": "LS24C00123"}, 200),
        "end": (f"{PLACEMENTS}{placement.pk}/end/", {"end_date": day, "reason": "CARPL"}, 200),
        "move": (f"{PLACEMENTS}{placement.pk}/move/",
                 {"end_date": day, "reason": "CARPL", "service": ServiceFactory().pk,
                  "placement_type": "K2", "weekly_amount": "3303.00"}, 201),
        "contribution-add": (CONTRIBUTIONS,
                             {"placement": placement.pk, "funder": "education",
                              "percentage": "10", "start_date": day}, 201),
        "contribution-end": (f"{CONTRIBUTIONS}{contribution.pk}/end/", {"end_date": day}, 200),
    }


ACTIONS = ["change-cost", "retainer", "end", "move", "contribution-add", "contribution-end"]


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_only_finance_and_commissioners_change_placements(as_user, personas, placement, name, role):
    url, body, success = actions(placement)[name]
    before = snapshot()

    response = as_user(personas[role]).post(url, body, format="json")

    if role in CHANGERS:
        assert response.status_code == success, response.data
        assert snapshot() != before
    else:
        assert response.status_code == 403
        assert snapshot() == before


@pytest.mark.parametrize("name", ACTIONS)
def test_a_placement_the_user_may_not_see_answers_404_or_400(as_user, south, placement, name):
    url, body, _ = actions(placement)[name]
    client = as_user(UserFactory(roles=[SW], team=south))

    response = client.post(url, body, format="json")

    # The contribution's placement is in the body: an ID the user may not see is refused
    # as if it did not exist.
    assert response.status_code == (400 if name == "contribution-add" else 404)
    if name == "contribution-add":
        assert "placement" in response.data


@pytest.mark.parametrize("name", ACTIONS)
def test_an_ended_placement_answers_409(finance, personas, placement, name):
    url, body, _ = actions(placement)[name]
    services.placement_end(by=personas[FM], placement=placement, end_date=today(), reason="CARPL")

    response = finance.post(url, body, format="json")

    assert response.status_code == 409
    assert response.data["current_status"] == "ended"


def test_change_cost_answers_the_placement_with_its_new_row(finance, placement):
    url, body, _ = actions(placement)["change-cost"]

    response = finance.post(url, body, format="json")

    assert [(c["effective_from"], c["effective_to"], c["weekly_amount"], c["reason"])
            for c in response.data["costs"]] == [
        (placement.start_date.isoformat(), today().isoformat(), "820.00", "initial"),
        (today().isoformat(), None, "860.00", "uplift"),
    ]


@pytest.mark.parametrize(
    ("name", "changes", "field"),
    [
        ("change-cost", {"effective_from": "2000-01-01"}, "effective_from"),
        ("change-cost", {"weekly_amount": "lots"}, "weekly_amount"),
        ("change-cost", {"weekly_amount": "1e20"}, "weekly_amount"),
        ("change-cost", {"weekly_amount": "700.00"}, "weekly_amount"),  # an uplift that lowers
        ("change-cost", {"reason": "retainer"}, "reason"),
        ("retainer", {"court_order_reference": ""}, "court_order_reference"),
        ("retainer", {"court_order_reference": "   "}, "court_order_reference"),
        ("end", {"reason": "BORED"}, "reason"),
        ("end", {"end_date": "31/12/2026"}, "end_date"),
        ("move", {"service": 2**70}, "service"),
        ("move", {"service": 999999}, "service"),
        ("move", {"placement_type": "Q9"}, "placement_type"),
        ("contribution-add", {"weekly_amount": "20.00"}, "percentage"),  # both
        ("contribution-add", {"percentage": "101"}, "percentage"),
        ("contribution-add", {"placement": 2**70}, "placement"),
        ("contribution-end", {"end_date": "1999-01-01"}, "end_date"),
    ],
)
def test_bad_input_answers_400_naming_the_field(finance, placement, name, changes, field):
    url, body, _ = actions(placement)[name]
    before = snapshot()

    response = finance.post(url, {**body, **changes}, format="json")

    assert response.status_code == 400, response.data
    assert field in response.data
    assert snapshot() == before


def test_move_answers_the_new_placement(finance, placement):
    url, body, _ = actions(placement)["move"]

    response = finance.post(url, body, format="json")

    new = Placement.objects.get(child=placement.child, end_date__isnull=True)
    assert response.data["id"] == new.pk
    assert (response.data["start_date"], response.data["placement_type"]) == (
        today().isoformat(), "K2")
    assert [c["weekly_amount"] for c in response.data["costs"]] == ["3303.00"]


def test_contributions_are_created_and_ended(finance, north):
    placement = running_placement(team=north)

    created = finance.post(CONTRIBUTIONS, {
        "placement": placement.pk, "funder": "health", "funder_name": "Leeds ICB",
        "weekly_amount": "120.00", "start_date": today().isoformat(),
    }, format="json")
    assert created.status_code == 201, created.data
    assert (created.data["weekly_amount"], created.data["percentage"]) == ("120.00", None)

    ended = finance.post(f"{CONTRIBUTIONS}{created.data['id']}/end/",
                         {"end_date": (today() + 7 * DAY).isoformat()}, format="json")
    assert ended.status_code == 200
    assert ended.data["end_date"] == (today() + 7 * DAY).isoformat()
    again = finance.post(f"{CONTRIBUTIONS}{created.data['id']}/end/",
                         {"end_date": (today() + 9 * DAY).isoformat()}, format="json")
    assert again.status_code == 400 and "end_date" in again.data


def test_anonymous_callers_are_refused(anonymous, placement):
    assert anonymous.get(PLACEMENTS).status_code == 401
    assert anonymous.post(f"{PLACEMENTS}{placement.pk}/end/", {}, format="json").status_code == 401


# --- Query counts ---------------------------------------------------------------------------


def queries_for(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(queries), response.data["count"]


@pytest.mark.parametrize("url", [PLACEMENTS, CONTRIBUTIONS])
@pytest.mark.parametrize("role", [FM, TM])
def test_lists_use_the_same_queries_for_1_or_5_placements(as_user, personas, north, url, role):
    client = as_user(personas[role])
    client.get(url)  # warm up
    running_placement(team=north, contribution=True)
    one, shown_one = queries_for(client, url)
    for _ in range(4):
        placement = running_placement(team=north, contribution=True)
        services.placement_cost_change(by=personas[FM], placement=placement,
                                       effective_from=today(), weekly_amount=Decimal("900.00"),
                                       reason="uplift")
    five, shown_five = queries_for(client, url)

    assert (shown_one, shown_five) == (1, 5)
    assert five == one
