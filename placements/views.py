"""Referral pages. Thin: each reads through an access helper or selector and changes
state only through placements.services.referrals."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core import audit
from core.errors import DomainError
from core.forms import show_domain_error
from core.roles import Role, has_role
from placements import selectors
from placements.access import children_visible_to, referrals_visible_to
from placements.forms import ReasonForm, ReferralNeedsForm, ReferralPlacementForm, ReferralRisksForm
from placements.models import ALLOWED_TRANSITIONS, Referral, ReferralStatus
from placements.services import referrals as services

S = ReferralStatus
PAGE_SIZE = 25
# The filters the list page offers; the API takes every ReferralFilter filter.
PAGE_FILTERS = ["status", "team", "is_emergency", "wanted_from", "wanted_to", "ordering"]
SECTIONS = {
    "placement": ("What is sought", ReferralPlacementForm),
    "needs": ("The child's needs", ReferralNeedsForm),
    "risks": ("Risks", ReferralRisksForm),
}
SECTION_ORDER = list(SECTIONS)


def _visible_referral(request, pk) -> Referral:
    try:
        return services.referral_for(user=request.user, pk=pk)
    except Referral.DoesNotExist:
        raise Http404("No such referral") from None


# --- Lists -----------------------------------------------------------------------------


@login_required
def referral_list(request):
    visible = referrals_visible_to(request.user).select_related("child", "child__team")
    filters = selectors.ReferralFilter(request.GET or None, queryset=visible.order_by("-updated_at"))
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "placements/referral_list.html",
        {"filters": filters, "page": page, "query": query.urlencode(),
         "filter_fields": [filters.form[name] for name in _page_filters(request)],
         "can_refer": has_role(request.user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)},
    )


def _page_filters(request) -> list[str]:
    # The child filter shows only when a link or a hand-typed URL sets it, so that an
    # error in it can be seen and corrected.
    return PAGE_FILTERS + ["child"] if "child" in request.GET else PAGE_FILTERS


@login_required
def child_list(request):
    """Children by surname. The search takes a local child ID only: it travels in the
    query string, so a name typed here would land in access logs."""
    children = children_visible_to(request.user).select_related("team", "social_worker")
    search = request.GET.get("local_child_id", "").strip()
    if search:
        children = children.filter(local_child_id__icontains=search)
    page = Paginator(children.order_by("last_name", "first_name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = urlencode({"local_child_id": search}) if search else ""
    return render(
        request, "placements/child_list.html", {"page": page, "search": search, "query": query}
    )


@login_required
def child_detail(request, pk):
    child = get_object_or_404(children_visible_to(request.user).select_related("team"), pk=pk)
    audit.record_view(request.user, child)
    referrals = referrals_visible_to(request.user).filter(child=child).order_by("-created_at")
    return render(
        request,
        "placements/child_detail.html",
        {"child": child, "referrals": referrals, "can_refer": _can_refer(request.user, child)},
    )


def _can_refer(user, child) -> bool:
    """Whether to offer the referral form; the service decides again on submit."""
    in_team = user.team_id is not None and user.team_id == child.team_id
    return has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER) and in_team


# --- Writing a referral ----------------------------------------------------------------


def _next_url(referral: Referral, section: str) -> str:
    position = SECTION_ORDER.index(section)
    if position + 1 < len(SECTION_ORDER):
        return reverse("referral-edit", args=[referral.pk, SECTION_ORDER[position + 1]])
    return reverse("referral-check", args=[referral.pk])


@login_required
def referral_create(request, child_pk):
    child = get_object_or_404(children_visible_to(request.user), pk=child_pk)
    if not _can_refer(request.user, child):
        raise Http404("No such child on your caseload")  # a form that could only fail
    form = ReferralPlacementForm(request.POST or None, child=child)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "siblings"}
        try:
            referral = services.referral_create(
                child=child, by=request.user, fields=fields, siblings=form.cleaned_data["siblings"]
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Draft referral saved.")
            return redirect(_next_url(referral, "placement"))
    return render(
        request,
        "placements/referral_form.html",
        {"form": form, "child": child, "section_title": SECTIONS["placement"][0], "step": 1,
         "steps": len(SECTIONS)},
    )


@login_required
def referral_edit(request, pk, section):
    referral = _visible_referral(request, pk)
    if section not in SECTIONS:
        raise Http404("No such section")
    if "edit" not in available_actions(user=request.user, referral=referral):
        messages.error(
            request, f"This referral is '{referral.get_status_display()}': it cannot be edited."
        )
        return redirect("referral-detail", pk=pk)
    if request.method != "POST":
        audit.record_view(request.user, referral)  # the form shows the answers so far
    title, form_class = SECTIONS[section]
    if form_class is ReferralRisksForm:
        form = ReferralRisksForm(request.POST or None, initial=ReferralRisksForm.initial_for(referral))
    elif form_class is ReferralPlacementForm:
        form = form_class(request.POST or None, instance=referral, child=referral.child)
    else:
        form = form_class(request.POST or None, instance=referral)
    if request.method == "POST" and form.is_valid():
        try:
            _save_section(referral=referral, form=form, by=request.user)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            # "Change" links on the check-your-answers page come back to it.
            if request.GET.get("then") == "check":
                return redirect("referral-check", pk=pk)
            return redirect(_next_url(referral, section))
    return render(
        request,
        "placements/referral_form.html",
        {"form": form, "child": referral.child, "referral": referral, "section_title": title,
         "step": SECTION_ORDER.index(section) + 1, "steps": len(SECTIONS)},
    )


def _save_section(*, referral, form, by) -> None:
    if isinstance(form, ReferralRisksForm):
        services.referral_update(referral=referral, by=by, fields={}, risks=form.risks())
        return
    fields = {k: v for k, v in form.cleaned_data.items() if k != "siblings"}
    siblings = form.cleaned_data.get("siblings") if "siblings" in form.cleaned_data else None
    services.referral_update(referral=referral, by=by, fields=fields, siblings=siblings)


@login_required
def referral_check(request, pk):
    """Check your answers, then submit."""
    referral = _visible_referral(request, pk)
    if request.method == "POST":
        try:
            services.referral_submit(referral=referral, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            referral.refresh_from_db()
            messages.success(request, f"Referral submitted. It is now '{referral.get_status_display()}'.")
            return redirect("referral-detail", pk=pk)
    else:
        audit.record_view(request.user, referral)
    return render(request, "placements/referral_check.html", _referral_context(referral))


def _referral_context(referral: Referral) -> dict:
    return {
        "referral": referral,
        "risks": list(referral.risks.all()),
        "siblings": list(referral.siblings.all()),
        "timeline": list(referral.status_changes.select_related("by").order_by("at", "pk")),
        "editable": referral.status in services.EDITABLE_STATUSES,
    }


@login_required
def referral_detail(request, pk):
    referral = _visible_referral(request, pk)
    audit.record_view(request.user, referral)
    context = _referral_context(referral)
    context["actions"] = available_actions(user=request.user, referral=referral)
    return render(request, "placements/referral_detail.html", context)


def available_actions(*, user, referral: Referral) -> list[str]:
    """Which buttons to show. The services decide again when the button is pressed."""
    moves = ALLOWED_TRANSITIONS[referral.status]
    in_team = user.team_id == referral.child.team_id
    actions = []
    team_member = in_team and has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)
    if team_member and referral.status in services.EDITABLE_STATUSES:
        actions += ["edit", "submit"]
    if in_team and has_role(user, Role.TEAM_MANAGER) and referral.status == S.SUBMITTED:
        actions += ["endorse", "return"]
    if (team_member or has_role(user, Role.ADMINISTRATOR)) and S.WITHDRAWN in moves:
        actions.append("withdraw")
    return actions


# --- Simple transitions with a reason --------------------------------------------------

REASON_ACTIONS = {
    "endorse": (services.referral_endorse, "Endorse this referral", "Note for the panel (optional)",
                False, "Referral endorsed: it will be listed for the next Resource Panel."),
    "return": (services.referral_return, "Return this referral to the social worker",
               "Reason for returning it", True, "Referral returned to the social worker."),
    "withdraw": (services.referral_withdraw, "Withdraw this referral", "Reason for withdrawing it",
                 True, "Referral withdrawn."),
}


@login_required
def referral_action(request, pk, action):
    referral = _visible_referral(request, pk)
    if action not in REASON_ACTIONS:
        raise Http404("No such action")
    service, title, label, required, done = REASON_ACTIONS[action]
    form = ReasonForm(request.POST or None, label=label, required=required)
    if request.method == "POST" and form.is_valid():
        try:
            service(referral=referral, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("referral-detail", pk=pk)
    return render(
        request,
        "placements/referral_action.html",
        {"referral": referral, "form": form, "title": title, "action": action,
         "irreversible": action == "withdraw"},
    )
