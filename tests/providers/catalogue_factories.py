"""Factories and role lists for the provider-catalogue tests (tests/providers and
tests/api), beside the shared tests/factories.py."""

import datetime
import io
from decimal import Decimal

import factory

from core.roles import Role
from providers.models import FrameworkLot, FrameworkMembership, PostcodeDistrict, ProviderDiscount
from tests.factories import FrameworkFactory, ProviderFactory

EDITORS = (Role.COMMISSIONING_OFFICER, Role.ADMINISTRATOR)
NON_EDITORS = tuple(role for role in Role if role not in EDITORS)

# Real-ish district centres: Leeds (LS6), Bradford (BD1), London (SW1A).
LEEDS = ("LS6", Decimal("53.81900"), Decimal("-1.57600"))
BRADFORD = ("BD1", Decimal("53.79400"), Decimal("-1.75200"))
LONDON = ("SW1A", Decimal("51.50100"), Decimal("-0.14100"))


def district(code_lat_lon=LEEDS) -> PostcodeDistrict:
    code, latitude, longitude = code_lat_lon
    return PostcodeDistrict.objects.get_or_create(
        outward_code=code, defaults={"latitude": latitude, "longitude": longitude}
    )[0]


class FrameworkLotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkLot

    framework = factory.SubFactory(FrameworkFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Lot {n}")


class FrameworkMembershipFactory(factory.django.DjangoModelFactory):
    """A membership in force from the framework's start, with no end."""

    class Meta:
        model = FrameworkMembership

    framework = factory.SubFactory(FrameworkFactory)
    provider = factory.SubFactory(ProviderFactory)
    start_date = factory.SelfAttribute("framework.start_date")


class ProviderDiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderDiscount

    provider = factory.SubFactory(ProviderFactory)
    basis = ProviderDiscount.Basis.VOLUME
    description = "5% off the third and later placements"
    percentage = Decimal("5.00")
    valid_from = datetime.date(2026, 4, 1)


def csv_file(text: str, *, encoding="utf-8", name="upload.csv") -> io.BytesIO:
    """An uploaded file as the import functions receive it."""
    upload = io.BytesIO(text.encode(encoding))
    upload.name = name
    return upload
