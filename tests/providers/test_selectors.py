"""providers.selectors: the directory's reads and the ServiceFilter behind the directory
page and /api/v1/services/."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from providers.geo import miles_between
from providers.models import (
    FrameworkRate,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
)
from providers.reference import OfstedRating, ProviderKind
from providers.selectors import (
    UNKNOWN_POSTCODE,
    ServiceFilter,
    discounts_valid_on,
    framework_rates_table,
    frameworks_for_list,
    providers_for_list,
    services_for_directory,
)
from tests.factories import FrameworkFactory, FrameworkRateFactory, ProviderFactory, ServiceFactory
from tests.providers.catalogue_factories import (
    BRADFORD,
    LEEDS,
    LONDON,
    FrameworkLotFactory,
    FrameworkMembershipFactory,
    ProviderDiscountFactory,
    district,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = datetime.timedelta(days=365)


def current_framework(**kwargs):
    return FrameworkFactory(start_date=TODAY - YEAR, end_date=TODAY + YEAR, **kwargs)


def at(code_lat_lon, **kwargs):
    """A service located at a district's centre."""
    _code, latitude, longitude = code_lat_lon
    return ServiceFactory(latitude=latitude, longitude=longitude, **kwargs)


def filtered(data: dict) -> list:
    service_filter = ServiceFilter(data, queryset=services_for_directory())
    assert service_filter.is_valid(), service_filter.errors
    return list(service_filter.qs)


def errors_of(data: dict) -> dict:
    service_filter = ServiceFilter(data, queryset=services_for_directory())
    assert not service_filter.is_valid()
    return service_filter.errors


# --- services_for_directory ---------------------------------------------------------------


def test_on_framework_only_for_a_membership_in_force_today():
    framework = current_framework()
    member = ServiceFactory()
    FrameworkMembershipFactory(framework=framework, provider=member.provider)
    lapsed = ServiceFactory()
    FrameworkMembershipFactory(
        framework=framework, provider=lapsed.provider, end_date=TODAY - datetime.timedelta(days=1)
    )
    ended_framework = FrameworkFactory(start_date=TODAY - 2 * YEAR, end_date=TODAY - YEAR)
    on_old_framework = ServiceFactory()
    FrameworkMembershipFactory(framework=ended_framework, provider=on_old_framework.provider)
    ends_today = ServiceFactory()
    FrameworkMembershipFactory(framework=framework, provider=ends_today.provider, end_date=TODAY)
    outsider = ServiceFactory()

    on_framework = {s.pk: s.on_framework for s in services_for_directory()}

    assert on_framework == {
        member.pk: True, lapsed.pk: False, on_old_framework.pk: False, ends_today.pk: True,
        outsider.pk: False,
    }


def test_distance_is_computed_in_sql_from_the_district_centre():
    leeds = district(LEEDS)
    bradford = at(BRADFORD)
    nowhere = ServiceFactory(latitude=None, longitude=None)

    distances = {s.pk: s.distance_miles for s in services_for_directory(near=leeds)}

    expected = miles_between(LEEDS[1], LEEDS[2], BRADFORD[1], BRADFORD[2])
    assert abs(Decimal(str(distances[bradford.pk])) - expected) < Decimal("0.1")
    assert distances[nowhere.pk] is None


def test_no_distance_without_a_district():
    ServiceFactory()
    assert not hasattr(services_for_directory().get(), "distance_miles")


def add_services(n):
    for _ in range(n):
        service = ServiceFactory()
        ServicePlacementType.objects.create(service=service, placement_type="U4")
        ServiceNeed.objects.create(service=service, need="autism")
        ServiceRiskExclusion.objects.create(service=service, risk="fire_setting")


def read_directory():
    for service in services_for_directory():
        (service.provider.name, service.on_framework, list(service.placement_types.all()),
         list(service.needs_accepted.all()), list(service.risks_excluded.all()))


def test_the_directory_reads_in_a_fixed_number_of_queries():
    add_services(1)
    with CaptureQueriesContext(connection) as one:
        read_directory()
    add_services(4)
    with CaptureQueriesContext(connection) as five:
        read_directory()
    assert len(one) == len(five) == 4  # services with providers, then three prefetches


# --- ServiceFilter: each filter ---------------------------------------------------------


def test_q_matches_service_name_provider_name_or_urn_in_any_case():
    by_name = ServiceFactory(name="Oak Lodge")
    by_provider = ServiceFactory(provider=ProviderFactory(name="Oakfield Care"))
    by_urn = ServiceFactory(ofsted_urn="SCOAK123")
    ServiceFactory(name="Birch House", provider=ProviderFactory(name="Birch Ltd"))

    assert set(filtered({"q": "oak"})) == {by_name, by_provider, by_urn}
    assert filtered({"q": "scoak1"}) == [by_urn]


def test_placement_type_keeps_services_offering_it_once_each():
    fostering = ServiceFactory()
    for code in ("U4", "U6"):
        ServicePlacementType.objects.create(service=fostering, placement_type=code)
    home = ServiceFactory()
    ServicePlacementType.objects.create(service=home, placement_type="K2")

    assert filtered({"placement_type": "U4"}) == [fostering]
    assert "placement_type" in errors_of({"placement_type": "XX"})


def test_rating_takes_several_ratings():
    outstanding = ServiceFactory(ofsted_rating=OfstedRating.OUTSTANDING)
    good = ServiceFactory(ofsted_rating=OfstedRating.GOOD)
    ServiceFactory(ofsted_rating=OfstedRating.INADEQUATE)

    assert set(filtered({"rating": ["outstanding", "good"]})) == {outstanding, good}
    assert "rating" in errors_of({"rating": ["brilliant"]})


def test_has_vacancy_yes_or_no():
    open_ = ServiceFactory(places=3, vacancies=2)
    full = ServiceFactory(places=3, vacancies=0)

    assert filtered({"has_vacancy": "yes"}) == [open_]
    assert filtered({"has_vacancy": "no"}) == [full]
    assert set(filtered({"has_vacancy": ""})) == {open_, full}
    assert "has_vacancy" in errors_of({"has_vacancy": "maybe"})


def test_framework_keeps_current_members_of_that_framework():
    framework, other = current_framework(), current_framework()
    member = ServiceFactory()
    FrameworkMembershipFactory(framework=framework, provider=member.provider)
    former = ServiceFactory()
    FrameworkMembershipFactory(
        framework=framework, provider=former.provider, end_date=TODAY - datetime.timedelta(days=1)
    )
    elsewhere = ServiceFactory()
    FrameworkMembershipFactory(framework=other, provider=elsewhere.provider)

    assert filtered({"framework": framework.pk}) == [member]
    assert "framework" in errors_of({"framework": "999999"})


def test_kind_is_the_providers_kind():
    home = ServiceFactory(provider=ProviderFactory(kind=ProviderKind.CHILDRENS_HOME))
    ServiceFactory(provider=ProviderFactory(kind=ProviderKind.IFA))

    assert filtered({"kind": "childrens_home"}) == [home]


@pytest.mark.parametrize("postcode", ["LS6 2AB", "ls62ab", "LS6", " ls6 "])
def test_postcode_or_outward_code_annotates_distance_and_sorts_nearest_first(postcode):
    district(LEEDS)
    london, bradford, leeds = at(LONDON), at(BRADFORD), at(LEEDS)
    nowhere = ServiceFactory(latitude=None, longitude=None)

    results = filtered({"postcode": postcode})

    assert results == [leeds, bradford, london, nowhere]
    assert results[0].distance_miles == pytest.approx(0, abs=0.01)
    assert results[-1].distance_miles is None


@pytest.mark.parametrize("postcode", ["ZZ9 9ZZ", "AB1", "not a postcode", "X" * 40])
def test_an_unknown_postcode_is_a_form_error(postcode):
    district(LEEDS)
    assert errors_of({"postcode": postcode}) == {"postcode": [UNKNOWN_POSTCODE]}


def test_within_miles_keeps_services_near_enough_and_with_a_location():
    district(LEEDS)
    leeds, bradford = at(LEEDS), at(BRADFORD)
    at(LONDON)
    ServiceFactory(latitude=None, longitude=None)

    assert filtered({"postcode": "LS6", "within_miles": "5"}) == [leeds]
    assert filtered({"postcode": "LS6", "within_miles": "20"}) == [leeds, bradford]


@pytest.mark.parametrize("miles", ["0", "501", "ten", "2.5"])
def test_within_miles_must_be_a_whole_number_from_1_to_500(miles):
    district(LEEDS)
    assert "within_miles" in errors_of({"postcode": "LS6", "within_miles": miles})


def test_distance_filters_need_a_postcode():
    errors = errors_of({"within_miles": "10", "sort": "distance"})
    assert errors == {
        "within_miles": ["Enter a postcode to search within a distance"],
        "sort": ["Enter a postcode to sort by distance"],
    }


def test_sorts():
    district(LEEDS)
    a = at(LONDON, name="Alder", vacancies=0, ofsted_rating=OfstedRating.GOOD)
    b = at(LEEDS, name="Beech", vacancies=3, places=4, ofsted_rating=OfstedRating.NOT_YET_INSPECTED)
    c = at(BRADFORD, name="Cedar", vacancies=1, ofsted_rating=OfstedRating.OUTSTANDING)
    d = at(LEEDS, name="Damson", vacancies=2, ofsted_rating=OfstedRating.INADEQUATE)

    assert filtered({"sort": "name"}) == [a, b, c, d]
    assert filtered({"sort": "vacancies"}) == [b, d, c, a]
    assert filtered({"sort": "rating"}) == [c, a, d, b]
    assert filtered({"sort": "distance", "postcode": "LS6"}) == [b, d, c, a]
    assert filtered({"sort": "name", "postcode": "LS6"}) == [a, b, c, d]
    assert "sort" in errors_of({"sort": "price"})


def test_filters_combine():
    district(LEEDS)
    wanted = at(LEEDS, name="Oak", places=2, vacancies=1)
    ServicePlacementType.objects.create(service=wanted, placement_type="K2")
    full = at(LEEDS, name="Oak Two", places=2, vacancies=0)
    ServicePlacementType.objects.create(service=full, placement_type="K2")
    far = at(LONDON, name="Oak Three", places=2, vacancies=1)
    ServicePlacementType.objects.create(service=far, placement_type="K2")

    data = {"q": "oak", "placement_type": "K2", "has_vacancy": "yes", "postcode": "LS6 1AA",
            "within_miles": "30"}
    assert filtered(data) == [wanted]


# --- Providers, frameworks, rates, discounts --------------------------------------------


def test_providers_for_list_counts_services_and_active_vacancies():
    provider = ProviderFactory()
    ServiceFactory(provider=provider, places=4, vacancies=2)
    ServiceFactory(provider=provider, places=4, vacancies=1)
    ServiceFactory(provider=provider, places=4, vacancies=3, is_active=False)
    empty = ProviderFactory()

    rows = {p.pk: (p.service_count, p.vacancy_total) for p in providers_for_list()}

    assert rows == {provider.pk: (3, 3), empty.pk: (0, 0)}


def test_frameworks_for_list_counts_lots_and_members_in_force():
    framework = current_framework()
    FrameworkLotFactory.create_batch(2, framework=framework)
    FrameworkMembershipFactory.create_batch(3, framework=framework)
    FrameworkMembershipFactory(framework=framework, end_date=TODAY - datetime.timedelta(days=1))
    bare = current_framework()

    rows = {f.pk: (f.lot_count, f.member_count) for f in frameworks_for_list()}

    assert rows == {framework.pk: (2, 3), bare.pk: (0, 0)}


def test_framework_rates_table_groups_by_year_newest_first_lots_before_providers():
    framework = FrameworkFactory()
    lot2 = FrameworkLotFactory(framework=framework, number=2)
    lot1 = FrameworkLotFactory(framework=framework, number=1)
    zed = ProviderFactory(name="Zed Care")
    FrameworkRateFactory(framework=framework, provider=zed, placement_type="U4",
                         financial_year=2025, ceiling_weekly_price=Decimal("900.00"))
    for lot, price in ((lot2, "850.00"), (lot1, "800.00")):
        FrameworkRate.objects.create(framework=framework, lot=lot, placement_type="U4",
                                     financial_year=2025, ceiling_weekly_price=Decimal(price))
    FrameworkRate.objects.create(framework=framework, lot=lot1, placement_type="U4",
                                 financial_year=2026, ceiling_weekly_price=Decimal("828.00"))
    FrameworkRateFactory(ceiling_weekly_price=Decimal("1.00"))  # another framework's

    with CaptureQueriesContext(connection) as queries:
        table = framework_rates_table(framework=framework)

    assert len(queries) == 1
    assert list(table) == [2026, 2025]
    assert table[2025] == [
        (lot1, "U4", Decimal("800.00")),
        (lot2, "U4", Decimal("850.00")),
        (zed, "U4", Decimal("900.00")),
    ]
    assert table[2026][0].placement_type_label.startswith("U4 – Foster")


def test_discounts_valid_on_a_day_include_both_ends():
    provider = ProviderFactory()
    day = datetime.date(2026, 6, 1)
    open_ended = ProviderDiscountFactory(provider=provider, valid_from=day, percentage=2)
    ends_today = ProviderDiscountFactory(provider=provider, valid_from=day - YEAR, valid_to=day,
                                         percentage=5)
    ProviderDiscountFactory(provider=provider, valid_from=day + datetime.timedelta(days=1))
    ProviderDiscountFactory(provider=provider, valid_from=day - YEAR,
                            valid_to=day - datetime.timedelta(days=1))
    ProviderDiscountFactory(valid_from=day)  # another provider's

    assert list(discounts_valid_on(provider=provider, day=day)) == [ends_today, open_ended]
