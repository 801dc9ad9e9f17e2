"""The dashboard's downloads: formula-like cells escaped in CSV and XLSX (the pure functions
of placements.exports), the three exports' rows, and who may download which."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.roles import Role
from placements import exports, views_dashboard
from placements.models import BudgetLine, WeeklyCostLedgerRow
from providers.reference import ProviderKind
from tests.factories import FinancialYearFactory
from tests.placements.dashboard_world import (
    TODAY,
    YEAR,
    build_budgets,
    build_placements,
    snapshot,
)

DANGEROUS = ["=1+2", "+44 113 000", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)", "\tTabbed",
             "\rReturned", '=HYPERLINK("http://example.com/x","Click")']
WHAT = ["weekly-ledger", "budget-positions", "placements"]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(views_dashboard, "today", lambda: TODAY)


# --- Escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_gets_a_leading_apostrophe(value):
    assert exports.escape_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["Oak House", "", "A=B", "3 + 4", None, Decimal("-12.50"), 7,
                                   datetime.date(2026, 4, 1)])
def test_other_values_are_left_alone(value):
    assert exports.escape_formula(value) == value


def sample_export() -> exports.Export:
    rows = [{"name": value, "amount": Decimal("-12.50"), "day": datetime.date(2026, 4, 6),
             "framework": True} for value in DANGEROUS]
    rows.append({"name": "Oak\x07 House", "amount": None, "day": None, "framework": False})
    columns = tuple(exports.Column(heading, lambda row, key=key: row[key]) for heading, key in [
        ("=Name", "name"), ("Amount (£)", "amount"), ("Day", "day"), ("Framework", "framework")])
    return exports.Export("sample", "Sample", columns, rows)


def read_csv(lines) -> list[list[str]]:
    content = "".join(lines)
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_csv_escapes_formula_like_text_but_not_numbers():
    rows = read_csv(exports.to_csv(sample_export()))
    assert rows[0] == ["'=Name", "Amount (£)", "Day", "Framework"]
    assert [row[0] for row in rows[1:-1]] == ["'" + value for value in DANGEROUS]
    assert rows[1][1:] == ["-12.50", "2026-04-06", "Yes"]
    assert rows[-1] == ["Oak\x07 House", "", "", "No"]


def read_xlsx(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def test_xlsx_stores_formula_like_text_as_text():
    sheet = read_xlsx(exports.to_xlsx(sample_export()))
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert sheet["A1"].value == "'=Name"
    # (XML reads a carriage return back as a line feed.)
    assert [sheet.cell(row=r, column=1).value for r in range(2, 2 + len(DANGEROUS))] == [
        "'" + value.replace("\r", "\n") for value in DANGEROUS]
    assert sheet["A2"].data_type == "s"
    # Numbers and dates stay numbers and dates; booleans become words.
    assert sheet["B2"].value == Decimal("-12.50") and sheet["B2"].data_type == "n"
    assert sheet["B2"].number_format == exports.MONEY_FORMAT
    assert sheet["C2"].value == datetime.datetime(2026, 4, 6)
    assert sheet["D2"].value == "Yes"
    # A control character the XML cannot hold is dropped.
    last = len(DANGEROUS) + 2
    assert sheet.cell(row=last, column=1).value == "Oak House"
    assert sheet.cell(row=last, column=2).value is None


# --- Downloads over HTTP -----------------------------------------------------------------------


def download(client, user, what, file_format="csv", **query):
    client.force_login(user)
    return client.get(reverse("dashboard-export", args=[what, file_format]), query)


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"] == exports.CSV_CONTENT_TYPE
    return read_csv(line.decode() for line in response.streaming_content)


MAY_EXPORT = {
    Role.FINANCE_MANAGER: set(WHAT), Role.DIRECTOR: set(WHAT), Role.ADMINISTRATOR: set(WHAT),
    Role.TEAM_MANAGER: {"placements"},
}


@pytest.mark.parametrize("what", WHAT)
@pytest.mark.parametrize("role", list(Role))
def test_who_may_download(client, personas, role, what):
    FinancialYearFactory(start_year=YEAR)
    response = download(client, personas[role], what)
    assert response.status_code == (200 if what in MAY_EXPORT.get(role, set()) else 403)


@pytest.mark.parametrize("what", WHAT)
def test_anonymous_people_are_sent_to_sign_in(client, db, what):
    response = client.get(reverse("dashboard-export", args=[what, "xlsx"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("what, file_format", [("children", "csv"), ("placements", "pdf")])
def test_unknown_exports_are_not_found(client, personas, what, file_format):
    assert download(client, personas[Role.FINANCE_MANAGER], what, file_format).status_code == 404


def test_an_unknown_year_is_a_bad_request(client, personas):
    response = download(client, personas[Role.FINANCE_MANAGER], "placements", year=1999)
    assert response.status_code == 400


@pytest.fixture
def placed(north, south):
    world = build_placements(north=north, south=south)
    build_budgets(snapshots=False)
    return world


def test_placement_list_csv(client, personas, placed):
    response = download(client, personas[Role.FINANCE_MANAGER], "placements", year=YEAR)
    assert response["Content-Disposition"] == 'attachment; filename="placements-2026-27.csv"'
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Placement", "Local child ID", "Team", "Placement type"]
    assert header[-2:] == ["Gross weekly cost on 15 Jun 2026 (£)",
                           "Net weekly cost on 15 Jun 2026 (£)"]
    p = placed.placements
    # Those with a night in 2026/27, by start date: C1 and C0 ended before it.
    assert [int(row[0]) for row in body] == [p[k].pk for k in ("A", "E", "B", "C", "D")]
    by_id = {int(row[0]): dict(zip(header, row)) for row in body}
    b = by_id[p["B"].pk]
    assert (b["Team"], b["Provider code"], b["On a framework"]) == ("North", "PR4", "Yes")
    assert b["Budget line"] == "Independent fostering agencies"
    assert (b["Gross weekly cost on 15 Jun 2026 (£)"], b["Net weekly cost on 15 Jun 2026 (£)"]) \
        == ("850.00", "750.00")
    e = by_id[p["E"].pk]
    assert (e["End date"], e["Reason for change"], e["Net weekly cost on 15 Jun 2026 (£)"]) == (
        "2026-05-01", "E11", "")


def test_a_team_managers_placement_list_is_their_teams(client, personas, placed, south):
    response = download(client, personas[Role.TEAM_MANAGER], "placements", "xlsx", team=south.pk)
    assert response["Content-Disposition"] == \
        'attachment; filename="placements-2026-27-north.xlsx"'
    sheet = read_xlsx(response.content)
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"North"}
    assert sheet.max_row == 1 + 4  # A, B, C, E


def test_finance_chooses_the_team(client, personas, placed, south):
    rows = csv_rows(download(client, personas[Role.FINANCE_MANAGER], "placements", team=south.pk))
    assert [int(row[0]) for row in rows[1:]] == [placed.placements["D"].pk]


def test_placement_list_xlsx_escapes_a_providers_name(client, personas, placed):
    provider = placed.placements["B"].service.provider
    provider.name = '=HYPERLINK("http://example.com","Invoice")'
    provider.save()
    response = download(client, personas[Role.DIRECTOR], "placements", "xlsx")
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    sheet = read_xlsx(response.content)
    names = [row[5].value for row in sheet.iter_rows(min_row=2)]
    assert "'" + provider.name in names
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_weekly_ledger_export(client, personas, placed):
    line = BudgetLine.objects.get(name="Independent fostering agencies")
    for week, net in [(datetime.date(2026, 4, 13), "750.00"), (datetime.date(2026, 4, 6), "700")]:
        WeeklyCostLedgerRow.objects.create(
            week_start=week, financial_year=line.financial_year, budget_line=line,
            provider_kind=ProviderKind.IFA, on_framework=True, active_placements=1, child_days=7,
            gross_cost=Decimal("850"), contributions=Decimal(850) - Decimal(net),
            net_cost=Decimal(net))
    response = download(client, personas[Role.ADMINISTRATOR], "weekly-ledger")
    assert response["Content-Disposition"] == \
        'attachment; filename="weekly-cost-ledger-2026-27.csv"'
    rows = csv_rows(response)
    assert rows[0] == ["Week starting", "Budget line", "Provider kind", "On a framework",
                       "Active placements", "Child-days", "Gross cost (£)", "Contributions (£)",
                       "Net cost (£)"]
    assert rows[1:] == [
        ["2026-04-06", line.name, "Independent fostering agency", "Yes", "1", "7", "850.00",
         "150.00", "700.00"],
        ["2026-04-13", line.name, "Independent fostering agency", "Yes", "1", "7", "850.00",
         "100.00", "750.00"],
    ]


def test_budget_positions_export_has_every_week_of_the_year(client, personas, db):
    lines = build_budgets()
    other_year = build_budgets(year=2025, snapshots=False)
    snapshot(other_year["In-house fostering"], datetime.date(2025, 6, 2), "1", "1")
    sheet = read_xlsx(download(client, personas[Role.FINANCE_MANAGER], "budget-positions",
                               "xlsx").content)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Week starting", "Budget line", "Budget (£)", "Actual to date (£)",
                       "Committed to year end (£)", "Projected outturn (£)",
                       "Variance, overspend positive (£)")
    assert [(row[0].date(), row[1]) for row in rows[1:]] == [
        (week, name) for week in (datetime.date(2026, 6, 1), datetime.date(2026, 6, 8))
        for name in sorted(lines)]
    assert rows[-3][2:] == (150000, 40000, 140000, 180000, 30000)
