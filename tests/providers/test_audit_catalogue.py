"""The audit events of the provider directory's services and its CSV imports: one event
per record changed, with the fields before and after; an update that changes nothing,
and a refused change, write none. (The market's sourcing events are in
test_audit_services.py.)"""

import datetime
from decimal import Decimal

import pytest

from core.errors import ActionNotPermitted, Conflict, InvalidInput
from core.models import AuditEvent
from core.roles import Role
from providers.models import FrameworkRate, Provider, Service
from providers.services import catalogue
from providers.services.imports import import_rates_csv, import_services_csv
from tests.factories import FrameworkFactory, FrameworkRateFactory, ProviderFactory, ServiceFactory
from tests.providers.catalogue_factories import (
    LEEDS,
    FrameworkLotFactory,
    ProviderDiscountFactory,
    csv_file,
    district,
)

pytestmark = pytest.mark.django_db

PROVIDER = {"name": "Hilltop Fostering", "kind": "ifa", "place_provider": "PR4"}


@pytest.fixture
def officer(personas):
    return personas[Role.COMMISSIONING_OFFICER]


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def event(action, obj):
    return AuditEvent.objects.get(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


# --- Providers and services ---------------------------------------------------------------


def test_a_new_provider_is_audited_field_by_field(officer):
    provider = catalogue.provider_create(by=officer, fields={**PROVIDER, "email": "a@b.example"})

    created = event("provider.create", provider)
    assert (created.actor, created.child_id, created.reason) == (officer, None, "")
    assert created.changes == {
        "name": [None, "Hilltop Fostering"], "kind": [None, "ifa"],
        "place_provider": [None, "PR4"], "email": [None, "a@b.example"],
        "phone": [None, ""], "is_active": [None, True],
    }


def test_a_provider_update_records_only_what_changed(officer):
    provider = ProviderFactory(name="Elm Care", phone="0113 000 0000")

    catalogue.provider_update(by=officer, provider=provider,
                              fields={"name": "Elm Care", "phone": "0113 111 1111"})

    assert event("provider.update", provider).changes == {
        "phone": ["0113 000 0000", "0113 111 1111"]
    }


def test_an_update_that_changes_nothing_writes_no_event(officer):
    provider = ProviderFactory(name="Elm Care")
    service = ServiceFactory(provider=provider, name="Elm House", places=3)
    discount = ProviderDiscountFactory(provider=provider, valid_to=datetime.date(2027, 3, 31))

    catalogue.provider_update(by=officer, provider=provider, fields={"name": "Elm Care"})
    catalogue.service_update(by=officer, service=service, fields={"places": 3})
    catalogue.discount_end(by=officer, discount=discount, valid_to=datetime.date(2027, 3, 31))

    assert events() == []


def test_a_new_service_is_audited_with_its_code_lists(officer):
    district(LEEDS)
    provider = ProviderFactory()

    service = catalogue.service_create(
        by=officer, provider=provider, fields={"name": "Hilltop North", "postcode": "LS6 2AB"},
        placement_types=["U6", "U4"], needs=["autism"], excluded_risks=[],
    )

    created = event("service.create", service)
    assert created.actor == officer
    assert created.changes["provider"] == [None, provider.pk]
    assert created.changes["postcode"] == [None, "LS6 2AB"]
    assert created.changes["latitude"] == [None, str(LEEDS[1])]
    assert created.changes["placement_types"] == [None, ["U4", "U6"]]
    assert created.changes["needs"] == [None, ["autism"]]
    assert created.changes["excluded_risks"] == [None, []]


def test_a_service_update_records_changed_fields_and_lists(officer):
    service = ServiceFactory(places=3, vacancies=1)
    service.placement_types.create(placement_type="U4")

    catalogue.service_update(by=officer, service=service, fields={"vacancies": 2},
                             placement_types=["U4", "U6"], needs=None)

    assert event("service.update", service).changes == {
        "vacancies": [1, 2], "placement_types": [["U4"], ["U4", "U6"]]
    }


# --- Framework rates, the uplift and discounts --------------------------------------------


def test_setting_a_rate_creates_then_changes_it(officer):
    framework, provider = FrameworkFactory(), ProviderFactory()
    arguments = {"by": officer, "framework": framework, "provider": provider,
                 "placement_type": "U4", "financial_year": 2026}

    rate = catalogue.framework_rate_set(**arguments, ceiling_weekly_price=Decimal("850"))
    catalogue.framework_rate_set(**arguments, ceiling_weekly_price=Decimal("875.50"))
    catalogue.framework_rate_set(**arguments, ceiling_weekly_price=Decimal("875.50"))

    created, changed = events(object_type="providers.frameworkrate")
    assert (created.action, changed.action) == ("framework_rate.create", "framework_rate.update")
    assert created.object_id == changed.object_id == str(rate.pk)
    assert created.changes == {
        "framework": [None, framework.pk], "provider": [None, provider.pk],
        "placement_type": [None, "U4"], "financial_year": [None, 2026],
        "ceiling_weekly_price": [None, "850.00"],
    }
    assert changed.changes == {"ceiling_weekly_price": ["850.00", "875.50"]}


def test_the_uplift_is_one_event_listing_every_rate_before_and_after(officer):
    lot = FrameworkLotFactory()
    framework = lot.framework
    first = FrameworkRateFactory(framework=framework, lot=lot, provider=None, placement_type="U4",
                                 financial_year=2025, ceiling_weekly_price=Decimal("812.34"))
    second = FrameworkRateFactory(framework=framework, lot=lot, provider=None, placement_type="U6",
                                  financial_year=2025, ceiling_weekly_price=Decimal("900.00"))

    created = catalogue.framework_apply_uplift(by=officer, framework=framework, from_year=2025,
                                               percentage=Decimal("3.5"))

    uplift = event("framework.uplift", framework)
    assert uplift.actor == officer
    assert uplift.reason == "3.5% uplift of 2 rate(s) from 2025/26 to 2026/27."
    assert uplift.changes == {
        "financial_year": [2025, 2026],
        "rates": [[first.pk, second.pk], [rate.pk for rate in created]],
        "ceiling_weekly_price": [["812.34", "900.00"], ["840.77", "931.50"]],
    }
    assert events() == [uplift]


def test_a_discount_is_audited_when_made_and_when_ended(officer):
    provider = ProviderFactory()
    discount = catalogue.discount_create(by=officer, provider=provider, fields={
        "basis": "volume", "description": "5% off the third placement",
        "percentage": Decimal("5"), "valid_from": datetime.date(2026, 4, 1),
    })
    catalogue.discount_end(by=officer, discount=discount, valid_to=datetime.date(2026, 9, 30))

    made, ended = events(object_type="providers.providerdiscount")
    assert (made.action, made.actor) == ("discount.create", officer)
    assert made.changes["percentage"] == [None, "5.00"]
    assert "valid_to" not in made.changes  # no end date: nothing to record
    assert (ended.action, ended.changes) == (
        "discount.end", {"valid_to": [None, "2026-09-30"]}
    )


# --- The imports --------------------------------------------------------------------------

SERVICES_HEADER = "provider_name,provider_kind,provider_code,service_name,postcode,places\n"
RATES_HEADER = "provider_name,placement_type,financial_year,ceiling_weekly_price\n"


def test_each_imported_record_is_audited_with_its_line(officer):
    district(LEEDS)
    text = (SERVICES_HEADER
            + "Hilltop Fostering,ifa,PR4,Hilltop North,LS6 2AB,4\n"
            + "Hilltop Fostering,ifa,PR4,Hilltop South,LS6 3AB,2\n")

    import_services_csv(by=officer, file=csv_file(text))

    provider = Provider.objects.get()
    north, south = Service.objects.order_by("name")
    assert [(e.action, e.object_id, e.reason, e.actor) for e in events()] == [
        ("provider.create", str(provider.pk), "CSV import, line 2.", officer),
        ("service.create", str(north.pk), "CSV import, line 2.", officer),
        ("service.create", str(south.pk), "CSV import, line 3.", officer),
    ]


def test_importing_the_same_file_again_writes_only_what_changed(officer):
    district(LEEDS)
    text = SERVICES_HEADER + "Hilltop Fostering,ifa,PR4,Hilltop North,LS6 2AB,4\n"
    import_services_csv(by=officer, file=csv_file(text))
    first = len(events())

    import_services_csv(by=officer, file=csv_file(text))
    import_services_csv(by=officer, file=csv_file(text.replace(",4\n", ",5\n")))

    [changed] = events()[first:]
    assert (changed.action, changed.changes, changed.reason) == (
        "service.update", {"places": [4, 5]}, "CSV import, line 2."
    )


def test_imported_rates_are_audited_row_by_row_and_a_bad_row_writes_nothing(officer):
    framework, provider = FrameworkFactory(), ProviderFactory(name="Elm Care")
    text = (RATES_HEADER + "Elm Care,U4,2026/27,850.00\n" + "Elm Care,U4,2026/27,lots\n"
            + "Elm Care,U6,2026,900\n")

    report = import_rates_csv(by=officer, framework=framework, file=csv_file(text))

    assert [r.line for r in report.rejected] == [3]
    u4, u6 = FrameworkRate.objects.filter(provider=provider).order_by("placement_type")
    assert [(e.action, e.object_id, e.reason) for e in events()] == [
        ("framework_rate.create", str(u4.pk), "CSV import, line 2."),
        ("framework_rate.create", str(u6.pk), "CSV import, line 4."),
    ]


# --- Refused changes write nothing ----------------------------------------------------------


def _as_social_worker(personas):
    catalogue.provider_create(by=personas[Role.SOCIAL_WORKER], fields=PROVIDER)


def _duplicate_provider(personas):
    ProviderFactory(name=PROVIDER["name"])
    catalogue.provider_create(by=personas[Role.COMMISSIONING_OFFICER], fields=PROVIDER)


def _bad_service(personas):
    catalogue.service_update(by=personas[Role.COMMISSIONING_OFFICER],
                             service=ServiceFactory(places=1), fields={"vacancies": 5})


def _uplift_into_a_year_with_rates(personas):
    rate = FrameworkRateFactory(financial_year=2025)
    FrameworkRateFactory(framework=rate.framework, financial_year=2026)
    catalogue.framework_apply_uplift(by=personas[Role.COMMISSIONING_OFFICER],
                                     framework=rate.framework, from_year=2025,
                                     percentage=Decimal("2"))


def _extend_an_ended_discount(personas):
    discount = ProviderDiscountFactory(valid_to=datetime.date(2026, 6, 30))
    catalogue.discount_end(by=personas[Role.COMMISSIONING_OFFICER], discount=discount,
                           valid_to=datetime.date(2026, 12, 31))


def _import_a_file_without_columns(personas):
    import_services_csv(by=personas[Role.COMMISSIONING_OFFICER],
                        file=csv_file("provider_name\nElm Care\n"))


REFUSED = [
    (_as_social_worker, ActionNotPermitted),
    (_duplicate_provider, Conflict),
    (_bad_service, InvalidInput),
    (_uplift_into_a_year_with_rates, Conflict),
    (_extend_an_ended_discount, Conflict),
    (_import_a_file_without_columns, InvalidInput),
]


@pytest.mark.parametrize("attempt,error", REFUSED, ids=[a.__name__[1:] for a, _ in REFUSED])
def test_a_refused_change_writes_no_event(personas, attempt, error):
    with pytest.raises(error):
        attempt(personas)

    assert events() == []
