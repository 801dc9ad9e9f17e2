"""Panel pages: meetings and agendas, the chair's decisions, minutes, and the Director's
queue. Thin: changes go through panels.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.auth import require_recent_password
from core.errors import DomainError
from core.forms import show_domain_error
from panels import selectors, services
from panels.access import (
    agenda_items_visible_to,
    decisions_visible_to,
    director_approvals_visible_to,
    meetings_visible_to,
    sees_director_approvals,
)
from panels.forms import DecisionForm, DirectorDecisionForm
from panels.models import AgendaItem, PanelMeeting
from placements.access import referrals_visible_to


def _meeting_for(request, pk) -> PanelMeeting:
    return get_object_or_404(meetings_visible_to(request.user).select_related("panel", "chair"), pk=pk)


def _item_for(request, pk) -> AgendaItem:
    return get_object_or_404(
        agenda_items_visible_to(request.user).select_related("meeting", "meeting__panel"), pk=pk
    )


@login_required
def meeting_list(request):
    page = Paginator(selectors.meetings_for_list(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "panels/meeting_list.html", {"page": page, "today": timezone.localdate()})


@login_required
def meeting_detail(request, pk):
    meeting = _meeting_for(request, pk)
    items = selectors.agenda_with_costs(meeting=meeting)
    chairing = services.can_chair(user=request.user, meeting=meeting)
    is_open = meeting.status == PanelMeeting.Status.SCHEDULED
    return render(
        request,
        "panels/meeting_detail.html",
        {
            "meeting": meeting,
            "items": items,
            "chairing": chairing and is_open,
            "can_correct": chairing and not is_open,
            "addable": list(selectors.referrals_ready_for_panel(meeting=meeting)[:50]) if chairing and is_open else [],
        },
    )


@login_required
def meeting_minutes(request, pk):
    meeting = _meeting_for(request, pk)
    return render(
        request,
        "panels/meeting_minutes.html",
        {"meeting": meeting, "items": selectors.agenda_with_costs(meeting=meeting)},
    )


@login_required
@require_POST
def meeting_add_referral(request, pk):
    meeting = _meeting_for(request, pk)
    chosen = request.POST.get("referral", "")
    referral = (
        referrals_visible_to(request.user).filter(pk=int(chosen)).first()
        if chosen.isdigit() and len(chosen) < 19  # a bigint, not an overflow
        else None
    )
    if referral is None:
        messages.error(request, "Choose a referral to add.")
        return redirect("meeting-detail", pk=pk)
    try:
        services.agenda_item_add(meeting=meeting, referral=referral, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Referral {referral.pk} added to the agenda.")
    return redirect("meeting-detail", pk=pk)


@login_required
@require_POST
def meeting_move_item(request, pk):
    meeting = _meeting_for(request, pk)
    order = [item.pk for item in selectors.agenda(meeting=meeting)]
    try:
        item_id = int(request.POST.get("item", ""))
        index = order.index(item_id)
    except ValueError:
        messages.error(request, "That item is not on this agenda.")
        return redirect("meeting-detail", pk=pk)
    swap = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= swap < len(order):
        order[index], order[swap] = order[swap], order[index]
        try:
            services.agenda_reorder(meeting=meeting, item_ids=order, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("meeting-detail", pk=pk)


@login_required
def item_remove(request, pk):
    item = _item_for(request, pk)
    if request.method == "POST":
        try:
            services.agenda_item_remove(item=item, by=request.user, reason="Taken off the agenda by the chair")
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Item taken off the agenda.")
        return redirect("meeting-detail", pk=item.meeting_id)
    return render(request, "panels/item_remove.html", {"item": item})


@login_required
def item_decide(request, pk):
    item = _item_for(request, pk)
    form = DecisionForm(request.POST or None, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_record(item=item, by=request.user, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("meeting-detail", pk=item.meeting_id)
    return render(request, "panels/item_decide.html", {"item": item, "form": form, "correcting": None})


@login_required
def decision_correct(request, pk):
    decision = get_object_or_404(
        decisions_visible_to(request.user).select_related("agenda_item"), pk=pk
    )
    item = _item_for(request, decision.agenda_item_id)
    form = DecisionForm(request.POST or None, item=item, correcting=True, initial={
        "outcome": decision.outcome, "rationale": decision.rationale,
        "conditions": decision.conditions, "review_date": decision.review_date,
    })
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_correct(decision=decision, by=request.user, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Correction recorded. The original decision is kept in the minutes.")
            return redirect("meeting-detail", pk=item.meeting_id)
    return render(request, "panels/item_decide.html", {"item": item, "form": form, "correcting": decision})


@login_required
def meeting_close(request, pk):
    meeting = _meeting_for(request, pk)
    if request.method == "POST":
        try:
            services.meeting_close(meeting=meeting, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("meeting-detail", pk=pk)
        messages.success(request, "Meeting closed. Its decisions are now locked.")
        return redirect("meeting-minutes", pk=pk)
    return render(request, "panels/meeting_close.html", {"meeting": meeting})


@login_required
def director_queue(request):
    if not sees_director_approvals(request.user):
        raise PermissionDenied("Only the Director and administrators see the approval queue.")
    approvals = selectors.pending_director_approvals(user=request.user)
    return render(
        request, "panels/director_queue.html",
        {"approvals": approvals, "can_decide": services.is_director(request.user)},
    )


@login_required
def director_decide(request, pk):
    if not services.is_director(request.user):
        raise PermissionDenied("Only the Director can approve or refuse.")
    approval = get_object_or_404(
        director_approvals_visible_to(request.user).select_related(
            "referral", "referral__child", "decision"
        ),
        pk=pk,
    )
    require_recent_password(request)
    form = DirectorDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.director_decide(
                approval=approval, by=request.user,
                approved=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Your decision is recorded.")
            return redirect("director-queue")
    return render(request, "panels/director_decide.html", {"approval": approval, "form": form})
