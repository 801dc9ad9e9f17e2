"""/api/v1/budget-lines/, /api/v1/weekly-costs/ and /api/v1/budget-positions/ through
HTTP: who may read and write, creating a line with its rules, adjusting it (logged),
replacing its rules (a pair of another line refused, naming it), the filters and their
refusals (400, never 500), 404 and 409, and lists read in a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from placements import rollups
from placements.models import BudgetAdjustment, BudgetLine
from placements.services import budgets as services
from providers.reference import ProviderKind
from tests.budgets import (
    IFA_RULES,
    YEAR,
    demo_like_lines,
    ledger_row,
    line_with_rules,
    mondays,
    position,
    year_of,
)

FINANCE, ADMIN = Role.FINANCE_MANAGER, Role.ADMINISTRATOR
LINES = "/api/v1/budget-lines/"
COSTS = "/api/v1/weekly-costs/"
POSITIONS = "/api/v1/budget-positions/"
APRIL_6 = datetime.date(2026, 4, 6)  # the first Monday of 2026/27


@pytest.fixture(autouse=True)
def refreshes(monkeypatch):
    calls = []
    monkeypatch.setattr(rollups, "enqueue_refresh",
                        lambda *, first_day, last_day: calls.append((first_day, last_day)))
    return calls


@pytest.fixture
def lines(db):
    return demo_like_lines(year_of(YEAR))


@pytest.fixture
def finance(as_user, personas):
    return as_user(personas[FINANCE])


@pytest.fixture
def rollup_rows(lines):
    """Two weeks of ledger rows and positions for two lines, and one row in the year
    before."""
    ifa, residential = lines["Independent fostering agencies"], lines["External residential"]
    rows = {}
    for monday in mondays(APRIL_6, 2):
        rows[("ifa", monday, True)] = ledger_row(ifa, monday, on_framework=True)
        rows[("ifa", monday, False)] = ledger_row(ifa, monday, on_framework=False, net="1100.00")
        rows[("residential", monday, True)] = ledger_row(
            residential, monday, provider_kind=ProviderKind.CHILDRENS_HOME, net="3303.00")
        position(ifa, monday)
        position(residential, monday)
    last_year = line_with_rules(year_of(YEAR - 1), "IFA 2025/26", IFA_RULES)
    ledger_row(last_year, datetime.date(2026, 3, 23))
    position(last_year, datetime.date(2026, 3, 23))
    return rows


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_budget_lines_are_read_by_finance_and_administrators_only(as_user, personas, lines,
                                                                  role):
    client = as_user(personas[role])
    line = lines["In-house fostering"]
    expected = 200 if role in (FINANCE, ADMIN) else 403
    assert client.get(LINES).status_code == expected
    assert client.get(f"{LINES}{line.pk}/").status_code == expected


ROLLUP_READERS = (FINANCE, ADMIN, Role.DIRECTOR, Role.COMMISSIONING_OFFICER)


@pytest.mark.parametrize("role", list(Role))
def test_the_ledger_and_positions_are_read_by_the_authority_wide_dashboard_readers(
    as_user, personas, rollup_rows, role
):
    client = as_user(personas[role])
    row = next(iter(rollup_rows.values()))
    expected = 200 if role in ROLLUP_READERS else 403
    assert client.get(COSTS).status_code == expected
    assert client.get(f"{COSTS}{row.pk}/").status_code == expected
    assert client.get(POSITIONS).status_code == expected


@pytest.mark.parametrize("path", [LINES, COSTS, POSITIONS])
def test_anonymous_callers_are_refused(anonymous, path):
    assert anonymous.get(path).status_code in (401, 403)


@pytest.mark.parametrize("role", [r for r in Role if r != FINANCE])
def test_only_finance_managers_create_adjust_or_change_rules(as_user, personas, lines, role):
    client = as_user(personas[role])
    line = lines["In-house fostering"]
    assert client.post(LINES, {"financial_year": YEAR, "name": "New", "amount": "1",
                               "rules": []}, format="json").status_code == 403
    assert client.post(f"{LINES}{line.pk}/adjust/", {"new_amount": "1", "reason": "Cut"},
                       format="json").status_code == 403
    assert client.post(f"{LINES}{line.pk}/rules/", {"rules": []},
                       format="json").status_code == 403
    assert BudgetLine.objects.count() == len(lines)
    assert not BudgetAdjustment.objects.exists()
    assert line.rules.count() == 6


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_lines_are_not_replaced_or_deleted(finance, lines, method):
    line = lines["In-house fostering"]
    response = getattr(finance, method)(f"{LINES}{line.pk}/", {"amount": "1"}, format="json")
    assert response.status_code == 405


@pytest.mark.parametrize("path", [COSTS, POSITIONS])
def test_the_rollup_tables_are_read_only(finance, path):
    assert finance.post(path, {}, format="json").status_code == 405


# --- Budget lines ----------------------------------------------------------------------------


def test_a_line_reads_with_its_rules_summary_and_adjustments(finance, personas, lines):
    line = lines["Independent fostering agencies"]
    services.budget_line_adjust(by=personas[FINANCE], line=line, new_amount="3100000",
                                reason="Virement")

    body = finance.get(f"{LINES}{line.pk}/").json()

    assert body["financial_year"] == YEAR and body["financial_year_label"] == "2026/27"
    assert body["amount"] == "3100000.00"
    assert {(r["placement_type"], r["place_provider"]) for r in body["rules"]} == set(IFA_RULES)
    assert body["rules_summary"] == ["U4–U6 with private or voluntary provision (PR4, PR5)"]
    [adjustment] = body["adjustments"]
    assert (adjustment["previous_amount"], adjustment["new_amount"], adjustment["reason"]) == (
        "3030748.00", "3100000.00", "Virement")


def test_lines_filter_by_year(finance, lines):
    other = line_with_rules(year_of(YEAR + 1), "Next year", [])
    assert ids(finance.get(LINES, {"year": YEAR})) == {line.pk for line in lines.values()}
    assert ids(finance.get(LINES, {"year": YEAR + 1})) == {other.pk}
    assert ids(finance.get(LINES, {"year": 2040})) == set()


@pytest.mark.parametrize("year", ["abc", "1e30", "99999999999999999999", "1999", "2.5"])
def test_a_year_filter_that_is_not_a_year_is_400(finance, lines, year):
    response = finance.get(LINES, {"year": year})
    assert response.status_code == 400
    assert "year" in response.json()


def test_a_finance_manager_creates_a_line_with_rules(finance, lines, refreshes):
    response = finance.post(LINES, {
        "financial_year": YEAR, "name": "Supported accommodation", "amount": "150000.50",
        "rules": [{"placement_type": "K3", "place_provider": "PR4"},
                  {"placement_type": "T0", "place_provider": ""},
                  {"placement_type": "T1"}],
    }, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    line = BudgetLine.objects.get(pk=body["id"])
    assert line.amount == Decimal("150000.50")
    assert set(line.rules.values_list("placement_type", "place_provider")) == {
        ("K3", "PR4"), ("T0", ""), ("T1", "")}
    assert body["rules_summary"] == ["K3 with private provision (PR4)",
                                     "T0, T1 with no provider code"]
    assert len(refreshes) == 1


def test_a_pair_of_another_line_is_400_naming_it(finance, lines):
    response = finance.post(LINES, {
        "financial_year": YEAR, "name": "Private fostering", "amount": "1",
        "rules": [{"placement_type": "U5", "place_provider": "PR5"}],
    }, format="json")
    assert response.status_code == 400
    [message] = response.json()["rules"]
    assert "'Independent fostering agencies'" in message
    assert not BudgetLine.objects.filter(name="Private fostering").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"financial_year": 2040}, "financial_year"),
        ({"financial_year": "abc"}, "financial_year"),
        ({"financial_year": 10 ** 20}, "financial_year"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"name": ""}, "name"),
        ({"name": "In-house fostering"}, "name"),
        ({"rules": [{"placement_type": "U9", "place_provider": "PR4"}]}, "rules"),
        ({"rules": [{"placement_type": "U4", "place_provider": "PR9"}]}, "rules"),
        ({"rules": "U4"}, "rules"),
    ],
)
def test_a_line_with_bad_data_is_400(finance, lines, changes, field):
    body = {"financial_year": YEAR, "name": "New", "amount": "1", "rules": [], **changes}
    response = finance.post(LINES, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert BudgetLine.objects.count() == len(lines)


def test_an_adjustment_is_logged(finance, personas, lines):
    line = lines["External residential"]
    response = finance.post(f"{LINES}{line.pk}/adjust/", {
        "new_amount": "2500000", "reason": "Two more placements agreed",
        "expected_amount": "2457373.00",
    }, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "2500000.00"
    logged = BudgetAdjustment.objects.get(budget_line=line)
    assert (logged.previous_amount, logged.new_amount, logged.by) == (
        Decimal("2457373.00"), Decimal("2500000.00"), personas[FINANCE])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_amount": "1", "reason": "  "}, "reason"),
        ({"new_amount": "1"}, "reason"),
        ({"new_amount": "-1", "reason": "Cut"}, "new_amount"),
        ({"new_amount": "2457373", "reason": "Same"}, "new_amount"),
        ({"new_amount": "NaN", "reason": "Cut"}, "new_amount"),
    ],
)
def test_a_bad_adjustment_is_400(finance, lines, body, field):
    line = lines["External residential"]
    response = finance.post(f"{LINES}{line.pk}/adjust/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not BudgetAdjustment.objects.exists()


def test_an_adjustment_on_a_stale_amount_is_409(finance, personas, lines):
    line = lines["External residential"]
    services.budget_line_adjust(by=personas[FINANCE], line=line, new_amount="1", reason="First")
    response = finance.post(f"{LINES}{line.pk}/adjust/", {
        "new_amount": "2", "reason": "Second", "expected_amount": "2457373.00",
    }, format="json")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Someone else changed this budget to £1.00")
    assert BudgetAdjustment.objects.count() == 1


@pytest.mark.parametrize("action", ["adjust", "rules"])
def test_a_line_that_does_not_exist_is_404(finance, lines, action):
    assert finance.get(f"{LINES}987654/").status_code == 404
    assert finance.post(f"{LINES}987654/{action}/", {}, format="json").status_code == 404


def test_rules_are_replaced_and_a_clash_names_the_other_line(finance, lines, refreshes):
    line = lines["External residential"]
    ok = finance.post(f"{LINES}{line.pk}/rules/", {"rules": [
        {"placement_type": "K2", "place_provider": "PR4"},
        {"placement_type": "S1", "place_provider": "PR4"},
    ]}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["rules_summary"] == ["K2, S1 with private provision (PR4)"]
    assert len(refreshes) == 1

    clash = finance.post(f"{LINES}{line.pk}/rules/", {"rules": [
        {"placement_type": "K2", "place_provider": "PR1"}]}, format="json")
    assert clash.status_code == 400
    assert "'In-house residential'" in clash.json()["rules"][0]
    assert line.rules.count() == 2


# --- The ledger and the positions ------------------------------------------------------


def test_weekly_costs_filter_by_year_week_line_kind_and_framework(finance, lines, rollup_rows):
    ifa = lines["Independent fostering agencies"]
    this_year = {row.pk for row in rollup_rows.values()}
    second_week = APRIL_6 + datetime.timedelta(weeks=1)

    assert ids(finance.get(COSTS, {"year": YEAR})) == this_year
    assert ids(finance.get(COSTS, {"week_from": second_week, "week_to": second_week})) == {
        row.pk for (_, monday, _), row in rollup_rows.items() if monday == second_week}
    assert ids(finance.get(COSTS, {"year": YEAR, "budget_line": ifa.pk})) == {
        row.pk for (name, *_), row in rollup_rows.items() if name == "ifa"}
    assert ids(finance.get(COSTS, {"provider_kind": "childrens_home"})) == {
        row.pk for (name, *_), row in rollup_rows.items() if name == "residential"}
    assert ids(finance.get(COSTS, {"budget_line": ifa.pk, "on_framework": "false"})) == {
        row.pk for (name, _, framework), row in rollup_rows.items()
        if name == "ifa" and not framework}


def test_a_weekly_cost_row_reads_in_full(finance, rollup_rows):
    row = rollup_rows[("ifa", APRIL_6, False)]
    body = finance.get(f"{COSTS}{row.pk}/").json()
    assert body == {
        "id": row.pk, "week_start": "2026-04-06", "financial_year": YEAR,
        "budget_line": row.budget_line_id, "budget_line_name": "Independent fostering agencies",
        "provider_kind": "ifa", "on_framework": False, "active_placements": 1, "child_days": 7,
        "gross_cost": "1200.00", "contributions": "100.00", "net_cost": "1100.00",
    }


def test_budget_positions_filter_by_year_week_and_line(finance, lines, rollup_rows):
    residential = lines["External residential"]
    second_week = APRIL_6 + datetime.timedelta(weeks=1)

    response = finance.get(POSITIONS, {"year": YEAR, "budget_line": residential.pk,
                                       "week_from": second_week})

    [row] = response.json()["results"]
    assert (row["week_start"], row["budget_line_name"], row["financial_year"]) == (
        "2026-04-13", "External residential", YEAR)
    assert (row["budget"], row["projected_outturn"], row["variance"]) == (
        "2457373.00", "3000.00", "-2454373.00")
    assert len(ids(finance.get(POSITIONS, {"year": YEAR}))) == 4
    assert len(ids(finance.get(POSITIONS, {"year": YEAR - 1}))) == 1


@pytest.mark.parametrize("path", [COSTS, POSITIONS])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "abc"}, "year"),
        ({"year": "1e30"}, "year"),
        ({"week_from": "last week"}, "week_from"),
        ({"week_to": "2026-02-30"}, "week_to"),
        ({"week_from": "2026-05-04", "week_to": "2026-04-06"}, "week_to"),
        ({"budget_line": "987654"}, "budget_line"),
        ({"budget_line": "99999999999999999999"}, "budget_line"),
        ({"budget_line": "one"}, "budget_line"),
    ],
)
def test_a_bad_filter_is_400_never_500(finance, rollup_rows, path, params, field):
    response = finance.get(path, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("params", [{"provider_kind": "shop"}, {"on_framework": "perhaps"}])
def test_a_bad_ledger_filter_is_400(finance, rollup_rows, params):
    response = finance.get(COSTS, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


@pytest.mark.parametrize("path", [COSTS, POSITIONS])
def test_a_row_that_does_not_exist_is_404(finance, path):
    assert finance.get(f"{path}987654/").status_code == 404


# --- Query counts ----------------------------------------------------------------------------


def count_queries(client, path, params) -> int:
    client.get(path, params)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(queries)


def _year_with(start_year, n, finance_user):
    year = year_of(start_year)
    for k in range(n):
        line = line_with_rules(year, f"Line {k}", [(f"U{k + 1}", "PR4"), (f"U{k + 1}", "PR5")])
        services.budget_line_adjust(by=finance_user, line=line, new_amount=k + 7, reason="Set")
        monday = datetime.date(start_year, 4, 6) if start_year == 2026 else datetime.date(
            start_year, 4, 1)
        ledger_row(line, monday)
        position(line, monday)


@pytest.mark.parametrize("path", [LINES, COSTS, POSITIONS])
def test_lists_use_the_same_queries_for_1_or_5_rows(finance, personas, path):
    _year_with(2030, 1, personas[FINANCE])
    _year_with(2031, 5, personas[FINANCE])
    assert count_queries(finance, path, {"year": 2030}) == count_queries(
        finance, path, {"year": 2031})
