"""placements.services.budgets and the budget selectors: only finance managers change
budgets; a placement type and provider code belongs to one line a year (the refusal names
the line); adjustments are logged; a year copies with its rules; the rollups are asked to
refresh; and the mapping lists exactly the placements no rule covers."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from core.errors import ActionNotPermitted, Conflict, InvalidInput
from core.roles import Role
from placements import rollups, selectors_budgets
from placements.models import BudgetAdjustment, BudgetLine, BudgetLineRule, FinancialYear
from placements.services import budgets as services
from tests.budgets import (
    IFA_RULES,
    YEAR,
    YEAR_END,
    YEAR_START,
    demo_like_lines,
    line_with_rules,
    year_of,
)
from tests.factories import PlacementFactory, UserFactory


@pytest.fixture
def finance(personas):
    return personas[Role.FINANCE_MANAGER]


@pytest.fixture
def refreshes(monkeypatch):
    """The rollup refreshes the services asked for, as (first_day, last_day)."""
    calls = []
    monkeypatch.setattr(rollups, "enqueue_refresh",
                        lambda *, first_day, last_day: calls.append((first_day, last_day)))
    return calls


@pytest.fixture
def year(db):
    return year_of(YEAR)


# --- Who may --------------------------------------------------------------------------


def _operations(year):
    line = line_with_rules(year, "Secure", [("K1", "PR4")])
    return {
        "open": lambda by: services.financial_year_open(by=by, start_year=2030),
        "create": lambda by: services.budget_line_create(
            by=by, financial_year=year, name="Supported", amount="1", rules=[("K3", "PR4")]),
        "rules": lambda by: services.budget_line_update_rules(by=by, line=line,
                                                              rules=[("K1", "PR5")]),
        "adjust": lambda by: services.budget_line_adjust(by=by, line=line, new_amount="2",
                                                         reason="Virement"),
        "copy": lambda by: services.budget_year_copy(by=by, from_year=year, to_year=2031),
    }


@pytest.mark.parametrize("operation", ["open", "create", "rules", "adjust", "copy"])
@pytest.mark.parametrize("role", list(Role))
def test_only_finance_managers_change_budgets(personas, year, refreshes, role, operation):
    run = _operations(year)[operation]
    if role == Role.FINANCE_MANAGER:
        run(personas[role])
    else:
        with pytest.raises(ActionNotPermitted, match="Only a finance manager"):
            run(personas[role])


@pytest.mark.parametrize("operation", ["open", "create", "rules", "adjust", "copy"])
def test_superuser_status_is_not_a_role(year, refreshes, operation):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    with pytest.raises(ActionNotPermitted):
        _operations(year)[operation](superuser)


def test_an_administrator_who_is_also_a_finance_manager_may(year, refreshes):
    both = UserFactory(roles=[Role.ADMINISTRATOR, Role.FINANCE_MANAGER])
    line = services.budget_line_create(by=both, financial_year=year, name="Secure", amount="5",
                                       rules=[])
    assert line.amount == Decimal("5.00")


# --- Years -------------------------------------------------------------------------------


def test_a_year_opens_once(finance):
    opened = services.financial_year_open(by=finance, start_year=2027)
    assert (opened.start_date, opened.end_date) == (datetime.date(2027, 4, 1),
                                                    datetime.date(2028, 3, 31))
    with pytest.raises(Conflict, match="2027/28 is already open"):
        services.financial_year_open(by=finance, start_year=2027)


@pytest.mark.parametrize("start_year", [1999, 2100, "2027", True, None])
def test_a_year_out_of_range_or_not_a_number_is_refused(finance, start_year):
    with pytest.raises(InvalidInput) as refusal:
        services.financial_year_open(by=finance, start_year=start_year)
    assert refusal.value.field == "start_year"
    assert not FinancialYear.objects.exists()


# --- Creating a line -------------------------------------------------------------------------


def test_a_line_is_created_with_its_rules_in_its_own_year(finance, year, refreshes):
    line = services.budget_line_create(
        by=finance, financial_year=year, name="  Independent fostering agencies ",
        amount=Decimal("3030748.005"), rules=IFA_RULES + [("U4", "PR4")],
    )

    line.refresh_from_db()
    assert line.name == "Independent fostering agencies"
    assert line.amount == Decimal("3030748.01")  # half-up to the penny
    rules = BudgetLineRule.objects.filter(budget_line=line)
    assert sorted(rules.values_list("placement_type", "place_provider")) == sorted(IFA_RULES)
    assert set(rules.values_list("financial_year", flat=True)) == {year.pk}
    assert refreshes == [(YEAR_START, YEAR_END)]


def test_a_line_without_rules_asks_for_no_refresh(finance, year, refreshes):
    services.budget_line_create(by=finance, financial_year=year, name="Contingency",
                                amount="10000", rules=[])
    assert refreshes == []


def test_a_pair_already_in_another_line_is_refused_naming_that_line(finance, year, refreshes):
    demo_like_lines(year)

    with pytest.raises(InvalidInput) as refusal:
        services.budget_line_create(by=finance, financial_year=year, name="Private fostering",
                                    amount="1", rules=[("U1", "PR4"), ("U5", "PR4")])

    assert refusal.value.field == "rules"
    assert "U5 with PR4" in refusal.value.message
    assert "'Independent fostering agencies'" in refusal.value.message
    assert not BudgetLine.objects.filter(name="Private fostering").exists()
    assert refreshes == []


def test_the_same_pair_may_be_in_another_years_line(finance, year, refreshes):
    line_with_rules(year_of(YEAR - 1), "IFA last year", IFA_RULES)
    line = services.budget_line_create(by=finance, financial_year=year, name="IFA", amount="1",
                                       rules=IFA_RULES)
    assert line.rules.count() == len(IFA_RULES)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "in-house FOSTERING"}, "name"),  # the same name, whatever the case
        ({"amount": "-0.01"}, "amount"),
        ({"amount": "ten pounds"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"rules": [("U9", "PR4")]}, "rules"),
        ({"rules": [("U4", "PR9")]}, "rules"),
        ({"rules": ["U4"]}, "rules"),
    ],
)
def test_a_line_with_bad_details_is_refused(finance, year, refreshes, fields, field):
    line_with_rules(year, "In-house fostering", [("U1", "PR1")])
    arguments = {"name": "New line", "amount": "100", "rules": [("K3", "PR4")], **fields}
    with pytest.raises(InvalidInput) as refusal:
        services.budget_line_create(by=finance, financial_year=year, **arguments)
    assert refusal.value.field == field
    assert BudgetLine.objects.count() == 1


def test_a_rule_with_no_provider_code_is_allowed(finance, year, refreshes):
    line = services.budget_line_create(by=finance, financial_year=year, name="Temporary",
                                       amount="1", rules=[("T0", ""), ("T1", None)])
    assert set(line.rules.values_list("placement_type", "place_provider")) == {("T0", ""),
                                                                               ("T1", "")}


# --- Changing a line's rules -----------------------------------------------------------------


def test_rules_are_replaced_and_the_year_refreshed(finance, year, refreshes):
    line = line_with_rules(year, "Residential", [("K2", "PR4"), ("K2", "PR5")])
    kept = line.rules.get(place_provider="PR4")

    services.budget_line_update_rules(by=finance, line=line, rules=[("K2", "PR4"), ("K1", "PR4")])

    assert set(line.rules.values_list("placement_type", "place_provider")) == {
        ("K2", "PR4"), ("K1", "PR4")}
    assert line.rules.filter(pk=kept.pk).exists()  # unchanged rules stay as they were
    assert set(line.rules.values_list("financial_year", flat=True)) == {year.pk}
    assert refreshes == [(YEAR_START, YEAR_END)]


def test_unchanged_rules_ask_for_no_refresh(finance, year, refreshes):
    line = line_with_rules(year, "Residential", [("K2", "PR4")])
    services.budget_line_update_rules(by=finance, line=line, rules=[("K2", "PR4")])
    assert refreshes == []


def test_a_rule_of_another_line_is_refused_and_nothing_changes(finance, year, refreshes):
    lines = demo_like_lines(year)
    residential = lines["External residential"]

    with pytest.raises(InvalidInput) as refusal:
        services.budget_line_update_rules(by=finance, line=residential,
                                          rules=[("K2", "PR4"), ("K2", "PR1")])

    assert "K2 with PR1 already belongs to the line 'In-house residential' in 2026/27" in (
        refusal.value.message)
    assert set(residential.rules.values_list("placement_type", "place_provider")) == {
        ("K2", "PR4"), ("K2", "PR5")}
    assert refreshes == []


def test_a_line_may_keep_its_own_rules_and_drop_them_all(finance, year, refreshes):
    line = line_with_rules(year, "IFA", IFA_RULES)
    services.budget_line_update_rules(by=finance, line=line, rules=IFA_RULES[:2])
    assert line.rules.count() == 2
    services.budget_line_update_rules(by=finance, line=line, rules=[])
    assert not line.rules.exists()


def test_a_pair_given_up_by_one_line_can_go_to_another(finance, year, refreshes):
    ifa = line_with_rules(year, "IFA", [("U4", "PR4")])
    other = line_with_rules(year, "Other", [])
    services.budget_line_update_rules(by=finance, line=ifa, rules=[])
    services.budget_line_update_rules(by=finance, line=other, rules=[("U4", "PR4")])
    assert other.rules.count() == 1


# --- Adjusting an amount -----------------------------------------------------------------------


def test_an_adjustment_is_logged_with_the_previous_and_new_amounts(finance, year, refreshes):
    line = line_with_rules(year, "IFA", IFA_RULES, amount="3030748.00")

    adjustment = services.budget_line_adjust(by=finance, line=line, new_amount="3130748",
                                             reason="  Virement from the residential line ")

    line.refresh_from_db()
    assert line.amount == Decimal("3130748.00")
    logged = BudgetAdjustment.objects.get(budget_line=line)
    assert logged == adjustment
    assert (logged.previous_amount, logged.new_amount, logged.reason, logged.by) == (
        Decimal("3030748.00"), Decimal("3130748.00"), "Virement from the residential line",
        finance)
    assert len(refreshes) == 1 and refreshes[0][1] == YEAR_END


def test_adjustments_stack_up_in_order(finance, year, refreshes):
    line = line_with_rules(year, "IFA", [], amount="100.00")
    services.budget_line_adjust(by=finance, line=line, new_amount="150", reason="First")
    services.budget_line_adjust(by=finance, line=line, new_amount="120", reason="Second")
    history = list(line.adjustments.order_by("at", "pk").values_list(
        "previous_amount", "new_amount"))
    assert history == [(Decimal("100.00"), Decimal("150.00")),
                       (Decimal("150.00"), Decimal("120.00"))]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": "   "}, "reason"),
        ({"new_amount": "-1"}, "new_amount"),
        ({"new_amount": "100.00"}, "new_amount"),  # no change
    ],
)
def test_an_adjustment_needs_a_reason_and_a_different_amount(finance, year, refreshes,
                                                             fields, field):
    line = line_with_rules(year, "IFA", [], amount="100.00")
    with pytest.raises(InvalidInput) as refusal:
        services.budget_line_adjust(by=finance, line=line,
                                    **{"new_amount": "200", "reason": "More", **fields})
    assert refusal.value.field == field
    assert not BudgetAdjustment.objects.exists()
    line.refresh_from_db()
    assert line.amount == Decimal("100.00")


def test_an_adjustment_based_on_a_stale_amount_is_refused(finance, year, refreshes):
    line = line_with_rules(year, "IFA", [], amount="100.00")
    services.budget_line_adjust(by=finance, line=line, new_amount="150", reason="First",
                                expected_amount="100.00")
    stale = BudgetLine.objects.get(pk=line.pk)
    stale.amount = Decimal("100.00")  # what the second person's page still shows

    with pytest.raises(Conflict, match="Someone else changed this budget to £150.00"):
        services.budget_line_adjust(by=finance, line=stale, new_amount="90", reason="Cut",
                                    expected_amount="100.00")
    assert BudgetAdjustment.objects.count() == 1


def test_the_database_refuses_an_adjustment_without_a_reason(finance, year):
    from tests.constraints import refused_by

    line = line_with_rules(year, "IFA", [])
    with refused_by("budget_adjustment_has_reason"):
        BudgetAdjustment.objects.create(budget_line=line, previous_amount=1, new_amount=2,
                                        reason="", by=finance)


# --- Copying a year ----------------------------------------------------------------------


def test_a_year_copies_with_its_rules_and_uplifted_amounts(finance, year, refreshes):
    lines = demo_like_lines(year)
    line_with_rules(year, "Odd pence", [("K3", "PR4")], amount="100.10")

    target = services.budget_year_copy(by=finance, from_year=year, to_year=YEAR + 1,
                                       uplift_percentage=Decimal("5"))

    copies = {line.name: line for line in target.budget_lines.all()}
    assert set(copies) == set(lines) | {"Odd pence"}
    assert copies["Independent fostering agencies"].amount == Decimal("3182285.40")
    assert copies["Odd pence"].amount == Decimal("105.11")  # 105.105, half up
    for name, line in lines.items():
        original = set(line.rules.values_list("placement_type", "place_provider"))
        assert set(copies[name].rules.values_list("placement_type", "place_provider")) == original
    assert set(BudgetLineRule.objects.filter(budget_line__financial_year=target)
               .values_list("financial_year", flat=True)) == {target.pk}
    assert BudgetLine.objects.filter(financial_year=year).count() == 5  # the source unchanged
    assert refreshes == [(datetime.date(2027, 4, 1), datetime.date(2028, 3, 31))]


def test_a_copy_without_uplift_keeps_the_amounts_into_an_open_empty_year(finance, year,
                                                                          refreshes):
    line_with_rules(year, "IFA", IFA_RULES, amount="875.00")
    empty = year_of(YEAR + 1)
    target = services.budget_year_copy(by=finance, from_year=year, to_year=YEAR + 1)
    assert target == empty
    assert target.budget_lines.get().amount == Decimal("875.00")


def test_a_copy_into_a_year_with_lines_is_refused(finance, year, refreshes):
    line_with_rules(year, "IFA", IFA_RULES)
    line_with_rules(year_of(YEAR + 1), "Already there", [])
    with pytest.raises(Conflict, match="2027/28 already has budget lines"):
        services.budget_year_copy(by=finance, from_year=year, to_year=YEAR + 1)
    assert BudgetLine.objects.filter(financial_year__start_year=YEAR + 1).count() == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"to_year": YEAR}, "to_year"),
        ({"to_year": 2100}, "to_year"),
        ({"to_year": YEAR + 1, "uplift_percentage": "-1"}, "uplift_percentage"),
        ({"to_year": YEAR + 1, "uplift_percentage": "100.01"}, "uplift_percentage"),
        ({"to_year": YEAR + 1, "uplift_percentage": "lots"}, "uplift_percentage"),
    ],
)
def test_a_copy_to_the_same_year_or_with_a_bad_uplift_is_refused(finance, year, refreshes,
                                                                  arguments, field):
    line_with_rules(year, "IFA", IFA_RULES)
    with pytest.raises(InvalidInput) as refusal:
        services.budget_year_copy(by=finance, from_year=year, **arguments)
    assert refusal.value.field == field
    assert FinancialYear.objects.count() == 1


# --- Racing ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_finance_managers_mapping_one_pair_at_once_cannot_both_win(role_groups, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks to race on")
    monkeypatch.setattr(rollups, "enqueue_refresh", lambda **_: None)
    finance = UserFactory(roles=[Role.FINANCE_MANAGER])
    year = year_of(YEAR)
    lines = [line_with_rules(year, name, []) for name in ("First", "Second")]
    both_ready = threading.Barrier(2, timeout=10)
    outcomes = []

    def map_pair(line):
        try:
            with transaction.atomic():
                both_ready.wait()
                services.budget_line_update_rules(by=finance, line=line, rules=[("U4", "PR4")])
                time.sleep(0.3)  # hold the year's lock while the other tries
        except Exception as error:
            outcomes.append(error)
        else:
            outcomes.append("mapped")
        finally:
            connection.close()

    threads = [threading.Thread(target=map_pair, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("mapped") == 1, outcomes
    assert [type(o) for o in outcomes if o != "mapped"] == [InvalidInput], outcomes
    assert BudgetLineRule.objects.filter(placement_type="U4", place_provider="PR4").count() == 1


# --- The rules in words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "phrases"),
    [
        (IFA_RULES, ["U4–U6 with private or voluntary provision (PR4, PR5)"]),
        ([(t, "PR1") for t in ("U1", "U2", "U3", "U4", "U5", "U6")],
         ["U1–U6 with own provision (PR1)"]),
        ([("K2", "PR4"), ("K2", "PR5"), ("K1", "PR1")],
         ["K1 with own provision (PR1)", "K2 with private or voluntary provision (PR4, PR5)"]),
        ([("U4", "PR4"), ("U5", "PR4")], ["U4, U5 with private provision (PR4)"]),
        ([("T0", ""), ("T1", ""), ("T2", ""), ("U1", "PR2"), ("U1", "")],
         ["T0–T2 with no provider code",
          "U1 with other local authority provision (PR2) or no provider code"]),
        ([], []),
    ],
)
def test_rules_read_as_short_phrases(rules, phrases):
    objects = [BudgetLineRule(placement_type=t, place_provider=p) for t, p in rules]
    assert selectors_budgets.describe_rules(objects) == phrases


# --- The placements no rule covers -------------------------------------------------------


def test_the_mapping_lists_exactly_the_placements_no_rule_covers_in_the_year(finance, year):
    demo_like_lines(year)
    line_with_rules(year_of(YEAR - 1), "Last year's private fostering", [("U1", "PR4")])
    before, after = YEAR_START - datetime.timedelta(days=1), YEAR_END + datetime.timedelta(days=1)
    for placement_type, provider in [("U4", "PR4"), ("U6", "PR5"), ("K2", "PR1"), ("U1", "PR1")]:
        PlacementFactory(placement_type=placement_type, place_provider=provider,
                         start_date=datetime.date(2026, 1, 5))
    unmapped = [
        PlacementFactory(placement_type="U1", place_provider="PR4", start_date=before),
        PlacementFactory(placement_type="K1", place_provider="PR4", start_date=before,
                         end_date=datetime.date(2026, 4, 2), reason_for_change="CARPL"),
        PlacementFactory(placement_type="T0", place_provider="", start_date=YEAR_END),
        PlacementFactory(placement_type="U4", place_provider="PR2",
                         start_date=datetime.date(2026, 9, 1)),
    ]
    # In no line, but not in the year: ended on 1 April (the night before was the last), or
    # starting after it.
    PlacementFactory(placement_type="U1", place_provider="PR4", start_date=datetime.date(2025, 5, 1),
                     end_date=YEAR_START, reason_for_change="CARPL")
    PlacementFactory(placement_type="U1", place_provider="PR4", start_date=after)

    found = selectors_budgets.unmapped_placements(user=finance, financial_year=year)

    assert sorted(p.pk for p in found) == sorted(p.pk for p in unmapped)
    assert selectors_budgets.unmapped_pairs(found) == [
        {"placement_type": "K1", "place_provider": "PR4", "placements": 1},
        {"placement_type": "T0", "place_provider": "", "placements": 1},
        {"placement_type": "U1", "place_provider": "PR4", "placements": 1},
        {"placement_type": "U4", "place_provider": "PR2", "placements": 1},
    ]


def test_every_placement_counts_in_one_line_or_in_the_unmapped(finance, year):
    lines = demo_like_lines(year)
    for placement_type, provider in [("U4", "PR4"), ("U5", "PR4"), ("U4", "PR1"), ("K2", "PR5"),
                                     ("U1", "PR4")]:
        PlacementFactory(placement_type=placement_type, place_provider=provider)

    counts = selectors_budgets.mapped_counts(user=finance, financial_year=year)
    unmapped = selectors_budgets.unmapped_placements(user=finance, financial_year=year)

    assert counts == {lines["Independent fostering agencies"].pk: 2,
                      lines["In-house fostering"].pk: 1, lines["External residential"].pk: 1}
    assert sum(counts.values()) + unmapped.count() == 5
