"""The managers' dashboard: its figures on a small world worked out by hand
(tests/placements/dashboard_world.py), who may open it, the team filter, links to the rows
behind each figure, and a number of queries that does not grow with the rows."""

import datetime
import html as html_lib
import json
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.roles import Role
from panels.models import AgendaItem, Decision
from placements import dashboard, rollups, views_dashboard
from placements.models import BudgetPositionSnapshot, Placement, Referral
from placements.rollups.progress import record_progress
from tests.factories import (
    AgendaItemFactory,
    DecisionFactory,
    FinancialYearFactory,
    UserFactory,
)
from tests.placements.dashboard_world import (
    LINES,
    TODAY,
    YEAR,
    build_budgets,
    build_placements,
    build_referrals,
    snapshot,
)


def scope(team=None, year=YEAR, today=TODAY):
    return dashboard.DashboardScope(financial_year=year, team=team, today=today)


@pytest.fixture
def world(north, south):
    placed = build_placements(north=north, south=south)
    return build_referrals(north=north, south=south, world=placed)


# --- Figures ---------------------------------------------------------------------------------


def test_as_of_is_today_within_the_year_else_the_nearest_end():
    assert scope().as_of == TODAY
    assert scope(year=2025).as_of == datetime.date(2026, 3, 31)
    assert scope(year=2027).as_of == datetime.date(2027, 4, 1)


def test_children_by_placement_type_in_house_and_external(world):
    rows = dashboard.children_by_placement_type(scope())
    assert [(r["placement_type"], r["in_house"], r["children"], r["average_weekly_cost"])
            for r in rows] == [
        ("K2", False, 1, Decimal("3500.00")),
        ("U4", True, 1, Decimal("350.00")),
        ("U4", False, 1, Decimal("850.00")),
        ("U6", False, 1, Decimal("900.00")),
    ]
    totals = dashboard.in_house_and_external(rows)
    assert [(t["label"], t["children"], t["average_weekly_cost"]) for t in totals] == [
        ("In-house", 1, Decimal("350.00")),
        ("External", 3, Decimal("1750.00")),
    ]


def test_care_shares_whole_authority(world):
    shares = dashboard.care_shares(scope())
    assert shares["children"] == 4
    assert (shares["residential"], shares["residential_share"]) == (1, Decimal("25.0"))
    assert (shares["far_from_home"], shares["distance_known"]) == (2, 3)
    assert shares["far_from_home_share"] == Decimal("66.7")
    assert (shares["unstable"], shares["unstable_share"]) == (1, Decimal("25.0"))


def test_care_shares_for_one_team(world, north, south):
    shares = dashboard.care_shares(scope(team=north))
    assert (shares["children"], shares["residential"], shares["unstable"]) == (3, 1, 1)
    assert shares["residential_share"] == Decimal("33.3")
    south_shares = dashboard.care_shares(scope(team=south))
    assert (south_shares["children"], south_shares["distance_known"]) == (1, 0)
    assert south_shares["far_from_home_share"] is None


def test_stability_counts_placements_with_a_night_in_the_last_12_months(world):
    # C0 ended on 1 July 2025: inside the 12 months to 15 June 2026, outside those to
    # 1 July 2026 (ended that day: no night in the window).
    assert dashboard.care_shares(scope(today=datetime.date(2026, 6, 30)))["unstable"] == 1
    assert dashboard.care_shares(scope(today=datetime.date(2026, 7, 1)))["unstable"] == 0


def test_unstable_placements_lists_the_current_placement(world):
    rows = dashboard.unstable_placements(scope(), visible=Placement.objects.all())
    assert [(row.pk, row.recent_placements) for row in rows] == [(world.placements["C"].pk, 3)]
    assert dashboard.unstable_placements(scope(), visible=Placement.objects.none()) == []


def test_weekly_cost_by_supply(world):
    split = dashboard.weekly_cost_by_supply(scope())
    assert {key: (row["placements"], row["weekly_net"]) for key, row in split.items()} == {
        "in_house": (1, Decimal("350.00")),
        "framework": (1, Decimal("750.00")),
        "off_framework": (2, Decimal("4400.00")),
    }


def test_costliest_placements_by_net_weekly_cost(world, north):
    p = world.placements
    everyone = dashboard.costliest_placements(scope(), visible=Placement.objects.all())
    assert [row.pk for row in everyone] == [p["C"].pk, p["D"].pk, p["B"].pk, p["A"].pk]
    assert everyone[2].net_weekly_cost == Decimal("750.00")
    north_only = dashboard.costliest_placements(scope(team=north), visible=Placement.objects.all())
    assert [row.pk for row in north_only] == [p["C"].pk, p["B"].pk, p["A"].pk]


def test_emergencies_awaiting_review(world):
    r = world.referrals
    reviewed = Referral.objects.filter(pk=r["R7"].pk).values("pk")
    found = dashboard.emergencies_awaiting_review(
        scope(), reviewed=reviewed, visible=Referral.objects.all()
    )
    assert (found["total"], found["overdue"]) == (1, 1)
    assert found["rows"] == [r["R6"]]
    hidden = dashboard.emergencies_awaiting_review(
        scope(), reviewed=reviewed, visible=Referral.objects.none()
    )
    assert (hidden["total"], hidden["rows"]) == (1, [])
    before_due = dashboard.emergencies_awaiting_review(
        scope(today=datetime.date(2026, 6, 8)), reviewed=reviewed, visible=Referral.objects.all()
    )
    assert (before_due["total"], before_due["overdue"]) == (1, 0)


def pipeline_counts(rows):
    return {row["status"]: row["referrals"] for row in rows if row["referrals"]}


def test_referral_pipeline(world, north):
    assert pipeline_counts(dashboard.referral_pipeline(scope())) == {
        "placed": 3, "ready_for_sourcing": 1, "endorsed": 1, "declined": 1,
    }
    assert pipeline_counts(dashboard.referral_pipeline(scope(team=north))) == {
        "placed": 3, "ready_for_sourcing": 1, "endorsed": 1,
    }


def test_referral_pipeline_of_a_past_year_reads_the_history(world):
    # On 31 March 2026, only R5 existed beyond a draft: withdrawn in that year.
    assert pipeline_counts(dashboard.referral_pipeline(scope(year=2025))) == {"withdrawn": 1}


def test_referral_timings(world, north):
    timings = dashboard.referral_timings(scope())
    assert timings["to_decision"] == {"referrals": 3, "median_days": Decimal("10.0")}
    assert timings["to_placement"] == {"referrals": 3, "median_days": Decimal("3.0")}
    north_timings = dashboard.referral_timings(scope(team=north))
    assert north_timings["to_decision"] == {"referrals": 2, "median_days": Decimal("7.0")}


def test_referral_timings_with_nothing_decided(db):
    assert dashboard.referral_timings(scope())["to_decision"] == {
        "referrals": 0, "median_days": None}



def test_spend_to_date_by_supply_adds_up_to_the_budget_positions(world):
    """After the rollup, the ledger's spend by how placements are bought adds up to the
    budget positions' actual to date (both stop at the position's week)."""
    build_budgets(snapshots=False)
    rollups.rebuild_financial_year(year=YEAR, today=TODAY)
    spend = dashboard.spend_to_date_by_supply(scope())
    positions = rollups.budget_positions(financial_year=YEAR, today=TODAY)
    assert sum(spend.values()) == sum(p.actual_to_date for p in positions) > 0
    assert spend["framework"] > 0 and spend["in_house"] > 0 and spend["off_framework"] > 0


def test_spend_to_date_before_the_year_starts_is_nothing(world):
    build_budgets(year=2027, snapshots=False)
    assert set(dashboard.spend_to_date_by_supply(scope(year=2027)).values()) == {Decimal(0)}


# --- The page --------------------------------------------------------------------------------

DASHBOARD_READERS = {Role.FINANCE_MANAGER, Role.TEAM_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR,
                     Role.COMMISSIONING_OFFICER}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views_dashboard, "today", lambda: TODAY)


@pytest.fixture(autouse=True)
def no_rebuild_progress():
    """Rebuild progress lives in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


def page(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("dashboard"), query)
    assert response.status_code == 200
    return response


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def plain(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def chart_data(response) -> dict:
    found = re.search(r'<script id="dashboard-chart-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.DOTALL)
    return json.loads(found.group(1))


@pytest.mark.parametrize("role", list(Role))
def test_who_may_open_the_dashboard(client, personas, role):
    client.force_login(personas[role])
    response = client.get(reverse("dashboard"))
    assert response.status_code == (200 if role in DASHBOARD_READERS else 403)


def test_anonymous_people_are_sent_to_sign_in(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_team_manager_without_a_team_is_refused(client, db, role_groups):
    manager = UserFactory(roles=[Role.TEAM_MANAGER], team=None)
    client.force_login(manager)
    assert client.get(reverse("dashboard")).status_code == 403


@pytest.mark.parametrize("role", list(Role))
def test_navigation_has_the_dashboard_for_its_readers(client, personas, role):
    client.force_login(personas[role])
    response = client.get(reverse("home"))
    links = re.findall(r'class="govuk-service-navigation__link" href="([^"]+)"', text(response))
    assert (reverse("dashboard") in links) is (role in DASHBOARD_READERS)


def test_finance_home_page_links_to_the_dashboard(client, personas):
    client.force_login(personas[Role.FINANCE_MANAGER])
    response = client.get(reverse("home"))
    assert f'href="{reverse("dashboard")}"' in text(response)


def test_budget_lines_table_and_chart(client, personas, world):
    lines = build_budgets()
    response = page(client, personas[Role.FINANCE_MANAGER])
    words = plain(response)
    assert ("External residential : its placements £150,000.00 budget and its adjustments "
            "£40,000.00 £140,000.00 £180,000.00 £30,000.00 over") in words
    assert ("In-house fostering : its placements £20,000.00 budget and its adjustments "
            "£5,000.00 £13,000.00 £18,000.00 £2,000.00 under") in words
    assert "£100,000.00 On budget" in words
    assert "Total £270,000.00 £75,000.00 £223,000.00 £298,000.00 £28,000.00 over" in words
    assert "position for the week starting 8 June 2026" in words
    positions = chart_data(response)["positions"]
    assert positions["labels"] == list(LINES)
    assert positions["outturn"] == ["180000.00", "18000.00", "100000.00"]
    assert positions["budget"] == ["150000.00", "20000.00", "100000.00"]
    page_text = text(response)
    line = lines["External residential"]
    assert f'href="{reverse("placement-list")}?budget_line={line.pk}"' in page_text
    assert f'href="{reverse("budget-line-detail", args=[line.pk])}"' in page_text


def test_trend_chart_and_table(client, personas, world):
    build_budgets()
    response = page(client, personas[Role.DIRECTOR])
    trend = chart_data(response)["trend"]
    assert trend["labels"] == ["2026-06-01", "2026-06-08"]
    assert trend["total"] == ["287500.00", "298000.00"]
    assert trend["lines"]["External residential"] == ["170000.00", "180000.00"]
    assert "1 Jun 2026 £170,000.00 £18,500.00 £99,000.00 £287,500.00 £270,000.00" in plain(response)
    # The Director reads budgets on the dashboard but not the budget pages.
    assert reverse("budget-list") not in text(response)


def test_charts_are_drawn_by_a_module_from_json_not_inline_script(client, personas, world):
    build_budgets()
    page_text = response_text = text(page(client, personas[Role.FINANCE_MANAGER]))
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response_text, re.DOTALL)
    # base.html's js-enabled line is the one inline script, allowed by the CSP nonce.
    assert all('type="module" src=' in attrs or 'type="application/json"' in attrs
               or 'nonce="' in attrs for attrs, _body in scripts)
    assert '<script type="module" src="/assets/js/dashboard.mjs"></script>' in page_text
    assert page_text.count('aria-hidden="true">\n  <canvas') == 2


def test_children_in_care_figures_and_their_links(client, personas, world):
    response = page(client, personas[Role.COMMISSIONING_OFFICER])
    words = plain(response)
    assert "Children in care 4 – view their placements" in words
    assert "In residential care 1 – view their placements (25.0%)" in words
    assert "2 of 3 whose distance is recorded (66.7%)" in words
    assert "3 or more placements in 12 months 1 (25.0%) since 15 June 2025" in words
    assert "K2 – Children's home External 1" in words
    assert "External 3 £1,750.00" in words
    page_text = text(response)
    assert f'href="{reverse("placement-list")}?status=active&placement_type=K1&placement_type=K2' \
           f'&placement_type=R1&placement_type=S1"' in page_text
    assert f'href="{reverse("placement-list")}?status=active&placement_type=U4' \
           f'&provider_kind=in_house"' in page_text
    assert f'href="{reverse("placement-detail", args=[world.placements["C"].pk])}"' in page_text


def listed_placements(client, url) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return {int(pk) for pk in re.findall(r"\bPlacement (\d+)\b", plain(response))}


def test_the_figures_links_list_the_placements_behind_them(client, personas, world):
    """Followed to the placement list (its filters run on the real today: every placement
    of the world but E is still running)."""
    lines = build_budgets()
    page_text = text(page(client, personas[Role.FINANCE_MANAGER]))
    p = {name: placement.pk for name, placement in world.placements.items()}
    list_url = reverse("placement-list")
    residential = re.search(rf'href="({list_url}\?status=active&placement_type=K1[^"]*)"',
                            page_text).group(1)
    assert listed_placements(client, residential) == {p["C"]}
    framework = re.search(rf'href="({list_url}\?status=active&on_framework=true[^"]*)"',
                          page_text).group(1)
    assert listed_placements(client, framework) == {p["B"]}
    ifa = lines["Independent fostering agencies"].pk
    assert listed_placements(client, f"{list_url}?budget_line={ifa}") == {
        p["B"], p["D"], p["E"]}


def test_money_referral_and_emergency_figures(client, personas, world):
    reviewed = AgendaItemFactory(kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW,
                                 referral=world.referrals["R7"])
    DecisionFactory(agenda_item=reviewed, outcome=Decision.Outcome.APPROVE_EXTERNAL)
    # Listed for review but not yet decided: still awaiting.
    AgendaItemFactory(kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW, referral=world.referrals["R6"])
    response = page(client, personas[Role.DIRECTOR])
    words = plain(response)
    assert "Bought on a framework 1 placements bought on a framework £750.00 £0.00" in words
    assert "Bought off framework (spot purchase) 2" in words
    assert "Negotiation savings agreed in 2026/27: £0.00" in words
    assert "1 emergency placement not yet reviewed by a panel, 1 past its review date." in words
    assert f"Referral {world.referrals['R6'].pk}" in words
    assert f"Referral {world.referrals['R7'].pk}" not in words
    assert "Placed (in 2026/27) 3 referrals placed" in words
    assert "Endorsed, awaiting panel 1" in words
    assert "10.0 days, over 3 referrals decided in 2026/27" in words
    assert "3.0 days, over 3 referrals placed in 2026/27" in words
    assert f'href="{reverse("referral-list")}?status=placed"' in text(response)


def test_finance_sees_the_counts_but_no_referral_rows(client, personas, world):
    response = page(client, personas[Role.FINANCE_MANAGER])
    words = plain(response)
    assert "2 emergency placements not yet reviewed by a panel, 2 past their review date." in words
    assert f"Referral {world.referrals['R6'].pk}" not in words
    assert reverse("referral-list") not in text(response)
    assert "Placed (in 2026/27) 3" in words


def test_team_filter_limits_every_figure_to_the_team(client, personas, world, south):
    build_budgets()
    response = page(client, personas[Role.FINANCE_MANAGER], team=south.pk)
    words = plain(response)
    assert "South team" in words
    assert "Children in care 1 – view" in words
    assert "Declined (in 2026/27) 1" in words and "Placed (in 2026/27) 0" in words
    assert f"Placement {world.placements['D'].pk}" in words
    assert f"Placement {world.placements['C'].pk}" not in words
    # Budgets are the authority's: the team's share has none, nor a trend.
    assert "Projected overspend" not in words
    assert "kept for the whole authority only" in words
    assert chart_data(response)["positions"]["budget"] is None
    assert "Negotiation savings" not in words
    assert f'href="{reverse("placement-list")}?team={south.pk}&status=active"' in text(response)


def test_a_team_manager_sees_their_own_team_whatever_is_asked(client, personas, world, south):
    response = page(client, personas[Role.TEAM_MANAGER], team=south.pk)
    words = plain(response)
    assert "North team" in words and "South team" not in words
    assert "Children in care 3 – view" in words
    assert f"Placement {world.placements['D'].pk}" not in words
    assert 'name="team"' not in text(response)


def test_a_past_year_reads_as_it_stood_at_its_end(client, personas, world):
    build_budgets(year=2025, snapshots=False)
    response = page(client, personas[Role.DIRECTOR], year=2025)
    words = plain(response)
    assert "Dashboard 2025/26" in words
    assert "as on 31 March 2026" in words
    assert "Withdrawn (in 2025/26) 1" in words


def test_an_unknown_year_is_an_error_and_shows_this_year(client, personas, world):
    response = page(client, personas[Role.DIRECTOR], year=1999)
    assert "Select a financial year from the list" in plain(response)
    assert "Dashboard 2026/27" in plain(response)


def grow(north, south, lines, *, copies, first_week):
    """`copies` worlds' worth of placements and referrals, and as many weeks of positions."""
    for copy in range(copies):
        world = build_placements(north=north, south=south)
        build_referrals(north=north, south=south, world=world)
        for line in lines.values():
            snapshot(line, first_week + datetime.timedelta(weeks=copy), "1", "2")


def count_queries(client, user, **query) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard"), query).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [Role.FINANCE_MANAGER, Role.TEAM_MANAGER, Role.DIRECTOR])
def test_query_count_does_not_grow_with_the_rows(client, personas, north, south, role):
    lines = build_budgets(snapshots=False)
    grow(north, south, lines, copies=1, first_week=datetime.date(2026, 4, 6))
    one = count_queries(client, personas[role])
    grow(north, south, lines, copies=4, first_week=datetime.date(2026, 4, 13))
    many = count_queries(client, personas[role])
    assert one == many
    # 19 for finance, 18 for a team manager, 20 for the Director when written; a guard against
    # a figure that starts querying per row or per line.
    assert one <= 20


# --- Rebuilding a year's figures ---------------------------------------------------------------


def test_the_rebuild_button_is_for_finance_and_administrators(client, personas, world):
    build_budgets()
    for role in DASHBOARD_READERS:
        shown = 'action="/dashboard/rebuild/"' in text(page(client, personas[role]))
        assert shown is (role in {Role.FINANCE_MANAGER, Role.ADMINISTRATOR}), role


def test_finance_rebuilds_the_year_and_sees_it_done(client, personas, world,
                                                    django_capture_on_commit_callbacks):
    build_budgets(snapshots=False)
    client.force_login(personas[Role.FINANCE_MANAGER])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("dashboard-rebuild"), {"year": YEAR})
    assert len(callbacks) == 1
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard-rebuild-progress", args=[YEAR])
    assert BudgetPositionSnapshot.objects.exists()
    done = client.get(response["Location"])
    assert "Rebuilt" in plain(done)
    assert "Refresh" not in done


def test_the_progress_page_reloads_itself_while_the_rebuild_runs(client, personas, db):
    record_progress(YEAR, state="running", done=3, total=12)
    client.force_login(personas[Role.FINANCE_MANAGER])
    response = client.get(reverse("dashboard-rebuild-progress", args=[YEAR]))
    assert response["Refresh"] == str(views_dashboard.PROGRESS_REFRESH_SECONDS)
    assert "Step 3 of 12 done (25%)." in plain(response)
    assert '<progress max="100" value="25"' in text(response)


def test_a_failed_rebuild_says_so(client, personas, db):
    record_progress(YEAR, state="failed", error="OperationalError")
    client.force_login(personas[Role.FINANCE_MANAGER])
    response = client.get(reverse("dashboard-rebuild-progress", args=[YEAR]))
    assert "The rebuild failed" in plain(response) and "Refresh" not in response


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.TEAM_MANAGER, Role.COMMISSIONING_OFFICER,
                                  Role.SOCIAL_WORKER])
def test_others_may_not_rebuild(client, personas, role, db):
    FinancialYearFactory(start_year=YEAR)
    client.force_login(personas[role])
    assert client.post(reverse("dashboard-rebuild"), {"year": YEAR}).status_code == 403
    assert client.get(reverse("dashboard-rebuild-progress", args=[YEAR])).status_code == 403
    assert rollups.rebuild_progress(YEAR)["state"] == "idle"


def test_a_rebuild_needs_a_year_with_budgets_and_a_post(client, personas, db):
    client.force_login(personas[Role.FINANCE_MANAGER])
    assert client.post(reverse("dashboard-rebuild"), {"year": YEAR}).status_code == 400
    assert client.post(reverse("dashboard-rebuild"), {"year": "x"}).status_code == 400
    assert client.get(reverse("dashboard-rebuild")).status_code == 405
