"""Changing the provider directory through its pages: providers, services, discounts,
ceiling rates, the annual uplift with its confirmation page, and CSV imports. Only
commissioning officers and administrators may; bad input comes back with the GOV.UK error
summary and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.roles import Role
from providers.models import FrameworkRate, Provider, ProviderDiscount, Service
from tests.factories import FrameworkFactory, ProviderFactory
from tests.pages import check_accessibility_basics, error_links, field_error, text
from tests.providers.page_checks import (
    DiscountFactory,
    framework_with,
    full_service,
    leeds_districts,
)

EDITORS = [Role.COMMISSIONING_OFFICER, Role.ADMINISTRATOR]
READERS = [role for role in Role if role not in EDITORS]

PROVIDER_ANSWERS = {
    "name": "Brightwater Care",
    "kind": "childrens_home",
    "place_provider": "PR4",
    "email": "referrals@brightwater.example",
    "phone": "0113 496 0000",
    "is_active": "on",
}
SERVICE_ANSWERS = {
    "name": "Brightwater House",
    "ofsted_urn": "SC123456",
    "ofsted_rating": "good",
    "ofsted_inspection_date": "2025-11-04",
    "postcode": "ls6 2ab",
    "local_authority_area": "Leeds",
    "min_age": "11",
    "max_age": "17",
    "places": "4",
    "vacancies": "1",
    "is_active": "on",
    "placement_types": ["K2", "R1"],
    "needs": ["autism", "emotional_behavioural"],
    "excluded_risks": ["fire_setting"],
}


@pytest.fixture
def officer(client, personas):
    client.force_login(personas[Role.COMMISSIONING_OFFICER])
    return personas[Role.COMMISSIONING_OFFICER]


def csv_file(content: str, name="upload.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def catalogue_state() -> tuple:
    """Everything the editing pages can change, to prove a refusal changed nothing."""
    return (
        list(Provider.objects.order_by("pk").values()),
        list(Service.objects.order_by("pk").values()),
        list(FrameworkRate.objects.order_by("pk").values()),
        list(ProviderDiscount.objects.order_by("pk").values()),
    )


# --- Only editors ----------------------------------------------------------------------------


@pytest.fixture
def editable(db):
    """{url name: url} for every editing page, with the objects they need."""
    service = full_service()
    framework, _lot, _providers = framework_with(members=1)
    discount = DiscountFactory(provider=service.provider)
    return {
        "provider-create": reverse("provider-create"),
        "provider-edit": reverse("provider-edit", args=[service.provider_id]),
        "service-create": reverse("service-create", args=[service.provider_id]),
        "service-edit": reverse("service-edit", args=[service.pk]),
        "discount-create": reverse("discount-create", args=[service.provider_id]),
        "discount-end": reverse("discount-end", args=[discount.pk]),
        "framework-rate-set": reverse("framework-rate-set", args=[framework.pk]),
        "framework-uplift": reverse("framework-uplift", args=[framework.pk]),
        "service-import": reverse("service-import"),
        "rate-import": reverse("rate-import", args=[framework.pk]),
    }


@pytest.mark.parametrize("role", READERS)
def test_only_editors_may_open_or_submit_the_editing_pages(client, personas, editable, role):
    client.force_login(personas[role])
    before = catalogue_state()
    for name, url in editable.items():
        assert client.get(url).status_code == 403, name
        assert client.post(url, {**PROVIDER_ANSWERS, **SERVICE_ANSWERS}).status_code == 403, name
    assert catalogue_state() == before


@pytest.mark.parametrize("role", EDITORS)
def test_editors_get_every_editing_page_with_labelled_fields(client, personas, editable, role):
    client.force_login(personas[role])
    for name, url in editable.items():
        response = client.get(url)
        assert response.status_code == 200, name
        check_accessibility_basics(response)


def test_editing_pages_send_someone_signed_out_to_sign_in(client, editable):
    for url in editable.values():
        response = client.post(url, PROVIDER_ANSWERS)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Providers -------------------------------------------------------------------------------


def test_an_officer_adds_a_provider(client, officer):
    response = client.post(reverse("provider-create"), PROVIDER_ANSWERS, follow=True)
    provider = Provider.objects.get(name="Brightwater Care")
    assert response.redirect_chain[-1][0] == reverse("provider-detail", args=[provider.pk])
    assert "Brightwater Care added to the directory." in text(response)
    assert (provider.kind, provider.place_provider, provider.email) == (
        "childrens_home", "PR4", "referrals@brightwater.example"
    )


def test_a_provider_form_with_missing_answers_shows_every_error(client, officer):
    response = client.post(reverse("provider-create"), {"email": "not-an-email"})
    assert response.status_code == 200
    assert error_links(response) == ["id_name", "id_kind", "id_place_provider", "id_email"]
    assert field_error(response, "kind") == "Select the kind of provider"
    assert text(response).count("<h1") == 1
    assert "<title>Error: " in text(response)
    assert not Provider.objects.exists()


def test_a_provider_name_already_in_the_directory_is_refused(client, officer):
    ProviderFactory(name="Brightwater Care")
    exact = client.post(reverse("provider-create"), PROVIDER_ANSWERS)
    assert field_error(exact, "name") == "A provider with this name is already in the directory"
    # Another case: the service refuses (Conflict), shown in the error summary.
    other_case = client.post(reverse("provider-create"), {**PROVIDER_ANSWERS,
                                                          "name": "BRIGHTWATER care"})
    assert error_links(other_case) == ["id_name"]
    assert "is already in the directory" in text(other_case)
    assert Provider.objects.count() == 1


def test_an_officer_changes_a_provider(client, officer):
    provider = ProviderFactory(name="Old Name")
    url = reverse("provider-edit", args=[provider.pk])
    assert 'value="Old Name"' in text(client.get(url))
    response = client.post(url, {**PROVIDER_ANSWERS, "name": "New Name", "is_active": ""})
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.name, provider.is_active) == ("New Name", False)


def test_a_bad_provider_change_keeps_the_old_details(client, officer):
    provider = ProviderFactory(name="Old Name")
    response = client.post(reverse("provider-edit", args=[provider.pk]),
                           {**PROVIDER_ANSWERS, "name": "", "email": "nope"})
    assert error_links(response) == ["id_name", "id_email"]
    assert "Old Name" in text(response)  # the caption still names the provider
    provider.refresh_from_db()
    assert provider.name == "Old Name"


# --- Services --------------------------------------------------------------------------------


def test_an_officer_adds_a_service_with_its_codes(client, officer):
    districts = leeds_districts()
    provider = ProviderFactory()
    response = client.post(reverse("service-create", args=[provider.pk]), SERVICE_ANSWERS)
    service = Service.objects.get(name="Brightwater House")
    assert response.status_code == 302
    assert response.url == reverse("service-detail", args=[service.pk])
    assert service.provider == provider and service.postcode == "LS6 2AB"
    assert (service.latitude, service.longitude) == (districts["LS6"].latitude,
                                                      districts["LS6"].longitude)
    assert sorted(service.placement_types.values_list("placement_type", flat=True)) == ["K2", "R1"]
    assert sorted(service.needs_accepted.values_list("need", flat=True)) == [
        "autism", "emotional_behavioural"
    ]
    assert list(service.risks_excluded.values_list("risk", flat=True)) == ["fire_setting"]


@pytest.mark.parametrize(
    "answers, field, message",
    [
        ({"max_age": "9"}, "max_age", "The oldest age cannot be below the youngest age."),
        ({"vacancies": "5"}, "vacancies", "Vacancies cannot be more than places."),
        ({"postcode": "NOPE 12"}, "postcode", "Enter a real postcode"),
        ({"postcode": "far too long a postcode"}, "postcode", "Enter a real postcode"),
        ({"ofsted_urn": "SC999999"}, "ofsted_urn", "Another service already has Ofsted URN"),
        ({"placement_types": []}, "placement_types",
         "Select the placement types this service offers"),
        ({"min_age": "eleven"}, "min_age", "Enter youngest age accepted as a whole number"),
        ({"ofsted_inspection_date": "2025-02-30"}, "ofsted_inspection_date",
         "Enter a real date"),
    ],
)
def test_a_bad_service_comes_back_with_the_error_on_its_field(
    client, officer, answers, field, message
):
    provider = ProviderFactory()
    full_service(ofsted_urn="SC999999")
    before = catalogue_state()
    response = client.post(reverse("service-create", args=[provider.pk]),
                           {**SERVICE_ANSWERS, **answers})
    assert response.status_code == 200
    suffix = "_0" if field == "placement_types" else ""
    assert error_links(response) == [f"id_{field}{suffix}"]
    assert field_error(response, field).startswith(message)
    check_accessibility_basics(response)
    assert catalogue_state() == before


def test_the_service_form_keeps_what_was_ticked_when_it_comes_back(client, officer):
    provider = ProviderFactory()
    response = client.post(reverse("service-create", args=[provider.pk]),
                           {**SERVICE_ANSWERS, "max_age": "9"})
    html = text(response)
    assert 'name="placement_types" value="K2" id="id_placement_types_5" ' \
           'class="govuk-checkboxes__input" checked>' in html
    assert 'name="needs" value="autism" id="id_needs_3" class="govuk-checkboxes__input" ' \
           'checked>' in html
    assert 'name="placement_types" value="K1" id="id_placement_types_4" ' \
           'class="govuk-checkboxes__input">' in html


def test_an_officer_changes_a_service(client, officer):
    service = full_service(types=("K2",), needs=("autism",), risks=("fire_setting",),
                           name="Oak Lodge", places=4, vacancies=1)
    url = reverse("service-edit", args=[service.pk])
    form = text(client.get(url))
    assert 'value="Oak Lodge"' in form
    assert 'value="autism" id="id_needs_3" class="govuk-checkboxes__input" checked>' in form
    assert 'value="mental_health" id="id_needs_1" class="govuk-checkboxes__input">' in form
    answers = {**SERVICE_ANSWERS, "name": "Oak Lodge", "ofsted_urn": service.ofsted_urn,
               "vacancies": "0", "needs": [], "excluded_risks": ["going_missing"],
               "placement_types": ["K2", "K1"]}
    response = client.post(url, answers, follow=True)
    assert "Service details saved." in text(response)
    service.refresh_from_db()
    assert service.vacancies == 0
    assert not service.needs_accepted.exists()
    assert list(service.risks_excluded.values_list("risk", flat=True)) == ["going_missing"]
    assert sorted(service.placement_types.values_list("placement_type", flat=True)) == [
        "K1", "K2"
    ]


def test_a_refused_service_change_changes_nothing(client, officer):
    service = full_service(places=4, vacancies=1, needs=("autism",))
    before = catalogue_state()
    response = client.post(reverse("service-edit", args=[service.pk]),
                           {**SERVICE_ANSWERS, "vacancies": "9", "needs": []})
    assert error_links(response) == ["id_vacancies"]
    assert catalogue_state() == before
    assert list(service.needs_accepted.values_list("need", flat=True)) == ["autism"]


# --- Discounts -------------------------------------------------------------------------------

DISCOUNT_ANSWERS = {
    "basis": "volume",
    "description": "5% off each placement after the third",
    "percentage": "5",
    "valid_from": "2026-04-01",
    "valid_to": "",
}


def test_an_officer_adds_and_ends_a_discount(client, officer):
    provider = ProviderFactory()
    response = client.post(reverse("discount-create", args=[provider.pk]), DISCOUNT_ANSWERS,
                           follow=True)
    assert "Discount added." in text(response)
    discount = provider.discounts.get()
    assert (discount.percentage, discount.valid_from, discount.valid_to) == (
        Decimal("5.00"), datetime.date(2026, 4, 1), None
    )
    response = client.post(reverse("discount-end", args=[discount.pk]),
                           {"valid_to": "2027-03-31"}, follow=True)
    assert "Discount ended." in text(response)
    discount.refresh_from_db()
    assert discount.valid_to == datetime.date(2027, 3, 31)


@pytest.mark.parametrize(
    "answers, field, message",
    [
        ({"percentage": "0"}, "percentage", "The discount must be more than 0% and at most 100%"),
        ({"percentage": "101"}, "percentage",
         "The discount must be more than 0% and at most 100%"),
        ({"percentage": "1000"}, "percentage",
         "The discount must be more than 0% and at most 100%"),
        ({"valid_to": "2026-03-01"}, "valid_to", "The end date cannot be before the start date."),
        ({"basis": ""}, "basis", "Choose what the discount depends on"),
    ],
)
def test_a_bad_discount_is_refused(client, officer, answers, field, message):
    provider = ProviderFactory()
    response = client.post(reverse("discount-create", args=[provider.pk]),
                           {**DISCOUNT_ANSWERS, **answers})
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert error_links(response)
    assert not ProviderDiscount.objects.exists()


def test_a_discount_cannot_end_before_it_starts(client, officer):
    discount = DiscountFactory(valid_from=datetime.date(2026, 4, 1))
    response = client.post(reverse("discount-end", args=[discount.pk]),
                           {"valid_to": "2026-01-01"})
    assert field_error(response, "valid_to") == "The end date cannot be before the start date."
    discount.refresh_from_db()
    assert discount.valid_to is None


# --- Ceiling rates ---------------------------------------------------------------------------


def test_an_officer_sets_rates_for_a_lot_and_for_a_provider(client, officer):
    framework, lot, (member,) = framework_with(members=1)
    url = reverse("framework-rate-set", args=[framework.pk])
    response = client.post(url, {"applies_to": f"lot:{lot.pk}", "placement_type": "K2",
                                 "financial_year": "2027", "ceiling_weekly_price": "3250.5"},
                           follow=True)
    assert "Ceiling rate saved: £3,250.50 a week for K2 in 2027/28." in text(response)
    assert framework.rates.get(lot=lot, financial_year=2027).ceiling_weekly_price == Decimal(
        "3250.50"
    )
    client.post(url, {"applies_to": f"provider:{member.pk}", "placement_type": "K2",
                      "financial_year": "2026", "ceiling_weekly_price": "3300"})
    rate = framework.rates.get(provider=member, financial_year=2026, placement_type="K2")
    assert rate.ceiling_weekly_price == Decimal("3300.00")  # changed, not duplicated


def test_a_bad_rate_is_refused(client, officer):
    framework, lot, _ = framework_with(members=1)
    other_lot = framework_with(members=0)[1]
    before = catalogue_state()
    response = client.post(
        reverse("framework-rate-set", args=[framework.pk]),
        {"applies_to": f"lot:{other_lot.pk}", "placement_type": "",
         "financial_year": "1999", "ceiling_weekly_price": "-1"},
    )
    assert error_links(response) == [
        "id_applies_to", "id_placement_type", "id_financial_year", "id_ceiling_weekly_price"
    ]
    assert field_error(response, "ceiling_weekly_price") == (
        "The ceiling weekly price cannot be negative"
    )
    assert catalogue_state() == before


# --- The annual uplift -----------------------------------------------------------------------


def test_the_uplift_shows_every_new_rate_and_changes_nothing_until_confirmed(client, officer):
    framework, lot, (member,) = framework_with(members=1, years=(2026,), types=("K2", "U4"))
    url = reverse("framework-uplift", args=[framework.pk])
    response = client.post(url, {"from_year": "2026", "percentage": "3.5"})
    assert response.status_code == 200
    html = text(response)
    check_accessibility_basics(response)
    assert "Check the new rates for 2027/28" in html
    assert "3 new rates" in html
    assert "£3,105.00" in html  # 3,000.00 × 1.035
    assert "£3,209.02" in html  # 3,100.50 × 1.035 = 3,209.0175, half-up to the penny
    assert member.name in html and "Lot 1: Children's homes" in html
    assert 'name="confirm" value="yes"' in html
    assert not framework.rates.filter(financial_year=2027).exists()

    response = client.post(url, {"from_year": "2026", "percentage": "3.5", "confirm": "yes"},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("framework-detail", args=[framework.pk])
    assert "Uplift of 3.5% applied: 3 new ceiling rates for 2027/28." in text(response)
    assert sorted(framework.rates.filter(financial_year=2027)
                  .values_list("placement_type", "ceiling_weekly_price")) == [
        ("K2", Decimal("3105.00")), ("K2", Decimal("3209.02")), ("U4", Decimal("3105.00")),
    ]


def test_an_uplift_onto_a_year_that_has_rates_is_refused(client, officer):
    framework, _lot, _ = framework_with(members=1, years=(2026, 2027))
    before = catalogue_state()
    response = client.post(reverse("framework-uplift", args=[framework.pk]),
                           {"from_year": "2026", "percentage": "2", "confirm": "yes"})
    assert response.status_code == 200
    assert "already has rates for 2027/28" in text(response)
    assert error_links(response)
    assert catalogue_state() == before


@pytest.mark.parametrize(
    "answers, field, message",
    [
        ({"from_year": "2024"}, "from_year", "has no rates for 2024/25 to uplift"),
        ({"percentage": "150"}, "percentage", "The uplift must be between 0% and 100%"),
        ({"percentage": "-1"}, "percentage", "The uplift must be between 0% and 100%"),
        ({"percentage": "1000"}, "percentage", "The uplift must be between 0% and 100%"),
        ({"from_year": ""}, "from_year", "Enter financial year to uplift from"),
    ],
)
def test_a_bad_uplift_never_reaches_the_confirmation(client, officer, answers, field, message):
    framework, _lot, _ = framework_with(members=1, years=(2026,))
    before = catalogue_state()
    for confirm in ({}, {"confirm": "yes"}):
        response = client.post(reverse("framework-uplift", args=[framework.pk]),
                               {"from_year": "2026", "percentage": "2", **answers, **confirm})
        assert "Check the new rates" not in text(response)
        assert f"id_{field}" in error_links(response)
        assert message in field_error(response, field)
    assert catalogue_state() == before


# --- CSV imports -----------------------------------------------------------------------------

SERVICES_CSV = """provider_name,provider_kind,provider_code,service_name,postcode,min_age,max_age,places,vacancies,placement_types,needs,excluded_risks
Brightwater Care,childrens_home,PR4,Brightwater House,LS6 2AB,11,17,4,1,K2,autism,fire_setting
Brightwater Care,childrens_home,PR4,Bad Ages House,LS6 2AB,15,12,4,1,K2,,
New Provider,,,Orphan House,LS1 1AA,0,17,2,0,U4,,
"""


def test_a_services_import_reports_what_it_did_and_the_rejected_rows(client, officer):
    response = client.post(reverse("service-import"), {"file": csv_file(SERVICES_CSV)})
    assert response.status_code == 200
    html = text(response)
    check_accessibility_basics(response)
    assert "Import complete, with rows rejected" in html
    assert Service.objects.get().name == "Brightwater House"
    for key, count in (("Created", 1), ("Updated", 0), ("Rejected", 2)):
        assert f'{key}</dt><dd class="govuk-summary-list__value">{count}</dd>' in html
    rejected = html[html.index("Rejected rows"):]
    assert ">3</td>" in rejected and "oldest age cannot be below the youngest" in rejected
    assert ">4</td>" in rejected and "New Provider is a new provider" in rejected


def test_importing_the_same_services_again_updates_them(client, officer):
    client.post(reverse("service-import"), {"file": csv_file(SERVICES_CSV)})
    again = SERVICES_CSV.replace("LS6 2AB,11,17,4,1", "LS6 2AB,11,17,4,3")
    html = text(client.post(reverse("service-import"), {"file": csv_file(again)}))
    assert 'Updated</dt><dd class="govuk-summary-list__value">1</dd>' in html
    assert Service.objects.get(name="Brightwater House").vacancies == 3


@pytest.mark.parametrize(
    "content, message",
    [
        ("name,postcode\nOak,LS1 1AA\n", "The file has no column called"),
        ("provider_name,service_name,postcode\n", "no data rows"),
        (b"\xff\xfe\x00P\x00K".decode("latin-1"), "CSV file"),
    ],
)
def test_a_malformed_services_file_is_refused_whole(client, officer, content, message):
    before = catalogue_state()
    response = client.post(reverse("service-import"), {"file": csv_file(content)})
    assert response.status_code == 200
    assert error_links(response) == ["id_file"]
    assert message in field_error(response, "file")
    assert "Import complete" not in text(response)
    assert catalogue_state() == before


def test_an_import_without_a_file_asks_for_one(client, officer):
    response = client.post(reverse("service-import"), {})
    assert field_error(response, "file") == "Choose a CSV file to upload"


def test_the_services_template_lists_the_columns_and_imports_as_it_is(client, officer):
    form = text(client.get(reverse("service-import")))
    assert "Columns: provider_name, provider_kind" in form
    assert reverse("service-import-template") in form
    template = client.get(reverse("service-import-template"))
    assert template["Content-Type"].startswith("text/csv")
    assert "attachment" in template["Content-Disposition"]
    content = template.content.decode()
    assert content.startswith("provider_name,provider_kind,provider_code,provider_email,")
    html = text(client.post(reverse("service-import"), {"file": csv_file(content)}))
    assert "Import complete" in html and "rows rejected" not in html
    assert Service.objects.filter(name="Brightwater House").exists()


def test_a_rates_import_reports_rejected_rows(client, officer):
    framework, lot, (member,) = framework_with(members=1, years=(2026,))
    content = (
        "lot_number,provider_name,placement_type,financial_year,ceiling_weekly_price\n"
        "1,,K2,2027/28,3200.00\n"
        f",{member.name},K2,2026,3150\n"
        "9,,K2,2027,3000\n"
        "1,,XX,2027,abc\n"
    )
    response = client.post(reverse("rate-import", args=[framework.pk]),
                           {"file": csv_file(content)})
    html = text(response)
    check_accessibility_basics(response)
    for key, count in (("Created", 1), ("Updated", 1), ("Rejected", 2)):
        assert f'{key}</dt><dd class="govuk-summary-list__value">{count}</dd>' in html
    assert ">4</td>" in html and "has no lot 9" in html
    assert ">5</td>" in html and "'XX' is not a code we know" in html
    assert framework.rates.get(lot=lot, financial_year=2027).ceiling_weekly_price == Decimal(
        "3200.00"
    )
    assert framework.rates.get(provider=member).ceiling_weekly_price == Decimal("3150.00")


def test_a_malformed_rates_file_changes_nothing(client, officer):
    framework, _lot, _ = framework_with(members=1)
    before = catalogue_state()
    response = client.post(reverse("rate-import", args=[framework.pk]),
                           {"file": csv_file("placement_type,ceiling_weekly_price\nK2,10\n")})
    assert error_links(response) == ["id_file"]
    assert catalogue_state() == before


def test_the_rates_template_imports_as_it_is(client, officer):
    framework, _lot, _ = framework_with(members=1)
    form = text(client.get(reverse("rate-import", args=[framework.pk])))
    template_url = reverse("rate-import-template", args=[framework.pk])
    assert template_url in form and "Columns: lot_number, provider_name" in form
    content = client.get(template_url).content.decode()
    html = text(client.post(reverse("rate-import", args=[framework.pk]),
                            {"file": csv_file(content)}))
    assert "Import complete" in html and "rows rejected" not in html
    assert framework.rates.filter(financial_year=2024).count() == 2


def test_a_framework_for_the_template_without_lots_or_members_still_downloads(client, officer):
    framework = FrameworkFactory()
    response = client.get(reverse("rate-import-template", args=[framework.pk]))
    assert response.status_code == 200
    assert response.content.decode().splitlines()[0] == (
        "lot_number,provider_name,placement_type,financial_year,ceiling_weekly_price"
    )
