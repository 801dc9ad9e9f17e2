"""Who looked at which child: the pages and API detail endpoints that show one child's
record, one referral or one placement log a view (core.audit.record_view) once the access
check has passed; a 404 logs nothing, nor do lists. The placement export, a row per
child, logs one event per download."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from core.roles import Role
from placements import views_dashboard
from placements.models import ReferralStatus
from providers.reference import financial_year_start
from tests.factories import ChildFactory, PlacementCostFactory, PlacementFactory, referral_in

S = ReferralStatus
SW, CO, FM = Role.SOCIAL_WORKER, Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER


@pytest.fixture
def north_child(north):
    return ChildFactory(team=north)


@pytest.fixture
def south_child(south):
    return ChildFactory(team=south)


def referral_of(child):
    return referral_in(S.READY_FOR_SOURCING, child=child)


def draft_of(child):
    return referral_in(S.DRAFT, child=child)


def placement_of(child):
    placement = PlacementFactory(child=child)
    PlacementCostFactory(placement=placement)
    return placement


# (what the page shows, how to build it for a child, the URL, who reads it)
PAGES = [
    ("child", lambda child: child, lambda o: reverse("child-detail", args=[o.pk]), SW),
    ("referral", referral_of, lambda o: reverse("referral-detail", args=[o.pk]), SW),
    ("referral", referral_of, lambda o: reverse("referral-check", args=[o.pk]), SW),
    ("referral", draft_of, lambda o: reverse("referral-edit", args=[o.pk, "needs"]), SW),
    ("referral", referral_of, lambda o: reverse("sourcing-request", args=[o.pk]), CO),
    ("referral", referral_of, lambda o: reverse("sourcing-options", args=[o.pk]), SW),
    ("placement", placement_of, lambda o: reverse("placement-detail", args=[o.pk]), SW),
    ("placement", placement_of, lambda o: reverse("placement-agreement", args=[o.pk]), FM),
    ("child", lambda child: child, lambda o: f"/api/v1/children/{o.pk}/", SW),
    ("referral", referral_of, lambda o: f"/api/v1/referrals/{o.pk}/", SW),
    ("placement", placement_of, lambda o: f"/api/v1/placements/{o.pk}/", SW),
]
PAGE_IDS = ["child page", "referral page", "check answers page", "edit page", "sourcing page",
            "options page", "placement page", "agreement page", "child API", "referral API",
            "placement API"]


@pytest.mark.parametrize(("kind", "build", "url", "role"), PAGES, ids=PAGE_IDS)
def test_a_view_is_logged_with_who_and_which_child(client, personas, north_child, kind, build,
                                                   url, role):
    shown = build(north_child)
    reader = personas[role]
    client.force_login(reader)
    assert client.get(url(shown)).status_code == 200
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_type, event.object_id, event.child_id) == (
        reader, f"{kind}.view", f"placements.{kind}", str(shown.pk), north_child.pk
    )
    assert event.changes == {} and event.reason == ""


@pytest.mark.parametrize(("kind", "build", "url", "role"), PAGES, ids=PAGE_IDS)
def test_another_teams_record_is_not_found_and_nothing_is_logged(
    client, personas, south_child, kind, build, url, role
):
    shown = build(south_child)
    client.force_login(personas[SW])  # North's social worker
    assert client.get(url(shown)).status_code == 404
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("url", [
    reverse("child-list"), reverse("referral-list"), reverse("placement-list"),
    "/api/v1/children/", "/api/v1/referrals/", "/api/v1/placements/",
])
def test_lists_are_not_logged(client, personas, north_child, url):
    referral_of(north_child)
    placement_of(north_child)
    client.force_login(personas[SW])
    assert client.get(url).status_code == 200
    assert not AuditEvent.objects.exists()


def test_submitting_from_the_check_page_logs_the_submission_not_a_view(client, personas,
                                                                        north_child):
    referral = referral_in(S.DRAFT, child=north_child)
    client.force_login(personas[SW])
    client.post(reverse("referral-check", args=[referral.pk]))
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["referral.submit"]


def test_a_placement_export_logs_one_event_naming_no_child(client, personas, north_child):
    placement_of(north_child)
    placement_of(ChildFactory(team=north_child.team))
    finance = personas[FM]
    client.force_login(finance)
    url = reverse("dashboard-export", args=["placements", "csv"])
    response = client.get(url)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.child_id) == (finance, "placement.export", None)
    assert (event.object_type, event.object_id) == ("core.user", str(finance.pk))
    this_year = financial_year_start(views_dashboard.today())
    assert event.changes == {"financial_year": [None, this_year], "format": [None, "csv"]}


def test_totals_exports_are_not_logged(client, personas, north_child):
    placement_of(north_child)
    client.force_login(personas[FM])
    for what in ("weekly-ledger", "budget-positions"):
        assert client.get(reverse("dashboard-export", args=[what, "xlsx"])).status_code == 200
    assert not AuditEvent.objects.exists()
