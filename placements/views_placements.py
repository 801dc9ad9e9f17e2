"""Placement pages: the list, one placement with its cost history, funding split and the
child's placement history, and the pages that change a placement over time.

Thin: reads start from placements.access (a placement the user may not see is a 404) and
placements.selectors_placements; every change goes through
placements.services.placements, which decides again who may do what."""

import dataclasses
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format

from core import audit
from core.auth import require_recent_password
from core.roles import has_role
from placements.access import children_visible_to, placements_visible_to
from placements.forms_placements import (
    ChildMoveForm,
    ContributionAddForm,
    ContributionEndForm,
    CostChangeForm,
    PlacementEndForm,
    RetainerForm,
)
from placements.models import Placement
from placements.selectors_placements import (
    PlacementFilter,
    budget_line_of,
    child_placement_history,
    cost_history,
    placements_for_list,
)
from placements.services import placements as services

# The agreement page's funding split: the same arithmetic everywhere.
from placements.views_choice import _funding_day, funding_split
from placements.views_common import saved
from providers.reference import financial_year_label, financial_year_start

PAGE_SIZE = 25
# The filters the list page offers; the API takes every PlacementFilter filter.
PAGE_FILTERS = ["status", "placement_type", "provider_kind", "team", "on_framework", "ordering"]


def _visible_placement(request, pk) -> Placement:
    return get_object_or_404(
        placements_visible_to(request.user).select_related(
            "child", "child__team", "service__provider", "created_by"
        ),
        pk=pk,
    )


def _can_change(user) -> bool:
    """Whether to offer the change pages; the services decide again."""
    return has_role(user, *services.CHANGE_ROLES)


def _shows_child(user, placement: Placement) -> bool:
    """The child's name shows only to those who may read the child's record (not finance)."""
    return children_visible_to(user).filter(pk=placement.child_id).exists()


# --- The list and one placement -------------------------------------------------------------


@login_required
def placement_list(request):
    filters = PlacementFilter(request.GET or None, queryset=placements_for_list(user=request.user))
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "placements/placement/list.html", {
        "filters": filters, "page": page, "query": query.urlencode(),
        "filter_fields": [filters.form[name] for name in PAGE_FILTERS],
        "today": timezone.localdate(),
    })


@login_required
def placement_detail(request, pk):
    placement = _visible_placement(request, pk)
    audit.record_view(request.user, placement)
    user = request.user
    today = timezone.localdate()
    funding = funding_split(placement, day=_funding_day(placement, today))
    history, stability = child_placement_history(user=user, child_id=placement.child_id, on=today)
    contributions = list(placement.contributions.order_by("start_date", "pk"))
    for contribution in contributions:
        contribution.running = contribution.end_date is None or contribution.end_date > today
    year = financial_year_start(funding.day)
    can_change = _can_change(user) and placement.end_date is None
    return render(request, "placements/placement/detail.html", {
        "placement": placement, "shows_child": _shows_child(user, placement),
        "costs": cost_history(placement), "contributions": contributions, "funding": funding,
        "history": history, "stability": stability, "today": today,
        "budget_line": budget_line_of(placement, start_year=year),
        "year_label": financial_year_label(year),
        "can_change": can_change,
        "earliest": services.earliest_change_date(today) if can_change else None,
    })


# --- Changing a placement -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChangePage:
    title: str
    form_class: type
    submit: str
    done: str
    # Shown as a GOV.UK warning for what cannot be undone.
    warning: str = ""
    # Sets a weekly cost (form field weekly_amount): above the Director threshold, it
    # needs a recent password (core.auth).
    fixes_weekly_cost: bool = False


def _change_page(request, pk, page: ChangePage, act: Callable, *, contribution_pk=None):
    """Show the form; on a valid POST call `act(placement, data)`, the service call."""
    placement = _visible_placement(request, pk)
    if not _can_change(request.user):
        raise PermissionDenied("Only finance managers and commissioning officers can change placements.")
    if placement.end_date is not None:
        messages.error(request, f"This placement ended on {date_format(placement.end_date, 'j F Y')}: "
                                "it can no longer change.")
        return redirect("placement-detail", pk=pk)
    contribution = None
    if contribution_pk is not None:
        contribution = get_object_or_404(placement.contributions, pk=contribution_pk)
    # Bound on every POST, even an empty one, so that it shows what is missing.
    form = page.form_class(request.POST if request.method == "POST" else None)

    def change(data):
        if page.fixes_weekly_cost:
            require_recent_password(request, weekly_cost=data["weekly_amount"])
        return act(placement, {**data, "contribution": contribution})

    changed = saved(request, form, change)
    if changed is not None:
        messages.success(request, page.done)
        # A move goes on to the new placement; every other change back to this one.
        to = changed if isinstance(changed, Placement) else placement
        return redirect("placement-detail", pk=to.pk)
    latest = placement.costs.order_by("-effective_from").first()
    return render(request, "placements/placement/change.html", {
        "placement": placement, "page": page, "form": form, "latest_cost": latest,
        "contribution": contribution, "shows_child": _shows_child(request.user, placement),
        "earliest": services.earliest_change_date(),
    })


def _fields(data: dict, *names: str) -> dict:
    return {name: data[name] for name in names}


COST_CHANGE = ChangePage("Change the weekly cost", CostChangeForm, "Change the weekly cost",
                         "The weekly cost is changed.", fixes_weekly_cost=True)
RETAINER = ChangePage("Record a court-ordered retainer", RetainerForm, "Record the retainer",
                      "The retainer is recorded.", fixes_weekly_cost=True)
CONTRIBUTION_ADD = ChangePage("Add a contribution", ContributionAddForm, "Add the contribution",
                              "The contribution is added.")
CONTRIBUTION_END = ChangePage("End a contribution", ContributionEndForm, "End the contribution",
                              "The contribution is ended.")
END = ChangePage(
    "End this placement", PlacementEndForm, "End the placement", "The placement is ended.",
    warning="Ending a placement cannot be undone: its weekly cost and contributions end on "
    "that day, and nothing about it can be changed afterwards.",
)
MOVE = ChangePage(
    "Move the child to another placement", ChildMoveForm, "Move the child",
    "The child is moved: this is the new placement.",
    warning="A move cannot be undone: this placement ends on the day of the move and the new "
    "one starts that day with its weekly cost.",
    fixes_weekly_cost=True,
)


@login_required
def placement_change_cost(request, pk):
    return _change_page(request, pk, COST_CHANGE, lambda placement, data: services.placement_cost_change(
        by=request.user, placement=placement,
        **_fields(data, "effective_from", "weekly_amount", "reason", "note"),
    ))


@login_required
def placement_retainer(request, pk):
    return _change_page(request, pk, RETAINER, lambda placement, data: services.retainer_record(
        by=request.user, placement=placement,
        **_fields(data, "effective_from", "effective_to", "weekly_amount", "court_order_reference"),
    ))


@login_required
def contribution_add(request, pk):
    return _change_page(request, pk, CONTRIBUTION_ADD, lambda placement, data: services.contribution_add(
        by=request.user, placement=placement,
        **_fields(data, "funder", "funder_name", "weekly_amount", "percentage", "start_date",
                  "end_date"),
    ))


@login_required
def contribution_end(request, pk, contribution_pk):
    return _change_page(
        request, pk, CONTRIBUTION_END,
        lambda placement, data: services.contribution_end(
            by=request.user, contribution=data["contribution"], end_date=data["end_date"],
        ),
        contribution_pk=contribution_pk,
    )


@login_required
def placement_end(request, pk):
    return _change_page(request, pk, END, lambda placement, data: services.placement_end(
        by=request.user, placement=placement, **_fields(data, "end_date", "reason"),
    ))


@login_required
def placement_move(request, pk):
    return _change_page(request, pk, MOVE, lambda placement, data: services.child_move(
        by=request.user, placement=placement,
        **_fields(data, "end_date", "reason", "service", "placement_type", "weekly_amount",
                  "on_framework", "planned_end_date"),
    ))
