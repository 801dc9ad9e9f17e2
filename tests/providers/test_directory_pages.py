"""The provider directory's read pages through HTTP: the service directory with its
filters, distances and pagination; the provider, service and framework pages; who sees the
editing buttons; and query counts that do not grow with the rows."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.roles import Role
from providers.reference import OfstedRating, ProviderKind
from tests.factories import FrameworkFactory, ProviderFactory, ServiceFactory
from tests.pages import check_accessibility_basics, error_links, queries_for, text
from tests.providers.page_checks import (
    DiscountFactory,
    MembershipFactory,
    framework_with,
    full_service,
    leeds_districts,
)

DIRECTORY = reverse("service-directory")
EDITORS = [Role.COMMISSIONING_OFFICER, Role.ADMINISTRATOR]
READERS = [role for role in Role if role not in EDITORS]


def get(client, user, url, data=None):
    client.force_login(user)
    response = client.get(url, data)
    assert response.status_code == 200, response.status_code
    return response


def navigation_links(response) -> list[str]:
    html = response.content.decode()
    menu = html[html.index('id="navigation"'):html.index("</nav>")]
    return re.findall(r'class="govuk-service-navigation__link" href="([^"]+)"', menu)


def directory_rows(response) -> list[str]:
    """The service names in the table, in order."""
    body = response.content.decode()
    return re.findall(r'href="/providers/services/\d+/">([^<]+)</a>', body)


# --- The service directory -----------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_can_read_the_directory(client, personas, role):
    full_service(name="Brightwater House")
    response = get(client, personas[role], DIRECTORY)
    assert "Brightwater House" in text(response)
    check_accessibility_basics(response)
    assert DIRECTORY in navigation_links(response)


def test_the_navigation_puts_providers_before_panel_meetings(client, personas):
    links = navigation_links(get(client, personas[Role.PANEL_CHAIR], reverse("home")))
    assert links.index(DIRECTORY) + 1 == links.index(reverse("meeting-list"))


def test_someone_signed_out_is_sent_to_sign_in(client, db):
    response = client.get(DIRECTORY)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_each_row_shows_the_service_at_a_glance(client, personas):
    member = ProviderFactory(name="Framework Homes Ltd")
    MembershipFactory(framework=FrameworkFactory(), provider=member)
    full_service(provider=member, name="Oak Lodge", types=("K2", "R1"), min_age=11, max_age=17,
                 ofsted_rating=OfstedRating.GOOD, places=4, vacancies=2, ofsted_urn="SC100001")
    full_service(name="Spot Purchase House", vacancies=0)
    response = get(client, personas[Role.SOCIAL_WORKER], DIRECTORY)
    html = text(response)
    assert "2 services" in html
    oak = html[html.index("Oak Lodge"):html.index("Spot Purchase House")]
    for shown in ("Framework Homes Ltd", "K2", "R1", "11–17", "Good", "2 of 4", "Yes", "SC100001"):
        assert shown in oak
    spot = html[html.index("Spot Purchase House"):]
    assert "0 of 4" in spot and ">No<" in spot
    assert ">Distance</th>" not in html  # no postcode, no distances


def test_filters_narrow_the_list(client, personas):
    framework = FrameworkFactory(name="White Rose")
    member = ProviderFactory(name="Member Care", kind=ProviderKind.CHILDRENS_HOME)
    MembershipFactory(framework=framework, provider=member)
    full_service(provider=member, name="Alpha House", types=("K2",),
                 ofsted_rating=OfstedRating.OUTSTANDING, vacancies=1)
    full_service(name="Beta Fostering", types=("U4",), ofsted_rating=OfstedRating.GOOD,
                 vacancies=0)
    full_service(name="Gamma Home", types=("K2",), ofsted_rating=OfstedRating.INADEQUATE,
                 vacancies=3)
    client.force_login(personas[Role.SOCIAL_WORKER])
    cases = [
        ({"q": "alpha"}, ["Alpha House"]),
        ({"q": "member care"}, ["Alpha House"]),
        ({"placement_type": "K2"}, ["Alpha House", "Gamma Home"]),
        ({"has_vacancy": "no"}, ["Beta Fostering"]),
        ({"framework": framework.pk}, ["Alpha House"]),
        ({"kind": ProviderKind.CHILDRENS_HOME}, ["Alpha House"]),
        ({"rating": ["good", "outstanding"]}, ["Alpha House", "Beta Fostering"]),
        ({"sort": "vacancies"}, ["Gamma Home", "Alpha House", "Beta Fostering"]),
        ({"sort": "rating"}, ["Alpha House", "Beta Fostering", "Gamma Home"]),
    ]
    for data, expected in cases:
        assert directory_rows(client.get(DIRECTORY, data)) == expected, data


def test_a_postcode_shows_distances_nearest_first(client, personas):
    districts = leeds_districts()
    full_service(name="Bradford Home", postcode="BD1 1AA", near=districts["BD1"])
    full_service(name="City Home", postcode="LS1 1AA", near=districts["LS1"])
    full_service(name="Headingley Home", postcode="LS6 3AA", near=districts["LS6"])
    full_service(name="Nowhere Home", postcode="ZZ9 9ZZ")  # a district we do not know
    client.force_login(personas[Role.SOCIAL_WORKER])
    response = client.get(DIRECTORY, {"postcode": "ls6 2ab", "sort": "distance"}, follow=True)
    # A full postcode can point at a child's home: only its district stays in the URL.
    assert response.redirect_chain == [(f"{DIRECTORY}?postcode=LS6&sort=distance", 302)]
    html = text(response)
    assert directory_rows(response) == [
        "Headingley Home", "City Home", "Bradford Home", "Nowhere Home"
    ]
    assert "near LS6" in html and ">Distance</th>" in html
    assert "0.0 miles" in html and "Not known" in html
    nearby = client.get(DIRECTORY, {"postcode": "LS6", "within_miles": "5"})
    assert directory_rows(nearby) == ["Headingley Home", "City Home"]
    check_accessibility_basics(nearby)


def test_an_unknown_postcode_is_an_error_on_the_filter(client, personas):
    full_service(name="City Home")
    client.force_login(personas[Role.SOCIAL_WORKER])
    response = client.get(DIRECTORY, {"postcode": "XX1 1XX"}, follow=True)
    assert response.status_code == 200
    html = text(response)
    assert "There is a problem" in html and "<title>Error: Provider directory" in html
    assert "Enter a postcode in England we know, like LS6 2AB" in html
    assert error_links(response) == ["id_postcode"]
    assert ">Distance</th>" not in html
    check_accessibility_basics(response)


def test_a_distance_needs_a_postcode(client, personas):
    client.force_login(personas[Role.SOCIAL_WORKER])
    response = client.get(DIRECTORY, {"within_miles": "10"})
    assert error_links(response) == ["id_within_miles"]


def test_empty_states(client, personas):
    client.force_login(personas[Role.SOCIAL_WORKER])
    assert "The directory has no services yet." in text(client.get(DIRECTORY))
    full_service(name="City Home")
    assert "No services match." in text(client.get(DIRECTORY, {"q": "nothing like it"}))


def test_the_directory_pages_25_at_a_time_keeping_the_filters(client, personas):
    provider = ProviderFactory()
    for i in range(27):
        ServiceFactory(provider=provider, name=f"Home {i:02d}", vacancies=1)
    ServiceFactory(name="Full Home", vacancies=0)
    client.force_login(personas[Role.SOCIAL_WORKER])
    first = client.get(DIRECTORY, {"has_vacancy": "yes"})
    assert len(directory_rows(first)) == 25
    html = text(first)
    assert "27 services" in html and "Page 1 of 2" in html
    assert "?has_vacancy=yes&page=2" in html
    second = client.get(DIRECTORY, {"has_vacancy": "yes", "page": "2"})
    assert directory_rows(second) == ["Home 25", "Home 26"]


@pytest.mark.parametrize("postcode", [None, "LS6"])
def test_directory_queries_do_not_grow_with_the_services(client, personas, postcode):
    districts = leeds_districts()
    framework = FrameworkFactory()

    def add_services(n):
        for _ in range(n):
            provider = ProviderFactory()
            MembershipFactory(framework=framework, provider=provider)
            full_service(provider=provider, types=("K2", "U4"), near=districts["LS1"])

    data = {"postcode": postcode} if postcode else None
    client.force_login(personas[Role.SOCIAL_WORKER])
    add_services(1)
    few = queries_for(client, DIRECTORY, data)
    add_services(4)
    many = queries_for(client, DIRECTORY, data)
    assert many == few, f"{few} queries with 1 service, {many} with 5"
    assert len(directory_rows(client.get(DIRECTORY, data))) == 5


@pytest.mark.parametrize("role", list(Role))
def test_only_editors_are_offered_the_editing_buttons(client, personas, role):
    html = text(get(client, personas[role], DIRECTORY))
    assert ("Add a provider" in html) == (role in EDITORS)
    assert ("Import services" in html) == (role in EDITORS)


# --- The provider page ---------------------------------------------------------------------


def provider_with_everything(n: int, provider=None):
    """A provider with n services, n framework memberships with own rates, and discounts
    in force, ended and to come."""
    provider = provider or ProviderFactory(name="Brightwater Care", email="ref@bw.example")
    for _ in range(n):
        full_service(provider=provider, types=("K2", "U4"))
        framework, _lot, _ = framework_with(members=0)
        MembershipFactory(framework=framework, provider=provider,
                          end_date=datetime.date(2030, 3, 31))
        framework.rates.create(provider=provider, placement_type="K2", financial_year=2026,
                               ceiling_weekly_price=Decimal("3150.00"))
        DiscountFactory(provider=provider, description="Third placement 5% off")
        DiscountFactory(provider=provider, description="Old 2% discount",
                        percentage=Decimal("2.00"), valid_to=datetime.date(2021, 3, 31))
    return provider


@pytest.mark.parametrize("role", list(Role))
def test_the_provider_page_shows_everything_about_the_provider(client, personas, role):
    provider = provider_with_everything(1)
    response = get(client, personas[role], reverse("provider-detail", args=[provider.pk]))
    html = text(response)
    check_accessibility_basics(response)
    for shown in ("Brightwater Care", "ref@bw.example", "Independent fostering agency",
                  "Framework memberships", "2026/27", "£3,150.00", "Third placement 5% off",
                  "Old 2% discount", "Ended", "31 Mar 2030"):
        assert shown in html, shown
    in_force = html[html.index("In force today"):html.index("Past and future discounts")]
    assert "Third placement 5% off" in in_force and "Old 2% discount" not in in_force
    for button in ("Change provider details", "Add a service", "Add a discount"):
        assert (button in html) == (role in EDITORS)
    assert ('href="/providers/discounts/' in html) == (role in EDITORS)


def test_a_provider_without_anything_has_empty_states(client, personas):
    provider = ProviderFactory()
    html = text(get(client, personas[Role.SOCIAL_WORKER],
                    reverse("provider-detail", args=[provider.pk])))
    for empty in ("No services recorded for this provider.", "Not on any framework",
                  "No rates agreed with this provider itself", "No discount is in force today."):
        assert empty in html


def test_the_provider_page_queries_do_not_grow(client, personas):
    client.force_login(personas[Role.COMMISSIONING_OFFICER])
    provider = provider_with_everything(1)
    url = reverse("provider-detail", args=[provider.pk])
    few = queries_for(client, url)
    provider_with_everything(4, provider=provider)
    many = queries_for(client, url)
    assert many == few, f"{few} queries with 1 of each, {many} with 5"


def test_an_unknown_provider_is_not_found(client, personas):
    client.force_login(personas[Role.SOCIAL_WORKER])
    assert client.get(reverse("provider-detail", args=[999999])).status_code == 404


# --- The service page ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.COMMISSIONING_OFFICER])
def test_the_service_page_shows_everything_about_the_service(client, personas, role):
    districts = leeds_districts()
    service = full_service(
        name="Oak Lodge", types=("K2", "R1"), needs=("autism", "mental_health"),
        risks=("fire_setting",), ofsted_urn="SC200002", ofsted_rating=OfstedRating.OUTSTANDING,
        ofsted_inspection_date=datetime.date(2025, 11, 4), min_age=11, max_age=17, places=5,
        vacancies=2, local_authority_area="Leeds", near=districts["LS1"],
    )
    response = get(client, personas[role], reverse("service-detail", args=[service.pk]))
    html = text(response)
    check_accessibility_basics(response)
    for shown in ("Oak Lodge", service.provider.name, "K2 – Children's home",
                  "R1 – Residential care home", "11 to 17", "Autism", "Mental health",
                  "Fire-setting", "SC200002", "Outstanding", "4 November 2025", "LS1 1AA",
                  "Leeds", "53.79650", "Off framework"):
        assert shown in html, shown
    assert ("Change service details" in html) == (role in EDITORS)


def test_a_service_without_a_location_says_so(client, personas):
    service = full_service(risks=())
    html = text(get(client, personas[Role.SOCIAL_WORKER],
                    reverse("service-detail", args=[service.pk])))
    assert "distances to this service cannot be measured" in html
    assert "None: the service considers every risk" in html


# --- Frameworks ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FINANCE_MANAGER, Role.COMMISSIONING_OFFICER])
def test_the_framework_list(client, personas, role):
    framework, _lot, _providers = framework_with(members=3)
    response = get(client, personas[role], reverse("framework-list"))
    html = text(response)
    check_accessibility_basics(response)
    row = html[html.index(framework.name):]
    assert re.search(r">\s*2\s*</td>\s*<td[^>]*>\s*3\s*</td>", row)  # 2 lots, 3 members


def test_the_framework_list_has_an_empty_state(client, personas):
    html = text(get(client, personas[Role.SOCIAL_WORKER], reverse("framework-list")))
    assert "No frameworks are recorded yet." in html


@pytest.mark.parametrize("role", list(Role))
def test_the_framework_page_shows_lots_members_and_rates_by_year(client, personas, role):
    framework, lot, providers = framework_with(members=2, years=(2025, 2026))
    response = get(client, personas[role], reverse("framework-detail", args=[framework.pk]))
    html = text(response)
    check_accessibility_basics(response)
    assert "Lot 1: Children's homes" in html and "Lot 2: Fostering" in html
    for provider in providers:
        assert provider.name in html
    assert html.index("2026/27") < html.index("2025/26")  # newest year first
    year = html[html.index("2026/27"):html.index("2025/26")]
    assert '<abbr title="K2 – Children\'s home">K2</abbr>' in year
    assert '<abbr title="U4 – Foster, other carer: long-term">U4</abbr>' in year
    assert "£3,000.00" in year and "£3,100.50" in year and "(own rate)" in year
    for button in ("Set a ceiling rate", "Apply an annual uplift", "Import rates"):
        assert (button in html) == (role in EDITORS)


def test_a_framework_without_rates_says_so(client, personas):
    framework = FrameworkFactory()
    html = text(get(client, personas[Role.SOCIAL_WORKER],
                    reverse("framework-detail", args=[framework.pk])))
    for empty in ("This framework has no lots.", "No providers have joined",
                  "No ceiling rates are recorded"):
        assert empty in html


def test_the_framework_page_queries_do_not_grow(client, personas):
    client.force_login(personas[Role.COMMISSIONING_OFFICER])
    small, _lot, _ = framework_with(members=1, years=(2026,))
    large, _lot, _ = framework_with(members=5, years=(2024, 2025, 2026))
    few = queries_for(client, reverse("framework-detail", args=[small.pk]))
    many = queries_for(client, reverse("framework-detail", args=[large.pk]))
    assert many == few, f"{few} queries with 1 member, {many} with 5"


def test_the_framework_list_queries_do_not_grow(client, personas):
    client.force_login(personas[Role.SOCIAL_WORKER])
    framework_with(members=1)
    few = queries_for(client, reverse("framework-list"))
    for _ in range(4):
        framework_with(members=2)
    many = queries_for(client, reverse("framework-list"))
    assert many == few, f"{few} queries with 1 framework, {many} with 5"
