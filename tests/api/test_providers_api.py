"""/api/v1/providers/, services/, frameworks/, framework-rates/ and provider-discounts/
through HTTP: every role reads, only commissioning officers and administrators write,
and refusals come back as 400/403/404/409 with a readable body, never a 500."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.roles import Role
from providers.geo import miles_between
from providers.models import (
    FrameworkRate,
    Provider,
    ProviderDiscount,
    Service,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
)
from tests.factories import FrameworkFactory, FrameworkRateFactory, ProviderFactory, ServiceFactory
from tests.providers.catalogue_factories import (
    BRADFORD,
    EDITORS,
    LEEDS,
    LONDON,
    NON_EDITORS,
    FrameworkLotFactory,
    FrameworkMembershipFactory,
    ProviderDiscountFactory,
    district,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = datetime.timedelta(days=365)
REFUSED = "Only a commissioning officer or an administrator can change the provider directory."


@pytest.fixture
def officer(as_user, personas):
    return as_user(personas[Role.COMMISSIONING_OFFICER])


@pytest.fixture
def social_worker(as_user, personas):
    return as_user(personas[Role.SOCIAL_WORKER])


def current_framework(**kwargs):
    return FrameworkFactory(start_date=TODAY - YEAR, end_date=TODAY + YEAR, **kwargs)


def everything():
    models = (Provider, Service, ServicePlacementType, FrameworkRate, ProviderDiscount)
    return [list(model.objects.order_by("pk").values()) for model in models]


# --- Reading: every role ----------------------------------------------------------------


def detail_urls():
    service = ServiceFactory()
    rate = FrameworkRateFactory(provider=service.provider)
    ProviderDiscountFactory(provider=service.provider)
    return [
        "/api/v1/providers/", f"/api/v1/providers/{service.provider_id}/",
        "/api/v1/services/", f"/api/v1/services/{service.pk}/",
        "/api/v1/frameworks/", f"/api/v1/frameworks/{rate.framework_id}/",
        "/api/v1/framework-rates/", f"/api/v1/framework-rates/{rate.pk}/",
        "/api/v1/provider-discounts/",
    ]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_directory(as_user, personas, role):
    client = as_user(personas[role])
    for url in detail_urls():
        assert client.get(url).status_code == 200, url


def test_signed_out_is_refused(anonymous):
    for url in detail_urls():
        assert anonymous.get(url).status_code in (401, 403), url


# --- Writing: every write, every role ---------------------------------------------------


def _writes():
    """(method, url, body, status for an editor), built fresh for each test."""
    provider = ProviderFactory()
    service = ServiceFactory(places=4, vacancies=1)
    framework = FrameworkFactory()
    FrameworkRateFactory(framework=framework, financial_year=2025)
    rate = FrameworkRateFactory(framework=framework, financial_year=2024)
    return [
        ("post", "/api/v1/providers/",
         {"name": "Hilltop", "kind": "ifa", "place_provider": "PR4"}, 201),
        ("patch", f"/api/v1/providers/{provider.pk}/", {"phone": "0113 496 0000"}, 200),
        ("post", "/api/v1/services/",
         {"provider": provider.pk, "name": "Oak", "postcode": "LS6 2AB"}, 201),
        ("patch", f"/api/v1/services/{service.pk}/", {"vacancies": 0}, 200),
        ("post", f"/api/v1/frameworks/{framework.pk}/uplift/",
         {"from_year": 2025, "percentage": "3.5"}, 201),
        ("post", "/api/v1/framework-rates/",
         {"framework": framework.pk, "provider": provider.pk, "placement_type": "U4",
          "financial_year": 2027, "ceiling_weekly_price": "900.00"}, 201),
        ("patch", f"/api/v1/framework-rates/{rate.pk}/", {"ceiling_weekly_price": "901.00"},
         200),
        ("post", "/api/v1/provider-discounts/",
         {"provider": provider.pk, "basis": "volume", "description": "Third placement",
          "percentage": "5.00", "valid_from": "2026-04-01"}, 201),
    ]


WRITE_NAMES = ["provider create", "provider update", "service create", "service update",
               "uplift", "rate create", "rate update", "discount create"]


@pytest.mark.parametrize("index", range(len(WRITE_NAMES)), ids=WRITE_NAMES)
@pytest.mark.parametrize("role", EDITORS)
def test_editors_write(as_user, personas, role, index):
    method, url, body, expected = _writes()[index]
    response = getattr(as_user(personas[role]), method)(url, body, format="json")
    assert response.status_code == expected, response.json()


@pytest.mark.parametrize("index", range(len(WRITE_NAMES)), ids=WRITE_NAMES)
@pytest.mark.parametrize("role", NON_EDITORS)
def test_other_roles_are_refused_with_403_and_nothing_changes(as_user, personas, role, index):
    method, url, body, _expected = _writes()[index]
    before = everything()
    response = getattr(as_user(personas[role]), method)(url, body, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": REFUSED})
    assert everything() == before


def test_a_refused_role_gets_403_even_with_bad_data(social_worker):
    response = social_worker.post("/api/v1/providers/", {"name": ""}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("method", ["put", "delete"])
def test_no_put_or_delete(officer, method):
    provider = ProviderFactory()
    response = getattr(officer, method)(f"/api/v1/providers/{provider.pk}/", {}, format="json")
    assert response.status_code == 405


# --- Providers --------------------------------------------------------------------------


def test_provider_create_answers_with_the_provider(officer):
    response = officer.post(
        "/api/v1/providers/",
        {"name": "Hilltop", "kind": "ifa", "place_provider": "PR4", "email": "a@b.org"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["kind"], body["email"], body["service_count"],
            body["vacancy_total"]) == ("Hilltop", "ifa", "a@b.org", 0, 0)
    assert Provider.objects.get().pk == body["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "H", "kind": "charity", "place_provider": "PR4"}, "kind"),
        ({"name": "H", "kind": "ifa", "place_provider": "PR4", "email": "nope"}, "email"),
        ({"kind": "ifa", "place_provider": "PR4"}, "name"),
        ({"name": "   ", "kind": "ifa", "place_provider": "PR4"}, "name"),
        ({"name": "H", "kind": "ifa", "place_provider": "PR4", "is_active": "perhaps"},
         "is_active"),
    ],
)
def test_provider_bad_input_is_400_naming_the_field(officer, body, field):
    response = officer.post("/api/v1/providers/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Provider.objects.exists()


def test_a_duplicate_provider_name_is_409(officer):
    ProviderFactory(name="Hilltop")
    response = officer.post(
        "/api/v1/providers/", {"name": "hilltop", "kind": "ifa", "place_provider": "PR4"},
        format="json",
    )
    assert response.status_code == 409
    assert "already in the directory" in response.json()["detail"]


def test_renaming_a_provider_to_anothers_name_is_409(officer):
    ProviderFactory(name="Hilltop")
    other = ProviderFactory(name="Valley")
    response = officer.patch(f"/api/v1/providers/{other.pk}/", {"name": "Hilltop"},
                             format="json")
    assert response.status_code == 409
    other.refresh_from_db()
    assert other.name == "Valley"


def test_provider_filters(social_worker):
    framework = current_framework()
    home = ProviderFactory(name="Oak Homes", kind="childrens_home", place_provider="PR5")
    FrameworkMembershipFactory(framework=framework, provider=home)
    ifa = ProviderFactory(name="Birch Fostering", kind="ifa")
    closed = ProviderFactory(name="Old Oak", kind="ifa", is_active=False)

    def ids(**params):
        response = social_worker.get("/api/v1/providers/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(kind="childrens_home") == [home.pk]
    assert ids(place_provider="PR5") == [home.pk]
    assert ids(framework=framework.pk) == [home.pk]
    assert ids(is_active="false") == [closed.pk]
    assert ids(q="oak") == [home.pk, closed.pk]
    assert ids() == [ifa.pk, home.pk, closed.pk]
    assert social_worker.get("/api/v1/providers/", {"kind": "x"}).status_code == 400
    assert social_worker.get("/api/v1/providers/", {"framework": "abc"}).status_code == 400


# --- Services ---------------------------------------------------------------------------


def test_service_create_takes_its_location_from_the_postcode_district(officer):
    district(LEEDS)
    provider = ProviderFactory()
    response = officer.post("/api/v1/services/", {
        "provider": provider.pk, "name": "Oak Lodge", "postcode": "ls62ab",
        "placement_types": ["K2"], "needs": ["autism"], "excluded_risks": ["fire_setting"],
        "min_age": 10, "max_age": 17, "places": 3, "vacancies": 1,
    }, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["postcode"], body["latitude"], body["longitude"]) == (
        "LS6 2AB", "53.81900", "-1.57600")
    assert (body["placement_types"], body["needs"], body["excluded_risks"]) == (
        ["K2"], ["autism"], ["fire_setting"])
    assert (body["provider_name"], body["on_framework"], body["distance_miles"]) == (
        provider.name, False, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_age": 12, "max_age": 10}, "max_age"),
        ({"places": 1, "vacancies": 2}, "vacancies"),
        ({"postcode": "nowhere"}, "postcode"),
        ({"placement_types": ["U9"]}, "placement_types"),
        ({"excluded_risks": ["dragons"]}, "excluded_risks"),
        ({"min_age": 99999999999999999999}, "min_age"),
        ({"latitude": "1e30", "longitude": "0"}, "latitude"),
        ({"provider": 99999999}, "provider"),
        ({"provider": "abc"}, "provider"),
        ({"ofsted_inspection_date": "31/01/2025"}, "ofsted_inspection_date"),
    ],
)
def test_service_bad_input_is_400_naming_the_field(officer, body, field):
    provider = ProviderFactory()
    data = {"provider": provider.pk, "name": "Oak", "postcode": "LS6 2AB", **body}
    response = officer.post("/api/v1/services/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Service.objects.exists()


def test_a_duplicate_urn_is_400_on_the_urn(officer):
    ServiceFactory(ofsted_urn="SC123456")
    response = officer.post("/api/v1/services/", {
        "provider": ProviderFactory().pk, "name": "Oak", "postcode": "LS1",
        "ofsted_urn": "SC123456"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"ofsted_urn": ["Another service already has Ofsted URN SC123456."]}


def test_a_duplicate_service_name_for_the_provider_is_409(officer):
    existing = ServiceFactory(name="Oak")
    response = officer.post("/api/v1/services/", {
        "provider": existing.provider_id, "name": "Oak", "postcode": "LS1"}, format="json")
    assert response.status_code == 409


def test_service_update_changes_only_what_is_given(officer):
    district(LEEDS)
    district(BRADFORD)
    service = ServiceFactory(postcode="LS6 2AB", places=4, vacancies=1, name="Oak")
    service.placement_types.create(placement_type="U4")

    response = officer.patch(f"/api/v1/services/{service.pk}/",
                             {"postcode": "BD1 1AA", "needs": ["autism"]}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["postcode"], body["latitude"]) == ("Oak", "BD1 1AA", "53.79400")
    assert (body["placement_types"], body["needs"]) == (["U4"], ["autism"])


def test_a_service_cannot_move_provider(officer):
    service = ServiceFactory()
    response = officer.patch(f"/api/v1/services/{service.pk}/",
                             {"provider": ProviderFactory().pk}, format="json")
    assert response.status_code == 400
    assert "provider" in response.json()


def service_ids(client, **params):
    response = client.get("/api/v1/services/", params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_every_service_filter(social_worker):
    district(LEEDS)
    framework = current_framework()
    _c, lat, lon = LEEDS
    near = ServiceFactory(name="Oak", latitude=lat, longitude=lon, places=3, vacancies=1,
                          ofsted_rating="outstanding",
                          provider=ProviderFactory(kind="childrens_home"))
    ServicePlacementType.objects.create(service=near, placement_type="K2")
    FrameworkMembershipFactory(framework=framework, provider=near.provider)
    _c, lat, lon = LONDON
    far = ServiceFactory(name="Birch", latitude=lat, longitude=lon, places=3, vacancies=0,
                         ofsted_rating="good", ofsted_urn="SC999999")

    assert service_ids(social_worker, q="oak") == [near.pk]
    assert service_ids(social_worker, q="sc9999") == [far.pk]
    assert service_ids(social_worker, placement_type="K2") == [near.pk]
    assert service_ids(social_worker, rating=["good", "inadequate"]) == [far.pk]
    assert service_ids(social_worker, has_vacancy="yes") == [near.pk]
    assert service_ids(social_worker, has_vacancy="no") == [far.pk]
    assert service_ids(social_worker, framework=framework.pk) == [near.pk]
    assert service_ids(social_worker, kind="childrens_home") == [near.pk]
    assert service_ids(social_worker, provider=far.provider_id) == [far.pk]
    assert service_ids(social_worker, postcode="LS6 1AA", within_miles=50) == [near.pk]
    assert service_ids(social_worker, postcode="LS6", sort="distance") == [near.pk, far.pk]
    assert service_ids(social_worker, sort="name") == [far.pk, near.pk]
    assert service_ids(social_worker, sort="vacancies") == [near.pk, far.pk]
    assert service_ids(social_worker, sort="rating") == [near.pk, far.pk]


def test_a_postcode_filter_adds_distances_to_the_list(social_worker):
    district(LEEDS)
    _c, lat, lon = BRADFORD
    ServiceFactory(latitude=lat, longitude=lon)

    [row] = social_worker.get("/api/v1/services/", {"postcode": "LS6 2AB"}).json()["results"]

    expected = miles_between(LEEDS[1], LEEDS[2], BRADFORD[1], BRADFORD[2])  # 7.4
    assert row["distance_miles"] == float(expected)


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"postcode": "ZZ9 9ZZ"},
         {"postcode": ["Enter a postcode in England we know, like LS6 2AB"]}),
        ({"within_miles": "10"}, {"within_miles": ["Enter a postcode to search within a distance"]}),
        ({"sort": "distance"}, {"sort": ["Enter a postcode to sort by distance"]}),
    ],
)
def test_distance_filter_errors_are_400(social_worker, params, body):
    district(LEEDS)
    response = social_worker.get("/api/v1/services/", params)
    assert (response.status_code, response.json()) == (400, body)


@pytest.mark.parametrize(
    "params",
    [{"within_miles": "0", "postcode": "LS6"}, {"within_miles": "1e30", "postcode": "LS6"},
     {"framework": "99999999999999999999"}, {"provider": "abc"}, {"rating": "brilliant"},
     {"has_vacancy": "maybe"}, {"kind": "x"}, {"placement_type": "U9"}, {"sort": "price"}],
)
def test_bad_service_filters_are_400_not_500(social_worker, params):
    district(LEEDS)
    response = social_worker.get("/api/v1/services/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params) - {"postcode"}


def add_services(n):
    framework = FrameworkFactory(start_date=TODAY - YEAR, end_date=TODAY + YEAR)
    for _ in range(n):
        service = ServiceFactory()
        ServicePlacementType.objects.create(service=service, placement_type="U4")
        ServiceNeed.objects.create(service=service, need="autism")
        ServiceRiskExclusion.objects.create(service=service, risk="fire_setting")
        FrameworkMembershipFactory(framework=framework, provider=service.provider)


@pytest.mark.parametrize("params", [{}, {"postcode": "LS6", "sort": "rating"}])
def test_the_services_list_reads_in_a_fixed_number_of_queries(social_worker, params):
    district(LEEDS)
    add_services(1)
    social_worker.get("/api/v1/services/", params)  # sign-in and role queries settle first
    with CaptureQueriesContext(connection) as one:
        assert len(social_worker.get("/api/v1/services/", params).json()["results"]) == 1
    add_services(4)
    with CaptureQueriesContext(connection) as five:
        assert len(social_worker.get("/api/v1/services/", params).json()["results"]) == 5
    assert len(one) == len(five)


def add_providers(n):
    for _ in range(n):
        ServiceFactory.create_batch(2, provider=ProviderFactory())


def add_frameworks(n):
    for _ in range(n):
        FrameworkLotFactory.create_batch(2, framework=current_framework())


def add_rates(n):
    for _ in range(n):
        FrameworkRateFactory()


def add_discounts(n):
    ProviderDiscountFactory.create_batch(n)


@pytest.mark.parametrize(
    ("url", "add"),
    [("/api/v1/providers/", add_providers), ("/api/v1/frameworks/", add_frameworks),
     ("/api/v1/framework-rates/", add_rates), ("/api/v1/provider-discounts/", add_discounts)],
)
def test_other_lists_read_in_a_fixed_number_of_queries(social_worker, url, add):
    add(1)
    social_worker.get(url)
    with CaptureQueriesContext(connection) as one:
        assert len(social_worker.get(url).json()["results"]) == 1
    add(4)
    with CaptureQueriesContext(connection) as five:
        assert len(social_worker.get(url).json()["results"]) == 5
    assert len(one) == len(five)


# --- Frameworks and uplift --------------------------------------------------------------


def test_a_framework_shows_its_lots(social_worker):
    framework = current_framework()
    FrameworkLotFactory(framework=framework, number=2, name="Residential")
    FrameworkLotFactory(framework=framework, number=1, name="Fostering")
    FrameworkMembershipFactory(framework=framework)

    body = social_worker.get(f"/api/v1/frameworks/{framework.pk}/").json()

    assert [(lot["number"], lot["name"]) for lot in body["lots"]] == [
        (1, "Fostering"), (2, "Residential")]
    assert body["member_count"] == 1


def test_uplift_answers_201_with_the_new_rates(officer):
    rate = FrameworkRateFactory(financial_year=2025, ceiling_weekly_price=Decimal("812.34"))

    response = officer.post(f"/api/v1/frameworks/{rate.framework_id}/uplift/",
                            {"from_year": 2025, "percentage": "3.5"}, format="json")

    assert response.status_code == 201
    [created] = response.json()
    assert (created["financial_year"], created["financial_year_label"],
            created["ceiling_weekly_price"], created["provider"]) == (
        2026, "2026/27", "840.77", rate.provider_id)


def test_a_second_uplift_is_409_naming_the_year(officer):
    rate = FrameworkRateFactory(financial_year=2025)
    url = f"/api/v1/frameworks/{rate.framework_id}/uplift/"
    assert officer.post(url, {"from_year": 2025, "percentage": "3"}, format="json").status_code \
        == 201

    response = officer.post(url, {"from_year": 2025, "percentage": "3"}, format="json")

    assert response.status_code == 409
    assert "2026/27" in response.json()["detail"]
    assert FrameworkRate.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from_year": 2025, "percentage": "101"}, "percentage"),
        ({"from_year": 2025, "percentage": "-1"}, "percentage"),
        ({"from_year": 2025, "percentage": "three"}, "percentage"),
        ({"from_year": 2025}, "percentage"),
        ({"from_year": "soon", "percentage": "3"}, "from_year"),
        ({"from_year": 2030, "percentage": "3"}, "from_year"),  # no rates that year
    ],
)
def test_uplift_bad_input_is_400(officer, body, field):
    rate = FrameworkRateFactory(financial_year=2025)
    response = officer.post(f"/api/v1/frameworks/{rate.framework_id}/uplift/", body,
                            format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert FrameworkRate.objects.count() == 1


# --- Framework rates --------------------------------------------------------------------


def test_rate_create_and_the_same_rate_again_is_409(officer):
    lot = FrameworkLotFactory()
    body = {"framework": lot.framework_id, "lot": lot.pk, "placement_type": "K2",
            "financial_year": 2026, "ceiling_weekly_price": "3300.00"}

    first = officer.post("/api/v1/framework-rates/", body, format="json")
    again = officer.post("/api/v1/framework-rates/", body, format="json")

    assert first.status_code == 201
    assert (first.json()["lot"], first.json()["provider"]) == (lot.pk, None)
    assert again.status_code == 409
    assert FrameworkRate.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [{"provider": "both"}, {"lot": None}, {"lot": "other"}, {"ceiling_weekly_price": "-1"},
     {"ceiling_weekly_price": "812.345"}, {"financial_year": 1999}, {"placement_type": "U9"}],
)
def test_rate_bad_input_is_400(officer, change):
    lot = FrameworkLotFactory()
    body = {"framework": lot.framework_id, "lot": lot.pk, "placement_type": "K2",
            "financial_year": 2026, "ceiling_weekly_price": "3300.00", **change}
    if change.get("provider") == "both":
        body["provider"] = ProviderFactory().pk
    if change.get("lot") == "other":
        body["lot"] = FrameworkLotFactory().pk
    response = officer.post("/api/v1/framework-rates/", body, format="json")
    assert response.status_code == 400, response.json()
    assert not FrameworkRate.objects.exists()


def test_rate_update_changes_the_ceiling(officer):
    rate = FrameworkRateFactory(ceiling_weekly_price=Decimal("850.00"))
    response = officer.patch(f"/api/v1/framework-rates/{rate.pk}/",
                             {"ceiling_weekly_price": "860.50"}, format="json")
    assert (response.status_code, response.json()["ceiling_weekly_price"]) == (200, "860.50")


def test_rate_filters(social_worker):
    lot = FrameworkLotFactory()
    by_lot = FrameworkRate.objects.create(framework=lot.framework, lot=lot, placement_type="K2",
                                          financial_year=2026, ceiling_weekly_price=1)
    by_provider = FrameworkRateFactory(placement_type="U4", financial_year=2025)

    def ids(**params):
        response = social_worker.get("/api/v1/framework-rates/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(framework=lot.framework_id) == [by_lot.pk]
    assert ids(lot=lot.pk) == [by_lot.pk]
    assert ids(provider=by_provider.provider_id) == [by_provider.pk]
    assert ids(placement_type="U4") == [by_provider.pk]
    assert ids(financial_year=2026) == [by_lot.pk]
    for bad in ({"financial_year": "1e30"}, {"lot": "x"}, {"placement_type": "U9"}):
        assert social_worker.get("/api/v1/framework-rates/", bad).status_code == 400


# --- Discounts --------------------------------------------------------------------------


def test_discount_create_and_list_by_provider(officer):
    provider = ProviderFactory()
    ProviderDiscountFactory()  # another provider's
    response = officer.post("/api/v1/provider-discounts/", {
        "provider": provider.pk, "basis": "duration", "description": "After 26 weeks",
        "percentage": "7.5", "valid_from": "2026-04-01"}, format="json")
    assert response.status_code == 201, response.json()

    listed = officer.get("/api/v1/provider-discounts/", {"provider": provider.pk}).json()

    assert [(row["basis"], row["percentage"], row["valid_to"]) for row in listed["results"]] == [
        ("duration", "7.50", None)]


@pytest.mark.parametrize(
    "change",
    [{"percentage": "0"}, {"percentage": "101"}, {"basis": "loyalty"},
     {"valid_to": "2026-03-01"}, {"description": ""}, {"provider": 99999999}],
)
def test_discount_bad_input_is_400(officer, change):
    body = {"provider": ProviderFactory().pk, "basis": "volume", "description": "Third",
            "percentage": "5", "valid_from": "2026-04-01", **change}
    response = officer.post("/api/v1/provider-discounts/", body, format="json")
    assert response.status_code == 400, response.json()
    assert not ProviderDiscount.objects.exists()


# --- Not found, and bodies that are not JSON --------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/api/v1/providers/999999/", "/api/v1/services/999999/", "/api/v1/frameworks/999999/",
     "/api/v1/framework-rates/999999/", "/api/v1/providers/abc/",
     "/api/v1/services/99999999999999999999/"],
)
def test_unknown_objects_are_404(social_worker, url):
    assert social_worker.get(url).status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [("patch", "/api/v1/providers/999999/"), ("patch", "/api/v1/services/999999/"),
     ("patch", "/api/v1/framework-rates/999999/"),
     ("post", "/api/v1/frameworks/999999/uplift/")],
)
def test_writes_to_unknown_objects_are_404(officer, method, url):
    assert getattr(officer, method)(url, {}, format="json").status_code == 404


def test_a_body_that_is_not_json_is_400(officer):
    response = officer.generic("POST", "/api/v1/providers/", b"{not json",
                               content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


# --- The OpenAPI schema -----------------------------------------------------------------

OUR_ACTIONS = [
    ("/api/v1/providers/{id}/", "patch"),
    ("/api/v1/services/{id}/", "patch"),
    ("/api/v1/frameworks/{id}/uplift/", "post"),
    ("/api/v1/framework-rates/{id}/", "patch"),
]
OUR_CREATES = ["/api/v1/providers/", "/api/v1/services/", "/api/v1/framework-rates/",
               "/api/v1/provider-discounts/"]


@pytest.fixture
def schema(social_worker):
    response = social_worker.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_our_endpoints_are_in_the_schema(schema):
    ours = {path: {m for m in ops if m != "parameters"} for path, ops in schema["paths"].items()
            if path.split("/")[3] in {"providers", "services", "frameworks", "framework-rates",
                                      "provider-discounts"}}
    assert ours == {
        "/api/v1/providers/": {"get", "post"},
        "/api/v1/providers/{id}/": {"get", "patch"},
        "/api/v1/services/": {"get", "post"},
        "/api/v1/services/{id}/": {"get", "patch"},
        "/api/v1/frameworks/": {"get"},
        "/api/v1/frameworks/{id}/": {"get"},
        "/api/v1/frameworks/{id}/uplift/": {"post"},
        "/api/v1/framework-rates/": {"get", "post"},
        "/api/v1/framework-rates/{id}/": {"get", "patch"},
        "/api/v1/provider-discounts/": {"get", "post"},
    }


@pytest.mark.parametrize(("path", "method"), OUR_ACTIONS)
def test_our_actions_document_400_403_404_and_409(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    assert {"400", "403", "404", "409"} <= set(responses)
    assert responses["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConflictError"
    }


@pytest.mark.parametrize("path", OUR_CREATES)
def test_our_creates_document_their_refusals(schema, path):
    assert {"201", "400", "403", "409"} <= set(schema["paths"][path]["post"]["responses"])


def test_the_services_list_documents_its_filters(schema):
    names = {p["name"] for p in schema["paths"]["/api/v1/services/"]["get"]["parameters"]}
    assert {"q", "placement_type", "rating", "has_vacancy", "framework", "kind", "postcode",
            "within_miles", "sort", "provider"} <= names
