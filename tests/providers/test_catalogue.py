"""providers.services.catalogue: who may change the directory, what it refuses (always a
domain error naming the field, never an IntegrityError), service locations from postcode
districts, and the framework uplift's arithmetic."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import ActionNotPermitted, Conflict, InvalidInput
from core.roles import Role, roles_of
from providers.models import (
    FrameworkRate,
    Provider,
    ProviderDiscount,
    Service,
    ServicePlacementType,
)
from providers.services import catalogue
from providers.services.imports import import_rates_csv, import_services_csv
from tests.factories import (
    FrameworkFactory,
    FrameworkRateFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
)
from tests.providers.catalogue_factories import (
    BRADFORD,
    EDITORS,
    LEEDS,
    NON_EDITORS,
    FrameworkLotFactory,
    ProviderDiscountFactory,
    csv_file,
    district,
)

pytestmark = pytest.mark.django_db

PROVIDER = {"name": "Hilltop Fostering", "kind": "ifa", "place_provider": "PR4"}
SERVICE_LISTS = {"placement_types": ["U4"], "needs": [], "excluded_risks": []}


@pytest.fixture
def officer(personas):
    return personas[Role.COMMISSIONING_OFFICER]


# --- Who may write: every write, every role ---------------------------------------------


def _rate_args():
    return {"framework": FrameworkFactory(), "provider": ProviderFactory(),
            "placement_type": "U4", "financial_year": 2026,
            "ceiling_weekly_price": Decimal("850.00")}


WRITES = {
    "provider_create": lambda by: catalogue.provider_create(by=by, fields=dict(PROVIDER)),
    "provider_update": lambda by: catalogue.provider_update(
        by=by, provider=ProviderFactory(), fields={"phone": "0113 000 0000"}),
    "service_create": lambda by: catalogue.service_create(
        by=by, provider=ProviderFactory(), fields={"name": "Oak", "postcode": "LS6 2AB"},
        **SERVICE_LISTS),
    "service_update": lambda by: catalogue.service_update(
        by=by, service=ServiceFactory(), fields={"vacancies": 0}),
    "framework_rate_set": lambda by: catalogue.framework_rate_set(by=by, **_rate_args()),
    "framework_apply_uplift": lambda by: catalogue.framework_apply_uplift(
        by=by, framework=FrameworkRateFactory(financial_year=2025).framework, from_year=2025,
        percentage=Decimal("3")),
    "discount_create": lambda by: catalogue.discount_create(
        by=by, provider=ProviderFactory(), fields={
            "basis": "volume", "description": "Third placement", "percentage": Decimal("5"),
            "valid_from": datetime.date(2026, 4, 1)}),
    "discount_end": lambda by: catalogue.discount_end(
        by=by, discount=ProviderDiscountFactory(), valid_to=datetime.date(2027, 3, 31)),
    "import_services_csv": lambda by: import_services_csv(by=by, file=csv_file(
        "provider_name,provider_kind,provider_code,service_name,postcode\n"
        "Hilltop,ifa,PR4,Oak,LS6 2AB\n")),
    "import_rates_csv": lambda by: import_rates_csv(
        by=by, framework=FrameworkFactory(), file=csv_file(
            "provider_name,placement_type,financial_year,ceiling_weekly_price\n"
            f"{ProviderFactory().name},U4,2026,850\n")),
}
MODELS = (Provider, Service, FrameworkRate, ProviderDiscount, ServicePlacementType)


def snapshot():
    return [list(model.objects.order_by("pk").values()) for model in MODELS]


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("role", EDITORS)
def test_editors_may_write(personas, role, write):
    WRITES[write](personas[role])


_real_require = catalogue.require_catalogue_editor


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("role", NON_EDITORS)
def test_other_roles_are_refused_and_nothing_changes(personas, role, write, monkeypatch):
    before = []

    def snapshot_then_check(by):
        # The write's arguments are built by now: only the refused write may not change rows.
        before.append(snapshot())
        _real_require(by)

    monkeypatch.setattr(catalogue, "require_catalogue_editor", snapshot_then_check)
    with pytest.raises(ActionNotPermitted, match="commissioning officer or an administrator"):
        WRITES[write](personas[role])
    assert before and snapshot() == before[0]


def test_an_account_with_no_role_is_refused_even_as_superuser(db):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    with pytest.raises(ActionNotPermitted):
        catalogue.provider_create(by=superuser, fields=dict(PROVIDER))


# --- Providers --------------------------------------------------------------------------


def test_provider_create_and_update(officer):
    provider = catalogue.provider_create(
        by=officer, fields={**PROVIDER, "name": "  Hilltop Fostering ", "email": "a@b.org"}
    )
    assert (provider.name, provider.email, provider.is_active) == ("Hilltop Fostering", "a@b.org",
                                                                   True)
    catalogue.provider_update(by=officer, provider=provider, fields={"is_active": False})
    provider.refresh_from_db()
    assert provider.is_active is False


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({**PROVIDER, "kind": "charity"}, "kind"),
        ({**PROVIDER, "place_provider": "PR9"}, "place_provider"),
        ({**PROVIDER, "email": "not-an-email"}, "email"),
        ({**PROVIDER, "name": "   "}, "name"),
        ({**PROVIDER, "name": "x" * 201}, "name"),
        ({**PROVIDER, "is_active": "yes"}, "is_active"),
        ({"kind": "ifa", "place_provider": "PR4"}, "name"),
    ],
)
def test_provider_refuses_bad_values_naming_the_field(officer, fields, field):
    with pytest.raises(InvalidInput) as refused:
        catalogue.provider_create(by=officer, fields=fields)
    assert refused.value.field == field
    assert not Provider.objects.exists()


def test_provider_refuses_unknown_fields(officer):
    with pytest.raises(InvalidInput, match="Unknown provider fields: created_at"):
        catalogue.provider_create(by=officer, fields={**PROVIDER, "created_at": None})


def test_a_second_provider_with_the_same_name_in_any_case_is_a_conflict(officer):
    ProviderFactory(name="Hilltop Fostering")
    with pytest.raises(Conflict, match="already in the directory"):
        catalogue.provider_create(by=officer, fields={**PROVIDER, "name": "HILLTOP fostering"})


# --- Services: locations ----------------------------------------------------------------


def create_service(by, provider=None, lists=None, **fields):
    return catalogue.service_create(
        by=by, provider=provider or ProviderFactory(),
        fields={"name": "Oak Lodge", "postcode": "LS6 2AB", **fields},
        **(lists or SERVICE_LISTS),
    )


@pytest.mark.parametrize("typed", ["ls62ab", "LS6 2AB", " ls6   2ab ", "Ls6 2aB"])
def test_the_postcode_is_stored_upper_case_single_spaced_and_located(officer, typed):
    leeds = district(LEEDS)
    service = create_service(officer, postcode=typed)
    service.refresh_from_db()
    assert service.postcode == "LS6 2AB"
    assert (service.latitude, service.longitude) == (leeds.latitude, leeds.longitude)


def test_an_outward_code_alone_is_accepted_and_located(officer):
    district(LEEDS)
    service = create_service(officer, postcode="ls6")
    assert (service.postcode, service.latitude) == ("LS6", LEEDS[1])


def test_an_unknown_district_leaves_the_location_empty(officer):
    service = create_service(officer, postcode="ZZ9 9ZZ")
    service.refresh_from_db()
    assert (service.latitude, service.longitude) == (None, None)


def test_given_coordinates_win_over_the_district(officer):
    district(LEEDS)
    service = create_service(officer, latitude=Decimal("53.9"), longitude=Decimal("-1.6"))
    service.refresh_from_db()
    assert (service.latitude, service.longitude) == (Decimal("53.90000"), Decimal("-1.60000"))


def test_a_new_postcode_moves_the_service_to_its_district(officer):
    district(LEEDS)
    district(BRADFORD)
    service = create_service(officer)
    catalogue.service_update(by=officer, service=service, fields={"postcode": "bd1 1aa"})
    service.refresh_from_db()
    assert (service.postcode, service.latitude, service.longitude) == (
        "BD1 1AA", BRADFORD[1], BRADFORD[2]
    )


def test_an_update_without_a_postcode_keeps_given_coordinates(officer):
    district(LEEDS)
    service = create_service(officer, latitude=Decimal("53.9"), longitude=Decimal("-1.6"))
    catalogue.service_update(by=officer, service=service, fields={"vacancies": 0})
    service.refresh_from_db()
    assert service.latitude == Decimal("53.90000")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latitude": Decimal("91")}, "latitude"),
        ({"latitude": Decimal("53.1")}, "latitude"),  # without a longitude
        ({"longitude": "east"}, "longitude"),
        ({"postcode": "not a postcode"}, "postcode"),
        ({"postcode": ""}, "postcode"),
    ],
)
def test_bad_locations_are_refused(officer, fields, field):
    with pytest.raises(InvalidInput) as refused:
        create_service(officer, **fields)
    assert refused.value.field == field


# --- Services: other rules --------------------------------------------------------------


def test_service_create_sets_fields_and_codes(officer):
    service = create_service(
        officer, lists={"placement_types": ["U4", "U6", "U4"], "needs": ["autism"],
                        "excluded_risks": ["fire_setting"]},
        ofsted_urn="sc123456", ofsted_rating="good", min_age=8, max_age=17, places=3,
        vacancies=1,
    )
    assert service.ofsted_urn == "SC123456"
    assert sorted(service.placement_types.values_list("placement_type", flat=True)) == [
        "U4", "U6"]
    assert list(service.needs_accepted.values_list("need", flat=True)) == ["autism"]
    assert list(service.risks_excluded.values_list("risk", flat=True)) == ["fire_setting"]


def test_service_update_replaces_only_the_lists_given(officer):
    service = create_service(officer, lists={"placement_types": ["U4"], "needs": ["autism"],
                                             "excluded_risks": []})
    catalogue.service_update(by=officer, service=service, fields={}, placement_types=["K2"])
    assert list(service.placement_types.values_list("placement_type", flat=True)) == ["K2"]
    assert list(service.needs_accepted.values_list("need", flat=True)) == ["autism"]


@pytest.mark.parametrize(
    ("fields", "lists", "field"),
    [
        ({"min_age": 12, "max_age": 10}, None, "max_age"),
        ({"places": 2, "vacancies": 3}, None, "vacancies"),
        ({"max_age": 26}, None, "max_age"),
        ({"min_age": -1}, None, "min_age"),
        ({"places": True}, None, "places"),
        ({"places": "3"}, None, "places"),
        ({"ofsted_rating": "brilliant"}, None, "ofsted_rating"),
        ({"ofsted_inspection_date": "2025-01-01"}, None, "ofsted_inspection_date"),
        ({"ofsted_inspection_date": datetime.date(2099, 1, 1)}, None, "ofsted_inspection_date"),
        ({"ofsted_urn": "X" * 11}, None, "ofsted_urn"),
        ({}, {"placement_types": ["U9"], "needs": [], "excluded_risks": []}, "placement_types"),
        ({}, {"placement_types": [], "needs": ["sleepy"], "excluded_risks": []}, "needs"),
        ({}, {"placement_types": [], "needs": [], "excluded_risks": ["x"]}, "excluded_risks"),
        ({}, {"placement_types": "U4", "needs": [], "excluded_risks": []}, "placement_types"),
    ],
)
def test_service_refuses_bad_values_naming_the_field(officer, fields, lists, field):
    with pytest.raises(InvalidInput) as refused:
        create_service(officer, lists=lists, **fields)
    assert refused.value.field == field
    assert not Service.objects.exists()


def test_a_duplicate_urn_is_refused_on_the_urn_field(officer):
    ServiceFactory(ofsted_urn="SC123456")
    with pytest.raises(InvalidInput) as refused:
        create_service(officer, ofsted_urn="sc123456")
    assert refused.value.field == "ofsted_urn"


def test_blank_urns_may_repeat(officer):
    create_service(officer, ofsted_urn="")
    create_service(officer, name="Elm House", ofsted_urn="")
    assert Service.objects.filter(ofsted_urn="").count() == 2


def test_a_providers_second_service_with_the_same_name_is_a_conflict(officer):
    existing = ServiceFactory(name="Oak Lodge")
    with pytest.raises(Conflict):
        create_service(officer, provider=existing.provider)


def test_an_update_is_checked_against_the_stored_values(officer):
    service = ServiceFactory(places=4, vacancies=1)
    with pytest.raises(InvalidInput) as refused:
        catalogue.service_update(by=officer, service=service, fields={"places": 0})
    assert refused.value.field == "vacancies"
    service.refresh_from_db()
    assert service.places == 4


def test_an_update_refuses_an_unknown_code_and_keeps_the_old_list(officer):
    service = create_service(officer)
    with pytest.raises(InvalidInput):
        catalogue.service_update(by=officer, service=service, fields={},
                                 placement_types=["K2", "NOPE"])
    assert list(service.placement_types.values_list("placement_type", flat=True)) == ["U4"]


# --- Framework rates --------------------------------------------------------------------


def test_rate_set_creates_then_updates_rounding_half_up(officer):
    args = _rate_args()
    rate = catalogue.framework_rate_set(by=officer, **args)
    again = catalogue.framework_rate_set(
        by=officer, **{**args, "ceiling_weekly_price": Decimal("875.005")}
    )
    assert again.pk == rate.pk
    rate.refresh_from_db()
    assert rate.ceiling_weekly_price == Decimal("875.01")


def test_rate_set_for_a_lot(officer):
    lot = FrameworkLotFactory()
    rate = catalogue.framework_rate_set(
        by=officer, framework=lot.framework, lot=lot, placement_type="K2", financial_year=2026,
        ceiling_weekly_price=Decimal("3300"),
    )
    assert (rate.lot, rate.provider) == (lot, None)


def test_only_new_refuses_an_existing_rate(officer):
    args = _rate_args()
    catalogue.framework_rate_set(by=officer, **args)
    with pytest.raises(Conflict, match="2026/27"):
        catalogue.framework_rate_set(by=officer, only_new=True, **args)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"provider": None}, "lot"),  # neither
        ({"lot": "other framework's"}, "lot"),
        ({"placement_type": "U9"}, "placement_type"),
        ({"financial_year": 1999}, "financial_year"),
        ({"financial_year": "2026"}, "financial_year"),
        ({"ceiling_weekly_price": Decimal("-1")}, "ceiling_weekly_price"),
        ({"ceiling_weekly_price": Decimal("NaN")}, "ceiling_weekly_price"),
        ({"ceiling_weekly_price": Decimal("1e12")}, "ceiling_weekly_price"),
    ],
)
def test_rate_set_refuses_bad_values(officer, change, field):
    args = _rate_args()
    if change.get("lot") == "other framework's":
        change = {"lot": FrameworkLotFactory(), "provider": None}
    with pytest.raises(InvalidInput) as refused:
        catalogue.framework_rate_set(by=officer, **{**args, **change})
    assert refused.value.field == field
    assert not FrameworkRate.objects.exists()


def test_rate_set_refuses_a_lot_and_a_provider_together(officer):
    args = _rate_args()
    lot = FrameworkLotFactory(framework=args["framework"])
    with pytest.raises(InvalidInput, match="one, not both"):
        catalogue.framework_rate_set(by=officer, lot=lot, **args)


# --- The uplift -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ceiling", "percentage", "expected"),
    [
        ("812.34", "3.5", "840.77"),  # 840.7719
        ("1.00", "0.5", "1.01"),  # exactly 1.005: half-up, not half-even
        ("100.10", "2.5", "102.60"),  # 102.6025
        ("850.00", "0", "850.00"),
        ("333.33", "100", "666.66"),
        ("0.00", "10", "0.00"),
    ],
)
def test_uplift_arithmetic_is_decimal_rounded_half_up(ceiling, percentage, expected):
    assert catalogue.uplifted(Decimal(ceiling), Decimal(percentage)) == Decimal(expected)


def test_uplift_carries_every_rate_into_the_next_year(officer):
    framework = FrameworkFactory()
    lot = FrameworkLotFactory(framework=framework)
    provider = ProviderFactory()
    FrameworkRate.objects.create(framework=framework, lot=lot, placement_type="K2",
                                 financial_year=2025, ceiling_weekly_price=Decimal("3300.00"))
    FrameworkRateFactory(framework=framework, provider=provider, placement_type="U4",
                         financial_year=2025, ceiling_weekly_price=Decimal("812.34"))
    FrameworkRateFactory(framework=framework, provider=provider, financial_year=2024)
    FrameworkRateFactory(financial_year=2025)  # another framework's

    created = catalogue.framework_apply_uplift(
        by=officer, framework=framework, from_year=2025, percentage=Decimal("3.5")
    )

    assert len(created) == 2
    rows = FrameworkRate.objects.filter(framework=framework, financial_year=2026)
    assert {(r.lot_id, r.provider_id, r.placement_type, r.ceiling_weekly_price) for r in rows} == {
        (lot.pk, None, "K2", Decimal("3415.50")),
        (None, provider.pk, "U4", Decimal("840.77")),
    }
    assert {rate.pk for rate in created} == {row.pk for row in rows}


def test_uplift_is_refused_when_the_next_year_has_any_rate(officer):
    framework = FrameworkFactory()
    FrameworkRateFactory(framework=framework, financial_year=2025)
    FrameworkRateFactory(framework=framework, placement_type="U6", financial_year=2026)
    before = snapshot()

    with pytest.raises(Conflict, match="2026/27"):
        catalogue.framework_apply_uplift(
            by=officer, framework=framework, from_year=2025, percentage=Decimal("3")
        )
    assert snapshot() == before


def test_uplift_needs_rates_in_the_year(officer):
    framework = FrameworkFactory()
    FrameworkRateFactory(framework=framework, financial_year=2024)
    with pytest.raises(InvalidInput, match="no rates for 2025/26") as refused:
        catalogue.framework_apply_uplift(
            by=officer, framework=framework, from_year=2025, percentage=Decimal("3")
        )
    assert refused.value.field == "from_year"


@pytest.mark.parametrize("percentage", [Decimal("-0.01"), Decimal("100.01"), Decimal("NaN"),
                                        Decimal("Infinity"), "three"])
def test_uplift_percentage_must_be_0_to_100(officer, percentage):
    rate = FrameworkRateFactory(financial_year=2025)
    with pytest.raises(InvalidInput) as refused:
        catalogue.framework_apply_uplift(
            by=officer, framework=rate.framework, from_year=2025, percentage=percentage
        )
    assert refused.value.field == "percentage"
    assert FrameworkRate.objects.count() == 1


def add_rates(framework, n):
    start = framework.rates.count()
    for i in range(start, start + n):
        FrameworkRateFactory(framework=framework, financial_year=2025,
                             ceiling_weekly_price=Decimal("800") + i)


def test_uplift_writes_in_one_insert_whatever_the_number_of_rates(officer):
    small, large = FrameworkFactory(), FrameworkFactory()
    add_rates(small, 1)
    add_rates(large, 5)
    roles_of(officer)  # cached on the user after the first read
    counts = []
    for framework in (small, large):
        with CaptureQueriesContext(connection) as queries:
            catalogue.framework_apply_uplift(
                by=officer, framework=framework, from_year=2025, percentage=Decimal("2")
            )
        counts.append(len(queries))
        inserts = [q for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
        rate_inserts = [q for q in inserts if "providers_frameworkrate" in q["sql"]]
        assert len(rate_inserts) == 1
        assert len(inserts) == 2  # and the uplift's one audit event
    assert counts[0] == counts[1]


def test_uplift_preview_writes_nothing(officer):
    rate = FrameworkRateFactory(financial_year=2025, ceiling_weekly_price=Decimal("812.34"))
    preview = catalogue.uplift_preview(
        framework=rate.framework, from_year=2025, percentage=Decimal("3.5")
    )
    assert preview == [(rate, Decimal("840.77"))]
    assert FrameworkRate.objects.count() == 1


# --- Discounts --------------------------------------------------------------------------

DISCOUNT = {"basis": "duration", "description": "After 26 weeks", "percentage": Decimal("7.5"),
            "valid_from": datetime.date(2026, 4, 1)}


def test_discount_create_and_end(officer):
    discount = catalogue.discount_create(by=officer, provider=ProviderFactory(),
                                         fields=dict(DISCOUNT))
    assert (discount.percentage, discount.valid_to) == (Decimal("7.50"), None)
    catalogue.discount_end(by=officer, discount=discount, valid_to=datetime.date(2026, 9, 30))
    discount.refresh_from_db()
    assert discount.valid_to == datetime.date(2026, 9, 30)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"percentage": Decimal("0")}, "percentage"),
        ({"percentage": Decimal("100.01")}, "percentage"),
        ({"basis": "loyalty"}, "basis"),
        ({"description": ""}, "description"),
        ({"valid_to": datetime.date(2026, 3, 31)}, "valid_to"),
        ({"valid_from": None}, "valid_from"),
    ],
)
def test_discount_create_refuses_bad_values(officer, change, field):
    with pytest.raises(InvalidInput) as refused:
        catalogue.discount_create(by=officer, provider=ProviderFactory(),
                                  fields={**DISCOUNT, **change})
    assert refused.value.field == field
    assert not ProviderDiscount.objects.exists()


def test_discount_end_refuses_a_day_before_it_started_or_after_it_ended(officer):
    discount = ProviderDiscountFactory(valid_from=datetime.date(2026, 4, 1),
                                       valid_to=datetime.date(2026, 12, 31))
    with pytest.raises(InvalidInput):
        catalogue.discount_end(by=officer, discount=discount, valid_to=datetime.date(2026, 3, 1))
    with pytest.raises(Conflict, match="already ended on 31 December 2026"):
        catalogue.discount_end(by=officer, discount=discount, valid_to=datetime.date(2027, 1, 1))
    catalogue.discount_end(by=officer, discount=discount, valid_to=datetime.date(2026, 6, 30))
    discount.refresh_from_db()
    assert discount.valid_to == datetime.date(2026, 6, 30)
