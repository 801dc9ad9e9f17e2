"""The sourcing journey through the services: start, send, answers, negotiation, options,
choice, confirmation."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import InvalidInput, TransitionNotAllowed
from core.roles import Role
from placements.models import Placement, ReferralStatus, UnmetDemand
from placements.services import sourcing
from placements.services.referrals import referral_withdraw
from providers.matching import quote_flags, quotes_with_context, shortlist
from providers.models import (
    FrameworkRate,
    NegotiationStep,
    Quote,
    SourcingInvitation,
    SourcingRequest,
)
from providers.reference import ProviderKind
from providers.services import sourcing as market_services
from tests.factories import PlacementCostFactory, PlacementFactory, ProviderFactory
from tests.sourcing import _service, market_fixture, ready_referral  # noqa: F401 (fixtures)

S = ReferralStatus


def test_whole_journey_creates_a_placement_at_the_agreed_price(
    market, personas, north, mailoutbox, django_capture_on_commit_callbacks
):
    officer = personas[Role.COMMISSIONING_OFFICER]
    social_worker = personas[Role.SOCIAL_WORKER]
    referral = ready_referral(team=north)
    request = sourcing.sourcing_start(by=officer, referral=referral, needs=["autism"])
    assert request.status == SourcingRequest.Status.DRAFT
    assert request.area == "LS6" and request.age_years == 12

    sourcing.sourcing_send(
        by=officer, referral=referral,
        service_ids=[market.good.pk, market.spot.pk, market.far.pk],
        off_framework_reasons={market.spot.pk: "Only two framework homes matched."},
    )
    referral.refresh_from_db()
    assert referral.status == S.SOURCING
    request.refresh_from_db()
    assert request.status == SourcingRequest.Status.SENT
    assert request.response_deadline == request.sent_at + datetime.timedelta(hours=120)
    assert request.invitations.get(service=market.spot).on_framework is False

    good = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price="900.00",
        inclusions="Respite", available_from=referral.wanted_start_date,
    )
    market_services.quote_record(
        by=officer, request=request, service=market.spot, quoted_weekly_price="1100",
    )
    market_services.quote_record_declined(
        by=officer, request=request, service=market.far, reason="No carers near the child."
    )
    market_services.quote_negotiate(
        by=officer, quote=good, kind=NegotiationStep.Kind.COUNTER_OFFER, weekly_price="800"
    )
    market_services.quote_negotiate(
        by=officer, quote=good, kind=NegotiationStep.Kind.AGREED, weekly_price="840.50"
    )
    good.refresh_from_db()
    assert good.negotiated_saving == Decimal("59.50") * 52

    sourcing.options_share(by=officer, referral=referral)
    sourcing.offer_choose(by=social_worker, referral=referral, quote=good, reason="Near school")
    with django_capture_on_commit_callbacks(execute=True):
        placement = sourcing.placement_confirm(by=officer, referral=referral)

    referral.refresh_from_db()
    assert referral.status == S.PLACED
    assert placement.costs.get().weekly_amount == Decimal("840.50")
    assert placement.on_framework and placement.distance_from_home_miles < 20
    good.refresh_from_db()
    assert good.status == Quote.Status.ACCEPTED
    assert Quote.objects.get(service=market.spot).status == Quote.Status.DECLINED
    request.refresh_from_db()
    assert request.status == SourcingRequest.Status.CLOSED
    assert not UnmetDemand.objects.exists()
    assert Placement.objects.count() == 1
    assert all(i.outcome_notified_at for i in SourcingInvitation.objects.all())
    outcomes = [m for m in mailoutbox if "has closed" in m.subject]
    assert len(outcomes) == 3


@pytest.mark.parametrize("summary", [
    "Jordan loves football and needs a calm home.",
    "Lives at LS6 3QR with her aunt.",
    "Lives at ls63qr.",
    "Local ID {id} on our system.",
    "Born {dob:%d/%m/%Y}.",
])
def test_a_summary_identifying_the_child_is_refused(market, personas, north, summary):
    referral = ready_referral(team=north)
    child = referral.child
    child.first_name = "Jordan"
    child.save()
    with pytest.raises(InvalidInput) as refused:
        sourcing.sourcing_start(
            by=personas[Role.COMMISSIONING_OFFICER], referral=referral,
            needs_summary=summary.format(id=child.local_child_id, dob=child.date_of_birth),
        )
    assert refused.value.field == "needs_summary"
    assert not SourcingRequest.objects.exists()


def test_a_name_that_is_also_a_word_stops_only_the_name(market, personas, north):
    referral = ready_referral(team=north)
    referral.child.first_name = "Will"
    referral.child.save()
    request = sourcing.sourcing_start(
        by=personas[Role.COMMISSIONING_OFFICER], referral=referral,
        needs_summary="She will need a carer at home after school.",
    )
    assert request.needs_summary.startswith("She will need")


def test_confirming_a_move_drops_the_old_placements_future_cost_rows(market, personas, north):
    officer = personas[Role.COMMISSIONING_OFFICER]
    referral = ready_referral(team=north)
    start = referral.wanted_start_date
    old = PlacementFactory(child=referral.child, start_date=start - datetime.timedelta(days=90))
    PlacementCostFactory(placement=old, effective_from=old.start_date,
                         effective_to=start + datetime.timedelta(days=30))
    PlacementCostFactory(placement=old, effective_from=start + datetime.timedelta(days=30))
    request = sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(by=officer, referral=referral, service_ids=[market.good.pk])
    quote = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price="800"
    )
    sourcing.options_share(by=officer, referral=referral)
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=referral, quote=quote,
                          reason="Close to school")
    sourcing.placement_confirm(by=officer, referral=referral, end_reason="CARPL")
    old.refresh_from_db()
    assert old.end_date == start
    assert list(old.costs.values_list("effective_from", "effective_to")) == [
        (old.start_date, start)
    ]


def test_the_councils_own_service_comes_first_and_needs_no_off_framework_reason(
    market, personas, north
):
    own = _service(ProviderFactory(kind=ProviderKind.IN_HOUSE, place_provider="PR1"),
                   "Council Fostering", postcode="YO1 7AA", district="YO1")
    officer = personas[Role.COMMISSIONING_OFFICER]
    referral = ready_referral(team=north)
    request = sourcing.sourcing_start(by=officer, referral=referral, use_referral_distance=False)
    proposed = [c.service for c in shortlist(request=request).proposed()]
    assert proposed[0] == own  # before nearer framework homes

    sourcing.sourcing_send(by=officer, referral=referral, service_ids=[own.pk])
    invitation = request.invitations.get()
    assert not invitation.on_framework
    assert invitation.off_framework_reason == "The council's own provision."


def _sent(market, personas, north, **referral_fields):
    officer = personas[Role.COMMISSIONING_OFFICER]
    referral = ready_referral(team=north, **referral_fields)
    request = sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(by=officer, referral=referral, service_ids=[market.good.pk])
    return officer, referral, request


def test_withdrawing_mid_sourcing_closes_the_request_and_tells_the_provider(
    market, personas, north, mailoutbox, django_capture_on_commit_callbacks
):
    officer, referral, request = _sent(market, personas, north)
    quote = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price="800"
    )
    with django_capture_on_commit_callbacks(execute=True):
        referral_withdraw(referral=referral, by=personas[Role.SOCIAL_WORKER], reason="Went home")
    request.refresh_from_db()
    quote.refresh_from_db()
    assert request.status == SourcingRequest.Status.CLOSED
    assert quote.status == Quote.Status.DECLINED
    assert [m.subject for m in mailoutbox if "has closed" in m.subject]
    with pytest.raises(TransitionNotAllowed):
        market_services.quote_negotiate(by=officer, quote=quote, kind="agreed", weekly_price="700")


def test_withdrawing_with_a_draft_request_cancels_it(market, personas, north):
    officer = personas[Role.COMMISSIONING_OFFICER]
    referral = ready_referral(team=north)
    request = sourcing.sourcing_start(by=officer, referral=referral)
    referral_withdraw(referral=referral, by=personas[Role.SOCIAL_WORKER], reason="Went home")
    request.refresh_from_db()
    assert request.status == SourcingRequest.Status.CANCELLED


@pytest.mark.parametrize("price", ["1000000.01", "9999999999.995", "1e30"])
def test_absurd_prices_are_refused_before_the_database_sees_them(market, personas, north, price):
    officer, referral, request = _sent(market, personas, north)
    with pytest.raises(InvalidInput) as refused:
        market_services.quote_record(
            by=officer, request=request, service=market.good, quoted_weekly_price=price
        )
    assert refused.value.field == "quoted_weekly_price"


def test_a_reason_longer_than_its_column_is_refused(market, personas, north):
    officer, referral, request = _sent(market, personas, north)
    quote = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price="800"
    )
    with pytest.raises(InvalidInput):
        market_services.quote_decline(by=officer, quote=quote, reason="x" * 301)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.OFFERED


def _chosen(market, personas, north, **request_fields):
    officer, referral, request = _sent(market, personas, north)
    if request_fields:
        SourcingRequest.objects.filter(pk=request.pk).update(**request_fields)
    quote = market_services.quote_record(
        by=officer, request=request, service=market.good, quoted_weekly_price="800"
    )
    sourcing.options_share(by=officer, referral=referral)
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=referral, quote=quote,
                          reason="Near school")
    return officer, referral


def test_a_start_before_the_back_dating_window_is_refused(market, personas, north):
    officer, referral = _chosen(market, personas, north)
    with pytest.raises(InvalidInput) as refused:
        sourcing.placement_confirm(by=officer, referral=referral,
                                   start_date=market.today - datetime.timedelta(days=200))
    assert refused.value.field == "start_date"
    assert not Placement.objects.exists()


def test_a_start_after_the_planned_end_is_refused_with_its_own_message(market, personas, north):
    end = timezone.localdate() + datetime.timedelta(days=30)
    officer, referral = _chosen(market, personas, north, planned_end_date=end)
    with pytest.raises(InvalidInput, match="planned end"):
        sourcing.placement_confirm(by=officer, referral=referral,
                                   start_date=end + datetime.timedelta(days=1))


def test_confirming_takes_a_vacancy(market, personas, north):
    officer, referral = _chosen(market, personas, north)
    sourcing.placement_confirm(by=officer, referral=referral)
    market.good.refresh_from_db()
    assert market.good.vacancies == 0


def test_an_offer_starting_next_financial_year_is_held_to_next_years_ceiling(
    market, personas, north
):
    FrameworkRate.objects.create(
        framework=market.framework, lot=market.lot, placement_type="U4",
        financial_year=market.year + 1, ceiling_weekly_price=Decimal("950.00"),
    )
    officer, referral, request = _sent(market, personas, north)
    next_april = datetime.date(market.year + 1, 4, 5)
    market_services.quote_record(by=officer, request=request, service=market.good,
                                 quoted_weekly_price="900", available_from=next_april)
    (quote,) = quotes_with_context(request=request)
    assert quote.ceiling == Decimal("950.00")
    assert "above_ceiling" not in {flag.code for flag in quote_flags(quote)}
