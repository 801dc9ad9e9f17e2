"""The managers' dashboard page (issue 5). It lives in config because one figure, the
emergency placements awaiting retrospective review, needs panels' record of which
emergencies a panel has reviewed, and placements may not import panels. The figures are
placements.dashboard's selectors; the year and team come from
placements.views_dashboard.dashboard_scope, shared with the exports."""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from core.roles import Role, has_role
from panels.models import AgendaItem
from placements import dashboard, rollups, selectors_budgets
from placements.access import placements_visible_to, referrals_visible_to
from placements.dashboard import DashboardScope
from placements.views_choice import SAVINGS_READERS
from placements.views_dashboard import dashboard_scope
from providers import matching
from providers.reference import RESIDENTIAL_TYPES, ProviderKind

EXTERNAL_KINDS = [kind for kind in ProviderKind.values if kind != ProviderKind.IN_HOUSE]
SUPPLY_FILTERS = {
    "in_house": {"provider_kind": [ProviderKind.IN_HOUSE.value]},
    "framework": {"on_framework": "true", "provider_kind": EXTERNAL_KINDS},
    "off_framework": {"on_framework": "false", "provider_kind": EXTERNAL_KINDS},
}
EXPORT_LABELS = {
    "weekly-ledger": "Weekly cost ledger (whole authority)",
    "budget-positions": "Budget positions, week by week (whole authority)",
    "placements": "Placements in the year",
}


def reviewed_emergencies():
    """IDs of the referrals whose retrospective review a panel has decided, as
    panels.selectors.retrospective_reviews_overdue reads them."""
    return AgendaItem.objects.filter(
        kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW, referral__isnull=False,
        decisions__isnull=False,
    ).values("referral_id")


class Links:
    """URLs of the rows behind each figure: the placement and referral lists, filtered."""

    def __init__(self, scope: DashboardScope):
        self.team = {"team": scope.team.pk} if scope.team else {}

    def placements(self, **filters) -> str:
        return _with_query(reverse("placement-list"), {**self.team, **filters})

    def running(self, **filters) -> str:
        return self.placements(status="active", **filters)

    def referrals(self, **filters) -> str:
        return _with_query(reverse("referral-list"), {**self.team, **filters})


def _with_query(url: str, query: dict) -> str:
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


@login_required
def dashboard_page(request):
    form, scope = dashboard_scope(request)
    user = request.user
    links = Links(scope)
    visible_placements = placements_visible_to(user)
    budget = _budget_section(scope, links)
    by_type = dashboard.children_by_placement_type(scope)
    for row in by_type:
        kinds = [ProviderKind.IN_HOUSE.value] if row["in_house"] else EXTERNAL_KINDS
        row["url"] = links.running(placement_type=row["placement_type"], provider_kind=kinds)
    shares = dashboard.care_shares(scope)
    context = {
        "form": form,
        "scope": scope,
        "budget": budget,
        "trend": _trend_section(scope),
        "by_type": by_type,
        "in_house_and_external": dashboard.in_house_and_external(by_type),
        "shares": shares,
        "unstable": dashboard.unstable_placements(scope, visible=visible_placements),
        "supply": _supply_section(scope, links),
        "savings": _savings(scope, user),
        "costliest": dashboard.costliest_placements(scope, visible=visible_placements),
        "emergencies": dashboard.emergencies_awaiting_review(
            scope, reviewed=reviewed_emergencies(), visible=referrals_visible_to(user)
        ),
        "pipeline": _pipeline(scope, links),
        "timings": dashboard.referral_timings(scope),
        "links": {
            "running": links.running(),
            "residential": links.running(placement_type=sorted(RESIDENTIAL_TYPES)),
            "emergencies": links.referrals(is_emergency="true", status="placed"),
            "placed": links.referrals(status="placed"),
        },
        "shows_referral_links": has_role(user, *(set(dashboard.DASHBOARD_ROLES)
                                                 - {Role.FINANCE_MANAGER})),
        "shows_budget_links": selectors_budgets.reads_budgets(user),
        "exports": _exports(scope, user),
        "rebuilds": dashboard.rebuilds_figures(user),
    }
    context["chart_data"] = _chart_data(budget, context["trend"])
    return render(request, "placements/dashboard/dashboard.html", context)


def _budget_section(scope: DashboardScope, links: Links) -> dict:
    """Each line's position (the team's share has no budget: budgets are the
    authority's), with totals and links to the line's placements."""
    positions = rollups.budget_positions(
        financial_year=scope.financial_year, team=scope.team, today=scope.today
    )
    rows = [{"position": p, "variance": _variance(p.variance),
             "url": links.placements(budget_line=p.budget_line.pk)} for p in positions]

    def total(name):
        values = [getattr(p, name) for p in positions]
        if not values or any(value is None for value in values):
            return None
        return sum(values, Decimal("0.00"))

    totals = {name: total(name) for name in (
        "budget", "actual_to_date", "committed_to_year_end", "projected_outturn", "variance")}
    return {
        "rows": rows,
        "by_team": scope.team is not None,
        "week_start": positions[0].week_start if positions else None,
        "totals": totals,
        "total_variance": _variance(totals["variance"]),
    }


def _variance(variance: Decimal | None) -> dict | None:
    """A variance in words: "£1,000.00 over" reads better than a sign."""
    if variance is None:
        return None
    return {"amount": abs(variance), "over": variance > 0, "under": variance < 0}


def _trend_section(scope: DashboardScope) -> dict:
    """The forecast's trend is kept for the whole authority only (weekly snapshots)."""
    if scope.team is not None:
        return {"weeks": [], "lines": [], "rows": [], "by_team": True}
    weeks = rollups.outturn_trend(financial_year=scope.financial_year)
    lines = sorted({name for week in weeks for name in week.outturn_by_line})
    rows = [{"week": week, "cells": [week.outturn_by_line.get(name) for name in lines]}
            for week in weeks]
    return {"weeks": weeks, "lines": lines, "rows": rows, "by_team": False}


def _supply_section(scope: DashboardScope, links: Links) -> dict:
    rows = dashboard.weekly_cost_by_supply(scope)
    spend = None if scope.team is not None else dashboard.spend_to_date_by_supply(scope)
    for key, row in rows.items():
        row["url"] = links.running(**SUPPLY_FILTERS[key])
        row["spend_to_date"] = spend[key] if spend is not None else None
    return {"rows": list(rows.values()), "by_team": scope.team is not None}


def _savings(scope: DashboardScope, user) -> dict | None:
    """The year's negotiation savings: the authority's (quotes are not kept by team), for
    the roles that read the savings report."""
    if scope.team is not None or not has_role(user, *SAVINGS_READERS):
        return None
    row = next(iter(matching.savings_totals(group="year", financial_year=scope.financial_year)),
               None)
    url = reverse("sourcing-savings")
    return {
        "total": row["total"] if row else Decimal("0.00"),
        "quotes": row["quotes"] if row else 0,
        "url": _with_query(url, {"financial_year": scope.financial_year}) if row else url,
    }


def _pipeline(scope: DashboardScope, links: Links) -> list[dict]:
    rows = dashboard.referral_pipeline(scope)
    for row in rows:
        row["url"] = links.referrals(status=row["status"].value)
    return rows


def _exports(scope: DashboardScope, user) -> list[dict]:
    query = {"year": scope.financial_year}
    if scope.team is not None and dashboard.sees_every_team(user):
        query["team"] = scope.team.pk
    return [
        {
            "label": label,
            "formats": [
                {"name": file_format.upper(), "url": _with_query(
                    reverse("dashboard-export", args=[what, file_format]), query)}
                for file_format in ("csv", "xlsx")
            ],
        }
        for what, label in EXPORT_LABELS.items()
        if dashboard.may_export(user, what)
    ]


def _chart_data(budget: dict, trend: dict) -> dict:
    """The charts' numbers (the page's tables hold the same, for everyone)."""
    positions = [row["position"] for row in budget["rows"]]
    return {
        "positions": {
            "labels": [p.budget_line.name for p in positions],
            "budget": None if budget["by_team"] else [p.budget for p in positions],
            "actual": [p.actual_to_date for p in positions],
            "outturn": [p.projected_outturn for p in positions],
        },
        "trend": {
            "labels": [week.week_start.isoformat() for week in trend["weeks"]],
            "lines": {
                name: [week.outturn_by_line.get(name) for week in trend["weeks"]]
                for name in trend["lines"]
            },
            "total": [week.total_outturn for week in trend["weeks"]],
            "budget": [week.total_budget for week in trend["weeks"]],
        },
    }
