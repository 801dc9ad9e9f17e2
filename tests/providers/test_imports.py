"""providers.services.imports: CSV files of services and of framework rates. Good rows
are applied, each bad row is reported with its line and changes nothing, and a malformed
file changes nothing at all."""

import datetime
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.roles import Role
from providers.models import FrameworkRate, Provider, Service
from providers.services.imports import (
    MAX_ROWS,
    ImportReport,
    RowError,
    import_rates_csv,
    import_services_csv,
)
from tests.factories import FrameworkFactory, FrameworkRateFactory, ProviderFactory, ServiceFactory
from tests.providers.catalogue_factories import LEEDS, FrameworkLotFactory, csv_file, district

pytestmark = pytest.mark.django_db

HEADER = (
    "provider_name,provider_kind,provider_code,provider_email,service_name,ofsted_urn,"
    "ofsted_rating,ofsted_inspection_date,postcode,local_authority_area,min_age,max_age,"
    "places,vacancies,placement_types,needs,excluded_risks\n"
)
GOOD_ROW = (
    "Hilltop Fostering,ifa,PR4,referrals@hilltop.example,Hilltop North,SC100001,good,"
    "2025-01-15,ls6 2ab,Leeds,0,17,10,2,U4;U6,autism emotional_behavioural,fire_setting\n"
)


@pytest.fixture
def officer(personas):
    return personas[Role.COMMISSIONING_OFFICER]


def import_services(by, text, **kwargs):
    return import_services_csv(by=by, file=csv_file(text, **kwargs))


def everything():
    return (
        list(Provider.objects.order_by("pk").values()),
        list(Service.objects.order_by("pk").values()),
        list(FrameworkRate.objects.order_by("pk").values()),
    )


# --- Services: rows ---------------------------------------------------------------------


def test_a_good_row_creates_the_provider_and_the_service(officer):
    district(LEEDS)
    report = import_services(officer, HEADER + GOOD_ROW)

    assert report == ImportReport(created=1, updated=0, rejected=[])
    assert report.ok
    service = Service.objects.select_related("provider").get()
    assert (service.provider.name, service.provider.kind, service.provider.place_provider,
            service.provider.email) == ("Hilltop Fostering", "ifa", "PR4",
                                        "referrals@hilltop.example")
    assert (service.name, service.ofsted_urn, service.ofsted_rating, service.postcode) == (
        "Hilltop North", "SC100001", "good", "LS6 2AB")
    assert service.ofsted_inspection_date == datetime.date(2025, 1, 15)
    assert (service.min_age, service.max_age, service.places, service.vacancies) == (0, 17, 10, 2)
    assert service.latitude == LEEDS[1]
    assert sorted(service.placement_types.values_list("placement_type", flat=True)) == [
        "U4", "U6"]
    assert sorted(service.needs_accepted.values_list("need", flat=True)) == [
        "autism", "emotional_behavioural"]
    assert list(service.risks_excluded.values_list("risk", flat=True)) == ["fire_setting"]


def test_a_mix_of_good_and_bad_rows(officer):
    existing = ServiceFactory(name="Elm House", places=5, vacancies=1, ofsted_urn="SC200002",
                              provider=ProviderFactory(name="Elm Care"))
    text = HEADER + "".join([
        GOOD_ROW,                                                          # line 2: created
        "elm care,,,,elm house,,,,LS1 1AA,,,,5,4,,,\n",                    # line 3: updated
        "New Ltd,ifa,PR4,,New Home,,,,LS1 1AA,,12,10,,,,,\n",              # line 4: ages
        "\n",                                                              # line 5: blank
        "Other Ltd,charity,PR9,,Other,,brilliant,31/01/2025,LS1,,x,,,,Q1,,\n",  # line 6
        "Elm Care,,,,Elm House,,,,LS1 1AA,,,,5,9,,,\n",                    # line 7: vacancies
        "Third Ltd,ifa,PR4,,Third,SC200002,,,LS1 1AA,,,,,,,,\n",           # line 8: URN taken
        "Fourth Ltd,,,,Fourth,,,,LS1 1AA,,,,,,,,\n",                       # line 9: new, no kind
    ])

    report = import_services(officer, text)

    assert (report.created, report.updated) == (1, 1)
    assert [error.line for error in report.rejected] == [4, 6, 7, 8, 9]
    errors = {error.line: error.errors for error in report.rejected}
    assert errors[4] == ["max_age: The oldest age cannot be below the youngest age."]
    assert errors[6] == [
        "provider_kind: 'charity' is not a code we know",
        "provider_code: 'PR9' is not a code we know",
        "ofsted_rating: 'brilliant' is not a code we know",
        "ofsted_inspection_date: '31/01/2025' is not a date like 2025-03-31",
        "min_age: 'x' is not a whole number",
        "placement_types: unknown code Q1",
    ]
    assert errors[7] == ["vacancies: Vacancies cannot be more than places."]
    assert errors[8] == ["ofsted_urn: Another service already has Ofsted URN SC200002."]
    assert errors[9] == ["provider_kind: is empty, and Fourth Ltd is a new provider"]
    # The bad rows changed nothing: no half-made providers, the existing service as line 3 left it.
    assert set(Provider.objects.values_list("name", flat=True)) == {"Elm Care",
                                                                    "Hilltop Fostering"}
    existing.refresh_from_db()
    assert (existing.vacancies, existing.ofsted_urn) == (4, "SC200002")


def test_a_row_updating_the_provider_and_failing_on_the_service_changes_neither(officer):
    provider = ProviderFactory(name="Elm Care", email="old@elm.example")
    text = HEADER + "Elm Care,,,new@elm.example,Elm House,,,,LS1 1AA,,,,2,3,,,\n"

    report = import_services(officer, text)

    assert [error.line for error in report.rejected] == [2]
    provider.refresh_from_db()
    assert provider.email == "old@elm.example"
    assert not Service.objects.exists()


def test_blank_cells_leave_an_existing_service_as_it_is(officer):
    service = ServiceFactory(name="Elm House", provider=ProviderFactory(name="Elm Care"),
                             ofsted_rating="good", local_authority_area="Leeds", places=4,
                             vacancies=1)
    service.placement_types.create(placement_type="U4")

    report = import_services(officer, HEADER + "Elm Care,,,,Elm House,,,,LS1 1AA,,,,,0,,,\n")

    assert report == ImportReport(created=0, updated=1, rejected=[])
    service.refresh_from_db()
    assert (service.ofsted_rating, service.local_authority_area, service.places,
            service.vacancies) == ("good", "Leeds", 4, 0)
    assert list(service.placement_types.values_list("placement_type", flat=True)) == ["U4"]


def test_codes_and_labels_in_any_case(officer):
    text = HEADER + (
        "Acme,Independent fostering agency,pr5,,Acme One,,Requires improvement to be good,,"
        'LS1 1AA,,,,,,"u4, U6 ;k2",AUTISM,\n'
    )
    report = import_services(officer, text)
    assert report.ok, report.rejected
    service = Service.objects.select_related("provider").get()
    assert (service.provider.kind, service.provider.place_provider, service.ofsted_rating) == (
        "ifa", "PR5", "requires_improvement")
    assert sorted(service.placement_types.values_list("placement_type", flat=True)) == [
        "K2", "U4", "U6"]


def test_line_numbers_count_lines_inside_quoted_cells(officer):
    text = (
        "provider_name,provider_kind,provider_code,service_name,postcode,local_authority_area\n"
        'Acme,ifa,PR4,One,LS1 1AA,"Leeds\nand district"\n'  # lines 2–3
        "Acme,ifa,PR4,Two,nowhere,\n"  # line 4
    )
    report = import_services(officer, text)
    assert report.rejected == [RowError(4, [
        "postcode: Enter a real postcode, like LS6 2AB, or its first part, like LS6."])]
    assert Service.objects.get().local_authority_area == "Leeds\nand district"


def test_a_row_with_more_values_than_columns_is_rejected(officer):
    text = "provider_name,provider_kind,provider_code,service_name,postcode\nA,ifa,PR4,S,LS1,x\n"
    report = import_services(officer, text)
    assert report.rejected == [
        RowError(2, ["The row has more values than the header has columns."])]
    assert not Provider.objects.exists()


def test_columns_in_any_order_and_case_extra_columns_ignored(officer):
    text = "Postcode, SERVICE_NAME ,notes,provider_code,provider_kind,Provider_Name\n" \
           "LS1 1AA,One,ignored,PR4,ifa,Acme\n"
    assert import_services(officer, text).created == 1


# --- Services: malformed files ----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a spreadsheet"),
        (b"PK\x03\x04\x14\x00\x06\x00", "not a spreadsheet"),  # an .xlsx file
        ("provider_name,service_name,postcode\nCaf\xe9,One,LS1\n".encode("latin-1"), "UTF-8"),
        (b"provider_name,service_name\nAcme,One\n", "no column called postcode"),
        (b"just some text\n", "no column called provider_name, service_name, postcode"),
        (b"provider_name,service_name,postcode\n", "no data rows"),
        (b"provider_name,service_name,postcode\n\n , , \n", "no data rows"),
        (b'provider_name,service_name,postcode\n"Acme" x,One,LS1\n', "Line 2 is not valid CSV"),
    ],
)
def test_a_malformed_file_is_refused_whole(officer, content, message):
    ServiceFactory()
    before = everything()
    upload = csv_file("")
    upload.write(content)
    upload.seek(0)
    with pytest.raises(InvalidInput, match=message) as refused:
        import_services_csv(by=officer, file=upload)
    assert refused.value.field == "file"
    assert everything() == before


def test_a_file_with_a_bad_last_line_applies_none_of_its_good_rows(officer):
    text = HEADER + GOOD_ROW + 'Acme,ifa,PR4,,"unclosed,,,,,,,,,,,,,,,,\n'
    with pytest.raises(InvalidInput):
        import_services(officer, text)
    assert not Provider.objects.exists()


def test_too_many_rows_is_refused(officer):
    rows = "".join(f"Acme,ifa,PR4,,S{i},,,,LS1,,,,,,,,\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(InvalidInput, match="more than 5,000 rows"):
        import_services(officer, HEADER + rows)
    assert not Service.objects.exists()


def test_exactly_the_row_limit_is_read(officer, monkeypatch):
    monkeypatch.setattr("providers.services.imports.MAX_ROWS", 3)
    rows = "".join(f"Acme,ifa,PR4,,S{i},,,,LS1,,,,,,,,\n" for i in range(3))
    assert import_services(officer, HEADER + rows).created == 3


def test_a_file_over_2_mb_is_refused(officer):
    text = HEADER + GOOD_ROW + "," * (2 * 1024 * 1024)
    with pytest.raises(InvalidInput, match="smaller than 2 MB"):
        import_services(officer, text)
    assert not Provider.objects.exists()


def test_a_byte_order_mark_is_accepted(officer):
    report = import_services(officer, "\ufeff" + HEADER + GOOD_ROW, encoding="utf-8")
    assert report.created == 1
    assert report.ok


def test_windows_line_endings_are_accepted(officer):
    report = import_services(officer, (HEADER + GOOD_ROW).replace("\n", "\r\n"))
    assert (report.created, report.rejected) == (1, [])


# --- Rates ------------------------------------------------------------------------------

RATES_HEADER = "lot_number,provider_name,placement_type,financial_year,ceiling_weekly_price\n"


@pytest.fixture
def framework():
    framework = FrameworkFactory()
    FrameworkLotFactory(framework=framework, number=1)
    FrameworkLotFactory(framework=framework, number=2)
    return framework


def import_rates(by, framework, text):
    return import_rates_csv(by=by, framework=framework, file=csv_file(text))


def test_rates_for_lots_and_providers(officer, framework):
    provider = ProviderFactory(name="Hilltop Fostering")
    existing = FrameworkRateFactory(framework=framework, provider=provider, placement_type="U4",
                                    financial_year=2026, ceiling_weekly_price=Decimal("800.00"))
    text = RATES_HEADER + (
        "1,,K2,2026,3300\n"
        "2,,k2,2026/27,\"£3,450.50\"\n"
        ",hilltop fostering,U4,2026-27,812.34\n"
    )

    report = import_rates(officer, framework, text)

    assert report == ImportReport(created=2, updated=1, rejected=[])
    rates = {(r.lot.number if r.lot else r.provider.name, r.placement_type, r.financial_year):
             r.ceiling_weekly_price for r in FrameworkRate.objects.filter(framework=framework)}
    assert rates == {
        (1, "K2", 2026): Decimal("3300.00"),
        (2, "K2", 2026): Decimal("3450.50"),
        ("Hilltop Fostering", "U4", 2026): Decimal("812.34"),
    }
    existing.refresh_from_db()
    assert existing.ceiling_weekly_price == Decimal("812.34")


def test_bad_rate_rows_are_reported_and_change_nothing(officer, framework):
    ProviderFactory(name="Hilltop")
    text = RATES_HEADER + "".join([
        "1,,K2,2026,3300\n",          # line 2: good
        "1,Hilltop,K2,2026,3300\n",   # line 3: both
        ",,K2,2026,3300\n",           # line 4: neither
        "9,,K2,2026,3300\n",          # line 5: no such lot
        ",Nobody,U4,2026,800\n",      # line 6: no such provider
        "1,,ZZ,2026/28,12.345\n",     # line 7: type, year, price
        "2,,K2,,\n",                  # line 8: empty year and price
        "2,,,1999,-5\n",              # line 9: empty type, year out of range, negative
    ])

    report = import_rates(officer, framework, text)

    assert report.created == 1
    errors = {error.line: error.errors for error in report.rejected}
    assert list(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert errors[3] == ["Fill in either lot_number or provider_name, not both."]
    assert errors[4] == ["Fill in either lot_number or provider_name, not both."]
    assert errors[5] == [f"lot_number: {framework} has no lot 9"]
    assert errors[6] == ["provider_name: no provider called 'Nobody' is in the directory"]
    assert errors[7] == [
        "placement_type: 'ZZ' is not a code we know",
        "financial_year: '2026/28' is not a financial year like 2026/27",
        "ceiling_weekly_price: '12.345' is not an amount in pounds and pence, like 812.34",
    ]
    assert errors[8] == ["financial_year: is empty", "ceiling_weekly_price: is empty"]
    assert errors[9] == [
        "placement_type: is empty",
        "financial_year: '1999' is not a financial year like 2026/27",
        "ceiling_weekly_price: '-5' is not an amount in pounds and pence, like 812.34",
    ]
    assert FrameworkRate.objects.count() == 1


def test_a_lot_of_another_framework_is_not_found(officer, framework):
    other = FrameworkLotFactory(number=7)
    report = import_rates(officer, framework, RATES_HEADER + "7,,K2,2026,3300\n")
    assert report.rejected == [RowError(2, [f"lot_number: {framework} has no lot 7"])]
    assert not other.rates.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("placement_type,financial_year,ceiling_weekly_price\nK2,2026,1\n",
         "needs a column called lot_number or provider_name"),
        ("lot_number,placement_type,financial_year\n1,K2,2026\n",
         "no column called ceiling_weekly_price"),
        (RATES_HEADER, "no data rows"),
    ],
)
def test_a_malformed_rates_file_is_refused_whole(officer, framework, text, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        import_rates(officer, framework, text)
    assert refused.value.field == "file"
    assert not FrameworkRate.objects.exists()


def test_a_rates_file_with_only_a_lot_column(officer, framework):
    text = "lot_number,placement_type,financial_year,ceiling_weekly_price\n1,K2,2026,3300\n"
    assert import_rates(officer, framework, text).created == 1
