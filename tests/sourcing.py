"""A small market for sourcing tests: postcode districts, one framework with a fostering
lot, and services that each fail exactly one shortlist rule (or none). Dates follow today,
so the framework year is always the current one."""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.roles import Role
from placements.models import ReferralStatus
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkMembership,
    FrameworkRate,
    PostcodeDistrict,
    Provider,
    Service,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
)
from providers.reference import OfstedRating, PlaceProvider, ProviderKind, financial_year_start
from tests.factories import ChildFactory, ProviderFactory, ServiceFactory, referral_in

# Leeds-like district centres: LS1 is about 2 miles from LS6, YO1 about 22.
DISTRICTS = {
    "LS6": (Decimal("53.82000"), Decimal("-1.57500")),
    "LS1": (Decimal("53.79700"), Decimal("-1.54800")),
    "YO1": (Decimal("53.95900"), Decimal("-1.08100")),
}
CEILING = Decimal("850.00")


@dataclasses.dataclass
class Market:
    today: datetime.date
    year: int
    framework: Framework
    lot: FrameworkLot
    framework_provider: Provider
    spot_provider: Provider
    good: Service  # on framework, meets every rule
    spot: Service  # meets every rule, off framework
    too_old: Service  # takes ages 0–10 only
    excludes_risk: Service  # excludes going missing
    full: Service  # no vacancy
    far: Service  # in YO1, over 20 miles
    other_type: Service  # residential only (K2)


def _service(provider, name, *, postcode="LS1 2AB", district="LS1", types=("U4",), **fields):
    lat, lon = DISTRICTS[district]
    service = ServiceFactory(
        provider=provider, name=name, postcode=postcode, latitude=lat, longitude=lon,
        min_age=fields.pop("min_age", 0), max_age=fields.pop("max_age", 17),
        places=fields.pop("places", 3), vacancies=fields.pop("vacancies", 1),
        ofsted_rating=fields.pop("ofsted_rating", OfstedRating.GOOD), **fields,
    )
    ServicePlacementType.objects.bulk_create(
        ServicePlacementType(service=service, placement_type=t) for t in types
    )
    return service


def build_market() -> Market:
    today = timezone.localdate()
    year = financial_year_start(today)
    for code, (lat, lon) in DISTRICTS.items():
        PostcodeDistrict.objects.get_or_create(
            outward_code=code, defaults={"latitude": lat, "longitude": lon}
        )
    framework = Framework.objects.create(
        name="Test regional framework", start_date=today - datetime.timedelta(days=800),
        end_date=today + datetime.timedelta(days=800),
    )
    lot = FrameworkLot.objects.create(framework=framework, number=1, name="Fostering")
    on_framework = ProviderFactory(
        name="Framework Fostering", kind=ProviderKind.IFA, email="offers@framework.example"
    )
    spot = ProviderFactory(name="Spot Fostering", kind=ProviderKind.IFA,
                           place_provider=PlaceProvider.PR5, email="offers@spot.example")
    FrameworkMembership.objects.create(
        framework=framework, lot=lot, provider=on_framework,
        start_date=today - datetime.timedelta(days=400),
    )
    FrameworkRate.objects.create(
        framework=framework, lot=lot, placement_type="U4", financial_year=year,
        ceiling_weekly_price=CEILING,
    )
    good = _service(on_framework, "Good Carers")
    ServiceNeed.objects.create(service=good, need="autism")
    excludes = _service(on_framework, "Careful Carers")
    ServiceRiskExclusion.objects.create(service=excludes, risk="going_missing")
    return Market(
        today=today, year=year, framework=framework, lot=lot,
        framework_provider=on_framework, spot_provider=spot,
        good=good,
        spot=_service(spot, "Spot Carers", ofsted_rating=OfstedRating.OUTSTANDING),
        too_old=_service(on_framework, "Little Ones", max_age=10),
        excludes_risk=excludes,
        full=_service(on_framework, "Full House", vacancies=0),
        far=_service(on_framework, "Far Away", postcode="YO1 7AA", district="YO1"),
        other_type=_service(on_framework, "Residential Home", types=("K2",)),
    )


def ready_referral(*, team, risks=("going_missing",), **kwargs):
    """A referral approved for sourcing, for a 12-year-old living in LS6."""
    today = timezone.localdate()
    child = kwargs.pop("child", None) or ChildFactory(
        team=team, home_postcode="LS6 3QR",
        date_of_birth=today - datetime.timedelta(days=int(12.5 * 365.25)),
    )
    kwargs.setdefault("wanted_start_date", today + datetime.timedelta(days=7))
    referral = referral_in(ReferralStatus.READY_FOR_SOURCING, child=child, **kwargs)
    for risk in risks:
        referral.risks.create(risk=risk)
    return referral


# --- Added for the sourcing service tests (helper G): requests straight on the market ---


def market_request(*, by, **fields):
    """A draft sourcing request as sourcing_start would make it for ready_referral's child
    (12, from LS6, goes missing, U4 within 20 miles), wanted from today so that the
    framework year is always the market's."""
    from providers.models import SourcingRequest
    from providers.reference import Urgency

    values = {
        "placement_type": "U4", "age_years": 12, "sex": "F", "area": "LS6",
        "risks": ["going_missing"], "needs": [], "max_distance_miles": 20,
        "urgency": Urgency.LATER, "wanted_start_date": timezone.localdate(),
    }
    values.update(fields)
    request = SourcingRequest.objects.create(reference="new", created_by=by, **values)
    request.reference = f"SR-TEST-{request.pk:05d}"
    request.save(update_fields=["reference"])
    return request


def sent_request(market, *, by, services, reasons=None, **fields):
    """A request sent (through the market service) to `services`; off-framework ones get
    a stock reason unless `reasons` says otherwise."""
    from providers.services.sourcing import sourcing_request_send

    request = market_request(by=by, **fields)
    reasons = reasons if reasons is not None else {
        s.pk: "No framework home matched." for s in services
    }
    return sourcing_request_send(
        by=by, request=request, service_ids=[s.pk for s in services],
        off_framework_reasons=reasons,
    )


# --- Fixtures shared by the sourcing tests --------------------------------------------
# A test module imports market_fixture, officer_fixture or social_worker_fixture; its tests
# then ask for `market`, `officer` or `social_worker`.


@pytest.fixture(name="market")
def market_fixture(db) -> Market:
    return build_market()


@pytest.fixture(name="officer")
def officer_fixture(personas):
    return personas[Role.COMMISSIONING_OFFICER]


@pytest.fixture(name="social_worker")
def social_worker_fixture(personas):
    return personas[Role.SOCIAL_WORKER]
