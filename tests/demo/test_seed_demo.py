"""The demo seed: idempotent, complete, consistent, and refused where demo data is not allowed."""

import io
import itertools

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone

from core.models import User
from core.roles import Role
from panels.models import AgendaItem, PanelMeeting
from placements.models import (
    ALLOWED_TRANSITIONS,
    BudgetLineRule,
    Child,
    Placement,
    Referral,
    ReferralStatus,
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
                            "panels.Decision", "panels.DirectorApproval")
        if not first[label]
    }
    assert not empty, "the seed should fill these models"


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
        user = authenticate(username=username, password=passwords[username])
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
