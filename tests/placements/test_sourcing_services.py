"""placements.services.sourcing: the referral's side of sourcing, from starting a request
to confirming a placement. Every action against every state and every persona,
anonymised e-mails, what confirming creates and ends, unmet demand, atomicity, and a
double confirmation racing on PostgreSQL."""

import dataclasses
import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from core.errors import (
    ActionNotPermitted,
    Conflict,
    InvalidInput,
    TransitionNotAllowed,
)
from core.roles import Role
from placements.models import (
    Placement,
    PlacementCost,
    Referral,
    ReferralSourcingRequest,
    ReferralStatus,
    ReferralStatusChange,
    UnmetDemand,
)
from placements.reference import ReasonPlaceChange
from placements.services import sourcing
from providers.models import (
    ProviderDiscount,
    Quote,
    SourcingInvitation,
    SourcingRequest,
)
from providers.services import sourcing as market_services
from tests.factories import PlacementCostFactory, PlacementFactory, UserFactory
from tests.sourcing import (  # noqa: F401 (fixtures)
    build_market,
    market_fixture,
    officer_fixture,
    ready_referral,
    social_worker_fixture,
)

S = ReferralStatus
R = SourcingRequest.Status
Q_ = Quote.Status
DAY = datetime.timedelta(days=1)
CO, SW, TM = Role.COMMISSIONING_OFFICER, Role.SOCIAL_WORKER, Role.TEAM_MANAGER


# --- Building a referral at each stage ------------------------------------------------

STAGES = ("ready", "started", "sourcing", "offers", "options_ready", "provider_chosen")


@dataclasses.dataclass
class Journey:
    referral: Referral
    request: SourcingRequest | None = None
    quotes: dict = dataclasses.field(default_factory=dict)  # service pk → quote

    def refresh(self):
        self.referral.refresh_from_db()
        if self.request is not None:
            self.request.refresh_from_db()
        return self


def journey(market, personas, team, *, upto, services=None, prices=None, choose=None,
            referral=None, **start):
    """A referral walked through the real services up to `upto` (one of STAGES):
    by default sent to the good framework home (£900) and the spot home (£1,100)."""
    officer, chooser = personas[CO], personas[SW]
    referral = referral or ready_referral(team=team, wanted_start_date=market.today)
    trip = Journey(referral)
    if upto == "ready":
        return trip
    trip.request = sourcing.sourcing_start(by=officer, referral=referral, **start)
    if upto == "started":
        return trip.refresh()
    services = services or [market.good, market.spot]
    sourcing.sourcing_send(
        by=officer, referral=referral, service_ids=[s.pk for s in services],
        off_framework_reasons={s.pk: "No framework home matched." for s in services},
    )
    if upto == "sourcing":
        return trip.refresh()
    prices = prices or {market.good.pk: "900", market.spot.pk: "1100"}
    for service in services:
        if service.pk in prices:
            trip.quotes[service.pk] = market_services.quote_record(
                by=officer, request=trip.request, service=service,
                quoted_weekly_price=prices[service.pk],
            )
    if upto == "offers":
        return trip.refresh()
    sourcing.options_share(by=officer, referral=referral)
    if upto == "options_ready":
        return trip.refresh()
    chosen = trip.quotes[(choose or services[0]).pk]
    sourcing.offer_choose(by=chooser, referral=referral, quote=chosen, reason="Near school")
    return trip.refresh()


def snapshot(trip: Journey) -> tuple:
    """Everything an action may change, to show a refused action changed nothing."""
    trip.refresh()
    link = ReferralSourcingRequest.objects.filter(referral=trip.referral).order_by("pk").last()
    return (
        trip.referral.status,
        ReferralStatusChange.objects.filter(referral=trip.referral).count(),
        list(SourcingRequest.objects.order_by("pk").values_list("pk", "status")),
        list(Quote.objects.order_by("pk").values_list("pk", "status", "agreed_weekly_price")),
        list(SourcingInvitation.objects.order_by("pk").values_list("pk", "status")),
        link and (link.chosen_quote_id, link.choice_reason),
        Placement.objects.count(),
        UnmetDemand.objects.count(),
    )


# --- Each action, its natural stage, who may do it, and from which states -------------


@dataclasses.dataclass(frozen=True)
class Action:
    name: str
    stage: str  # where the journey leaves a referral this action applies to
    allowed_roles: frozenset
    allowed_from: frozenset

    def __str__(self):
        return self.name

    def call(self, trip: Journey, by):
        referral = trip.referral
        if self.name == "sourcing_start":
            return sourcing.sourcing_start(by=by, referral=referral)
        if self.name == "sourcing_send":
            return sourcing.sourcing_send(
                by=by, referral=referral, service_ids=[trip.market.good.pk]
            )
        if self.name == "options_share":
            return sourcing.options_share(by=by, referral=referral)
        if self.name == "offer_choose":
            quote = next(iter(trip.quotes.values()))
            return sourcing.offer_choose(by=by, referral=referral, quote=quote, reason="Fits")
        if self.name == "choice_reopen":
            return sourcing.choice_reopen(by=by, referral=referral, reason="Provider withdrew")
        if self.name == "sourcing_close_without_placement":
            return sourcing.sourcing_close_without_placement(
                by=by, referral=referral, reason="Nothing suitable"
            )
        if self.name == "placement_confirm":
            return sourcing.placement_confirm(by=by, referral=referral)
        raise AssertionError(self.name)


ACTIONS = [
    Action("sourcing_start", "ready", frozenset({CO}), frozenset({S.READY_FOR_SOURCING})),
    Action("sourcing_send", "started", frozenset({CO}), frozenset({S.READY_FOR_SOURCING})),
    Action("options_share", "offers", frozenset({CO}), frozenset({S.SOURCING})),
    Action("offer_choose", "options_ready", frozenset({SW, TM}), frozenset({S.OPTIONS_READY})),
    Action("choice_reopen", "provider_chosen", frozenset({CO, SW, TM}),
           frozenset({S.PROVIDER_CHOSEN})),
    Action("sourcing_close_without_placement", "offers", frozenset({CO}),
           frozenset({S.READY_FOR_SOURCING, S.SOURCING, S.OPTIONS_READY})),
    Action("placement_confirm", "provider_chosen", frozenset({CO}),
           frozenset({S.PROVIDER_CHOSEN})),
]


def at_stage_of(action, market, personas, team):
    trip = journey(market, personas, team, upto=action.stage)
    trip.market = market
    return trip


def test_each_action_works_from_its_stage(market, personas, north):
    for action in ACTIONS:
        trip = at_stage_of(action, market, personas, north)
        actor = personas[sorted(action.allowed_roles)[0]]
        action.call(trip, actor)  # no error


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_each_action_by_every_persona(market, personas, north, action, role):
    trip = at_stage_of(action, market, personas, north)
    before = snapshot(trip)

    if role in action.allowed_roles:
        action.call(trip, personas[role])
        assert snapshot(trip) != before
    else:
        with pytest.raises(ActionNotPermitted):
            action.call(trip, personas[role])
        assert snapshot(trip) == before


@pytest.mark.parametrize("role", [SW, TM], ids=str)
@pytest.mark.parametrize("name", ["offer_choose", "choice_reopen"])
def test_another_teams_social_worker_or_manager_is_refused(market, personas, north, south,
                                                           name, role):
    action = next(a for a in ACTIONS if a.name == name)
    trip = at_stage_of(action, market, personas, north)
    outsider = UserFactory(roles=[role], team=south)
    before = snapshot(trip)

    with pytest.raises(ActionNotPermitted):
        action.call(trip, outsider)
    assert snapshot(trip) == before


WRONG_STATES = [
    (action, status) for action in ACTIONS for status in S if status not in action.allowed_from
]


@pytest.mark.parametrize(
    ("action", "status"), WRONG_STATES, ids=[f"{a}-{s.value}" for a, s in WRONG_STATES]
)
def test_each_action_is_refused_from_every_other_state(market, personas, north, action, status):
    """Everything else is ready for the action; only the referral's state is wrong."""
    trip = at_stage_of(action, market, personas, north)
    Referral.objects.filter(pk=trip.referral.pk).update(status=status)
    before = snapshot(trip)

    with pytest.raises(TransitionNotAllowed) as refused:
        action.call(trip, personas[sorted(action.allowed_roles)[0]])

    assert refused.value.current == status
    assert snapshot(trip) == before


# --- Starting ---------------------------------------------------------------------------


def test_starting_opens_an_anonymised_draft_and_leaves_the_referral_ready(
    market, personas, north, officer
):
    trip = journey(market, personas, north, upto="ready")
    referral = trip.referral

    request = sourcing.sourcing_start(by=officer, referral=referral, needs=["autism", "autism"],
                                      needs_summary="  Likes football  ")

    assert (request.status, request.placement_type, request.age_years, request.sex) == (
        R.DRAFT, "U4", 12, referral.child.sex)
    assert (request.area, request.max_distance_miles, request.risks) == (
        "LS6", 20, ["going_missing"])
    assert request.needs == ["autism"] and request.needs_summary == "Likes football"
    assert request.urgency == referral.urgency and request.wanted_start_date == market.today
    assert sourcing.open_request_link(referral).sourcing_request == request
    referral.refresh_from_db()
    assert referral.status == S.READY_FOR_SOURCING


def test_a_referral_has_one_open_request(market, personas, north, officer):
    trip = journey(market, personas, north, upto="started")

    with pytest.raises(Conflict):
        sourcing.sourcing_start(by=officer, referral=trip.referral)
    assert SourcingRequest.objects.count() == 1


def test_a_start_date_in_the_past_is_sourced_from_today(market, personas, north, officer):
    referral = ready_referral(team=north, wanted_start_date=market.today - 10 * DAY)

    request = sourcing.sourcing_start(by=officer, referral=referral)

    assert request.wanted_start_date == market.today


def test_the_officer_may_change_the_type_and_distance(market, personas, north, officer):
    referral = ready_referral(team=north, wanted_start_date=market.today)

    request = sourcing.sourcing_start(by=officer, referral=referral, placement_type="K2",
                                      use_referral_distance=False, max_distance_miles=35,
                                      planned_end_date=market.today + 90 * DAY)

    assert (request.placement_type, request.max_distance_miles) == ("K2", 35)
    assert request.planned_end_date == market.today + 90 * DAY


def test_an_unknown_placement_type_is_refused(market, personas, north, officer):
    referral = ready_referral(team=north)

    with pytest.raises(InvalidInput) as refused:
        sourcing.sourcing_start(by=officer, referral=referral, placement_type="XX")
    assert refused.value.field == "placement_type"
    assert not SourcingRequest.objects.exists()
    assert not ReferralSourcingRequest.objects.exists()


def test_no_distance_limit_when_the_referral_does_not_ask_for_one(market, north, officer):
    referral = ready_referral(team=north, must_be_within_20_miles=False)

    assert sourcing.sourcing_start(by=officer, referral=referral).max_distance_miles is None


# --- Sending ----------------------------------------------------------------------------


def test_sending_moves_the_referral_to_sourcing(market, personas, north, officer):
    trip = journey(market, personas, north, upto="sourcing")

    assert trip.referral.status == S.SOURCING and trip.request.status == R.SENT
    change = trip.referral.status_changes.last()
    assert (change.from_status, change.to_status, change.by) == (
        S.READY_FOR_SOURCING, S.SOURCING, officer)
    assert change.reason == f"Request {trip.request.reference} sent to 2 service(s)"


def test_an_off_framework_invitation_needs_a_reason_and_nothing_is_created(
    market, personas, north, officer, mailoutbox, django_capture_on_commit_callbacks
):
    trip = journey(market, personas, north, upto="started")
    before = snapshot(trip)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(InvalidInput) as refused:
            sourcing.sourcing_send(by=officer, referral=trip.referral,
                                   service_ids=[market.good.pk, market.spot.pk],
                                   off_framework_reasons={market.good.pk: "Not needed"})

    assert refused.value.field == "off_framework_reason"
    assert snapshot(trip) == before
    assert not SourcingInvitation.objects.exists()
    assert callbacks == [] and mailoutbox == []


def test_sending_needs_a_started_request(market, personas, north, officer):
    trip = journey(market, personas, north, upto="ready")

    with pytest.raises(TransitionNotAllowed):
        sourcing.sourcing_send(by=officer, referral=trip.referral, service_ids=[market.good.pk])
    trip.refresh()
    assert trip.referral.status == S.READY_FOR_SOURCING


def child_details(child) -> list[str]:
    """Things that identify the child and must never reach a provider."""
    dob = child.date_of_birth
    postcode = child.home_postcode
    return [
        child.first_name, child.last_name, child.local_child_id, postcode,
        postcode.replace(" ", ""), postcode.split()[1], dob.isoformat(),
        f"{dob:%d %B %Y}", f"{dob:%d/%m/%Y}", f"{dob:%-d %B %Y}", f"{dob:%B %Y}",
    ]


def test_provider_emails_are_anonymised_and_sent_on_commit(
    market, personas, north, officer, mailoutbox, django_capture_on_commit_callbacks
):
    trip = journey(market, personas, north, upto="started")
    child = trip.referral.child

    with django_capture_on_commit_callbacks() as callbacks:
        sourcing.sourcing_send(
            by=officer, referral=trip.referral, service_ids=[market.good.pk, market.spot.pk],
            off_framework_reasons={market.spot.pk: "Only one framework home matched"},
        )
    assert [m for m in mailoutbox if "Placement request" in m.subject] == []
    for callback in callbacks:
        callback()

    requests = [m for m in mailoutbox if m.subject.startswith("Placement request")]
    assert sorted(m.to[0] for m in requests) == ["offers@framework.example",
                                                 "offers@spot.example"]
    for message in requests:
        text = f"{message.subject}\n{message.body}"
        assert trip.request.reference in text
        assert "Age: 12" in text and "Home area: LS6" in text
        for detail in child_details(child):
            assert detail not in text, detail


def test_a_rolled_back_send_emails_nobody(
    market, personas, north, officer, mailoutbox, django_capture_on_commit_callbacks
):
    trip = journey(market, personas, north, upto="started")
    before = snapshot(trip)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            sourcing.sourcing_send(by=officer, referral=trip.referral,
                                   service_ids=[market.good.pk])
            raise RuntimeError("the page failed after sending")

    assert callbacks == [] and mailoutbox == []
    assert snapshot(trip) == before


# --- Options, the choice and reopening --------------------------------------------------


def test_options_are_shared_only_with_a_live_offer(market, personas, north, officer):
    trip = journey(market, personas, north, upto="sourcing")
    market_services.quote_record_declined(by=officer, request=trip.request, service=market.good,
                                          reason="Full")
    offer = market_services.quote_record(by=officer, request=trip.request, service=market.spot,
                                         quoted_weekly_price="1000")
    market_services.quote_withdraw(by=officer, quote=offer, reason="Placed another child")
    before = snapshot(trip)

    with pytest.raises(InvalidInput):
        sourcing.options_share(by=officer, referral=trip.referral)
    assert snapshot(trip) == before


def test_sharing_options_moves_the_referral_on(market, personas, north, officer):
    trip = journey(market, personas, north, upto="options_ready")

    assert trip.referral.status == S.OPTIONS_READY
    assert trip.referral.status_changes.last().reason == "2 offer(s) ready to compare"


def test_the_social_worker_chooses_with_a_reason(market, personas, north, social_worker):
    trip = journey(market, personas, north, upto="provider_chosen")

    link = sourcing.open_request_link(trip.referral)
    assert trip.referral.status == S.PROVIDER_CHOSEN
    assert link.chosen_quote == trip.quotes[market.good.pk]
    assert (link.chosen_by, link.choice_reason) == (social_worker, "Near school")
    assert link.chosen_at is not None


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_choice_needs_a_reason(market, personas, north, social_worker, reason):
    trip = journey(market, personas, north, upto="options_ready")
    before = snapshot(trip)

    with pytest.raises(InvalidInput) as refused:
        sourcing.offer_choose(by=social_worker, referral=trip.referral,
                              quote=trip.quotes[market.good.pk], reason=reason)
    assert refused.value.field == "reason"
    assert snapshot(trip) == before


def test_only_a_live_offer_of_this_referral_can_be_chosen(market, personas, north, officer,
                                                           social_worker):
    trip = journey(market, personas, north, upto="options_ready")
    other = journey(market, personas, north, upto="offers")
    market_services.quote_decline(by=officer, quote=trip.quotes[market.spot.pk], reason="Dear")
    before = snapshot(trip)

    for quote in (other.quotes[market.good.pk], trip.quotes[market.spot.pk]):
        with pytest.raises(InvalidInput) as refused:
            sourcing.offer_choose(by=social_worker, referral=trip.referral, quote=quote,
                                  reason="Fits")
        assert refused.value.field == "quote"
    assert snapshot(trip) == before


def test_reopening_clears_the_choice(market, personas, north, officer):
    trip = journey(market, personas, north, upto="provider_chosen")

    with pytest.raises(InvalidInput):
        sourcing.choice_reopen(by=officer, referral=trip.referral, reason=" ")
    sourcing.choice_reopen(by=officer, referral=trip.referral, reason="Provider withdrew")

    trip.refresh()
    link = sourcing.open_request_link(trip.referral)
    assert trip.referral.status == S.OPTIONS_READY
    assert (link.chosen_quote, link.chosen_by, link.chosen_at, link.choice_reason) == (
        None, None, None, "")


# --- Closing without a placement --------------------------------------------------------


def test_closing_with_no_offer_at_all_records_unmet_demand(market, personas, north, officer):
    trip = journey(market, personas, north, upto="sourcing")
    market_services.quote_record_declined(by=officer, request=trip.request, service=market.good,
                                          reason="Full")

    sourcing.sourcing_close_without_placement(by=officer, referral=trip.referral,
                                              reason="Nobody can take her")

    trip.refresh()
    assert trip.referral.status == S.READY_FOR_SOURCING and trip.request.status == R.CLOSED
    unmet = UnmetDemand.objects.get(referral=trip.referral)
    assert (unmet.kind, unmet.sought, unmet.obtained) == (UnmetDemand.Kind.NO_OFFER, "U4", "")
    assert sourcing.open_request_link(trip.referral) is None


def test_closing_after_offers_came_back_is_not_unmet_demand(market, personas, north, officer):
    trip = journey(market, personas, north, upto="options_ready")

    sourcing.sourcing_close_without_placement(by=officer, referral=trip.referral,
                                              reason="None suitable")

    trip.refresh()
    assert trip.referral.status == S.READY_FOR_SOURCING
    assert not UnmetDemand.objects.exists()
    assert set(trip.request.quotes.values_list("status", flat=True)) == {Q_.DECLINED}


def test_closing_a_draft_cancels_it_without_moving_the_referral(market, personas, north,
                                                                officer):
    trip = journey(market, personas, north, upto="started")

    sourcing.sourcing_close_without_placement(by=officer, referral=trip.referral,
                                              reason="Found in-house")

    trip.refresh()
    assert trip.request.status == R.CANCELLED and trip.referral.status == S.READY_FOR_SOURCING
    assert not trip.referral.status_changes.filter(to_status=S.READY_FOR_SOURCING,
                                                   by=officer).exists()
    assert not UnmetDemand.objects.exists()
    # …and sourcing can start again.
    assert sourcing.sourcing_start(by=officer, referral=trip.referral).status == R.DRAFT


def test_closing_needs_a_reason(market, personas, north, officer):
    trip = journey(market, personas, north, upto="sourcing")
    before = snapshot(trip)

    with pytest.raises(InvalidInput):
        sourcing.sourcing_close_without_placement(by=officer, referral=trip.referral, reason="")
    assert snapshot(trip) == before


# --- Confirming -------------------------------------------------------------------------


def add_discount(provider, percentage, *, valid_from, valid_to=None, description="Volume"):
    return ProviderDiscount.objects.create(
        provider=provider, basis=ProviderDiscount.Basis.VOLUME, description=description,
        percentage=Decimal(percentage), valid_from=valid_from, valid_to=valid_to,
    )


def test_confirming_creates_one_placement_at_the_agreed_price_less_the_best_discount(
    market, personas, north, officer
):
    day = market.today
    add_discount(market.framework_provider, "2", valid_from=day - 30 * DAY)
    best = add_discount(market.framework_provider, "5", valid_from=day, valid_to=day,
                        description="second child")
    add_discount(market.framework_provider, "10", valid_from=day - 30 * DAY, valid_to=day - DAY)
    add_discount(market.framework_provider, "15", valid_from=day + DAY)
    trip = journey(market, personas, north, upto="options_ready")
    good = trip.quotes[market.good.pk]
    market_services.quote_negotiate(by=officer, quote=good, kind="agreed", weekly_price="845.50")
    sourcing.offer_choose(by=personas[SW], referral=trip.referral, quote=good, reason="Near")

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert Placement.objects.get() == placement
    cost = placement.costs.get()
    # 845.50 × 95% = 803.225 → 803.23 (half up)
    assert cost.weekly_amount == Decimal("803.23")
    assert (cost.effective_from, cost.effective_to, cost.reason) == (
        day, None, PlacementCost.Reason.INITIAL)
    assert cost.note == "Agreed £845.50 a week (quoted £900.00), less 5% second child."
    good.refresh_from_db()
    assert good.status == Q_.ACCEPTED and good.discount == best
    assert (placement.child, placement.referral, placement.service, placement.quote) == (
        trip.referral.child, trip.referral, market.good, good)
    assert (placement.placement_type, placement.place_provider, placement.on_framework) == (
        "U4", market.framework_provider.place_provider, True)
    assert placement.start_date == day and placement.created_by == officer


def test_confirming_declines_the_other_offers_and_closes_the_request(
    market, personas, north, officer
):
    trip = journey(market, personas, north, upto="provider_chosen",
                   services=[market.good, market.spot, market.far],
                   prices={market.good.pk: "900", market.spot.pk: "1100"})

    sourcing.placement_confirm(by=officer, referral=trip.referral)

    trip.refresh()
    assert trip.referral.status == S.PLACED and trip.request.status == R.CLOSED
    assert dict(trip.request.quotes.values_list("service_id", "status")) == {
        market.good.pk: Q_.ACCEPTED, market.spot.pk: Q_.DECLINED}
    assert trip.request.invitations.get(service=market.far).status == "no_response"
    assert sourcing.open_request_link(trip.referral) is None
    assert trip.referral.status_changes.last().to_status == S.PLACED


def test_each_provider_hears_the_outcome_once(
    market, personas, north, officer, mailoutbox, django_capture_on_commit_callbacks
):
    trip = journey(market, personas, north, upto="provider_chosen")
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sourcing.placement_confirm(by=officer, referral=trip.referral)
    market_services.send_provider_emails.delay(kind="outcome", request_id=trip.request.pk)

    outcomes = [m for m in mailoutbox if "has closed" in m.subject]
    assert sorted(m.to[0] for m in outcomes) == ["offers@framework.example",
                                                 "offers@spot.example"]
    for message in outcomes:
        for detail in child_details(trip.referral.child):
            assert detail not in message.body and detail not in message.subject


def test_confirming_a_different_quote_from_the_chosen_one_is_a_conflict(
    market, personas, north, officer
):
    trip = journey(market, personas, north, upto="provider_chosen")
    before = snapshot(trip)

    with pytest.raises(Conflict):
        sourcing.placement_confirm(by=officer, referral=trip.referral,
                                   quote=trip.quotes[market.spot.pk])
    assert snapshot(trip) == before
    # The chosen quote itself may be named.
    sourcing.placement_confirm(by=officer, referral=trip.referral,
                               quote=trip.quotes[market.good.pk])


def test_a_chosen_offer_withdrawn_since_cannot_be_confirmed(market, personas, north, officer):
    trip = journey(market, personas, north, upto="provider_chosen")
    market_services.quote_withdraw(by=officer, quote=trip.quotes[market.good.pk],
                                   reason="Carer unwell")
    before = snapshot(trip)

    with pytest.raises(InvalidInput):
        sourcing.placement_confirm(by=officer, referral=trip.referral)
    assert snapshot(trip) == before


def test_a_later_start_date_is_used_and_judges_the_discount(market, personas, north, officer):
    start = market.today + 14 * DAY
    add_discount(market.framework_provider, "10", valid_from=market.today,
                 valid_to=start - DAY)
    trip = journey(market, personas, north, upto="provider_chosen")

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral, start_date=start)

    assert placement.start_date == start
    assert placement.costs.get().weekly_amount == Decimal("900.00")


def test_a_discount_can_be_left_off_when_confirming(market, personas, north, officer):
    add_discount(market.framework_provider, "10", valid_from=market.today)
    trip = journey(market, personas, north, upto="provider_chosen")

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral,
                                           apply_discount=False)

    assert placement.costs.get().weekly_amount == Decimal("900.00")
    assert placement.quote.discount is None


def test_the_distance_from_home_is_recorded(market, personas, north, officer):
    trip = journey(market, personas, north, upto="provider_chosen")

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert placement.distance_from_home_miles == Decimal("1.9")
    assert not UnmetDemand.objects.exists()


@pytest.mark.parametrize(
    ("area", "out_of_authority"),
    [("", False), ("LOCAL", False), ("Leeds", True)],
)
def test_out_of_authority_follows_the_services_local_authority(
    market, personas, north, officer, settings, area, out_of_authority
):
    market.good.local_authority_area = settings.LOCAL_AUTHORITY_AREA if area == "LOCAL" else area
    market.good.save(update_fields=["local_authority_area"])
    trip = journey(market, personas, north, upto="provider_chosen")

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert placement.out_of_authority is out_of_authority


def test_a_home_district_that_is_not_known_leaves_the_distance_empty(market, north, personas,
                                                                     officer):
    referral = ready_referral(team=north, wanted_start_date=market.today,
                              child=None)
    referral.child.home_postcode = "ZZ9 9ZZ"
    referral.child.save(update_fields=["home_postcode"])
    trip = journey(market, personas, north, upto="provider_chosen", referral=referral,
                   use_referral_distance=False)

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert placement.distance_from_home_miles is None
    assert not UnmetDemand.objects.exists()


# --- The child's current placement ------------------------------------------------------


@pytest.fixture
def current_placement(market):
    """Lives with whoever ready_referral's next child will be: filled in per test."""

    def make(child):
        placement = PlacementFactory(child=child, start_date=market.today - 100 * DAY,
                                     service=market.spot)
        PlacementCostFactory(placement=placement, effective_from=placement.start_date,
                             effective_to=market.today - 50 * DAY)
        PlacementCostFactory(placement=placement, effective_from=market.today - 50 * DAY,
                             weekly_amount=Decimal("850.00"))
        return placement

    return make


def test_the_current_placement_ends_the_day_the_new_one_starts(
    market, personas, north, officer, current_placement
):
    trip = journey(market, personas, north, upto="provider_chosen")
    current = current_placement(trip.referral.child)

    new = sourcing.placement_confirm(by=officer, referral=trip.referral,
                                     end_reason=ReasonPlaceChange.CARPL)

    current.refresh_from_db()
    assert (current.end_date, current.reason_for_change) == (new.start_date, "CARPL")
    assert list(current.costs.values_list("effective_from", "effective_to")) == [
        (market.today - 100 * DAY, market.today - 50 * DAY),
        (market.today - 50 * DAY, new.start_date),
    ]
    assert Placement.objects.filter(child=trip.referral.child, end_date__isnull=True).get() == new


def test_a_cost_row_running_past_the_new_start_is_cut_short(
    market, personas, north, officer, current_placement
):
    trip = journey(market, personas, north, upto="provider_chosen")
    current = current_placement(trip.referral.child)
    current.costs.filter(effective_to__isnull=True).update(effective_to=market.today + 30 * DAY)

    sourcing.placement_confirm(by=officer, referral=trip.referral, end_reason="CARPL")

    assert current.costs.order_by("effective_from").last().effective_to == market.today


def test_ending_the_current_placement_needs_a_reason_and_nothing_happens_without(
    market, personas, north, officer, current_placement
):
    trip = journey(market, personas, north, upto="provider_chosen")
    current = current_placement(trip.referral.child)
    before = snapshot(trip)

    with pytest.raises(InvalidInput) as refused:
        sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert refused.value.field == "end_reason"
    assert snapshot(trip) == before  # the quote is not accepted, the request still open
    current.refresh_from_db()
    assert current.end_date is None and current.costs.filter(effective_to__isnull=True).exists()


def test_a_new_placement_must_start_after_the_current_one_began(
    market, personas, north, officer, current_placement
):
    trip = journey(market, personas, north, upto="provider_chosen")
    current = current_placement(trip.referral.child)
    before = snapshot(trip)

    with pytest.raises(InvalidInput) as refused:
        sourcing.placement_confirm(by=officer, referral=trip.referral, end_reason="CARPL",
                                   start_date=current.start_date)

    assert refused.value.field == "start_date"
    assert snapshot(trip) == before


def test_an_overlapping_placement_rolls_everything_back(market, personas, north, officer):
    """The child already has a (booked, ended) placement overlapping the new start: the
    database or the service refuses it, and nothing of the confirmation survives."""
    trip = journey(market, personas, north, upto="provider_chosen")
    booked = PlacementFactory(child=trip.referral.child, service=market.spot,
                              start_date=market.today + 3 * DAY,
                              end_date=market.today + 10 * DAY, reason_for_change="OTHER")
    before = snapshot(trip)

    with pytest.raises(Conflict):
        sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert snapshot(trip) == before
    assert list(Placement.objects.all()) == [booked]
    assert trip.quotes[market.good.pk].status == Q_.OFFERED
    assert trip.request.status == R.SENT and trip.referral.status == S.PROVIDER_CHOSEN


def test_a_placement_that_ended_before_the_start_does_not_overlap(market, personas, north,
                                                                  officer):
    trip = journey(market, personas, north, upto="provider_chosen")
    PlacementFactory(child=trip.referral.child, service=market.spot,
                     start_date=market.today - 30 * DAY, end_date=market.today,
                     reason_for_change="OTHER")

    sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert Placement.objects.filter(child=trip.referral.child).count() == 2


# --- Unmet demand -----------------------------------------------------------------------


def test_a_different_type_from_the_one_sought_is_unmet_demand(market, personas, north,
                                                             officer):
    trip = journey(market, personas, north, upto="provider_chosen", placement_type="K2",
                   services=[market.other_type], prices={market.other_type.pk: "3500"})

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert placement.placement_type == "K2" and placement.on_framework is False
    unmet = UnmetDemand.objects.get()
    assert (unmet.kind, unmet.sought, unmet.obtained) == (
        UnmetDemand.Kind.TYPE_DIFFERS, "U4", "K2")


@pytest.mark.parametrize("must_be_near", [True, False])
def test_a_placement_over_20_miles_away_is_unmet_demand_when_near_was_wanted(
    market, personas, north, officer, must_be_near
):
    referral = ready_referral(team=north, wanted_start_date=market.today,
                              must_be_within_20_miles=must_be_near)
    trip = journey(market, personas, north, upto="provider_chosen", referral=referral,
                   services=[market.far], prices={market.far.pk: "800"})

    placement = sourcing.placement_confirm(by=officer, referral=trip.referral)

    assert placement.distance_from_home_miles == Decimal("22.3")
    kinds = list(UnmetDemand.objects.values_list("kind", "sought", "obtained"))
    assert kinds == ([(UnmetDemand.Kind.TOO_FAR, "within 20 miles", "22.3 miles")]
                     if must_be_near else [])


# --- Two officers confirming at once (PostgreSQL) ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_officers_confirming_at_once_make_one_placement(role_groups, personas, north):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    market = build_market()
    trip = journey(market, personas, north, upto="provider_chosen")
    officers = [personas[CO], UserFactory(username="officer_two", roles=[CO])]
    both_ready = threading.Barrier(2, timeout=10)
    outcomes = {}

    def confirm(officer):
        try:
            both_ready.wait()
            sourcing.placement_confirm(by=officer, referral=trip.referral)
        except (TransitionNotAllowed, Conflict) as error:
            outcomes[officer.username] = type(error).__name__
        except Exception as error:  # anything else fails the assertions below
            outcomes[officer.username] = repr(error)
        else:
            outcomes[officer.username] = "placed"
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(o,)) for o in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) in (["Conflict", "placed"],
                                         ["TransitionNotAllowed", "placed"]), outcomes
    assert Placement.objects.filter(child=trip.referral.child).count() == 1
    assert Quote.objects.filter(status=Q_.ACCEPTED).count() == 1
    assert PlacementCost.objects.count() == 1
    assert trip.referral.status_changes.filter(to_status=S.PLACED).count() == 1
