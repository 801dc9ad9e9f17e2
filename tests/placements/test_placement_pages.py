"""The placement pages through HTTP: the list with its filters, sort and pages; one
placement with its cost history, funding split and the child's placement history with
stability; the change pages with GOV.UK errors and warnings; who sees and does what; and
query counts that do not grow with the rows."""

import datetime
import html as html_lib
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.roles import Role
from placements.models import Contribution, Placement, PlacementCost
from placements.services import placements as services
from providers.reference import ProviderKind
from tests.factories import (
    BudgetLineFactory,
    BudgetLineRuleFactory,
    ChildFactory,
    ContributionFactory,
    FinancialYearFactory,
    PlacementCostFactory,
    PlacementFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
)
from tests.placements.placement_changes import CHANGERS, DAY, running_placement, snapshot, today

FM, CO, SW = Role.FINANCE_MANAGER, Role.COMMISSIONING_OFFICER, Role.SOCIAL_WORKER


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def plain(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def error_links(response) -> list[str]:
    page = response.content.decode()
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL)
    assert summary, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/placements/(\d+)/"', response.content.decode())]


def detail_url(placement) -> str:
    return reverse("placement-detail", args=[placement.pk])


@pytest.fixture
def placement(north):
    return running_placement(team=north, contribution=True)


# --- The list -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_everyone_sees_the_placements_they_may_see(client, personas, north, south, role):
    ours = running_placement(team=north)
    theirs = running_placement(team=south)
    client.force_login(personas[role])

    response = client.get(reverse("placement-list"))

    assert response.status_code == 200
    expected = {ours.pk} if role in (Role.SOCIAL_WORKER, Role.TEAM_MANAGER) else {ours.pk, theirs.pk}
    assert set(listed(response)) == expected


def test_the_navigation_offers_placements_to_every_role(client, personas):
    for role in Role:
        client.force_login(personas[role])
        items = {item["text"] for item in client.get(reverse("home")).context["navigation_items"]}
        assert "Placements" in items, role


def test_the_list_shows_todays_gross_and_net_cost_without_names(client, personas, placement):
    client.force_login(personas[FM])

    page = plain(client.get(reverse("placement-list")))

    assert placement.child.local_child_id in page
    assert placement.child.last_name not in page
    assert "£820.00" in page and "£770.00" in page  # less the £50 health contribution


def test_the_list_filters(client, personas, north, south):
    ifa = running_placement(team=north)
    home = running_placement(
        team=south, placement_type="K2", on_framework=True,
        service=ServiceFactory(provider=ProviderFactory(kind=ProviderKind.CHILDRENS_HOME)),
    )
    ended = running_placement(team=north, days_ago=100)
    services.placement_end(by=personas[FM], placement=ended, end_date=today() - DAY,
                           reason="CARPL")
    client.force_login(personas[FM])
    url = reverse("placement-list")

    assert set(listed(client.get(url, {"status": "ended"}))) == {ended.pk}
    assert set(listed(client.get(url, {"status": "active"}))) == {ifa.pk, home.pk}
    assert set(listed(client.get(url, {"placement_type": ["K2", "U6"]}))) == {home.pk}
    assert set(listed(client.get(url, {"provider_kind": "childrens_home"}))) == {home.pk}
    assert set(listed(client.get(url, {"team": south.pk}))) == {home.pk}
    assert set(listed(client.get(url, {"on_framework": "true"}))) == {home.pk}
    assert set(listed(client.get(url, {"on_framework": "false"}))) == {ifa.pk, ended.pk}


def test_a_bad_filter_is_shown_as_an_error(client, personas, placement):
    client.force_login(personas[FM])

    response = client.get(reverse("placement-list"), {"placement_type": "Q9"})

    assert response.status_code == 200
    assert error_links(response) == ["id_placement_type_0"]


def test_the_list_sorts_by_weekly_cost(client, personas, north):
    cheap = running_placement(team=north, amount="400.00")
    dear = running_placement(team=north, amount="4000.00")
    middle = running_placement(team=north, amount="900.00")
    client.force_login(personas[FM])

    assert listed(client.get(reverse("placement-list"), {"ordering": "-weekly_cost"})) == [
        dear.pk, middle.pk, cheap.pk]
    assert listed(client.get(reverse("placement-list"), {"ordering": "weekly_cost"})) == [
        cheap.pk, middle.pk, dear.pk]


def test_the_list_has_pages_that_keep_the_filters(client, personas, north):
    for _ in range(26):
        running_placement(team=north)
    client.force_login(personas[FM])

    first = client.get(reverse("placement-list"), {"status": "active"})
    second = client.get(reverse("placement-list"), {"status": "active", "page": 2})

    assert len(listed(first)) == 25 and len(listed(second)) == 1
    assert "?status=active&amp;page=2" in first.content.decode()


# --- One placement -------------------------------------------------------------------------


def test_the_page_shows_cost_history_and_funding_split(client, personas, placement):
    finance = personas[FM]
    services.placement_cost_change(by=finance, placement=placement,
                                   effective_from=today() - 2 * DAY,
                                   weekly_amount=Decimal("860.00"), reason="uplift",
                                   note="Annual uplift letter")
    services.contribution_add(by=finance, placement=placement, funder="education",
                              percentage=Decimal("10"), start_date=today() - DAY)
    client.force_login(finance)

    page = plain(client.get(detail_url(placement)))

    for shown in (
        "Weekly cost history", "Initial agreed price", "£820.00", "Annual uplift",
        "Annual uplift letter", f"{(today() - 3 * DAY):%-d %b %Y}", "Open-ended",
        "Gross weekly cost The weekly cost in force that day £860.00", "Health (NHS) (Demoshire ICB)", "£50.00",
        "10% of the gross cost", "£86.00", "Net cost to the council Gross less contributions £724.00",
        "Placement agreement summary",
    ):
        assert shown in page, shown
    assert reverse("placement-agreement", args=[placement.pk]) in text(client.get(detail_url(placement)))


def test_finance_reads_the_placement_without_the_childs_name(client, personas, south, placement):
    client.force_login(personas[FM])
    for url in (detail_url(placement), reverse("placement-change-cost", args=[placement.pk])):
        page = text(client.get(url))
        assert placement.child.local_child_id in page
        assert placement.child.last_name not in page

    client.force_login(personas[SW])
    assert placement.child.full_name in text(client.get(detail_url(placement)))

    client.force_login(UserFactory(roles=[SW], team=south))
    assert client.get(detail_url(placement)).status_code == 404


def test_three_placements_in_twelve_months_are_flagged(client, personas, north):
    child = ChildFactory(team=north)
    long_ago = PlacementFactory(child=child, start_date=today() - 900 * DAY,
                                end_date=today() - 400 * DAY, reason_for_change="CARPL")
    first = PlacementFactory(child=child, start_date=today() - 400 * DAY,
                             end_date=today() - 100 * DAY, reason_for_change="CREQB")
    current = running_placement(team=north, child=child, days_ago=100)
    client.force_login(personas[Role.TEAM_MANAGER])

    page = plain(client.get(detail_url(current)))
    assert "2 placements in the last 12 months" in page
    assert "Stability concern" not in page
    assert reverse("placement-detail", args=[long_ago.pk]) in text(client.get(detail_url(current)))

    services.child_move(by=personas[CO], placement=current, end_date=today(), reason="CARPL",
                        service=ServiceFactory(), placement_type="U6",
                        weekly_amount=Decimal("750.00"), on_framework=False)
    newest = Placement.objects.get(child=child, end_date__isnull=True)
    page = plain(client.get(detail_url(newest)))
    assert "Stability concern: 3 placements in the last 12 months" in page
    assert "Carer requests end due to child's behaviour" in page
    assert first.pk in listed(client.get(detail_url(newest)))


def test_the_page_offers_changes_only_to_those_who_make_them(client, personas, placement):
    change_url = reverse("placement-change-cost", args=[placement.pk])
    for role in Role:
        client.force_login(personas[role])
        shown = change_url in text(client.get(detail_url(placement)))
        assert shown == (role in CHANGERS), role


def test_an_ended_placement_offers_no_changes(client, personas, placement):
    services.placement_end(by=personas[FM], placement=placement, end_date=today(), reason="CARPL")
    client.force_login(personas[FM])

    response = client.get(detail_url(placement))

    assert reverse("placement-change-cost", args=[placement.pk]) not in text(response)
    assert "Ended" in plain(response)


# --- The change pages -------------------------------------------------------------------------


def change_pages(placement) -> dict[str, tuple[str, dict]]:
    """Each change page's URL and a valid answer."""
    contribution = placement.contributions.order_by("pk").first()
    day = today().isoformat()
    return {
        "change-cost": (reverse("placement-change-cost", args=[placement.pk]),
                        {"effective_from": day, "weekly_amount": "860.00", "reason": "uplift"}),
        "retainer": (reverse("placement-retainer", args=[placement.pk]),
                     {"court_order_reference": "LS24C00123", "effective_from": day,
                      "weekly_amount": "400"}),
        "contribution-add": (reverse("placement-contribution-add", args=[placement.pk]),
                             {"funder": "health", "weekly_amount": "75.00", "start_date": day}),
        "contribution-end": (reverse("placement-contribution-end",
                                     args=[placement.pk, contribution.pk]),
                             {"end_date": day}),
        "end": (reverse("placement-end", args=[placement.pk]),
                {"end_date": day, "reason": "CARPL"}),
        "move": (reverse("placement-move", args=[placement.pk]),
                 {"end_date": day, "reason": "CARPL", "service": ServiceFactory().pk,
                  "placement_type": "K2", "weekly_amount": "3303.00"}),
    }


PAGES = ["change-cost", "retainer", "contribution-add", "contribution-end", "end", "move"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", list(Role))
def test_only_finance_and_commissioners_open_the_change_pages(client, personas, placement, page, role):
    url, answer = change_pages(placement)[page]
    client.force_login(personas[role])
    before = snapshot()

    response = client.get(url)
    posted = client.post(url, answer)

    if role in CHANGERS:
        assert response.status_code == 200
        assert posted.status_code == 302
        assert snapshot() != before
    else:
        assert (response.status_code, posted.status_code) == (403, 403)
        assert snapshot() == before


@pytest.mark.parametrize("page", PAGES)
def test_a_placement_the_user_may_not_see_is_not_found(client, south, placement, page):
    url, answer = change_pages(placement)[page]
    client.force_login(UserFactory(roles=[FM, SW], team=south))  # finance sees every placement
    assert client.get(url).status_code == 200
    client.force_login(UserFactory(roles=[SW, Role.TEAM_MANAGER], team=south))
    assert client.get(url).status_code == 404
    assert client.post(url, answer).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_form_lists_every_required_answer(client, personas, placement, page):
    url, _ = change_pages(placement)[page]
    client.force_login(personas[CO])
    before = snapshot()

    response = client.post(url, {})

    assert response.status_code == 200
    assert error_links(response)
    assert "Error: " in text(response).split("</title>")[0]
    assert snapshot() == before


def test_the_cost_change_page_changes_the_cost(client, personas, placement):
    url, answer = change_pages(placement)["change-cost"]
    client.force_login(personas[FM])

    response = client.post(url, answer, follow=True)

    assert response.redirect_chain == [(detail_url(placement), 302)]
    assert "The weekly cost is changed." in plain(response)
    assert placement.costs.order_by("effective_from").last().weekly_amount == Decimal("860.00")


def test_a_service_refusal_shows_on_its_field(client, personas, placement):
    url, answer = change_pages(placement)["change-cost"]
    client.force_login(personas[FM])

    response = client.post(url, {**answer, "effective_from": placement.start_date.isoformat()})

    assert error_links(response) == ["id_effective_from"]
    assert "an earlier week's cost never changes" in plain(response)


def test_form_errors_say_what_to_enter(client, personas, placement):
    url, answer = change_pages(placement)["change-cost"]
    client.force_login(personas[FM])

    page = plain(client.post(url, {**answer, "weekly_amount": "lots", "effective_from": "2026-02-30"}))

    assert "Enter an amount in pounds, like 850.00" in page
    assert "Enter a real date, for example 20 January 2027" in page


@pytest.mark.parametrize("page", ["end", "move"])
def test_irreversible_changes_warn_first(client, personas, placement, page):
    url, _ = change_pages(placement)[page]
    client.force_login(personas[CO])

    response = plain(client.get(url))

    assert "Warning" in response and "cannot be undone" in response


@pytest.mark.parametrize("page", ["change-cost", "retainer", "contribution-add"])
def test_reversible_changes_do_not_warn(client, personas, placement, page):
    url, _ = change_pages(placement)[page]
    client.force_login(personas[CO])
    assert "cannot be undone" not in plain(client.get(url))


def test_a_move_goes_on_to_the_new_placement(client, personas, placement):
    url, answer = change_pages(placement)["move"]
    client.force_login(personas[CO])

    response = client.post(url, answer)

    new = Placement.objects.get(child=placement.child, end_date__isnull=True)
    assert response.url == detail_url(new)
    assert new.costs.get().weekly_amount == Decimal("3303.00")


def test_an_ended_placement_sends_the_change_pages_back(client, personas, placement):
    pages = change_pages(placement)
    services.placement_end(by=personas[FM], placement=placement, end_date=today(), reason="CARPL")
    client.force_login(personas[FM])

    for url, answer in pages.values():
        response = client.post(url, answer, follow=True)
        assert response.redirect_chain == [(detail_url(placement), 302)]
        assert "it can no longer change" in plain(response)


def test_another_placements_contribution_is_not_found(client, personas, placement, north):
    other = running_placement(team=north, contribution=True)
    client.force_login(personas[FM])
    url = reverse("placement-contribution-end",
                  args=[placement.pk, other.contributions.get().pk])
    assert client.get(url).status_code == 404


def test_a_contribution_that_ended_offers_no_end_link(client, personas, north):
    placement = running_placement(team=north)
    gone = ContributionFactory(placement=placement, end_date=today() - DAY)
    client.force_login(personas[FM])

    page = text(client.get(detail_url(placement)))

    assert reverse("placement-contribution-end", args=[placement.pk, gone.pk]) not in page


# --- Query counts -----------------------------------------------------------------------------


def queries_for(client, url, params=None) -> int:
    client.get(url, params)  # warm caches (content types, templates)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [FM, Role.TEAM_MANAGER])
def test_the_list_uses_the_same_queries_for_1_or_5_placements(client, personas, north, role):
    client.force_login(personas[role])
    url = reverse("placement-list")
    running_placement(team=north, contribution=True)
    one = queries_for(client, url)
    one_filtered = queries_for(client, url, {"status": "active", "ordering": "-net_weekly_cost"})
    for n in range(4):
        running_placement(team=north, contribution=True,
                          service=ServiceFactory(provider=ProviderFactory(name=f"Homes {n}")))

    assert queries_for(client, url) == one
    assert queries_for(client, url, {"status": "active", "ordering": "-net_weekly_cost"}) == one_filtered
    assert len(listed(client.get(url))) == 5


@pytest.mark.parametrize("role", [FM, CO, SW])
def test_the_placement_page_uses_the_same_queries_for_1_or_5_of_everything(
    client, personas, north, role
):
    year = FinancialYearFactory(start_year=today().year if today().month >= 4 else today().year - 1)
    BudgetLineRuleFactory(budget_line=BudgetLineFactory(financial_year=year), financial_year=year)
    small = running_placement(team=north, contribution=True)
    child = ChildFactory(team=north)
    for n in range(4):
        PlacementFactory(child=child, start_date=today() - (500 - 100 * n) * DAY,
                         end_date=today() - (400 - 100 * n) * DAY, reason_for_change="CARPL")
    big = running_placement(team=north, child=child, days_ago=100)
    for n in range(4):
        big.costs.filter(effective_to__isnull=True).update(effective_to=today() - (90 - 10 * n) * DAY)
        PlacementCostFactory(placement=big, effective_from=today() - (90 - 10 * n) * DAY,
                             created_by=UserFactory())
    ContributionFactory.create_batch(5, placement=big, weekly_amount=Decimal("10.00"),
                                     funder=Contribution.Funder.EDUCATION)
    client.force_login(personas[role])

    assert big.costs.count() == 5 and Placement.objects.filter(child=child).count() == 5
    assert queries_for(client, detail_url(small)) == queries_for(client, detail_url(big))


def test_cost_rows_are_listed_oldest_first_with_their_last_day(client, personas, north):
    placement = running_placement(team=north, days_ago=60)
    placement.costs.update(effective_to=today() - 30 * DAY)
    PlacementCostFactory(placement=placement, effective_from=today() - 30 * DAY,
                         weekly_amount=Decimal("900.00"), reason=PlacementCost.Reason.RENEGOTIATION)
    client.force_login(personas[FM])

    page = plain(client.get(detail_url(placement)))

    last_day = today() - 31 * DAY
    assert f"{placement.start_date:%-d %b %Y} {last_day:%-d %b %Y} Initial agreed price" in page
    assert page.index("Initial agreed price") < page.index("Renegotiation")


def test_the_page_names_the_budget_line_of_the_year(client, personas, placement):
    start_year = today().year if today() >= datetime.date(today().year, 4, 1) else today().year - 1
    year = FinancialYearFactory(start_year=start_year)
    line = BudgetLineFactory(financial_year=year, name="Independent fostering agencies")
    BudgetLineRuleFactory(budget_line=line, financial_year=year, placement_type="U4",
                          place_provider=placement.place_provider)
    client.force_login(personas[FM])

    assert "Independent fostering agencies" in plain(client.get(detail_url(placement)))
