"""The audit trail of placements.services: each service writes its AuditEvent(s) (actor,
action, object, child, changes, reason) in its own transaction; a refused action (wrong
role, illegal transition) writes none; and a failure after the audit write takes the
event back with the change."""

import dataclasses
import datetime
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.errors import ActionNotPermitted, Conflict, InvalidInput, TransitionNotAllowed
from core.models import AuditEvent
from core.roles import Role
from placements.models import (
    BudgetLine,
    FinancialYear,
    Placement,
    PlacementCost,
    ReferralStatus,
    UnmetDemand,
)
from placements.services import budgets, sourcing
from placements.services import referrals as referral_services
from placements.services.referrals import FILLED_IN
from tests.factories import (
    ChildFactory,
    PlacementCostFactory,
    PlacementFactory,
    referral_in,
)
from tests.placements.placement_changes import make_change, running_placement, today
from tests.placements.test_sourcing_services import journey
from tests.sourcing import market_fixture  # noqa: F401 (fixture)

S = ReferralStatus
DAY = datetime.timedelta(days=1)
SW, TM, CHAIR, DIRECTOR = Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.PANEL_CHAIR, Role.DIRECTOR
CO, FM = Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER
SECRET = "Lives with her aunt at 4 Acacia Road"


def events(action: str | None = None, **filters) -> list[AuditEvent]:
    """Events oldest first (the model orders newest first)."""
    found = AuditEvent.objects.filter(**filters).order_by("at", "pk")
    return list(found.filter(action=action) if action else found)


def only(action: str, **filters) -> AuditEvent:
    found = events(action, **filters)
    assert len(found) == 1, [e.action for e in events()]
    return found[0]


def about(event: AuditEvent, obj) -> bool:
    return (event.object_type, event.object_id) == (obj._meta.label_lower, str(obj.pk))


def placement_events() -> list[str]:
    """The actions this app writes (the market's own events, providers.*, aside)."""
    prefixes = ("referral.", "placement.", "contribution.", "financial_year.", "budget_")
    return [e.action for e in events() if e.action.startswith(prefixes)]


# --- Referrals: drafting ----------------------------------------------------------------


def test_creating_a_referral_records_its_answers_but_not_its_free_text(personas, north):
    worker, child, sibling = personas[SW], ChildFactory(team=north), ChildFactory(team=north)
    referral = referral_services.referral_create(
        child=child, by=worker, siblings=[sibling], risks={"going_missing": SECRET},
        fields={"placement_type_sought": "U4", "wanted_start_date": datetime.date(2026, 9, 1),
                "needs_summary": SECRET, "preferred_location": "Near Acacia Road"},
    )
    event = only("referral.create")
    assert (event.actor, event.child_id, about(event, referral), event.reason) == (
        worker, child.pk, True, ""
    )
    changes = event.changes
    assert changes["status"] == [None, "draft"]
    assert changes["placement_type_sought"] == [None, "U4"]
    assert changes["wanted_start_date"] == [None, "2026-09-01"]
    assert changes["needs_summary"] == [None, FILLED_IN]
    assert changes["preferred_location"] == [None, FILLED_IN]
    assert changes["siblings"] == [None, [sibling.pk]]
    assert changes["risks"] == [None, {"going_missing": FILLED_IN}]
    assert "pets" not in changes  # unanswered answers are left out
    assert "Acacia" not in json.dumps(changes)


def test_updating_a_referral_records_only_what_changed(personas, north):
    referral = referral_in(S.DRAFT, team=north, needs_summary="Before", urgency="later")
    manager = personas[TM]
    referral_services.referral_update(
        referral=referral, by=manager, fields={"needs_summary": SECRET, "urgency": "within_5_days"},
        risks={"violence": ""},
    )
    event = only("referral.update")
    assert (event.actor, event.child_id, about(event, referral)) == (
        manager, referral.child_id, True
    )
    assert event.changes == {
        "needs_summary": [FILLED_IN, FILLED_IN],  # changed; the words withheld
        "urgency": ["later", "within_5_days"],
        "risks": [{}, {"violence": ""}],
    }


# --- Referrals: every status change, written once by _move -----------------------------


@dataclasses.dataclass(frozen=True)
class Move:
    action: str
    start: str
    to: str
    role: Role
    reason: str
    call: callable

    def __str__(self):
        return self.action


def _panel_outcome(referral, by, reason):
    return referral_services.referral_record_panel_outcome(
        referral=referral, by=by, to=S.READY_FOR_SOURCING, reason=reason
    )


MOVES = [
    Move("referral.submit", S.DRAFT, S.SUBMITTED, SW, "",
         lambda r, by, reason: referral_services.referral_submit(referral=r, by=by)),
    Move("referral.endorse", S.SUBMITTED, S.ENDORSED, TM, "Ready for panel",
         lambda r, by, reason: referral_services.referral_endorse(referral=r, by=by, reason=reason)),
    Move("referral.return", S.SUBMITTED, S.RETURNED, TM, "More detail on risks",
         lambda r, by, reason: referral_services.referral_return(referral=r, by=by, reason=reason)),
    Move("referral.withdraw", S.ENDORSED, S.WITHDRAWN, SW, "Family found",
         lambda r, by, reason: referral_services.referral_withdraw(referral=r, by=by, reason=reason)),
    Move("referral.mark_listed", S.ENDORSED, S.LISTED, CHAIR, "Listed for 1 July",
         lambda r, by, reason: referral_services.referral_mark_listed(
             referral=r, by=by, reason=reason)),
    Move("referral.unlist", S.LISTED, S.ENDORSED, CHAIR, "Meeting full",
         lambda r, by, reason: referral_services.referral_unlist(referral=r, by=by, reason=reason)),
    Move("referral.panel_outcome", S.LISTED, S.READY_FOR_SOURCING, CHAIR, "Approved in-house",
         _panel_outcome),
    Move("referral.director_outcome", S.AWAITING_DIRECTOR, S.READY_FOR_SOURCING, DIRECTOR,
         "Approved", lambda r, by, reason: referral_services.referral_record_director_outcome(
             referral=r, by=by, approved=True, reason=reason)),
]


@pytest.mark.parametrize("move", MOVES, ids=str)
def test_each_status_change_writes_one_event(personas, north, move):
    referral = referral_in(move.start, team=north)
    actor = personas[move.role]
    move.call(referral, actor, move.reason)
    event = only(move.action)
    assert (event.actor, event.child_id, about(event, referral)) == (actor, referral.child_id, True)
    assert event.changes == {"status": [move.start, move.to]}
    assert event.reason == move.reason
    assert placement_events() == [move.action]


def test_the_scheduled_agenda_builder_is_recorded_as_the_system(north):
    referral = referral_in(S.ENDORSED, team=north)
    referral_services.referral_mark_listed(referral=referral, by=None, reason="Listed")
    assert only("referral.mark_listed").actor is None


def test_an_emergency_records_both_hops_and_its_review_date(personas, north):
    referral = referral_in(S.DRAFT, team=north, is_emergency=True)
    referral_services.referral_submit(referral=referral, by=personas[SW],
                                      today=datetime.date(2026, 6, 15))
    first, second = events("referral.submit")
    assert first.changes == {"status": ["draft", "submitted"]}
    referral.refresh_from_db()
    assert second.changes == {
        "status": ["submitted", "ready_for_sourcing"],
        "retrospective_review_due": [None, referral.retrospective_review_due.isoformat()],
    }
    assert "retrospective panel review" in second.reason


@pytest.mark.parametrize("move", MOVES, ids=str)
def test_a_refused_role_writes_no_event(personas, north, move):
    referral = referral_in(move.start, team=north)
    wrong = personas[FM]
    with pytest.raises(ActionNotPermitted):
        move.call(referral, wrong, move.reason or "A reason")
    assert events() == []


@pytest.mark.parametrize("move", MOVES, ids=str)
def test_an_illegal_transition_writes_no_event(personas, north, move):
    referral = referral_in(S.PLACED, team=north)
    with pytest.raises(TransitionNotAllowed):
        move.call(referral, personas[move.role], move.reason or "A reason")
    assert events() == []


def test_a_refused_edit_writes_no_event(personas, north):
    referral = referral_in(S.SUBMITTED, team=north)
    with pytest.raises(TransitionNotAllowed):
        referral_services.referral_update(referral=referral, by=personas[SW],
                                          fields={"needs_summary": "x"})
    with pytest.raises(ActionNotPermitted):
        referral_services.referral_create(child=ChildFactory(), by=personas[SW],
                                          fields={"placement_type_sought": "U4"})
    assert events() == []


# --- Sourcing: the referral's side ------------------------------------------------------


def test_starting_sourcing_names_the_request(personas, north, market):
    trip = journey(market, personas, north, upto="started")
    event = only("referral.sourcing_start")
    assert (event.actor, event.child_id, about(event, trip.referral)) == (
        personas[CO], trip.referral.child_id, True
    )
    assert event.changes == {"sourcing_request": [None, trip.request.pk]}


def test_sending_sharing_choosing_and_reopening_record_each_status_change(personas, north, market):
    trip = journey(market, personas, north, upto="provider_chosen")
    child = trip.referral.child_id
    sent, shared, chosen = (only(a) for a in ("referral.sourcing_send", "referral.options_share",
                                              "referral.offer_choose"))
    assert sent.changes == {"status": ["ready_for_sourcing", "sourcing"]}
    assert sent.reason.startswith(f"Request {trip.request.reference} sent to 2")
    assert shared.changes == {"status": ["sourcing", "options_ready"]}
    quote = trip.quotes[market.good.pk]
    assert (chosen.actor, chosen.child_id) == (personas[SW], child)
    assert chosen.changes == {"status": ["options_ready", "provider_chosen"],
                              "chosen_quote": [None, quote.pk]}
    assert chosen.reason.endswith(": Near school")

    sourcing.choice_reopen(by=personas[CO], referral=trip.referral, reason="Provider withdrew")
    reopened = only("referral.choice_reopen")
    assert (reopened.actor, reopened.child_id, reopened.reason) == (
        personas[CO], child, "Provider withdrew"
    )
    assert reopened.changes == {"status": ["provider_chosen", "options_ready"],
                                "chosen_quote": [quote.pk, None]}


def test_closing_a_request_with_no_offer_records_the_unmet_demand(personas, north, market):
    trip = journey(market, personas, north, upto="sourcing")
    sourcing.sourcing_close_without_placement(by=personas[CO], referral=trip.referral,
                                              reason="Nobody answered")
    event = only("referral.sourcing_close")
    assert (event.child_id, event.reason) == (trip.referral.child_id, "Nobody answered")
    assert event.changes == {"status": ["sourcing", "ready_for_sourcing"],
                             "sourcing_request": [trip.request.pk, None],
                             "unmet_demand": [None, ["no_offer"]]}


def test_closing_a_draft_request_records_it_without_a_status_change(personas, north, market):
    trip = journey(market, personas, north, upto="started")
    sourcing.sourcing_close_without_placement(by=personas[CO], referral=trip.referral,
                                              reason="Started by mistake")
    assert only("referral.sourcing_close").changes == {"sourcing_request": [trip.request.pk, None]}


def test_confirming_records_the_new_placement_the_old_ones_end_and_the_referral(
    personas, north, market
):
    trip = journey(market, personas, north, upto="provider_chosen")
    child = trip.referral.child
    old = PlacementFactory(child=child, start_date=market.today - 100 * DAY)
    PlacementCostFactory(placement=old)
    officer = personas[CO]
    placement = sourcing.placement_confirm(by=officer, referral=trip.referral,
                                           start_date=market.today, end_reason="CARPL")
    confirmed, ended, placed = (only(a) for a in ("placement.confirm", "placement.end",
                                                  "referral.place"))
    assert all(e.actor == officer and e.child_id == child.pk for e in (confirmed, ended, placed))
    assert about(confirmed, placement) and about(ended, old) and about(placed, trip.referral)
    assert confirmed.changes["start_date"] == [None, market.today.isoformat()]
    assert confirmed.changes["service"] == [None, market.good.pk]
    assert confirmed.changes["quote"] == [None, trip.quotes[market.good.pk].pk]
    assert confirmed.changes["weekly_amount"] == [None, "900.00"]
    assert ended.changes == {"end_date": [None, market.today.isoformat()],
                             "reason_for_change": ["", "CARPL"]}
    assert ended.reason == "CARPL"
    assert placed.changes == {"status": ["provider_chosen", "placed"],
                              "placement": [None, placement.pk]}


def test_confirming_a_different_type_records_it_as_unmet_demand(personas, north, market):
    trip = journey(market, personas, north, upto="provider_chosen", placement_type="K2",
                   services=[market.other_type], prices={market.other_type.pk: "3500"})
    sourcing.placement_confirm(by=personas[CO], referral=trip.referral)
    assert UnmetDemand.objects.filter(referral=trip.referral).exists()
    assert only("referral.place").changes["unmet_demand"] == [None, ["type_differs"]]


def test_refused_sourcing_actions_write_no_event(personas, north, market):
    trip = journey(market, personas, north, upto="options_ready")
    before = placement_events()
    quote = trip.quotes[market.good.pk]
    with pytest.raises(ActionNotPermitted):
        sourcing.offer_choose(by=personas[CO], referral=trip.referral, quote=quote, reason="x")
    with pytest.raises(ActionNotPermitted):
        sourcing.options_share(by=personas[SW], referral=trip.referral)
    with pytest.raises(TransitionNotAllowed):
        sourcing.placement_confirm(by=personas[CO], referral=trip.referral)
    with pytest.raises(TransitionNotAllowed):
        sourcing.choice_reopen(by=personas[CO], referral=trip.referral, reason="x")
    assert placement_events() == before


# --- Placements over time -----------------------------------------------------------------


@pytest.fixture
def placement(north):
    return running_placement(team=north, contribution=True)


def test_a_cost_change_records_the_amounts_and_the_reason(personas, placement):
    make_change("cost_change", by=personas[FM], placement=placement)
    event = only("placement.cost_change")
    assert (event.actor, event.child_id, about(event, placement)) == (
        personas[FM], placement.child_id, True
    )
    assert event.changes == {"weekly_amount": ["820.00", "860.00"],
                             "effective_from": [None, today().isoformat()]}
    assert event.reason == "Annual uplift"  # the kind's label (no note given)


def test_a_retainer_records_its_period_amount_and_court_order(personas, placement):
    make_change("retainer", by=personas[CO], placement=placement)
    event = only("placement.retainer")
    assert (event.actor, event.child_id, about(event, placement)) == (
        personas[CO], placement.child_id, True
    )
    assert event.changes == {
        "weekly_amount": ["820.00", "400.00"],
        "effective_from": [None, today().isoformat()],
        "effective_to": [None, (today() + 14 * DAY).isoformat()],
        "court_order_reference": [None, "LS24C00123"],
    }
    assert event.reason == "Court order LS24C00123"


def test_adding_and_ending_a_contribution_name_the_child(personas, placement):
    added = make_change("contribution_add", by=personas[FM], placement=placement)
    event = only("contribution.add")
    assert (event.child_id, about(event, added)) == (placement.child_id, True)
    assert event.changes == {
        "placement": [None, placement.pk], "funder": [None, "education"],
        "funder_name": [None, ""], "percentage": [None, "10.00"],
        "start_date": [None, today().isoformat()],
    }
    ended = make_change("contribution_end", by=personas[FM], placement=placement)
    event = only("contribution.end")
    assert (event.actor, event.child_id, about(event, ended)) == (
        personas[FM], placement.child_id, True
    )
    assert event.changes == {"end_date": [None, today().isoformat()]}


def test_ending_a_placement_records_the_end_and_what_it_cancels(personas, placement):
    PlacementCost.objects.filter(placement=placement).update(effective_to=today() + 10 * DAY)
    PlacementCostFactory(placement=placement, effective_from=today() + 10 * DAY,
                         weekly_amount=Decimal("900.00"), reason=PlacementCost.Reason.UPLIFT)
    make_change("placement_end", by=personas[FM], placement=placement)
    event = only("placement.end")
    assert (event.actor, event.child_id, about(event, placement), event.reason) == (
        personas[FM], placement.child_id, True, "CARPL"
    )
    assert event.changes == {
        "end_date": [None, today().isoformat()], "reason_for_change": ["", "CARPL"],
        "scheduled_costs": [[{"effective_from": (today() + 10 * DAY).isoformat(),
                              "weekly_amount": "900.00", "reason": "uplift"}], []],
    }


def test_a_move_records_the_old_placements_end_and_the_new_one(personas, placement):
    new = make_change("child_move", by=personas[CO], placement=placement)
    ended, moved = only("placement.end"), only("placement.move")
    assert about(ended, placement) and about(moved, new)
    assert ended.child_id == moved.child_id == placement.child_id
    assert moved.changes["moved_from"] == [None, placement.pk]
    assert moved.changes["placement_type"] == [None, "K2"]
    assert moved.changes["weekly_amount"] == [None, "3300.00"]
    assert moved.reason == "CARPL"
    assert placement_events() == ["placement.end", "placement.move"]


@pytest.mark.parametrize("change", ["cost_change", "retainer", "contribution_add",
                                    "contribution_end", "placement_end", "child_move"])
def test_refused_placement_changes_write_no_event(personas, placement, change):
    with pytest.raises(ActionNotPermitted):
        make_change(change, by=personas[SW], placement=placement)
    Placement.objects.filter(pk=placement.pk).update(end_date=today() - DAY,
                                                     reason_for_change="CARPL")
    with pytest.raises(TransitionNotAllowed):
        make_change(change, by=personas[FM], placement=placement)
    assert events() == []


# --- Budgets ----------------------------------------------------------------------------


@pytest.fixture
def finance(personas):
    return personas[FM]


def test_opening_a_year_and_creating_a_line(finance):
    year = budgets.financial_year_open(by=finance, start_year=2030)
    event = only("financial_year.open")
    assert (event.actor, event.child_id, about(event, year)) == (finance, None, True)
    assert event.changes == {"start_year": [None, 2030]}
    line = budgets.budget_line_create(by=finance, financial_year=year, name="IFA",
                                      amount="250000", rules=[("U5", "PR4"), ("U4", "PR4")])
    event = only("budget_line.create")
    assert about(event, line) and event.child_id is None
    assert event.changes == {"financial_year": [None, year.pk], "name": [None, "IFA"],
                             "amount": [None, "250000.00"],
                             "rules": [None, [["U4", "PR4"], ["U5", "PR4"]]]}


def test_changing_a_lines_rules_and_adjusting_its_amount(finance):
    year = FinancialYear.objects.create(start_year=2030)
    line = budgets.budget_line_create(by=finance, financial_year=year, name="IFA",
                                      amount="100.00", rules=[("U4", "PR4")])
    budgets.budget_line_update_rules(by=finance, line=line, rules=[("U4", "PR5")])
    assert only("budget_line.update_rules").changes == {
        "rules": [[["U4", "PR4"]], [["U4", "PR5"]]]
    }
    budgets.budget_line_adjust(by=finance, line=line, new_amount="150.00", reason="Virement")
    event = only("budget_line.adjust")
    assert (event.actor, about(event, line), event.reason) == (finance, True, "Virement")
    assert event.changes == {"amount": ["100.00", "150.00"]}


def test_copying_a_year_records_the_new_year_and_its_lines(finance):
    source = FinancialYear.objects.create(start_year=2030)
    budgets.budget_line_create(by=finance, financial_year=source, name="IFA", amount="1000",
                               rules=[("U4", "PR4")])
    target = budgets.budget_year_copy(by=finance, from_year=source, to_year=2031,
                                      uplift_percentage="2.5")
    assert about(only("financial_year.open"), target)
    event = only("budget_year.copy")
    assert about(event, target)
    assert event.changes == {
        "copied_from": [None, 2030], "uplift_percentage": [None, "2.5"],
        "budget_lines": [None, [{"name": "IFA", "amount": "1025.00", "rules": [["U4", "PR4"]]}]],
    }


def test_refused_budget_changes_write_no_event(personas, finance):
    year = FinancialYear.objects.create(start_year=2030)
    line = BudgetLine.objects.create(financial_year=year, name="IFA", amount=Decimal("10"))
    with pytest.raises(ActionNotPermitted):
        budgets.financial_year_open(by=personas[Role.ADMINISTRATOR], start_year=2031)
    with pytest.raises(ActionNotPermitted):
        budgets.budget_line_adjust(by=personas[CO], line=line, new_amount="20", reason="x")
    with pytest.raises(Conflict):
        budgets.financial_year_open(by=finance, start_year=2030)
    with pytest.raises(InvalidInput):
        budgets.budget_line_adjust(by=finance, line=line, new_amount="10", reason="Same")
    assert events() == []


# --- Atomicity: the event and the change commit or roll back together ---------------------


def test_a_move_whose_transaction_fails_afterwards_leaves_neither_change_nor_events(
    personas, placement
):
    # The move writes placement.end and placement.move; then, in the same transaction, a
    # second open placement for the child breaks the one-open-placement constraint.
    with pytest.raises(IntegrityError), transaction.atomic():
        new = make_change("child_move", by=personas[CO], placement=placement)
        assert placement_events() == ["placement.end", "placement.move"]
        PlacementFactory(child=new.child, start_date=today() + 7 * DAY)
    placement.refresh_from_db()
    assert placement.end_date is None
    assert Placement.objects.filter(child=placement.child).count() == 1
    assert events() == []


def test_a_constraint_failure_after_the_audit_write_rolls_both_back(finance):
    year = FinancialYear.objects.create(start_year=2030)
    line = BudgetLine.objects.create(financial_year=year, name="IFA", amount=Decimal("10.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        budgets.budget_line_adjust(by=finance, line=line, new_amount="20.00", reason="Virement")
        assert len(events("budget_line.adjust")) == 1  # written, inside the transaction
        FinancialYear.objects.create(start_year=2030)  # unique start_year: refused
    line.refresh_from_db()
    assert line.amount == Decimal("10.00")
    assert events() == []
