"""providers.matching: the shortlist and its rules, framework ceilings, quote flags and the
side-by-side comparison. The market (tests/sourcing.py) has one service failing each rule;
the request is ready_referral's child: 12, from LS6, goes missing, U4 within 20 miles."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers import matching
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkMembership,
    FrameworkRate,
    NegotiationStep,
    ProviderDiscount,
    Quote,
    ServiceNeed,
)
from providers.reference import OfstedRating
from providers.services import sourcing as market_services
from tests.sourcing import (  # noqa: F401 (fixtures)
    CEILING,
    _service,
    market_fixture,
    market_request,
    officer_fixture,
    sent_request,
)

DAY = datetime.timedelta(days=1)


def shortlist_for(officer, **fields):
    return matching.shortlist(request=market_request(by=officer, **fields))


def names(candidates):
    return [c.service.name for c in candidates]


# --- The shortlist: each rule alone ---------------------------------------------------


def test_the_shortlist_holds_only_the_services_meeting_every_rule(market, officer):
    result = shortlist_for(officer)

    assert names(result.candidates) == ["Good Carers", "Spot Carers"]
    assert all(c.matches and c.failures == [] for c in result.candidates)
    assert sorted(names(result.excluded)) == ["Careful Carers", "Far Away", "Full House",
                                              "Little Ones"]


@pytest.mark.parametrize(
    ("service", "failure"),
    [
        ("too_old", "Takes ages 0–10, not 12"),
        ("excludes_risk", "Will not take going missing"),
        ("full", "No vacancy"),
        ("far", "22.3 miles away, over 20"),
    ],
)
def test_each_service_fails_exactly_its_own_rule(market, officer, service, failure):
    candidate = shortlist_for(officer).by_service()[getattr(market, service).pk]

    assert candidate.failures == [failure]
    assert not candidate.matches


def test_a_service_not_offering_the_type_is_not_on_the_shortlist_at_all(market, officer):
    assert market.other_type.pk not in shortlist_for(officer).by_service()
    # …but a residential request finds it, and nothing that offers only fostering.
    residential = shortlist_for(officer, placement_type="K2")
    assert list(residential.by_service()) == [market.other_type.pk]


def test_the_age_rule_includes_both_ends_of_the_range(market, officer):
    assert shortlist_for(officer, age_years=10).by_service()[market.too_old.pk].matches
    assert not shortlist_for(officer, age_years=11).by_service()[market.too_old.pk].matches


def test_a_child_with_no_risks_is_not_refused_for_a_risk(market, officer):
    candidate = shortlist_for(officer, risks=[]).by_service()[market.excludes_risk.pk]

    assert candidate.matches
    assert "Excludes none of the child's risks" not in candidate.reasons


def test_a_risk_the_service_does_not_exclude_does_not_refuse_it(market, officer):
    candidate = shortlist_for(officer, risks=["self_harm"]).by_service()[market.excludes_risk.pk]

    assert candidate.matches
    assert "Excludes none of the child's risks" in candidate.reasons


@pytest.mark.parametrize("what", ["service", "provider"])
def test_an_inactive_service_or_provider_is_left_out_entirely(market, officer, what):
    target = market.good if what == "service" else market.framework_provider
    target.is_active = False
    target.save(update_fields=["is_active"])

    listed = shortlist_for(officer).by_service()

    assert market.good.pk not in listed
    assert (market.far.pk in listed) is (what == "service")
    assert market.spot.pk in listed


def test_when_the_area_is_unknown_every_distance_is_unknown(market, officer):
    result = shortlist_for(officer, area="ZZ9")

    assert result.candidates == []
    assert {tuple(c.failures) for c in result.excluded} >= {("The area ZZ9 is not known",)}
    good = result.by_service()[market.good.pk]
    assert good.failures == ["The area ZZ9 is not known"] and good.distance_miles is None


def test_an_unknown_area_does_not_matter_without_a_distance_limit(market, officer):
    result = shortlist_for(officer, area="ZZ9", max_distance_miles=None)

    assert "Far Away" in names(result.candidates)
    assert all(c.distance_miles is None for c in result.candidates)


def test_a_service_without_a_location_has_an_unknown_distance(market, officer):
    market.good.latitude = market.good.longitude = None
    market.good.save(update_fields=["latitude", "longitude"])

    candidate = shortlist_for(officer).by_service()[market.good.pk]

    assert candidate.failures == ["Distance unknown"]


def test_without_a_distance_limit_a_far_service_matches(market, officer):
    result = shortlist_for(officer, max_distance_miles=None)
    far = result.by_service()[market.far.pk]

    assert far.matches
    assert "22.3 miles away" in far.reasons
    assert names(result.candidates) == ["Good Carers", "Far Away", "Spot Carers"]


def test_a_service_exactly_at_the_limit_matches(market, officer):
    assert shortlist_for(officer, max_distance_miles=23).by_service()[market.far.pk].matches
    assert not shortlist_for(officer, max_distance_miles=22).by_service()[market.far.pk].matches


# --- Order and reasons ------------------------------------------------------------------


def test_framework_services_come_first_then_the_nearest(market, officer):
    _service(market.framework_provider, "Next Door Carers", postcode="LS6 1AA", district="LS6")
    _service(market.spot_provider, "Spot Next Door", postcode="LS6 1AB", district="LS6")

    result = shortlist_for(officer)

    # On framework: 0 then 1.9 miles; off framework: 0 then 1.9 miles.
    assert names(result.candidates) == [
        "Next Door Carers", "Good Carers", "Spot Next Door", "Spot Carers"
    ]
    assert [c.on_framework for c in result.candidates] == [True, True, False, False]
    assert [c.distance_miles for c in result.candidates] == [
        Decimal("0.0"), Decimal("1.9"), Decimal("0.0"), Decimal("1.9")
    ]


def test_match_reasons_say_why_each_service_fits(market, officer):
    result = shortlist_for(officer, needs=["autism", "mental_health"])
    good, spot = result.candidates

    assert good.reasons == [
        "On framework, ceiling £850.00 a week",
        "Offers U4",
        "Takes ages 0–17",
        "Excludes none of the child's risks",
        "1 vacancy",
        "1.9 miles away, within 20",
        "Accepts 1 of 2 needs listed",
    ]
    assert spot.reasons == [
        "Offers U4", "Takes ages 0–17", "Excludes none of the child's risks", "1 vacancy",
        "1.9 miles away, within 20",
    ]


def test_vacancies_are_counted_in_the_reasons(market, officer):
    ServiceNeed.objects.create(service=market.spot, need="mental_health")
    market.spot.vacancies = 2
    market.spot.save(update_fields=["vacancies"])

    spot = shortlist_for(officer, needs=["mental_health"]).by_service()[market.spot.pk]

    assert "2 vacancies" in spot.reasons and "Accepts 1 of 1 needs listed" in spot.reasons


def test_evaluating_chosen_services_names_a_type_not_offered(market, officer):
    request = market_request(by=officer)
    market.spot.is_active = False
    market.spot.save(update_fields=["is_active"])

    evaluated = matching.evaluate_services(
        request=request, service_ids=[market.good.pk, market.other_type.pk, market.spot.pk]
    )

    assert set(evaluated) == {market.good.pk, market.other_type.pk}
    residential = evaluated[market.other_type.pk]
    assert residential.failures[0] == "Does not offer U4"
    assert "Offers U4" not in residential.reasons
    assert evaluated[market.good.pk].matches


# --- Framework ceilings -----------------------------------------------------------------


def good_candidate(market, officer):
    return shortlist_for(officer).by_service()[market.good.pk]


def test_the_lot_rate_is_the_ceiling_for_a_member(market, officer):
    good = good_candidate(market, officer)

    assert good.on_framework and good.ceiling == CEILING


def test_a_providers_own_rate_beats_its_lots_rate(market, officer):
    FrameworkRate.objects.create(
        framework=market.framework, provider=market.framework_provider, placement_type="U4",
        financial_year=market.year, ceiling_weekly_price=Decimal("910.00"),
    )

    good = good_candidate(market, officer)

    # Its own rate wins even though it is higher than the lot's.
    assert good.on_framework and good.ceiling == Decimal("910.00")
    assert good.reasons[0] == "On framework, ceiling £910.00 a week"


def test_an_own_rate_without_a_membership_does_not_put_a_provider_on_the_framework(
    market, officer
):
    FrameworkRate.objects.create(
        framework=market.framework, provider=market.spot_provider, placement_type="U4",
        financial_year=market.year, ceiling_weekly_price=Decimal("990.00"),
    )

    spot = shortlist_for(officer).by_service()[market.spot.pk]

    assert not spot.on_framework and spot.ceiling is None


@pytest.mark.parametrize(
    ("start", "end", "on_framework"),
    [
        (-400, -1, False),  # ended yesterday
        (-400, 0, True),  # ends today
        (1, None, False),  # starts tomorrow
        (0, None, True),  # starts today
    ],
    ids=["ended", "ends-today", "not-yet-started", "starts-today"],
)
def test_only_a_membership_covering_the_day_counts(market, officer, start, end, on_framework):
    membership = FrameworkMembership.objects.get(provider=market.framework_provider)
    membership.start_date = market.today + start * DAY
    membership.end_date = None if end is None else market.today + end * DAY
    membership.save()

    good = good_candidate(market, officer)

    assert good.on_framework is on_framework
    assert good.ceiling == (CEILING if on_framework else None)


@pytest.mark.parametrize(
    "change", ["last_year", "next_year", "other_type"],
)
def test_a_rate_for_another_year_or_type_does_not_count(market, officer, change):
    rate = FrameworkRate.objects.get()
    if change == "other_type":
        rate.placement_type = "U6"
    else:
        rate.financial_year = market.year + (1 if change == "next_year" else -1)
    rate.save()

    good = good_candidate(market, officer)

    assert not good.on_framework and good.ceiling is None
    assert not good.reasons[0].startswith("On framework")


def test_an_own_rate_for_another_year_falls_back_to_the_lot_rate(market, officer):
    FrameworkRate.objects.create(
        framework=market.framework, provider=market.framework_provider, placement_type="U4",
        financial_year=market.year - 1, ceiling_weekly_price=Decimal("700.00"),
    )

    assert good_candidate(market, officer).ceiling == CEILING


@pytest.mark.parametrize(
    ("start", "end", "on_framework"),
    [(-800, -1, False), (-800, 0, True), (1, 800, False)],
    ids=["ended-yesterday", "ends-today", "starts-tomorrow"],
)
def test_a_framework_outside_its_dates_puts_nobody_on_it(market, officer, start, end,
                                                         on_framework):
    Framework.objects.filter(pk=market.framework.pk).update(
        start_date=market.today + start * DAY, end_date=market.today + end * DAY
    )
    FrameworkMembership.objects.update(start_date=market.today - 900 * DAY)

    assert good_candidate(market, officer).on_framework is on_framework


def test_where_two_frameworks_cover_a_provider_the_lower_ceiling_applies(market, officer):
    other = Framework.objects.create(
        name="Second framework", start_date=market.today - 10 * DAY,
        end_date=market.today + 10 * DAY,
    )
    lot = FrameworkLot.objects.create(framework=other, number=1, name="Fostering")
    FrameworkMembership.objects.create(
        framework=other, lot=lot, provider=market.framework_provider,
        start_date=market.today - 10 * DAY,
    )
    FrameworkRate.objects.create(
        framework=other, lot=lot, placement_type="U4", financial_year=market.year,
        ceiling_weekly_price=Decimal("799.99"),
    )

    assert good_candidate(market, officer).ceiling == Decimal("799.99")


def test_a_lot_rate_covers_only_members_of_that_lot(market, officer):
    other_lot = FrameworkLot.objects.create(framework=market.framework, number=2, name="Other")
    FrameworkMembership.objects.update(lot=other_lot)

    assert not good_candidate(market, officer).on_framework


# --- Expected weeks and savings ---------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "weeks"),
    [(None, 52), (1, 1), (7, 1), (8, 2), (70, 10), (73, 11), (0, 52)],
)
def test_expected_weeks_count_part_weeks_as_weeks(days, weeks):
    start = datetime.date(2026, 5, 4)
    planned_end = None if days is None else start + days * DAY

    assert matching.expected_weeks(start=start, planned_end=planned_end) == weeks


def test_a_saving_is_the_weekly_difference_times_the_weeks_in_pence():
    saving = matching.negotiated_saving(
        quoted=Decimal("900.00"), agreed=Decimal("840.50"), weeks=11
    )

    assert saving == Decimal("654.50") and isinstance(saving, Decimal)


# --- Flags ------------------------------------------------------------------------------


def flags_of(request, service) -> dict[str, str]:
    quote = matching.quotes_with_context(request=request).get(service=service)
    return {flag.code: flag.text for flag in matching.quote_flags(quote)}


@pytest.fixture
def offers(market, officer):
    """A request sent to the good framework home, the spot home and the far home, each
    quoting: good £900 (above the £850 ceiling), spot £1,100, far £800."""
    request = sent_request(market, by=officer, services=[market.good, market.spot, market.far],
                           max_distance_miles=None)
    for service, price in ((market.good, "900"), (market.spot, "1100"), (market.far, "800")):
        market_services.quote_record(by=officer, request=request, service=service,
                                     quoted_weekly_price=price)
    return request


def test_a_quote_above_the_ceiling_is_flagged_with_the_difference(market, offers):
    flags = flags_of(offers, market.good)

    assert flags == {"above_ceiling": "£50.00 above the framework ceiling of £850.00"}


def test_an_agreed_price_under_the_ceiling_clears_the_flag(market, officer, offers):
    quote = offers.quotes.get(service=market.good)
    market_services.quote_negotiate(by=officer, quote=quote, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="850.00")

    assert flags_of(offers, market.good) == {}


def test_an_off_framework_quote_is_flagged(market, offers):
    assert flags_of(offers, market.spot) == {"off_framework": "Off-framework"}


def test_a_quote_over_20_miles_away_is_flagged(market, offers):
    assert flags_of(offers, market.far) == {"over_20_miles": "22.3 miles from home"}


@pytest.mark.parametrize(
    ("rating", "flagged"),
    [
        (OfstedRating.REQUIRES_IMPROVEMENT, "Ofsted: Requires improvement to be good"),
        (OfstedRating.INADEQUATE, "Ofsted: Inadequate"),
        (OfstedRating.GOOD, None),
        (OfstedRating.NOT_YET_INSPECTED, None),
    ],
)
def test_a_service_rated_below_good_is_flagged(market, offers, rating, flagged):
    market.spot.ofsted_rating = rating
    market.spot.save(update_fields=["ofsted_rating"])

    assert flags_of(offers, market.spot).get("below_good") == flagged


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "applies"),
    [
        (-30, None, True),
        (0, 0, True),  # valid on the day only
        (-30, -1, False),  # ended the day before
        (1, None, False),  # starts the day after
    ],
    ids=["open-ended", "that-day-only", "expired", "not-yet-valid"],
)
def test_a_discount_is_flagged_only_when_valid_on_the_start_day(
    market, offers, valid_from, valid_to, applies
):
    day = offers.wanted_start_date
    ProviderDiscount.objects.create(
        provider=market.spot_provider, basis=ProviderDiscount.Basis.VOLUME,
        description="Second placement", percentage=Decimal("7.50"),
        valid_from=day + valid_from * DAY,
        valid_to=None if valid_to is None else day + valid_to * DAY,
    )

    flags = flags_of(offers, market.spot)

    assert flags.get("discount") == ("7.5% discount applies" if applies else None)


def test_the_best_of_several_valid_discounts_is_flagged(market, offers):
    day = offers.wanted_start_date
    for percentage, valid_to in (("5", None), ("12.5", None), ("20", day - DAY)):
        ProviderDiscount.objects.create(
            provider=market.spot_provider, basis=ProviderDiscount.Basis.VOLUME,
            description=f"{percentage}%", percentage=Decimal(percentage),
            valid_from=day - 60 * DAY, valid_to=valid_to,
        )

    assert flags_of(offers, market.spot)["discount"] == "12.5% discount applies"


def test_the_discount_flag_is_judged_on_the_day_the_offer_could_start(market, officer):
    """The flag promises what confirming will apply: confirmation takes the discount
    valid on the quote's available-from date, so the flag must too."""
    request = sent_request(market, by=officer, services=[market.spot])
    day = request.wanted_start_date
    ProviderDiscount.objects.create(
        provider=market.spot_provider, basis=ProviderDiscount.Basis.DURATION,
        description="Ends soon", percentage=Decimal("10"), valid_from=day - 60 * DAY,
        valid_to=day + 6 * DAY,
    )
    market_services.quote_record(by=officer, request=request, service=market.spot,
                                 quoted_weekly_price="1000", available_from=day + 7 * DAY)

    assert "discount" not in flags_of(request, market.spot)


# --- The comparison ---------------------------------------------------------------------


@pytest.fixture
def two_offers(market, officer):
    """Good (Good rating) agreed at £840.50 after quoting £900; spot (Outstanding) £1,100."""
    request = sent_request(market, by=officer, services=[market.good, market.spot])
    good = market_services.quote_record(by=officer, request=request, service=market.good,
                                        quoted_weekly_price="900")
    market_services.quote_record(by=officer, request=request, service=market.spot,
                                 quoted_weekly_price="1100")
    market_services.quote_negotiate(by=officer, quote=good, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="840.50")
    return request


def test_the_comparison_scores_with_the_default_weights(market, two_offers):
    spot, good = matching.comparison(request=two_offers)

    # Spot: quality 100 × 60% + cost (100 × 840.50 / 1100 = 76.4) × 40% = 90.56 → 90.6
    assert spot.quote.service == market.spot
    assert (spot.price, spot.quality_points, spot.cost_points, spot.score) == (
        Decimal("1100.00"), 100, Decimal("76.4"), Decimal("90.6")
    )
    # Good: the agreed price is the cheapest: 75 × 60% + 100 × 40% = 85.0
    assert (good.price, good.quality_points, good.cost_points, good.score) == (
        Decimal("840.50"), 75, Decimal("100.0"), Decimal("85.0")
    )
    assert spot.explanation == (
        "Quality 100 (Outstanding) × 60% + cost 76.4 (£1,100.00 against the lowest £840.50)"
        " × 40% = 90.6"
    )
    assert good.explanation == (
        "Quality 75 (Good) × 60% + cost 100.0 (£840.50 against the lowest £840.50) × 40% = 85.0"
    )
    assert spot.distance_miles == good.distance_miles == Decimal("1.9")
    assert [f.code for f in spot.flags] == ["off_framework"] and good.flags == []


def test_the_quality_weight_comes_from_the_settings(market, two_offers, settings):
    settings.SOURCING_QUALITY_WEIGHT = 20

    good, spot = matching.comparison(request=two_offers)

    # Good: 75 × 20% + 100 × 80% = 95.0; spot: 100 × 20% + 76.4 × 80% = 81.12 → 81.1
    assert (good.quote.service, good.score) == (market.good, Decimal("95.0"))
    assert (spot.quote.service, spot.score) == (market.spot, Decimal("81.1"))
    assert "× 20% + cost" in good.explanation and "× 80% = 95.0" in good.explanation


def test_a_score_half_way_between_tenths_rounds_up(market, officer, settings):
    """Points are shown to one place and a reader checks them by hand: .x5 rounds up
    (Decimal's default, half to even, would show 77.4)."""
    settings.SOURCING_QUALITY_WEIGHT = 50
    request = sent_request(market, by=officer, services=[market.good, market.spot])
    market_services.quote_record(by=officer, request=request, service=market.good,
                                 quoted_weekly_price="1001")
    market_services.quote_record(by=officer, request=request, service=market.spot,
                                 quoted_weekly_price="800")

    good = next(o for o in matching.comparison(request=request) if o.quote.service == market.good)

    # cost 100 × 800 / 1001 = 79.92 → 79.9; score (75 × 50 + 79.9 × 50) / 100 = 77.45
    assert good.cost_points == Decimal("79.9")
    assert good.score == Decimal("77.5")
    assert good.explanation.endswith("= 77.5")


def test_only_viable_offers_are_compared_in_score_order(market, officer, two_offers):
    market_services.quote_decline(
        by=officer, quote=two_offers.quotes.get(service=market.spot), reason="Too dear"
    )

    (only,) = matching.comparison(request=two_offers)

    assert only.quote.service == market.good and only.cost_points == Decimal("100.0")


def test_equal_scores_put_the_cheaper_offer_first(market, officer):
    request = sent_request(market, by=officer, services=[market.good, market.far],
                           max_distance_miles=None)
    for service in (market.far, market.good):
        market_services.quote_record(by=officer, request=request, service=service,
                                     quoted_weekly_price="800")

    options = matching.comparison(request=request)

    assert options[0].score == options[1].score
    assert [o.quote.pk for o in options] == sorted(o.quote.pk for o in options)


def test_no_offers_means_no_comparison(market, officer):
    assert matching.comparison(request=sent_request(market, by=officer,
                                                    services=[market.good])) == []


def test_the_comparison_reads_in_a_fixed_number_of_queries(market, officer):
    one = sent_request(market, by=officer, services=[market.good])
    market_services.quote_record(by=officer, request=one, service=market.good,
                                 quoted_weekly_price="800")
    many = sent_request(market, by=officer, services=[market.good, market.spot, market.far],
                        max_distance_miles=None)
    for service in (market.good, market.spot, market.far):
        market_services.quote_record(by=officer, request=many, service=service,
                                     quoted_weekly_price="800")

    with CaptureQueriesContext(connection) as for_one:
        matching.comparison(request=one)
    with CaptureQueriesContext(connection) as for_many:
        matching.comparison(request=many)

    assert len(for_one) == len(for_many)


# --- Savings totals ---------------------------------------------------------------------


def test_savings_are_totalled_per_provider_from_accepted_quotes_only(market, officer, offers):
    good = offers.quotes.get(service=market.good)
    market_services.quote_negotiate(by=officer, quote=good, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="850")
    spot = offers.quotes.get(service=market.spot)
    market_services.quote_negotiate(by=officer, quote=spot, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="1000")
    market_services.quote_accept(by=officer, quote=good)

    totals = list(matching.savings_totals(group="provider"))

    assert totals == [{"service__provider__name": "Framework Fostering",
                       "total": Decimal("2600.00"), "quotes": 1}]


def test_the_discount_flag_follows_the_offer_into_a_discount_starting_later(market, officer):
    request = sent_request(market, by=officer, services=[market.spot])
    day = request.wanted_start_date
    ProviderDiscount.objects.create(
        provider=market.spot_provider, basis=ProviderDiscount.Basis.DURATION,
        description="From next week", percentage=Decimal("4"), valid_from=day + 7 * DAY,
    )
    market_services.quote_record(by=officer, request=request, service=market.spot,
                                 quoted_weekly_price="1000", available_from=day + 7 * DAY)

    assert flags_of(request, market.spot)["discount"] == "4% discount applies"


def test_an_agreed_price_of_nothing_is_still_the_price(market, officer, two_offers):
    spot = two_offers.quotes.get(service=market.spot)
    market_services.quote_negotiate(by=officer, quote=spot, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="0")

    options = {o.quote.service.pk: o for o in matching.comparison(request=two_offers)}

    assert options[market.spot.pk].price == Decimal("0.00")
    assert options[market.spot.pk].cost_points == Decimal("100.0")
    assert options[market.good.pk].cost_points == Decimal("0.0")


def test_savings_are_totalled_per_financial_year_of_agreement_in_local_time(
    market, officer, offers
):
    good = offers.quotes.get(service=market.good)
    market_services.quote_negotiate(by=officer, quote=good, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="890")
    market_services.quote_accept(by=officer, quote=good)
    # 23:30 on 31 March in UTC is 00:30 on 1 April in London: the new financial year.
    Quote.objects.filter(pk=good.pk).update(
        agreed_at=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=datetime.UTC)
    )

    assert list(matching.savings_totals(group="year")) == [
        {"financial_year": 2026, "total": Decimal("520.00"), "quotes": 1}
    ]
    assert list(matching.savings_totals(group="officer", financial_year=2025)) == []
    (by_officer,) = matching.savings_totals(group="officer", financial_year=2026)
    assert by_officer["agreed_by__username"] == officer.username
