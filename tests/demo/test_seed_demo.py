"""The demo seed: idempotent, complete, consistent, and refused where demo data is not allowed."""

import io
import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from core.models import User
from core.roles import Role
from panels.models import AgendaItem, Decision, PanelMeeting
from placements.models import (
    ALLOWED_TRANSITIONS,
    BudgetLineRule,
    Child,
    Placement,
    Referral,
    ReferralSourcingRequest,
    ReferralStatus,
)
from providers.geo import LOCAL_DISTANCE_MILES, distance_from, miles_between, outward_code
from providers.models import (
    FrameworkMembership,
    PostcodeDistrict,
    Quote,
    Service,
    SourcingRequest,
)
from providers.reference import financial_year_start

CHILDREN = 30
SEEDED_APPS = ("core", "providers", "placements", "panels")
DEMO_ROLES = {
    "sw.north": Role.SOCIAL_WORKER,
    "tm.north": Role.TEAM_MANAGER,
    "chair": Role.PANEL_CHAIR,
    "member": Role.PANEL_MEMBER,
    "director": Role.DIRECTOR,
    "commissioner": Role.COMMISSIONING_OFFICER,
    "finance": Role.FINANCE_MANAGER,
    "admin": Role.ADMINISTRATOR,
}

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{"children": CHILDREN, **options})
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in SEEDED_APPS
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }


def printed_sign_ins(output: str) -> dict[str, str]:
    """username → password, read from the table the command prints."""
    table = output.split("Demo sign-ins at http://127.0.0.1:8000/sign-in/", 1)[1]
    rows = [line.split() for line in table.splitlines() if line.startswith("  ")]
    return {row[0]: row[-1] for row in rows if row[0] in DEMO_ROLES}


def active_on(day):
    return Placement.objects.filter(start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=day)
    )


def test_a_second_run_adds_nothing():
    seed()
    first = row_counts()
    seed()

    assert row_counts() == first
    assert first["placements.Child"] == CHILDREN
    empty = {
        label for label in ("placements.Placement", "placements.PlacementCost",
                            "placements.Referral", "placements.ReferralStatusChange",
                            "providers.Quote", "providers.NegotiationStep",
                            "providers.PostcodeDistrict",
                            "panels.Decision", "panels.DirectorApproval")
        if not first[label]
    }
    assert not empty, "the seed should fill these models"


def locations() -> dict[str, list]:
    """Everything the map decides, to compare one run with the next."""
    return {
        "districts": list(PostcodeDistrict.objects.values_list(
            "outward_code", "latitude", "longitude").order_by("outward_code")),
        "services": list(Service.objects.values_list("pk", "latitude", "longitude")
                         .order_by("pk")),
        "placements": list(Placement.objects.values_list(
            "pk", "distance_from_home_miles", "out_of_authority").order_by("pk")),
    }


def district_centres() -> dict[str, tuple[Decimal, Decimal]]:
    return {d.outward_code: (d.latitude, d.longitude) for d in PostcodeDistrict.objects.all()}


def locations_agree_for(placement: Placement, centres=None) -> bool:
    centres = centres or district_centres()
    home = centres[outward_code(placement.child.home_postcode)]
    service = placement.service
    return (
        placement.distance_from_home_miles
        == miles_between(*home, service.latitude, service.longitude)
        and placement.out_of_authority == (service.local_authority_area != "Demoshire")
    )


def test_a_second_run_moves_nothing():
    seed()
    first = locations()
    seed()

    assert locations() == first


def test_a_second_run_puts_back_what_an_older_seed_lacked():
    seed()
    first = locations()
    service = Service.objects.filter(placements__isnull=False).first()
    placement = service.placements.first()
    Service.objects.filter(pk=service.pk).update(latitude=None, longitude=None)
    Placement.objects.filter(pk=placement.pk).update(distance_from_home_miles=Decimal("999"),
                                                     out_of_authority=not placement.out_of_authority)
    PostcodeDistrict.objects.filter(outward_code="DM1").update(latitude=0, longitude=0)

    seed()

    assert locations() == first
    assert locations_agree_for(Placement.objects.select_related("child", "service").get(
        pk=placement.pk))


def test_every_referral_status_is_represented():
    seed()

    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)


def test_emergencies_never_wait_for_endorsement_or_panel():
    seed(children=120)  # enough children for every emergency scenario

    emergencies = Referral.objects.filter(is_emergency=True)
    assert emergencies.exists()
    waiting = {ReferralStatus.SUBMITTED, ReferralStatus.ENDORSED, ReferralStatus.LISTED,
               ReferralStatus.RETURNED, ReferralStatus.AWAITING_DIRECTOR}
    assert not emergencies.filter(status__in=waiting).exists()
    assert not emergencies.filter(retrospective_review_due__isnull=True).exclude(
        status=ReferralStatus.DRAFT
    ).exists()


def test_every_demo_role_signs_in_with_the_printed_password():
    output = seed()
    passwords = printed_sign_ins(output)

    assert set(passwords) == set(DEMO_ROLES)
    for username, role in DEMO_ROLES.items():
        # django-axes checks every password sign-in against its lockouts: it needs a request.
        user = authenticate(HttpRequest(), username=username, password=passwords[username])
        assert user is not None, username
        assert user.groups.filter(name=role.value).exists(), username
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert Child.objects.filter(social_worker__username="sw.north").count() >= 8


def test_every_running_placement_falls_in_exactly_one_budget_line_this_year():
    seed()
    today = timezone.localdate()
    year = financial_year_start(today)

    running = active_on(today)
    assert running.exists()
    for placement in running:
        rules = BudgetLineRule.objects.filter(
            financial_year__start_year=year,
            placement_type=placement.placement_type,
            place_provider=placement.place_provider,
        )
        assert rules.count() == 1, (placement.placement_type, placement.place_provider)


def test_no_child_has_overlapping_placements_or_cost_rows():
    seed()

    for child in Child.objects.prefetch_related("placements__costs"):
        placements = sorted(child.placements.all(), key=lambda p: p.start_date)
        for earlier, later in itertools.pairwise(placements):
            assert earlier.end_date is not None, child.local_child_id
            assert earlier.end_date <= later.start_date, child.local_child_id
        for placement in placements:
            costs = sorted(placement.costs.all(), key=lambda c: c.effective_from)
            assert costs[0].effective_from == placement.start_date
            for earlier, later in itertools.pairwise(costs):
                assert earlier.effective_to == later.effective_from
            assert costs[-1].effective_to == placement.end_date


def test_status_history_walks_the_workflow_to_the_current_status():
    seed()
    now = timezone.now()

    for referral in Referral.objects.prefetch_related("status_changes"):
        changes = sorted(referral.status_changes.all(), key=lambda c: (c.at, c.pk))
        assert (changes[0].from_status, changes[0].to_status) == ("", ReferralStatus.DRAFT)
        for earlier, later in itertools.pairwise(changes):
            assert later.from_status == earlier.to_status
            assert later.to_status in ALLOWED_TRANSITIONS[later.from_status]
            assert earlier.at < later.at
        assert changes[-1].to_status == referral.status
        assert changes[-1].at < now


def test_the_chair_has_an_upcoming_meeting_listing_the_listed_referrals():
    seed()
    today = timezone.localdate()

    meetings = PanelMeeting.objects.filter(
        chair__username="chair", date__gte=today, status=PanelMeeting.Status.SCHEDULED,
        items__isnull=False,
    ).distinct()
    assert meetings.exists()
    assert all(m.panel.members.filter(username="member").exists() for m in meetings)
    listed = set(Referral.objects.filter(status=ReferralStatus.LISTED).values_list("pk",
                                                                                  flat=True))
    upcoming = set(
        AgendaItem.objects.filter(meeting__date__gte=today, referral__status=ReferralStatus.LISTED)
        .values_list("referral", flat=True)
    )
    assert listed and listed == upcoming


def test_if_empty_leaves_a_seeded_database_alone():
    seed()
    before = row_counts()

    # Without --if-empty, asking for more children would add them.
    output = seed(children=CHILDREN + 10, if_empty=True)

    assert row_counts() == before
    assert "sw.north" in output


def test_refuses_where_demo_data_is_not_allowed(settings):
    settings.DEMO_DATA_ALLOWED = False

    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        seed()

    assert not Child.objects.exists()
    assert not User.objects.exists()


def test_every_child_and_service_is_in_a_known_postcode_district():
    seed()
    districts = set(PostcodeDistrict.objects.values_list("outward_code", flat=True))

    homes = {outward_code(p) for p in Child.objects.values_list("home_postcode", flat=True)}
    offices = {outward_code(p) for p in Service.objects.values_list("postcode", flat=True)}
    assert homes and homes <= districts
    assert offices and offices <= districts


def test_every_service_has_a_location_near_its_district_centre():
    seed()
    centres = district_centres()

    services = Service.objects.all()
    assert services.exists()
    for service in services:
        assert service.latitude is not None and service.longitude is not None, service.name
        centre = centres[outward_code(service.postcode)]
        assert miles_between(*centre, service.latitude, service.longitude) < 2, service.name


def test_every_service_in_the_county_is_within_twenty_miles_of_every_home():
    seed()
    centres = district_centres()
    homes = [centre for code, centre in centres.items() if code.startswith("DM")]

    services = Service.objects.filter(local_authority_area="Demoshire")
    assert homes and services.exists()
    for service in services:
        furthest = max(miles_between(*home, service.latitude, service.longitude)
                       for home in homes)
        assert furthest <= LOCAL_DISTANCE_MILES, service.name


def test_placement_distances_and_authority_agree_with_the_map():
    seed()
    centres = district_centres()

    placements = Placement.objects.select_related("child", "service")
    assert placements.filter(out_of_authority=True).exists()
    assert placements.filter(out_of_authority=False).exists()
    for placement in placements:
        assert locations_agree_for(placement, centres), placement.pk


def test_agreed_prices_carry_their_negotiated_saving():
    seed()

    agreed = Quote.objects.filter(agreed_weekly_price__isnull=False)
    assert agreed.exists()
    assert agreed.filter(agreed_weekly_price__lt=F("quoted_weekly_price")).exists()
    for quote in agreed:
        expected = ((quote.quoted_weekly_price - quote.agreed_weekly_price)
                    * quote.expected_weeks).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert quote.negotiated_saving == expected, quote.pk
        assert quote.agreed_by is not None and quote.agreed_at is not None, quote.pk
    assert not Quote.objects.filter(agreed_weekly_price__isnull=True,
                                    negotiated_saving__isnull=False).exists()


def test_the_social_workers_choice_is_recorded_once_a_provider_is_chosen():
    seed()

    links = ReferralSourcingRequest.objects.select_related(
        "referral__child", "chosen_quote", "sourcing_request")
    chosen_statuses = {ReferralStatus.PROVIDER_CHOSEN, ReferralStatus.PLACED}
    assert links.filter(referral__status__in=chosen_statuses).exists()
    for link in links:
        if link.referral.status in chosen_statuses:
            assert link.chosen_quote.sourcing_request_id == link.sourcing_request_id
            assert link.chosen_by_id == link.referral.child.social_worker_id
            assert link.chosen_at is not None and link.choice_reason
        else:
            assert link.chosen_quote is None and link.chosen_by is None


def test_closed_requests_say_how_they_ended_and_plans_with_an_end_carry_it():
    seed()

    closed = SourcingRequest.objects.filter(status=SourcingRequest.Status.CLOSED)
    assert closed.exists()
    assert not closed.filter(outcome_note="").exists()
    assert not SourcingRequest.objects.exclude(status=SourcingRequest.Status.CLOSED).exclude(
        outcome_note="").exists()
    # Long-term fostering and supported accommodation run to 18; a children's home has no
    # end planned at the start.
    assert not SourcingRequest.objects.filter(placement_type__in=("U4", "U6", "K3"),
                                              planned_end_date__isnull=True).exists()
    assert not SourcingRequest.objects.filter(placement_type__in=("K1", "K2"),
                                              planned_end_date__isnull=False).exists()
    for placement in Placement.objects.filter(quote__isnull=False).select_related(
            "quote__sourcing_request"):
        assert placement.planned_end_date == placement.quote.sourcing_request.planned_end_date


def matching_services(referral: Referral, *, today):
    """The sourcing shortlist's rule, written out here: active services of active providers
    that offer the placement type, take the child's age (when the placement would start),
    exclude none of the child's risks, have a vacancy, and lie within the distance asked
    for of the child's home district; on the framework when a membership covers the day."""
    child = referral.child
    on = max(today, referral.wanted_start_date)
    age = child.age_on(on)
    home = PostcodeDistrict.objects.get(outward_code=outward_code(child.home_postcode))
    memberships = FrameworkMembership.objects.filter(
        provider=OuterRef("provider"), start_date__lte=on
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
    services = (
        Service.objects.filter(
            is_active=True, provider__is_active=True, vacancies__gt=0,
            placement_types__placement_type=referral.placement_type_sought,
            min_age__lte=age, max_age__gte=age,
        )
        .exclude(risks_excluded__risk__in=referral.risks.values("risk"))
        .annotate(on_framework=Exists(memberships),
                  miles=distance_from(home.latitude, home.longitude))
    )
    if referral.must_be_within_20_miles:
        services = services.filter(miles__lte=LOCAL_DISTANCE_MILES)
    return services


def test_referrals_ready_for_sourcing_each_have_three_framework_services_that_match():
    seed()
    today = timezone.localdate()

    ready = Referral.objects.filter(status=ReferralStatus.READY_FOR_SOURCING).select_related(
        "child")
    approved = Decision.objects.filter(
        agenda_item__referral=OuterRef("pk"),
        outcome__in=(Decision.Outcome.APPROVE_IN_HOUSE, Decision.Outcome.APPROVE_EXTERNAL),
    )
    assert ready.count() >= 3
    assert ready.filter(is_emergency=True).exists()
    assert ready.filter(Exists(approved), is_emergency=False).exists()
    for referral in ready:
        framework = matching_services(referral, today=today).filter(on_framework=True)
        assert framework.distinct().count() >= 3, referral.child.local_child_id
