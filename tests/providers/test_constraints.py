"""The database itself refuses market data that breaks a rule: every CheckConstraint and
UniqueConstraint on the providers models. Each test first writes a valid row, then makes
the violating write with .create() or .update(), so no Python-side validation runs."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.models import (
    FrameworkLot,
    FrameworkMembership,
    FrameworkRate,
    NegotiationStep,
    ProviderDiscount,
    Quote,
    Service,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
    SourcingInvitation,
)
from providers.reference import Need, Risk
from tests.constraints import refused_by
from tests.factories import (
    FrameworkFactory,
    FrameworkRateFactory,
    ProviderFactory,
    QuoteFactory,
    ServiceFactory,
    SourcingRequestFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 4, 1)
ONE_DAY = datetime.timedelta(days=1)




def lot_of(framework, number=1):
    return FrameworkLot.objects.create(framework=framework, number=number, name=f"Lot {number}")


# --- Money is never negative -------------------------------------------------------------


def a_framework_rate():
    return FrameworkRateFactory()


def an_offered_quote():
    return QuoteFactory()


def an_accepted_quote():
    return QuoteFactory(status=Quote.Status.ACCEPTED, agreed_weekly_price=Decimal("880.00"))


def a_negotiation_step():
    quote = QuoteFactory(status=Quote.Status.NEGOTIATING)
    return NegotiationStep.objects.create(
        quote=quote,
        kind=NegotiationStep.Kind.COUNTER_OFFER,
        weekly_price=Decimal("850.00"),
        recorded_by=quote.recorded_by,
    )


@pytest.mark.parametrize(
    "build, field, constraint",
    [
        (a_framework_rate, "ceiling_weekly_price", "framework_rate_non_negative"),
        (an_offered_quote, "quoted_weekly_price", "quote_quoted_non_negative"),
        (an_accepted_quote, "agreed_weekly_price", "quote_agreed_non_negative"),
        (a_negotiation_step, "weekly_price", "negotiation_step_non_negative"),
    ],
    ids=["framework-rate", "quote-quoted", "quote-agreed", "negotiation-step"],
)
def test_negative_money_is_refused(build, field, constraint):
    row = build()
    manager = type(row).objects
    manager.filter(pk=row.pk).update(**{field: Decimal("0.00")})  # zero is allowed

    with refused_by(constraint):
        manager.filter(pk=row.pk).update(**{field: Decimal("-1.00")})


# --- Services ----------------------------------------------------------------------------


def test_a_second_service_with_the_same_ofsted_urn_is_refused():
    first = ServiceFactory(ofsted_urn="SC123456")
    second = ServiceFactory()

    with refused_by("service_unique_urn"):
        Service.objects.filter(pk=second.pk).update(ofsted_urn=first.ofsted_urn)


def test_several_services_may_have_no_ofsted_urn():
    ServiceFactory(ofsted_urn="")
    ServiceFactory(ofsted_urn="")

    assert Service.objects.filter(ofsted_urn="").count() == 2


def test_a_provider_running_two_services_of_the_same_name_is_refused():
    first = ServiceFactory(name="Willow House")
    ServiceFactory(name="Willow House")  # another provider may use the name
    second = ServiceFactory(provider=first.provider, name="Oak House")

    with refused_by("service_unique_name"):
        Service.objects.filter(pk=second.pk).update(name="Willow House")


@pytest.mark.parametrize(
    "change, constraint",
    [
        ({"min_age": 12, "max_age": 11}, "service_ages"),
        ({"max_age": 26}, "service_max_age"),
        ({"places": 3, "vacancies": 4}, "service_vacancies_within_places"),
    ],
    ids=["max-age-below-min-age", "max-age-over-25", "vacancies-over-places"],
)
def test_a_service_with_impossible_ages_or_vacancies_is_refused(change, constraint):
    service = ServiceFactory(min_age=12, max_age=12, places=3, vacancies=3)
    Service.objects.filter(pk=service.pk).update(max_age=25)  # the oldest allowed

    with refused_by(constraint):
        Service.objects.filter(pk=service.pk).update(**change)


@pytest.mark.parametrize(
    "model, field, value, other, constraint",
    [
        (ServicePlacementType, "placement_type", "U4", "K2", "service_placement_type_once"),
        (ServiceNeed, "need", Need.AUTISM, Need.MENTAL_HEALTH, "service_need_once"),
        (
            ServiceRiskExclusion,
            "risk",
            Risk.FIRE_SETTING,
            Risk.GOING_MISSING,
            "service_risk_exclusion_once",
        ),
    ],
    ids=["placement-type", "need", "risk-exclusion"],
)
def test_a_service_listing_the_same_type_need_or_risk_twice_is_refused(
    model, field, value, other, constraint
):
    service = ServiceFactory()
    model.objects.create(service=service, **{field: value})
    model.objects.create(service=service, **{field: other})
    model.objects.create(service=ServiceFactory(), **{field: value})

    with refused_by(constraint):
        model.objects.create(service=service, **{field: value})


# --- Frameworks --------------------------------------------------------------------------


def test_a_framework_ending_before_it_starts_is_refused():
    framework = FrameworkFactory(start_date=DAY, end_date=DAY)  # one day is allowed

    with refused_by("framework_dates"):
        type(framework).objects.filter(pk=framework.pk).update(end_date=DAY - ONE_DAY)


def test_a_second_lot_with_the_same_number_in_a_framework_is_refused():
    framework = FrameworkFactory()
    lot_of(framework, 1)
    lot_of(FrameworkFactory(), 1)  # another framework may number its lots from 1 too
    second = lot_of(framework, 2)

    with refused_by("framework_lot_number"):
        FrameworkLot.objects.filter(pk=second.pk).update(number=1)


def test_a_framework_membership_ending_before_it_starts_is_refused():
    membership = FrameworkMembership.objects.create(
        framework=FrameworkFactory(), provider=ProviderFactory(), start_date=DAY, end_date=DAY
    )

    with refused_by("framework_membership_dates"):
        FrameworkMembership.objects.filter(pk=membership.pk).update(end_date=DAY - ONE_DAY)


def test_the_same_framework_membership_twice_is_refused():
    framework, provider = FrameworkFactory(), ProviderFactory()
    lot = lot_of(framework)
    FrameworkMembership.objects.create(
        framework=framework, lot=lot, provider=provider, start_date=DAY
    )
    FrameworkMembership.objects.create(  # a later spell of membership is fine
        framework=framework, lot=lot, provider=provider, start_date=DAY + ONE_DAY
    )

    with refused_by("framework_membership_once"):
        FrameworkMembership.objects.create(
            framework=framework, lot=lot, provider=provider, start_date=DAY
        )


def test_the_same_framework_membership_without_a_lot_twice_is_refused():
    framework, provider = FrameworkFactory(), ProviderFactory()
    FrameworkMembership.objects.create(framework=framework, provider=provider, start_date=DAY)

    with refused_by("framework_membership_once_without_lot"):
        FrameworkMembership.objects.create(framework=framework, provider=provider, start_date=DAY)


def test_a_framework_rate_may_be_for_a_lot_instead_of_a_provider():
    framework = FrameworkFactory()
    rate = FrameworkRateFactory(framework=framework, lot=lot_of(framework), provider=None)

    assert rate.pk is not None


@pytest.mark.parametrize(
    "with_lot, with_provider", [(True, True), (False, False)], ids=["both", "neither"]
)
def test_a_framework_rate_for_both_or_neither_lot_and_provider_is_refused(with_lot, with_provider):
    rate = FrameworkRateFactory()
    lot = lot_of(rate.framework)
    change = {
        "lot": lot if with_lot else None,
        "provider": rate.provider if with_provider else None,
    }

    with refused_by("framework_rate_lot_or_provider"):
        FrameworkRate.objects.filter(pk=rate.pk).update(**change)


@pytest.mark.parametrize("year", [1999, 2101])
def test_a_framework_rate_for_an_unlikely_financial_year_is_refused(year):
    rate = FrameworkRateFactory()
    FrameworkRate.objects.filter(pk=rate.pk).update(financial_year=2000)
    FrameworkRate.objects.filter(pk=rate.pk).update(financial_year=2100)

    with refused_by("framework_rate_year_range"):
        FrameworkRate.objects.filter(pk=rate.pk).update(financial_year=year)


def test_a_second_rate_for_a_lot_type_and_year_is_refused():
    framework = FrameworkFactory()
    lot = lot_of(framework)
    FrameworkRateFactory(framework=framework, lot=lot, provider=None, placement_type="U4")
    FrameworkRateFactory(framework=framework, lot=lot, provider=None, financial_year=2027)
    second = FrameworkRateFactory(framework=framework, lot=lot, provider=None, placement_type="K2")

    with refused_by("framework_rate_once_per_lot"):
        FrameworkRate.objects.filter(pk=second.pk).update(placement_type="U4")


def test_a_second_rate_for_a_provider_type_and_year_is_refused():
    first = FrameworkRateFactory(placement_type="U4")
    FrameworkRateFactory(framework=first.framework, provider=first.provider, financial_year=2027)
    second = FrameworkRateFactory(
        framework=first.framework, provider=first.provider, placement_type="K2"
    )

    with refused_by("framework_rate_once_per_provider"):
        FrameworkRate.objects.filter(pk=second.pk).update(placement_type="U4")


# --- Discounts ---------------------------------------------------------------------------


def a_discount(**fields):
    values = {
        "provider": ProviderFactory(),
        "basis": ProviderDiscount.Basis.VOLUME,
        "description": "5% off the third and later placements",
        "percentage": Decimal("100.00"),  # the most allowed
        "valid_from": DAY,
        "valid_to": DAY,
    }
    return ProviderDiscount.objects.create(**values | fields)


@pytest.mark.parametrize("percentage", ["0.00", "-5.00", "100.01"])
def test_a_discount_of_zero_negative_or_over_100_percent_is_refused(percentage):
    discount = a_discount()

    with refused_by("discount_percentage"):
        ProviderDiscount.objects.filter(pk=discount.pk).update(percentage=Decimal(percentage))


def test_a_discount_ending_before_it_starts_is_refused():
    discount = a_discount()

    with refused_by("discount_dates"):
        ProviderDiscount.objects.filter(pk=discount.pk).update(valid_to=DAY - ONE_DAY)


# --- Sourcing invitations ----------------------------------------------------------------


def an_invitation(**fields):
    values = {
        "sourcing_request": SourcingRequestFactory(),
        "service": ServiceFactory(),
        "on_framework": True,
        "sent_at": timezone.now(),
    }
    return SourcingInvitation.objects.create(**values | fields)


def test_inviting_a_service_twice_to_one_sourcing_request_is_refused():
    first = an_invitation()
    an_invitation(sourcing_request=first.sourcing_request)

    with refused_by("invitation_once_per_service"):
        an_invitation(sourcing_request=first.sourcing_request, service=first.service)


def test_an_off_framework_invitation_without_a_reason_is_refused():
    invitation = an_invitation(on_framework=False, off_framework_reason="No framework vacancy")

    with refused_by("invitation_off_framework_needs_reason"):
        SourcingInvitation.objects.filter(pk=invitation.pk).update(off_framework_reason="")


# --- Quotes ------------------------------------------------------------------------------


def test_a_second_accepted_quote_for_one_sourcing_request_is_refused():
    accepted = an_accepted_quote()
    an_accepted_quote()  # another request may accept its own quote
    second = QuoteFactory(
        sourcing_request=accepted.sourcing_request, agreed_weekly_price=Decimal("860.00")
    )

    with refused_by("quote_one_accepted_per_request"):
        Quote.objects.filter(pk=second.pk).update(status=Quote.Status.ACCEPTED)


def test_a_second_quote_from_one_service_for_one_sourcing_request_is_refused():
    first = QuoteFactory()
    QuoteFactory(service=first.service)  # the service may quote for another request
    second = QuoteFactory(sourcing_request=first.sourcing_request)

    with refused_by("quote_once_per_service"):
        Quote.objects.filter(pk=second.pk).update(service=first.service)


def test_a_provider_may_decline_to_offer_without_a_price():
    quote = QuoteFactory(
        status=Quote.Status.PROVIDER_DECLINED, quoted_weekly_price=None, decline_reason="Full"
    )

    assert quote.pk is not None


@pytest.mark.parametrize(
    "status", [s for s in Quote.Status if s != Quote.Status.PROVIDER_DECLINED]
)
def test_a_quote_without_a_price_is_refused_unless_the_provider_declined(status):
    quote = QuoteFactory(agreed_weekly_price=Decimal("880.00"))
    Quote.objects.filter(pk=quote.pk).update(status=status)

    with refused_by("quote_offer_has_price"):
        Quote.objects.filter(pk=quote.pk).update(quoted_weekly_price=None)


def test_an_accepted_quote_without_an_agreed_price_is_refused():
    quote = an_accepted_quote()

    with refused_by("quote_accepted_has_agreed_price"):
        Quote.objects.filter(pk=quote.pk).update(agreed_weekly_price=None)
