"""The provider-directory page tests' own test data: frameworks with lots, members and
rates; postcode districts; services with their codes. What every page must get right is
checked by tests.pages."""

import datetime
from decimal import Decimal

import factory

from providers.models import (
    FrameworkLot,
    FrameworkMembership,
    PostcodeDistrict,
    ProviderDiscount,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
)
from tests.factories import FrameworkFactory, FrameworkRateFactory, ProviderFactory, ServiceFactory


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkLot

    framework = factory.SubFactory(FrameworkFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Lot name {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkMembership

    framework = factory.SubFactory(FrameworkFactory)
    provider = factory.SubFactory(ProviderFactory)
    start_date = datetime.date(2024, 4, 1)


class DiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderDiscount

    provider = factory.SubFactory(ProviderFactory)
    basis = ProviderDiscount.Basis.VOLUME
    description = factory.Sequence(lambda n: f"Volume discount {n}")
    percentage = Decimal("5.00")
    valid_from = datetime.date(2020, 4, 1)


def district(code: str, latitude: str, longitude: str) -> PostcodeDistrict:
    return PostcodeDistrict.objects.get_or_create(
        outward_code=code,
        defaults={"latitude": Decimal(latitude), "longitude": Decimal(longitude)},
    )[0]


def leeds_districts() -> dict[str, PostcodeDistrict]:
    """Three districts: LS1 (Leeds centre), LS6 (Headingley, ~2 miles), BD1 (Bradford, ~9)."""
    return {
        "LS1": district("LS1", "53.79650", "-1.54850"),
        "LS6": district("LS6", "53.81950", "-1.57760"),
        "BD1": district("BD1", "53.79390", "-1.75200"),
    }


def full_service(*, provider=None, types=("K2",), needs=("autism",), risks=("fire_setting",),
                 postcode="LS1 1AA", near: PostcodeDistrict | None = None, **kwargs):
    """A service with its codes and a location (the district's centre when given)."""
    if near is not None:
        kwargs.setdefault("latitude", near.latitude)
        kwargs.setdefault("longitude", near.longitude)
    service = ServiceFactory(
        **({"provider": provider} if provider else {}), postcode=postcode, **kwargs
    )
    ServicePlacementType.objects.bulk_create(
        [ServicePlacementType(service=service, placement_type=code) for code in types]
    )
    ServiceNeed.objects.bulk_create([ServiceNeed(service=service, need=code) for code in needs])
    ServiceRiskExclusion.objects.bulk_create(
        [ServiceRiskExclusion(service=service, risk=code) for code in risks]
    )
    return service


def framework_with(*, members: int, years=(2026,), types=("K2", "U4")):
    """A framework with two lots, `members` providers in lot 1, a lot rate for each type and
    year, and an own rate for each member."""
    framework = FrameworkFactory()
    lot1 = LotFactory(framework=framework, number=1, name="Children's homes")
    LotFactory(framework=framework, number=2, name="Fostering")
    providers = []
    for _ in range(members):
        provider = ProviderFactory()
        MembershipFactory(framework=framework, lot=lot1, provider=provider)
        providers.append(provider)
    for year in years:
        for code in types:
            FrameworkRateFactory(framework=framework, lot=lot1, provider=None,
                                 placement_type=code, financial_year=year,
                                 ceiling_weekly_price=Decimal("3000.00"))
        for provider in providers:
            FrameworkRateFactory(framework=framework, provider=provider, placement_type="K2",
                                 financial_year=year, ceiling_weekly_price=Decimal("3100.50"))
    return framework, lot1, providers
