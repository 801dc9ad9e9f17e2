"""Choosing an offer and making it a placement, through HTTP: the side-by-side comparison,
the social worker's choice with a reason, reopening it, the officer's confirmation, the
placement agreement with its funding split, and the savings report; who may do what; and
query counts that do not grow with the rows."""

import datetime
import functools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from placements.models import Contribution, Placement, ReferralStatus
from placements.services import sourcing
from providers.models import NegotiationStep, ProviderDiscount, Quote
from providers.reference import financial_year_label, financial_year_start
from providers.services import sourcing as market_services
from tests import pages
from tests.factories import (
    ContributionFactory,
    PlacementCostFactory,
    PlacementFactory,
    QuoteFactory,
    ServiceFactory,
    UserFactory,
)
from tests.pages import error_links, plain, text
from tests.sourcing import market_fixture, officer_fixture, ready_referral  # noqa: F401 (fixtures)

S = ReferralStatus
CHOSEN_REASON = "Near her school, and the carers have looked after children with autism."


def offers_ready(market, officer, *, team, offers=None, share=True):
    """A referral whose request has the given offers [(service, quoted, agreed or None)],
    shared with the child's team (options ready)."""
    if offers is None:
        offers = [(market.good, "900.00", "840.50"), (market.spot, "1100.00", None)]
    referral = ready_referral(team=team)
    sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(
        by=officer, referral=referral, service_ids=[service.pk for service, *_ in offers],
        off_framework_reasons={market.spot.pk: "Only one framework home matched."},
    )
    request = sourcing.open_request_link(referral).sourcing_request
    for service, quoted, agreed in offers:
        quote = market_services.quote_record(
            by=officer, request=request, service=service, quoted_weekly_price=quoted,
            inclusions=f"Education support and weekly therapy at {service.name}",
        )
        if agreed:
            market_services.quote_negotiate(
                by=officer, quote=quote, kind=NegotiationStep.Kind.AGREED, weekly_price=agreed
            )
    if share:
        sourcing.options_share(by=officer, referral=referral)
    referral.refresh_from_db()
    return referral


def chosen(market, officer, personas, *, team, quote_service=None):
    referral = offers_ready(market, officer, team=team)
    quote = Quote.objects.get(service=quote_service or market.good,
                              sourcing_request=sourcing.open_request_link(referral).sourcing_request)
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=referral, quote=quote,
                          reason=CHOSEN_REASON)
    referral.refresh_from_db()
    return referral, quote


def options_url(referral):
    return reverse("sourcing-options", args=[referral.pk])


def confirm_url(referral):
    return reverse("placement-confirm", args=[referral.pk])


def link_of(referral):
    return sourcing.open_request_link(referral)


# --- The comparison and the choice --------------------------------------------------------


def test_the_social_worker_compares_the_offers_side_by_side(client, market, officer, personas, north):
    referral = offers_ready(market, officer, team=north)
    client.force_login(personas[Role.SOCIAL_WORKER])

    page = text(client.get(options_url(referral)))

    for shown in (
        "Good Carers", "Framework Fostering", "Spot Carers", "Spot Fostering", "Outstanding",
        "£900.00", "£840.50", "£1,100.00", "Not agreed yet", "£850.00", "£9.50 below",
        "Off-framework: no ceiling", "Education support and weekly therapy at Good Carers",
        "Off-framework", "The score explains itself, it does not decide", "Choose this offer",
        "Options ready",
    ):
        assert shown in page, shown
    # The best score first: outstanding quality outweighs the dearer price at 60/40.
    assert page.index("Spot Carers") < page.index("Good Carers")
    assert "Quality 100 (Outstanding) × 60% + cost 76.4" in page


def test_the_social_worker_chooses_an_offer_with_a_reason(client, market, officer, personas, north):
    referral = offers_ready(market, officer, team=north)
    good = Quote.objects.get(service=market.good)
    client.force_login(personas[Role.SOCIAL_WORKER])

    response = client.post(options_url(referral), {"quote": good.pk, "reason": CHOSEN_REASON})

    assert response["Location"] == options_url(referral)
    referral.refresh_from_db()
    assert referral.status == S.PROVIDER_CHOSEN
    link = link_of(referral)
    assert (link.chosen_quote, link.chosen_by, link.choice_reason) == (
        good, personas[Role.SOCIAL_WORKER], CHOSEN_REASON)
    page = text(client.get(response["Location"]))
    assert "You chose Good Carers." in page
    assert CHOSEN_REASON in page and personas[Role.SOCIAL_WORKER].get_full_name() in page
    assert "Choose this offer" not in page
    assert "Confirm placement" not in page  # the officer's button
    assert "Reopen the choice" in page  # the team may reopen


def test_a_choice_without_a_reason_is_refused_and_nothing_changes(
    client, market, officer, personas, north
):
    referral = offers_ready(market, officer, team=north)
    good = Quote.objects.get(service=market.good)
    client.force_login(personas[Role.SOCIAL_WORKER])

    response = client.post(options_url(referral), {"quote": good.pk, "reason": "  "})
    nothing_chosen = client.post(options_url(referral), {"reason": CHOSEN_REASON})

    assert error_links(response) == ["id_reason"]
    assert "Enter why you chose this offer" in text(response)
    assert error_links(nothing_chosen) == ["id_quote_0"]
    referral.refresh_from_db()
    assert referral.status == S.OPTIONS_READY
    assert link_of(referral).chosen_quote is None


def test_a_service_refusal_shows_in_the_error_summary(client, market, officer, personas, north):
    """The team manager chose first; the social worker's page still offers the radios."""
    referral = offers_ready(market, officer, team=north)
    good, spot = Quote.objects.get(service=market.good), Quote.objects.get(service=market.spot)
    client.force_login(personas[Role.SOCIAL_WORKER])
    client.get(options_url(referral))
    sourcing.offer_choose(by=personas[Role.TEAM_MANAGER], referral=referral, quote=spot,
                          reason="Outstanding home")

    response = client.post(options_url(referral), {"quote": good.pk, "reason": CHOSEN_REASON})

    assert response.status_code == 200
    assert "An offer can be chosen only when options are ready." in text(response)
    assert link_of(referral).chosen_quote == spot


def test_another_teams_social_worker_cannot_see_or_choose(
    client, market, officer, personas, north, south
):
    referral = offers_ready(market, officer, team=north)
    good = Quote.objects.get(service=market.good)
    client.force_login(UserFactory(roles=[Role.SOCIAL_WORKER], team=south))

    assert client.get(options_url(referral)).status_code == 404
    assert client.post(options_url(referral), {"quote": good.pk, "reason": "Mine"}).status_code == 404
    referral.refresh_from_db()
    assert referral.status == S.OPTIONS_READY


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.DIRECTOR, Role.COMMISSIONING_OFFICER])
def test_others_who_see_the_referral_read_the_comparison_but_cannot_choose(
    client, market, officer, personas, north, role
):
    referral = offers_ready(market, officer, team=north)
    good = Quote.objects.get(service=market.good)
    client.force_login(personas[role])

    page = client.get(options_url(referral))
    response = client.post(options_url(referral), {"quote": good.pk, "reason": "I prefer it"})

    assert page.status_code == 200 and "Good Carers" in text(page)
    assert "Choose this offer" not in text(page)
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == S.OPTIONS_READY


def test_finance_does_not_see_the_comparison(client, market, officer, personas, north):
    referral = offers_ready(market, officer, team=north)
    client.force_login(personas[Role.FINANCE_MANAGER])

    assert client.get(options_url(referral)).status_code == 404


def test_offers_are_not_chosen_before_they_are_shared(client, market, officer, personas, north):
    referral = offers_ready(market, officer, team=north, share=False)
    client.force_login(personas[Role.SOCIAL_WORKER])

    page = text(client.get(options_url(referral)))

    assert "still collecting and negotiating offers" in page
    assert "Choose this offer" not in page


def test_the_choice_is_reopened_with_a_reason(client, market, officer, personas, north):
    referral, _ = chosen(market, officer, personas, team=north)
    client.force_login(officer)
    url = reverse("sourcing-choice-reopen", args=[referral.pk])
    assert url in text(client.get(options_url(referral)))

    refused = client.post(url, {"reason": ""})
    referral.refresh_from_db()
    assert referral.status == S.PROVIDER_CHOSEN
    assert error_links(refused) == ["id_reason"]

    response = client.post(url, {"reason": "The carers' circumstances changed."})
    assert response["Location"] == options_url(referral)
    referral.refresh_from_db()
    assert referral.status == S.OPTIONS_READY
    assert link_of(referral).chosen_quote is None
    assert "The carers' circumstances changed." in text(client.get(options_url(referral)))


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.DIRECTOR, Role.ADMINISTRATOR])
def test_only_the_commissioner_or_the_team_reopen_the_choice(
    client, market, officer, personas, north, role
):
    referral, _ = chosen(market, officer, personas, team=north)
    client.force_login(personas[role])

    response = client.post(reverse("sourcing-choice-reopen", args=[referral.pk]),
                           {"reason": "Not for me to say"})

    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == S.PROVIDER_CHOSEN


# --- Confirmation and the placement agreement ----------------------------------------------


@pytest.fixture
def discount(market):
    return ProviderDiscount.objects.create(
        provider=market.framework_provider, basis=ProviderDiscount.Basis.VOLUME,
        description="Three or more placements", percentage=Decimal("5"),
        valid_from=market.today - datetime.timedelta(days=30),
    )


def test_the_officer_confirms_the_chosen_offer_at_the_discounted_price(
    client, market, officer, personas, north, discount
):
    referral, quote = chosen(market, officer, personas, team=north)
    client.force_login(officer)
    assert confirm_url(referral) in text(client.get(options_url(referral)))

    page = text(client.get(confirm_url(referral)))
    for shown in ("Good Carers", "£840.50", "5%: Three or more placements", "£798.48",
                  "On framework, ceiling £850.00", "cannot be undone", "Apply the provider's discount",
                  CHOSEN_REASON):
        assert shown in page, shown
    assert "Why does the child's current placement end?" not in page  # no current placement
    start = referral.wanted_start_date
    assert f'value="{start.isoformat()}"' in page  # the date picker takes ISO dates only

    response = client.post(confirm_url(referral), {
        "quote": quote.pk, "start_date": start.isoformat(), "apply_discount": "on",
    }, follow=True)

    placement = Placement.objects.get(child=referral.child)
    assert response.redirect_chain == [(reverse("placement-agreement", args=[placement.pk]), 302)]
    assert "Placement confirmed with Good Carers" in text(response)
    referral.refresh_from_db()
    assert referral.status == S.PLACED
    assert placement.start_date == start and placement.service == market.good
    assert placement.costs.get().weekly_amount == Decimal("798.48")  # 840.50 less 5%
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED and quote.discount == discount


def test_the_discount_is_left_off_when_the_officer_unticks_it(
    client, market, officer, personas, north, discount
):
    referral, quote = chosen(market, officer, personas, team=north)
    client.force_login(officer)

    client.post(confirm_url(referral), {
        "quote": quote.pk, "start_date": referral.wanted_start_date.isoformat(),
    })

    assert Placement.objects.get(child=referral.child).costs.get().weekly_amount == Decimal("840.50")


def test_the_agreement_shows_the_fee_and_the_funding_split(
    client, market, officer, personas, north, discount
):
    referral, quote = chosen(market, officer, personas, team=north)
    placement = sourcing.placement_confirm(by=officer, referral=referral)
    ContributionFactory(placement=placement, funder=Contribution.Funder.HEALTH,
                        funder_name="Leeds ICB", weekly_amount=Decimal("100.00"))
    ContributionFactory(placement=placement, funder=Contribution.Funder.EDUCATION,
                        weekly_amount=None, percentage=Decimal("10"))
    client.force_login(officer)

    page = text(client.get(reverse("placement-agreement", args=[placement.pk])))

    for shown in (
        referral.child.local_child_id, referral.child.full_name, market.good.ofsted_urn, "Good",
        "Framework Fostering", "Good Carers", "£798.48",
        "Education support and weekly therapy at Good Carers", "£900.00 a week",
        "£840.50 a week", "5%: Three or more placements", "On framework: Test regional framework",
        "Health (NHS) (Leeds ICB)", "£100.00", "10% of the gross cost", "£79.85",
        "Net cost to the council", "£618.63", "use your browser's print command",
        "Print this page", "css/print.css",
    ):
        assert shown in page, shown


def test_finance_reads_the_agreement_without_the_childs_name(
    client, market, officer, personas, north, south
):
    referral, _ = chosen(market, officer, personas, team=north)
    placement = sourcing.placement_confirm(by=officer, referral=referral)
    url = reverse("placement-agreement", args=[placement.pk])

    client.force_login(personas[Role.FINANCE_MANAGER])
    page = text(client.get(url))
    assert referral.child.local_child_id in page
    assert referral.child.last_name not in page
    assert reverse("referral-detail", args=[referral.pk]) not in page

    client.force_login(personas[Role.SOCIAL_WORKER])
    assert referral.child.full_name in text(client.get(url))

    client.force_login(UserFactory(roles=[Role.SOCIAL_WORKER], team=south))
    assert client.get(url).status_code == 404


def test_a_current_placement_needs_the_reason_it_ends(client, market, officer, personas, north):
    referral, quote = chosen(market, officer, personas, team=north)
    current = PlacementFactory(child=referral.child, service=ServiceFactory(name="Emergency Beds"),
                               start_date=market.today - datetime.timedelta(days=10))
    PlacementCostFactory(placement=current)
    client.force_login(officer)
    start = referral.wanted_start_date
    answers = {"quote": quote.pk, "start_date": start.isoformat(), "apply_discount": "on"}

    page = text(client.get(confirm_url(referral)))
    assert "The child now lives at Emergency Beds" in page
    assert "Why does the child's current placement end?" in page

    missing = client.post(confirm_url(referral), answers)
    assert error_links(missing) == ["id_end_reason_0"]
    assert "Select why the current placement ends" in text(missing)

    too_early = client.post(confirm_url(referral), {
        **answers, "end_reason": "CARPL",
        "start_date": (current.start_date - datetime.timedelta(days=1)).isoformat(),
    })
    assert error_links(too_early) == ["id_start_date"]
    assert "The new placement must start after the current one began" in text(too_early)

    referral.refresh_from_db()
    assert referral.status == S.PROVIDER_CHOSEN
    assert Placement.objects.filter(child=referral.child).count() == 1
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.NEGOTIATING

    response = client.post(confirm_url(referral), {**answers, "end_reason": "CARPL"})
    assert response.status_code == 302
    current.refresh_from_db()
    assert (current.end_date, current.reason_for_change) == (start, "CARPL")
    assert Placement.objects.get(child=referral.child, end_date__isnull=True).service == market.good


def test_a_choice_changed_meanwhile_is_not_confirmed_unseen(
    client, market, officer, personas, north
):
    referral, good = chosen(market, officer, personas, team=north)
    spot = Quote.objects.get(service=market.spot)
    client.force_login(officer)
    client.get(confirm_url(referral))
    sourcing.choice_reopen(by=officer, referral=referral, reason="Carer unwell")
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=referral, quote=spot,
                          reason="Outstanding home")

    response = client.post(confirm_url(referral), {
        "quote": good.pk, "start_date": referral.wanted_start_date.isoformat(),
    }, follow=True)

    assert "The chosen offer changed" in text(response)
    assert "Spot Carers" in text(response)
    assert not Placement.objects.exists()


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.DIRECTOR,
                                  Role.FINANCE_MANAGER, Role.ADMINISTRATOR])
def test_only_a_commissioning_officer_confirms(client, market, officer, personas, north, role):
    referral, quote = chosen(market, officer, personas, team=north)
    client.force_login(personas[role])

    assert client.get(confirm_url(referral)).status_code == 403
    response = client.post(confirm_url(referral), {
        "quote": quote.pk, "start_date": referral.wanted_start_date.isoformat(),
    })

    assert response.status_code == 403
    assert not Placement.objects.exists()


def test_confirming_without_a_chosen_offer_goes_back_to_the_offers(
    client, market, officer, personas, north
):
    referral = offers_ready(market, officer, team=north)
    client.force_login(officer)

    response = client.post(confirm_url(referral), {"start_date": "2030-01-01"}, follow=True)

    assert response.redirect_chain == [(options_url(referral), 302)]
    assert "there is no chosen offer to confirm" in text(response)
    assert not Placement.objects.exists()


# --- Savings ------------------------------------------------------------------------------


def accepted_quote(*, saving, agreed_by, agreed_at, provider_name):
    return QuoteFactory(
        service=ServiceFactory(provider__name=provider_name), status=Quote.Status.ACCEPTED,
        quoted_weekly_price=Decimal("1000.00"), agreed_weekly_price=Decimal("950.00"),
        negotiated_saving=Decimal(saving), agreed_by=agreed_by, agreed_at=agreed_at,
    )


def test_the_savings_report_totals_the_accepted_offers(client, market, officer, personas, north):
    referral, _ = chosen(market, officer, personas, team=north)
    sourcing.placement_confirm(by=officer, referral=referral)  # (900 − 840.50) × 52 = 3,094.00
    colleague = UserFactory(roles=[Role.COMMISSIONING_OFFICER], first_name="Priya",
                            last_name="Shah")
    last_year = timezone.now() - datetime.timedelta(days=400)
    accepted_quote(saving="1200.00", agreed_by=colleague, agreed_at=timezone.now(),
                   provider_name="Hillside Homes")
    accepted_quote(saving="500.50", agreed_by=colleague, agreed_at=last_year,
                   provider_name="Hillside Care")
    QuoteFactory(status=Quote.Status.NEGOTIATING, agreed_weekly_price=Decimal("800.00"),
                 negotiated_saving=Decimal("5200.00"))  # not accepted: not a saving yet
    client.force_login(personas[Role.FINANCE_MANAGER])

    page = plain(client.get(reverse("sourcing-savings")))

    assert "£4,794.50 saved from 3 accepted offers, all years." in page
    for shown in ("Priya Shah", "£1,700.50", "Hillside Homes", "£1,200.00", "Hillside Care",
                  "£500.50", "Framework Fostering", "£3,094.00",
                  financial_year_label(market.year), financial_year_label(market.year - 1)):
        assert shown in page, shown

    this_year = plain(client.get(reverse("sourcing-savings"), {"financial_year": market.year}))
    assert f"£4,294.00 saved from 2 accepted offers in {financial_year_label(market.year)}." in this_year
    assert "Hillside Care" not in this_year

    unknown = client.get(reverse("sourcing-savings"), {"financial_year": "1999"})
    assert error_links(unknown) == ["id_financial_year"]
    assert "£4,794.50 saved" in text(unknown)


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.PANEL_CHAIR,
                                  Role.PANEL_MEMBER])
def test_the_savings_report_is_for_commissioning_finance_and_the_director(
    client, personas, role
):
    client.force_login(personas[role])
    assert client.get(reverse("sourcing-savings")).status_code == 403


@pytest.mark.parametrize("role", [Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER,
                                  Role.DIRECTOR, Role.ADMINISTRATOR])
def test_the_savings_report_readers(client, personas, role):
    client.force_login(personas[role])
    assert "Negotiation savings" in text(client.get(reverse("sourcing-savings")))


# --- The referral page links here -----------------------------------------------------------


def test_the_referral_page_links_to_the_offers_and_the_agreement(
    client, market, officer, personas, north
):
    referral, _ = chosen(market, officer, personas, team=north)
    client.force_login(personas[Role.SOCIAL_WORKER])
    detail = reverse("referral-detail", args=[referral.pk])
    page = text(client.get(detail))
    assert options_url(referral) in page
    assert reverse("sourcing-request", args=[referral.pk]) in page

    placement = sourcing.placement_confirm(by=officer, referral=referral)

    page = text(client.get(detail))
    assert reverse("placement-agreement", args=[placement.pk]) in page
    assert reverse("placement-agreement", args=[placement.pk]) in text(
        client.get(options_url(referral)))


# --- Query counts -----------------------------------------------------------------------------


# Each count follows a first GET that fills the caches (content types, templates).
queries_for = functools.partial(pages.queries_for, warm=True)


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.COMMISSIONING_OFFICER])
def test_the_options_page_uses_the_same_queries_for_1_or_4_offers(
    client, market, officer, personas, north, role
):
    one = offers_ready(market, officer, team=north, offers=[(market.good, "900", "850")])
    four = offers_ready(market, officer, team=north, offers=[
        (market.good, "900", "850"), (market.spot, "1000", None), (market.far, "800", "790"),
        (market.full, "950", None),
    ])
    client.force_login(personas[role])

    assert queries_for(client, options_url(one)) == queries_for(client, options_url(four))


def test_the_options_page_with_a_choice_uses_the_same_queries_for_2_or_4_offers(
    client, market, officer, personas, north
):
    two, _ = chosen(market, officer, personas, team=north)
    four = offers_ready(market, officer, team=north, offers=[
        (market.good, "900", "850"), (market.spot, "1000", None), (market.far, "800", "790"),
        (market.full, "950", None),
    ])
    quote = Quote.objects.get(sourcing_request=link_of(four).sourcing_request, service=market.far)
    sourcing.offer_choose(by=personas[Role.SOCIAL_WORKER], referral=four, quote=quote, reason="Near")
    client.force_login(officer)

    assert queries_for(client, options_url(two)) == queries_for(client, options_url(four))


@pytest.mark.parametrize("role", [Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER])
def test_the_agreement_uses_the_same_queries_for_1_or_3_contributions(
    client, market, officer, personas, north, role
):
    placements = []
    for contributions in (1, 3):
        referral, _ = chosen(market, officer, personas, team=north)
        placement = sourcing.placement_confirm(by=officer, referral=referral)
        ContributionFactory.create_batch(contributions, placement=placement,
                                         weekly_amount=Decimal("10.00"))
        placements.append(placement)
    client.force_login(personas[role])

    one, three = (queries_for(client, reverse("placement-agreement", args=[p.pk]))
                  for p in placements)

    assert one == three


def test_the_savings_page_uses_the_same_queries_for_1_or_4_accepted_offers(client, personas):
    now = timezone.now()
    client.force_login(personas[Role.DIRECTOR])
    year = financial_year_start(timezone.localdate())
    accepted_quote(saving="100.00", agreed_by=personas[Role.COMMISSIONING_OFFICER], agreed_at=now,
                   provider_name="First Homes")
    one = queries_for(client, reverse("sourcing-savings"))
    one_filtered = queries_for(client, reverse("sourcing-savings"), {"financial_year": year})
    for n in range(3):
        accepted_quote(saving="100.00", agreed_by=UserFactory(roles=[Role.COMMISSIONING_OFFICER]),
                       agreed_at=now - datetime.timedelta(days=365 * n), provider_name=f"Homes {n}")

    assert queries_for(client, reverse("sourcing-savings")) == one
    assert queries_for(client, reverse("sourcing-savings"), {"financial_year": year}) == one_filtered
