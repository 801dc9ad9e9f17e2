"""The regional framework most external providers belong to: lots, memberships, price
ceilings for both financial years, and a couple of negotiated discounts."""

import datetime
from decimal import Decimal

from demo import pricing
from demo.clock import DemoCalendar
from demo.market import Market
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkMembership,
    FrameworkRate,
    Provider,
    ProviderDiscount,
)

FRAMEWORK_NAME = "Three Ridings Children's Placements Framework"
LOTS = (
    (1, "Fostering (independent fostering agencies)", pricing.IFA, ("U4", "U5", "U6"),
     Decimal("905.00")),
    (2, "Residential children's homes", pricing.EXTERNAL_HOME, ("K2",), Decimal("4350.00")),
    (3, "Supported accommodation for 16 and 17 year olds", pricing.SUPPORTED, ("K3",),
     Decimal("1380.00")),
)
# The framework's annual uplift on ceilings, applied each 1 April.
CEILING_UPLIFT_PERCENT = 4
# Specialist homes with their own, higher ceiling (a provider's rate overrides its lot's).
SPECIALIST_CEILING = Decimal("5400.00")


def seed_framework(*, market: Market, calendar: DemoCalendar) -> None:
    framework, _created = Framework.objects.get_or_create(
        name=FRAMEWORK_NAME,
        defaults={
            "lead_authority": "Demoshire County Council",
            "start_date": datetime.date(calendar.previous_year - 1, 4, 1),
            "end_date": datetime.date(calendar.current_year + 3, 3, 31),
        },
    )
    for number, name, offer, types, ceiling in LOTS:
        lot, _created = FrameworkLot.objects.get_or_create(
            framework=framework, number=number, defaults={"name": name}
        )
        providers = unique_providers(market.services[offer])
        for index, provider in enumerate(providers):
            # About one in five providers is not on the framework: spot purchases only.
            if index % 5 == 3:
                continue
            seed_membership(framework=framework, lot=lot, provider=provider, index=index,
                            calendar=calendar)
            market.members.setdefault(provider.pk, set()).add(number)
        for placement_type in types:
            seed_lot_rates(framework=framework, lot=lot, placement_type=placement_type,
                           ceiling=ceiling, calendar=calendar, market=market)
    seed_specialist_rates(framework=framework, market=market, calendar=calendar)
    seed_discounts(market=market, calendar=calendar)


def unique_providers(services) -> list[Provider]:
    return list({service.provider_id: service.provider for service in services}.values())


def seed_membership(*, framework, lot, provider, index: int, calendar: DemoCalendar) -> None:
    # A few joined at the framework's re-opening last year rather than at its start.
    start = (
        datetime.date(calendar.previous_year, 4, 1) if index % 7 == 6 else framework.start_date
    )
    FrameworkMembership.objects.get_or_create(
        framework=framework, lot=lot, provider=provider, start_date=start
    )


def ceilings_by_year(*, ceiling: Decimal, calendar: DemoCalendar) -> dict[int, Decimal]:
    """Last year's, this year's and next year's: the next uplift is agreed in advance, so a
    placement wanted after 1 April can be priced against the framework."""
    current = pricing.scaled(ceiling, percent=CEILING_UPLIFT_PERCENT)
    return {
        calendar.previous_year: ceiling,
        calendar.current_year: current,
        calendar.current_year + 1: pricing.scaled(current, percent=CEILING_UPLIFT_PERCENT),
    }


def seed_lot_rates(*, framework, lot, placement_type, ceiling, calendar, market) -> None:
    for year, price in ceilings_by_year(ceiling=ceiling, calendar=calendar).items():
        rate, _created = FrameworkRate.objects.get_or_create(
            framework=framework, lot=lot, placement_type=placement_type, financial_year=year,
            defaults={"ceiling_weekly_price": price},
        )
        market.lot_ceilings[(lot.number, placement_type, year)] = rate.ceiling_weekly_price


def seed_specialist_rates(*, framework, market: Market, calendar: DemoCalendar) -> None:
    members = [p for p in unique_providers(market.services[pricing.EXTERNAL_HOME])
               if 2 in market.members.get(p.pk, set())]
    for provider in members[:2]:
        for year, price in ceilings_by_year(ceiling=SPECIALIST_CEILING, calendar=calendar).items():
            rate, _created = FrameworkRate.objects.get_or_create(
                framework=framework, provider=provider, placement_type="K2",
                financial_year=year, defaults={"ceiling_weekly_price": price},
            )
            market.provider_ceilings[(provider.pk, "K2", year)] = rate.ceiling_weekly_price


def seed_discounts(*, market: Market, calendar: DemoCalendar) -> None:
    ifa = market.services[pricing.IFA][0].provider
    home = market.services[pricing.EXTERNAL_HOME][0].provider
    ProviderDiscount.objects.get_or_create(
        provider=ifa,
        description="5% off every placement while the council has four or more with the agency",
        defaults={"basis": ProviderDiscount.Basis.VOLUME, "percentage": Decimal("5.00"),
                  "valid_from": calendar.previous_start},
    )
    ProviderDiscount.objects.get_or_create(
        provider=home,
        description="3% off the weekly fee once a placement has lasted 52 weeks",
        defaults={"basis": ProviderDiscount.Basis.DURATION, "percentage": Decimal("3.00"),
                  "valid_from": calendar.previous_start,
                  "valid_to": calendar.current_end},
    )
