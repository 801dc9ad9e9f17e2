"""The sourcing journey through the services: start, send, answers, negotiation, options,
choice, confirmation."""

import datetime
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.roles import Role
from placements.models import Placement, ReferralStatus, UnmetDemand
from placements.services import sourcing
from providers.matching import shortlist
from providers.models import NegotiationStep, Quote, SourcingInvitation, SourcingRequest
from providers.reference import ProviderKind
from providers.services import sourcing as market_services
from tests.factories import PlacementCostFactory, PlacementFactory, ProviderFactory
from tests.sourcing import _service, build_market, ready_referral

S = ReferralStatus


@pytest.fixture
def market(db):
    return build_market()


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


def test_a_summary_naming_the_child_is_refused(market, personas, north):
    referral = ready_referral(team=north)
    referral.child.first_name = "Jordan"
    referral.child.save()
    with pytest.raises(InvalidInput) as refused:
        sourcing.sourcing_start(
            by=personas[Role.COMMISSIONING_OFFICER], referral=referral,
            needs_summary="jordan loves football and needs a calm home.",
        )
    assert refused.value.field == "needs_summary"
    assert not SourcingRequest.objects.exists()


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
