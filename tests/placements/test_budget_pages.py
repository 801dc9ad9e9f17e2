"""The budget pages through HTTP: finance managers read and write, administrators read,
everyone else is refused; lines are created with their rules grid, rules changed (a pair
of another line refused, naming it), amounts adjusted with a reason and the history shown;
years opened and copied; the mapping page lists exactly the placements in no line; and
the query counts do not grow with the rows."""

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
from placements import rollups
from placements.models import BudgetAdjustment, BudgetLine, FinancialYear
from placements.services import budgets as services
from providers.reference import financial_year_start
from tests.budgets import (
    IFA_RULES,
    YEAR,
    YEAR_END,
    YEAR_START,
    demo_like_lines,
    line_with_rules,
    year_of,
)
from tests.factories import PlacementFactory

FINANCE, ADMIN = Role.FINANCE_MANAGER, Role.ADMINISTRATOR


def plain(response) -> str:
    """The page's words without markup, spaces collapsed."""
    page = html_lib.unescape(response.content.decode())
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def error_summary(response) -> list[str]:
    page = html_lib.unescape(response.content.decode())
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL)
    assert summary, "no error summary on the page"
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split())
            for item in re.findall(r"<li>(.*?)</li>", summary.group(1), re.DOTALL)]


@pytest.fixture(autouse=True)
def refreshes(monkeypatch):
    calls = []
    monkeypatch.setattr(rollups, "enqueue_refresh",
                        lambda *, first_day, last_day: calls.append((first_day, last_day)))
    return calls


@pytest.fixture
def year(db):
    return year_of(YEAR)


@pytest.fixture
def lines(year):
    return demo_like_lines(year)


@pytest.fixture
def as_finance(client, personas):
    client.force_login(personas[FINANCE])
    return client


def url(name, *args):
    return reverse(name, args=args)


# --- Who may ---------------------------------------------------------------------------


READ_PAGES = ["budget-list", "budget-mapping", "budget-line-detail"]
WRITE_PAGES = ["budget-year-open", "budget-year-copy", "budget-line-create", "budget-line-rules",
               "budget-line-adjust"]


def page_url(name, year, line):
    if name in ("budget-list", "budget-year-open"):
        return url(name)
    if name in ("budget-mapping", "budget-year-copy", "budget-line-create"):
        return url(name, year.start_year)
    return url(name, line.pk)


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES)
@pytest.mark.parametrize("role", list(Role))
def test_finance_managers_use_every_page_administrators_read_others_are_refused(
    client, personas, lines, year, role, name
):
    client.force_login(personas[role])
    response = client.get(page_url(name, year, lines["In-house fostering"]))
    allowed = role == FINANCE or (role == ADMIN and name in READ_PAGES)
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("name", WRITE_PAGES)
def test_an_administrator_cannot_post_a_change(client, personas, lines, year, name):
    client.force_login(personas[ADMIN])
    line = lines["In-house fostering"]
    response = client.post(page_url(name, year, line), {
        "start_year": 2030, "to_year": 2030, "uplift_percentage": "0", "name": "New",
        "amount": "1", "rules": ["K3:PR4"], "new_amount": "5", "reason": "Because",
    })
    assert response.status_code == 403
    assert not BudgetAdjustment.objects.exists()
    assert BudgetLine.objects.count() == len(lines)
    assert not FinancialYear.objects.filter(start_year=2030).exists()


def test_a_superuser_without_the_role_is_refused(client, admin_user, lines, year):
    client.force_login(admin_user)
    assert client.get(url("budget-list")).status_code == 403


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, lines, year, name):
    response = client.get(page_url(name, year, lines["In-house fostering"]))
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", ["budget-mapping", "budget-year-copy", "budget-line-create"])
def test_a_year_not_open_is_not_found(as_finance, year, name):
    assert as_finance.get(url(name, 2040)).status_code == 404
    assert as_finance.get(f"/budgets/{10 ** 20}/mapping/").status_code == 404


def test_a_line_that_does_not_exist_is_not_found(as_finance, year):
    for name in ("budget-line-detail", "budget-line-rules", "budget-line-adjust"):
        assert as_finance.get(url(name, 987654)).status_code == 404


def test_the_navigation_offers_budgets_to_finance_and_administrators(client, personas):
    for role in Role:
        client.force_login(personas[role])
        items = {item["text"] for item in client.get(reverse("home")).context["navigation_items"]}
        assert ("Budgets" in items) == (role in (FINANCE, ADMIN)), role


# --- The list of lines --------------------------------------------------------------------


def test_the_list_shows_the_years_lines_amounts_and_total(as_finance, personas, lines, year):
    services.budget_line_adjust(by=personas[FINANCE], line=lines["In-house residential"],
                                new_amount="450000", reason="Virement")
    line_with_rules(year_of(YEAR + 1), "Next year's line", [], amount="1.00")

    page = plain(as_finance.get(url("budget-list"), {"year": YEAR}))

    assert ("Independent fostering agencies U4–U6 with private or voluntary provision "
            "(PR4, PR5) £3,030,748.00") in page
    assert "In-house residential K2 with own provision (PR1) £450,000.00 1" in page
    assert "Total £7,138,121.00" in page  # 3,030,748 + 2,457,373 + 1,200,000 + 450,000
    assert "Next year's line" not in page
    assert "2027/28 1 £1.00" in page  # the years table


def test_the_list_defaults_to_this_financial_year(as_finance, db):
    this_year = financial_year_start(timezone.localdate())
    line_with_rules(year_of(this_year), "This year's line", [])
    line_with_rules(year_of(this_year + 1), "Next year's line", [])
    page = plain(as_finance.get(url("budget-list")))
    assert "This year's line" in page and "Next year's line" not in page


def test_a_year_filter_that_is_not_a_year_shows_an_error(as_finance, lines):
    response = as_finance.get(url("budget-list"), {"year": "abc"})
    assert error_summary(response) == ["Select a financial year from the list"]


def test_the_list_offers_changes_to_finance_only(client, personas, lines, year):
    client.force_login(personas[ADMIN])
    admin_page = client.get(url("budget-list")).content.decode()
    client.force_login(personas[FINANCE])
    finance_page = client.get(url("budget-list")).content.decode()
    create = url("budget-line-create", YEAR)
    assert create in finance_page and create not in admin_page
    assert url("budget-year-copy", YEAR) in finance_page


def test_no_copy_is_offered_once_the_next_year_has_lines(as_finance, lines, year):
    line_with_rules(year_of(YEAR + 1), "Next", [])
    page = as_finance.get(url("budget-list"), {"year": YEAR}).content.decode()
    assert url("budget-year-copy", YEAR) not in page


# --- Creating a line and changing its rules -----------------------------------------------


def test_a_line_is_created_from_the_grid(as_finance, lines, year, refreshes):
    form_page = as_finance.get(url("budget-line-create", YEAR))
    assert 'value="K3:PR4"' in form_page.content.decode()
    # A pair another line has shows that line's name, not a box.
    assert 'value="U4:PR4"' not in form_page.content.decode()
    assert "Independent fostering agencies" in plain(form_page)

    response = as_finance.post(url("budget-line-create", YEAR), {
        "name": "Supported accommodation", "amount": "£150,000.50",
        "rules": ["K3:PR4", "K3:PR5", "T0:"],
    })

    line = BudgetLine.objects.get(name="Supported accommodation")
    assert response["Location"] == url("budget-line-detail", line.pk)
    assert line.amount == Decimal("150000.50")
    assert set(line.rules.values_list("placement_type", "place_provider")) == {
        ("K3", "PR4"), ("K3", "PR5"), ("T0", "")}
    assert refreshes == [(YEAR_START, YEAR_END)]


def test_a_pair_of_another_line_is_refused_naming_it(as_finance, lines, year):
    response = as_finance.post(url("budget-line-create", YEAR), {
        "name": "Private fostering", "amount": "1", "rules": ["U1:PR4", "U6:PR5"],
    })
    assert response.status_code == 200
    [message] = error_summary(response)
    assert "U6 with PR5 already belongs to the line 'Independent fostering agencies'" in message
    assert 'href="#id_rules_0"' in response.content.decode()
    assert not BudgetLine.objects.filter(name="Private fostering").exists()


def test_a_line_without_a_name_or_amount_shows_the_errors(as_finance, year):
    response = as_finance.post(url("budget-line-create", YEAR),
                               {"name": "", "amount": "-5", "rules": ["U99:PR4"]})
    assert error_summary(response) == [
        "Enter the name of the budget line",
        "The amount cannot be negative",
        "Select a valid choice. U99:PR4 is not one of the available choices.",
    ]
    assert not BudgetLine.objects.exists()


def test_a_lines_rules_are_changed_on_its_grid(as_finance, lines, refreshes):
    line = lines["External residential"]
    form = as_finance.get(url("budget-line-rules", line.pk)).content.decode()
    assert re.search(r'value="K2:PR4"[^>]*checked', form)  # its own rules are ticked

    response = as_finance.post(url("budget-line-rules", line.pk), {"rules": ["K2:PR4", "S1:PR4"]})

    assert response["Location"] == url("budget-line-detail", line.pk)
    assert set(line.rules.values_list("placement_type", "place_provider")) == {
        ("K2", "PR4"), ("S1", "PR4")}
    assert len(refreshes) == 1


def test_rules_taken_by_another_line_are_refused_on_the_grid(as_finance, lines):
    line = lines["External residential"]
    response = as_finance.post(url("budget-line-rules", line.pk), {"rules": ["K2:PR1"]})
    [message] = error_summary(response)
    assert "K2 with PR1 already belongs to the line 'In-house residential' in 2026/27" in message
    assert line.rules.count() == 2


# --- Adjusting an amount -------------------------------------------------------------------


def test_an_adjustment_with_a_reason_shows_in_the_lines_history(as_finance, lines):
    line = lines["Independent fostering agencies"]
    response = as_finance.post(url("budget-line-adjust", line.pk), {
        "new_amount": "3,130,748", "reason": "Virement agreed by the Director",
        "expected_amount": "3030748.00",
    })
    assert response["Location"] == url("budget-line-detail", line.pk)

    page = plain(as_finance.get(url("budget-line-detail", line.pk)))
    assert "Budget for the year £3,130,748.00" in page
    assert "£3,030,748.00 £3,130,748.00 Virement agreed by the Director" in page


def test_an_adjustment_without_a_reason_is_refused(as_finance, lines):
    line = lines["Independent fostering agencies"]
    response = as_finance.post(url("budget-line-adjust", line.pk),
                               {"new_amount": "1", "reason": " ", "expected_amount": "3030748.00"})
    assert error_summary(response) == ["Enter the reason for the adjustment"]
    assert not BudgetAdjustment.objects.exists()


def test_an_adjustment_on_a_stale_page_is_refused(as_finance, personas, lines):
    line = lines["Independent fostering agencies"]
    services.budget_line_adjust(by=personas[FINANCE], line=line, new_amount="1", reason="First")
    response = as_finance.post(url("budget-line-adjust", line.pk), {
        "new_amount": "2", "reason": "Second", "expected_amount": "3030748.00",
    })
    [message] = error_summary(response)
    assert message.startswith("Someone else changed this budget to £1.00")
    assert "The budget is now £1.00" in plain(response)
    assert BudgetAdjustment.objects.count() == 1


# --- Years -----------------------------------------------------------------------------------


def test_a_year_is_opened(as_finance, db):
    response = as_finance.post(url("budget-year-open"), {"start_year": "2027"})
    assert response["Location"] == url("budget-list") + "?year=2027"
    assert FinancialYear.objects.filter(start_year=2027).exists()
    again = as_finance.post(url("budget-year-open"), {"start_year": "2027"})
    assert error_summary(again) == ["The financial year 2027/28 is already open."]


def test_the_next_year_is_opened_by_copying(as_finance, lines, year, refreshes):
    response = as_finance.post(url("budget-year-copy", YEAR),
                               {"to_year": YEAR + 1, "uplift_percentage": "3.5"})
    assert response["Location"] == url("budget-list") + f"?year={YEAR + 1}"
    copied = BudgetLine.objects.get(financial_year__start_year=YEAR + 1,
                                    name="Independent fostering agencies")
    assert copied.amount == Decimal("3136824.18")  # 3,030,748 × 1.035
    assert copied.rules.count() == len(IFA_RULES)
    page = plain(as_finance.get(response["Location"]))
    assert "Independent fostering agencies U4–U6 with private or voluntary provision" in page


def test_a_copy_into_a_year_with_lines_shows_the_refusal(as_finance, lines, year):
    line_with_rules(year_of(YEAR + 1), "Already", [])
    response = as_finance.post(url("budget-year-copy", YEAR),
                               {"to_year": YEAR + 1, "uplift_percentage": "0"})
    assert error_summary(response) == [
        "2027/28 already has budget lines: adjust them instead of copying."]


# --- The mapping page --------------------------------------------------------------------------


def test_the_mapping_page_lists_exactly_the_placements_in_no_line(as_finance, lines, year):
    in_lines = [PlacementFactory(placement_type=t, place_provider=p)
                for t, p in [("U4", "PR4"), ("U5", "PR5"), ("U6", "PR4"), ("K2", "PR1")]]
    unmapped = [
        PlacementFactory(placement_type="U1", place_provider="PR4"),
        PlacementFactory(placement_type="U4", place_provider="PR2",
                         start_date=datetime.date(2026, 10, 1)),
        PlacementFactory(placement_type="K1", place_provider="PR5", start_date=YEAR_END),
    ]
    PlacementFactory(placement_type="U1", place_provider="PR4",
                     start_date=datetime.date(2025, 6, 1), end_date=YEAR_START,
                     reason_for_change="CARPL")  # its last night was in 2025/26

    response = as_finance.get(url("budget-mapping", YEAR))

    listed = set(map(int, re.findall(r">Placement (\d+)</a>", response.content.decode())))
    assert listed == {p.pk for p in unmapped}
    assert not listed & {p.pk for p in in_lines}
    page = plain(response)
    assert "3 placements active in 2026/27 are in no budget line" in page
    assert "Independent fostering agencies U4–U6 with private or voluntary provision (PR4, PR5) Change the placements in Independent fostering agencies 3" in page


def test_the_mapping_page_says_when_every_placement_is_in_a_line(as_finance, lines, year):
    PlacementFactory(placement_type="U4", place_provider="PR4")
    page = plain(as_finance.get(url("budget-mapping", YEAR)))
    assert "Every placement active in 2026/27 falls in a budget line." in page


# --- Query counts ------------------------------------------------------------------------------


def queries_for(client, target, params=None) -> int:
    client.get(target, params)  # warm caches (content types, templates)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target, params)
    assert response.status_code == 200
    return len(queries)


def _lines_with_history(year, count, finance):
    made = []
    for n in range(count):
        line = line_with_rules(year, f"Line {n}", [(f"U{n + 1}", "PR4"), (f"U{n + 1}", "PR5")])
        services.budget_line_adjust(by=finance, line=line, new_amount=n + 5, reason="Set")
        made.append(line)
    return made


def test_the_list_page_uses_the_same_queries_for_1_or_5_lines(as_finance, personas):
    _lines_with_history(year_of(2030), 1, personas[FINANCE])
    _lines_with_history(year_of(2031), 5, personas[FINANCE])
    one = queries_for(as_finance, url("budget-list"), {"year": 2030})
    five = queries_for(as_finance, url("budget-list"), {"year": 2031})
    assert one == five


def test_the_line_page_uses_the_same_queries_for_1_or_5_adjustments(as_finance, personas, year):
    finance = personas[FINANCE]
    once = line_with_rules(year, "Once", [("K2", "PR4")])
    often = line_with_rules(year, "Often", [(t, "PR5") for t in ("U1", "U2", "U3", "U4", "K1")])
    services.budget_line_adjust(by=finance, line=once, new_amount="1", reason="Set")
    for n in range(5):
        services.budget_line_adjust(by=finance, line=often, new_amount=n + 1, reason="Set")
    assert queries_for(as_finance, url("budget-line-detail", once.pk)) == queries_for(
        as_finance, url("budget-line-detail", often.pk))


def test_the_mapping_page_uses_the_same_queries_for_1_or_5_rows(as_finance, personas):
    small, large = year_of(2030), year_of(2031)
    line_with_rules(small, "Only", [("U4", "PR4")])
    for n in range(5):
        line_with_rules(large, f"Line {n}", [(f"U{n + 1}", "PR4")])
    PlacementFactory(placement_type="K1", place_provider="PR4", start_date=datetime.date(2030, 5, 1),
                     end_date=datetime.date(2030, 6, 1), reason_for_change="CARPL")
    for n in range(5):
        PlacementFactory(placement_type="K1", place_provider="PR4",
                         start_date=datetime.date(2031, 5, 1) + datetime.timedelta(days=n * 10),
                         end_date=datetime.date(2031, 5, 8) + datetime.timedelta(days=n * 10),
                         reason_for_change="CARPL")
    assert queries_for(as_finance, url("budget-mapping", 2030)) == queries_for(
        as_finance, url("budget-mapping", 2031))
