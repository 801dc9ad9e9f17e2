"""Hostile and broken input on the main form of each role: every field gets every bad
value, and the page either re-renders with the GOV.UK error summary having changed
nothing, or (when the value is acceptable, such as text with HTML in it) saves it and
shows it escaped. Never a 500.

A form is a row of FORMS: who posts it, how to build what it acts on, a valid answer, and
the fields to spoil. Each (form, field) is one test that tries every bad value; the world
is built again after any value that was saved, so each value meets the same state.
"""

import dataclasses
import datetime
import html
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from panels.models import Panel
from placements.models import Referral, ReferralStatus
from placements.services import sourcing
from providers.models import Service
from providers.services import sourcing as market_services
from tests.budgets import year_of
from tests.factories import (
    BudgetLineFactory,
    ChildFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    ProviderFactory,
    ReferralFactory,
    listed_item,
)
from tests.placements.placement_changes import running_placement
from tests.sourcing import (  # noqa: F401 (fixtures)
    market_fixture,
    ready_referral,
)

SCRIPT = '<script>alert("pwned")</script>'
BAD_VALUES = {
    "empty": "",
    "too long": "x" * 20_000,
    "wrong type": "twelve",
    "negative": "-1",
    "huge": "1e20",
    "huge whole number": "9" * 40,
    "first day": "0001-01-01",
    "last day": "9999-12-31",
    "no such day": "2026-02-30",
    "not a date": "next Tuesday",
    "html": SCRIPT,
    "formula": '=HYPERLINK("http://evil.example","Click me")',
    "nul byte": "tea\x00time",
    "unicode": "Zoë 😀 \u202etxt.exe",
}
DAY = datetime.timedelta(days=1)
# What a refused form must leave alone: every row our apps keep (the audit log of views
# aside, which a re-rendered page may add to).
WATCHED_APPS = ("placements", "panels", "providers")


def today() -> datetime.date:
    return timezone.localdate()


def everything() -> dict:
    return {
        model._meta.label: list(model.objects.order_by("pk").values_list())
        for app in WATCHED_APPS
        for model in apps.get_app_config(app).get_models()
    }


# --- The forms ---------------------------------------------------------------------------


@dataclasses.dataclass
class HostileForm:
    role: Role
    build: Callable  # build(world) → (url, valid answers)
    fields: tuple[str, ...]


def referral_create(world):
    child = ChildFactory(team=world.north)
    return reverse("referral-create", args=[child.pk]), {
        "urgency": "within_5_days", "placement_type_sought": "U4",
        "wanted_start_date": (today() + 30 * DAY).isoformat(),
        "must_be_within_20_miles": "on", "preferred_location": "Near her school",
        "suitability_foster": "preferred", "suitability_residential": "unsuitable",
        "suitability_supported": "not_specified",
    }


def referral_edit(world):
    referral = ReferralFactory(child=ChildFactory(team=world.north), created_by=world.user,
                               status=ReferralStatus.DRAFT)
    return reverse("referral-edit", args=[referral.pk, "needs"]), {
        "needs_summary": "Needs a calm home.", "communication_and_language_needs": "English",
        "cultural_needs": "", "home_adaptations": "", "can_live_alongside": "Younger children",
        "pets": "Loves dogs", "additional_support": "",
    }


def panel_decision(world):
    panel = PanelFactory(kind=Panel.Kind.RESOURCE, default_chair=world.user)
    meeting = PanelMeetingFactory(panel=panel, date=today() + 2 * DAY)
    item = listed_item(meeting, team=world.north)
    return reverse("item-decide", args=[item.pk]), {
        "outcome": "approve_in_house", "rationale": "Considered every option",
        "conditions": "", "review_date": (today() + 90 * DAY).isoformat(),
        "estimated_weekly_cost": "450.00",
    }


def director_decision(world):
    approval = DirectorApprovalFactory(referral__child=ChildFactory(team=world.north))
    return reverse("director-decide", args=[approval.pk]), {
        "decision": "refuse", "reason": "A framework home is near enough.",
    }


def sourcing_start(world):
    referral = ready_referral(team=world.north)
    return reverse("sourcing-start", args=[referral.pk]), {
        "needs": ["autism"], "needs_summary": "Loves football.", "placement_type": "U4",
        "max_distance_miles": "20", "planned_end_date": (today() + 400 * DAY).isoformat(),
    }


def _sent_referral(world):
    referral = ready_referral(team=world.north)
    request = sourcing.sourcing_start(by=world.user, referral=referral)
    sourcing.sourcing_send(by=world.user, referral=referral, service_ids=[world.market.good.pk],
                           off_framework_reasons={})
    return referral, request


def quote_record(world):
    referral, request = _sent_referral(world)
    invitation = request.invitations.get()
    return reverse("sourcing-answer", args=[referral.pk, invitation.pk]), {
        "answer": "offered", "quoted_weekly_price": "875.00", "inclusions": "Education",
        "available_from": (today() + 7 * DAY).isoformat(), "decline_reason": "",
    }


def quote_negotiate(world):
    referral, request = _sent_referral(world)
    quote = market_services.quote_record(by=world.user, request=request,
                                         service=world.market.good, quoted_weekly_price="900")
    return reverse("quote-negotiate", args=[referral.pk, quote.pk]), {
        "kind": "counter_offer", "weekly_price": "850.00", "note": "Volume discount asked",
    }


def cost_change(world):
    placement = running_placement(team=world.north)
    return reverse("placement-change-cost", args=[placement.pk]), {
        "effective_from": today().isoformat(), "weekly_amount": "860.00",
        "reason": "uplift", "note": "Annual uplift letter",
    }


def contribution_add(world):
    placement = running_placement(team=world.north)
    return reverse("placement-contribution-add", args=[placement.pk]), {
        "funder": "health", "funder_name": "Demoshire ICB", "weekly_amount": "50.00",
        "percentage": "", "start_date": today().isoformat(), "end_date": "",
    }


def budget_adjust(world):
    line = BudgetLineFactory(financial_year=year_of(2026), amount=Decimal("1000000.00"))
    return reverse("budget-line-adjust", args=[line.pk]), {
        "new_amount": "1100000.00", "reason": "Virement agreed by the Director",
        "expected_amount": "1000000.00",
    }


def provider_edit(world):
    provider = ProviderFactory(name=f"Brightwater {ProviderFactory._meta.model.objects.count()}")
    return reverse("provider-edit", args=[provider.pk]), {
        "name": provider.name, "kind": "childrens_home", "place_provider": "PR4",
        "email": "referrals@brightwater.example", "phone": "0113 496 0000", "is_active": "on",
    }


def service_edit(world):
    service = world.market.spot
    return reverse("service-edit", args=[service.pk]), {
        "name": service.name, "ofsted_urn": "", "ofsted_rating": "good",
        "ofsted_inspection_date": "2025-11-04", "postcode": "LS1 2AB",
        "local_authority_area": "Leeds", "min_age": "0", "max_age": "17", "places": "3",
        "vacancies": "1", "is_active": "on", "placement_types": ["U4"],
    }


FORMS = {
    "referral create": HostileForm(Role.SOCIAL_WORKER, referral_create, (
        "urgency", "placement_type_sought", "wanted_start_date", "preferred_location",
        "suitability_foster", "siblings")),
    "referral edit": HostileForm(Role.SOCIAL_WORKER, referral_edit, (
        "needs_summary", "communication_and_language_needs", "pets")),
    "panel decision": HostileForm(Role.PANEL_CHAIR, panel_decision, (
        "outcome", "rationale", "review_date", "estimated_weekly_cost")),
    "director decision": HostileForm(Role.DIRECTOR, director_decision, ("decision", "reason")),
    "sourcing start": HostileForm(Role.COMMISSIONING_OFFICER, sourcing_start, (
        "needs", "needs_summary", "placement_type", "max_distance_miles", "planned_end_date")),
    "quote record": HostileForm(Role.COMMISSIONING_OFFICER, quote_record, (
        "answer", "quoted_weekly_price", "inclusions", "available_from")),
    "negotiate": HostileForm(Role.COMMISSIONING_OFFICER, quote_negotiate, (
        "kind", "weekly_price", "note")),
    "cost change": HostileForm(Role.FINANCE_MANAGER, cost_change, (
        "effective_from", "weekly_amount", "reason", "note")),
    "contribution": HostileForm(Role.FINANCE_MANAGER, contribution_add, (
        "funder", "funder_name", "weekly_amount", "percentage", "start_date", "end_date")),
    "budget adjust": HostileForm(Role.FINANCE_MANAGER, budget_adjust, (
        "new_amount", "reason", "expected_amount")),
    "provider edit": HostileForm(Role.COMMISSIONING_OFFICER, provider_edit, (
        "name", "kind", "email", "phone")),
    "service edit": HostileForm(Role.COMMISSIONING_OFFICER, service_edit, (
        "name", "ofsted_urn", "ofsted_inspection_date", "postcode", "min_age", "places",
        "vacancies", "placement_types")),
}
CASES = [(name, field) for name, form in FORMS.items() for field in form.fields]


@dataclasses.dataclass
class World:
    north: object
    user: object
    market: object


# --- The tests ---------------------------------------------------------------------------


def error_summary(response) -> str:
    page = response.content.decode()
    assert 'class="govuk-error-summary"' in page, "re-rendered without an error summary"
    return page


def shown_safely(client, response, value: str) -> None:
    """A saved value that could be markup: the page it leads to shows it escaped.
    (test_an_html_answer_is_escaped_where_it_is_shown checks a page that shows it.)"""
    if value != SCRIPT:
        return
    page = client.get(response["Location"], follow=True)
    assert page.status_code == 200
    assert "<script>alert" not in page.content.decode()


@pytest.mark.parametrize(("form_name", "field"), CASES)
def test_every_bad_value_is_refused_or_stored_safely(
    form_name, field, client, personas, north, market
):
    form = FORMS[form_name]
    user = personas[form.role]
    world = World(north=north, user=user, market=market)
    client.force_login(user)
    url, answers = form.build(world)
    valid = client.post(url, answers)
    assert valid.status_code == 302, f"the valid answers are refused: {valid.content[-3000:]}"
    url, answers = form.build(world)

    for label, value in BAD_VALUES.items():
        before = everything()
        response = client.post(url, {**answers, field: value})

        assert response.status_code in (200, 302), f"{label}: {response.status_code}"
        if response.status_code == 200:
            page = error_summary(response)
            assert everything() == before, f"{label}: refused, but something changed"
            assert SCRIPT not in page, f"{label}: echoed unescaped"
        else:
            shown_safely(client, response, value)
            url, answers = form.build(world)  # saved: start again from the same state


def test_an_html_answer_is_escaped_where_it_is_shown(client, personas, north, market):
    """The value saved (a referral's preferred location): shown as text, not markup."""
    client.force_login(personas[Role.SOCIAL_WORKER])
    world = World(north=north, user=personas[Role.SOCIAL_WORKER], market=market)
    url, answers = referral_create(world)
    assert client.post(url, {**answers, "preferred_location": SCRIPT}).status_code == 302
    referral = Referral.objects.get(preferred_location=SCRIPT)  # stored as typed

    content = client.get(reverse("referral-detail", args=[referral.pk])).content.decode()
    assert SCRIPT not in content
    assert html.escape(SCRIPT) in content


# --- CSV import: the whole file is refused, or each bad row is reported ---------------------

IMPORT_HEADER = (
    "provider_name,provider_kind,provider_code,provider_email,service_name,ofsted_urn,"
    "ofsted_rating,ofsted_inspection_date,postcode,local_authority_area,min_age,max_age,"
    "places,vacancies,placement_types,needs,excluded_risks\n"
)
IMPORT_ROW = "Hilltop Fostering,ifa,PR4,,Hilltop {n},,good,2025-01-15,LS6 2AB,Leeds,0,17,4,1,U4,,\n"
MALFORMED_FILES = {
    "binary garbage": bytes(range(256)) * 8,
    "an image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
    "UTF-16": (IMPORT_HEADER + IMPORT_ROW.format(n=1)).encode("utf-16"),
    "Latin-1": (IMPORT_HEADER + "Caf\xe9 Care" + IMPORT_ROW.format(n=1)[17:]).encode("latin-1"),
    "no header": IMPORT_ROW.format(n=1).encode() * 3,
    "header only": IMPORT_HEADER.encode(),
    "10,000 rows": (IMPORT_HEADER + "".join(IMPORT_ROW.format(n=n) for n in range(10_000))
                    ).encode(),
    "an unclosed quote": (IMPORT_HEADER + '"Hilltop,ifa,PR4\n').encode(),
    "NUL bytes": (IMPORT_HEADER + IMPORT_ROW.format(n="\x00")).encode(),
}


def upload(client, content: bytes, name="services.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("service-import"),
                       {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


@pytest.mark.parametrize("kind", MALFORMED_FILES)
def test_a_malformed_csv_file_is_refused_whole_on_the_page(client, personas, kind):
    client.force_login(personas[Role.COMMISSIONING_OFFICER])
    before = everything()

    response = upload(client, MALFORMED_FILES[kind])

    assert response.status_code == 200
    error_summary(response)
    assert everything() == before


def test_hostile_cells_are_reported_per_row_and_shown_escaped(client, personas):
    """Good rows are imported; each bad row is listed by line with why, its hostile
    values escaped, and changes nothing."""
    client.force_login(personas[Role.COMMISSIONING_OFFICER])
    rows = [
        IMPORT_ROW.format(n=1),                                            # line 2: good
        IMPORT_ROW.format(n=2).replace(",0,17,", ",-1,1e20,"),              # 3: bad ages
        IMPORT_ROW.format(n=3).replace("2025-01-15", "9999-99-99"),        # 4: bad date
        IMPORT_ROW.format(n=4).replace(",ifa,", f",{SCRIPT},"),            # 5: bad kind
        IMPORT_ROW.format(n=5).replace("LS6 2AB", '=HYPERLINK("http://x")'),  # 6: postcode
    ]
    response = upload(client, (IMPORT_HEADER + "".join(rows)).encode())

    assert response.status_code == 200
    content = response.content.decode()
    assert "Import complete, with rows rejected" in content
    assert SCRIPT not in content
    lines = [int(line) for line in re.findall(
        r'<td class="govuk-table__cell app-table-number">(\d+)</td>', content)]
    assert lines == [3, 4, 5, 6]
    assert list(Service.objects.filter(name__startswith="Hilltop").values_list(
        "name", flat=True)) == ["Hilltop 1"]
