"""The signed-in home page: one section per role the user holds, each listing that
role's real work queue. config may read from every app; the apps do not read from it."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from core.models import Team
from core.roles import Role, roles_of
from panels.selectors import (
    pending_director_approvals,
    retrospective_reviews_overdue,
    upcoming_meetings,
)
from placements import selectors as placement_selectors
from providers.reference import financial_year_label, financial_year_start

HOME_LIST_LIMIT = 25


def _social_worker(user, today):
    return {
        "children": list(placement_selectors.children_allocated_to(user=user)[:HOME_LIST_LIMIT]),
        "referrals": list(placement_selectors.team_open_referrals(user=user)[:HOME_LIST_LIMIT]),
    }


def _team_manager(user, today):
    return {
        "awaiting": list(
            placement_selectors.referrals_awaiting_endorsement(user=user)[:HOME_LIST_LIMIT]
        )
    }


def _panel_chair(user, today):
    return {
        "meetings": list(upcoming_meetings(user=user, today=today, chaired_only=True)[:10]),
        "overdue_reviews": list(retrospective_reviews_overdue(user=user, today=today)[:25]),
    }


def _panel_member(user, today):
    return {"meetings": list(upcoming_meetings(user=user, today=today)[:10])}


def _director(user, today):
    return {"approvals": list(pending_director_approvals(user=user)[:HOME_LIST_LIMIT])}


def _commissioning_officer(user, today):
    return {"queue": list(placement_selectors.sourcing_queue(user=user)[:HOME_LIST_LIMIT])}


def _finance_manager(user, today):
    year = financial_year_start(today)
    return {
        "year_label": financial_year_label(year),
        "budget_lines": list(placement_selectors.budget_lines_for_year(start_year=year)),
        "costliest": list(
            placement_selectors.costliest_active_placements(user=user, on=today, limit=10)
        ),
    }


def _administrator(user, today):
    groups = Group.objects.filter(name__in=Role.values).annotate(member_count=Count("user"))
    return {
        "roles": sorted(
            ({"label": Role(group.name).label, "member_count": group.member_count} for group in groups),
            key=lambda row: row["label"],
        ),
        "teams": list(Team.objects.annotate(member_count=Count("members")).order_by("name")),
    }


# Order of sections on the page, for people who hold several roles.
SECTIONS = {
    Role.SOCIAL_WORKER: _social_worker,
    Role.TEAM_MANAGER: _team_manager,
    Role.PANEL_CHAIR: _panel_chair,
    Role.PANEL_MEMBER: _panel_member,
    Role.DIRECTOR: _director,
    Role.COMMISSIONING_OFFICER: _commissioning_officer,
    Role.FINANCE_MANAGER: _finance_manager,
    Role.ADMINISTRATOR: _administrator,
}


@login_required
def home(request):
    user, today = request.user, timezone.localdate()
    roles = roles_of(user)
    sections = [
        {"role": role, "template": f"home/{role.value}.html", **build(user, today)}
        for role, build in SECTIONS.items()
        if role in roles
    ]
    return render(request, "home/home.html", {"sections": sections, "today": today})
