"""The commissioning officer's sourcing workbench: the queue, starting and sending a
request, recording providers' answers, negotiating, sharing the options and closing.

Thin, like placements.views: the referral is read through referrals_visible_to (404 for
anyone who may not see it), every change goes through placements.services.sourcing or
providers.services.sourcing, and their refusals are shown on the form. Everybody who can
see the referral can read its request; only commissioning officers get the forms (403)."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit
from core.errors import ActionNotPermitted, DomainError
from placements import selectors
from placements.forms import ReasonForm
from placements.forms_sourcing import (
    AnswerForm,
    InviteForm,
    NegotiateForm,
    SourcingQueueFilter,
    SourcingSendForm,
    SourcingStartForm,
)
from placements.models import ReferralSourcingRequest, ReferralStatus
from placements.services import sourcing as services
from placements.views_common import (
    is_commissioner,
    require_commissioner,
    saved,
    show_error,
    visible_referral,
)
from providers import matching
from providers.models import (
    NegotiationStep,
    Quote,
    Service,
    SourcingInvitation,
    SourcingRequest,
)
from providers.reference import Need, PlacementType, Risk, Urgency
from providers.services import sourcing as market

S = ReferralStatus
SR = SourcingRequest.Status
PAGE_SIZE = 25
URGENCY_ORDER = [Urgency.TODAY, Urgency.WITHIN_5_DAYS, Urgency.LATER]
SEXES = {"M": "Male", "F": "Female", "U": "Unknown"}


# --- The queue -------------------------------------------------------------------------


def _count_of(model, *, condition: Q = Q()) -> Coalesce:
    """How many `model` rows (invitations) the referral's open request has."""
    rows = (
        model.objects.filter(condition, sourcing_request_id=OuterRef("open_request_id"))
        .order_by()
        .values("sourcing_request_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def sourcing_queue_rows(user):
    """The queue with each referral's open request (reference, deadline, answers) in one
    query: subqueries, so the count never grows with the rows."""
    open_links = ReferralSourcingRequest.objects.filter(
        referral=OuterRef("pk"), sourcing_request__status__in=services.OPEN_REQUEST
    ).order_by("-pk")
    return (
        selectors.sourcing_queue(user=user)
        .annotate(
            open_request_id=Subquery(open_links.values("sourcing_request_id")[:1]),
            request_reference=Subquery(open_links.values("sourcing_request__reference")[:1]),
            response_deadline=Subquery(
                open_links.values("sourcing_request__response_deadline")[:1]
            ),
            urgency_rank=Case(
                *[When(urgency=u, then=Value(rank)) for rank, u in enumerate(URGENCY_ORDER)],
                output_field=IntegerField(),
            ),
        )
        .annotate(
            invited=_count_of(SourcingInvitation),
            answered=_count_of(
                SourcingInvitation, condition=Q(status=SourcingInvitation.Status.RESPONDED)
            ),
        )
        .order_by("urgency_rank", "wanted_start_date", "pk")
    )


@login_required
def sourcing_queue(request):
    filters = SourcingQueueFilter(request.GET or None, queryset=sourcing_queue_rows(request.user))
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "placements/sourcing/queue.html",
        {"filters": filters, "page": page, "query": query.urlencode(), "now": timezone.now()},
    )


# --- Starting a request ----------------------------------------------------------------


def provider_view(fields: dict) -> dict:
    """What providers see of the child (a request's fields, or what a new one will hold),
    with labels for the codes."""
    return {
        **fields,
        "placement_type_label": PlacementType(fields["placement_type"]).label,
        "sex_label": SEXES.get(fields["sex"], fields["sex"]),
        "risk_labels": [Risk(code).label for code in fields["risks"]],
        "urgency_label": Urgency(fields["urgency"]).label,
        "need_labels": [Need(code).label for code in fields.get("needs", ())],
    }


def _request_fields(sourcing_request: SourcingRequest) -> dict:
    return {name: getattr(sourcing_request, name) for name in market.REQUEST_FIELDS}


@login_required
def sourcing_start(request, pk):
    referral = _officer_referral(request, pk)
    if request.method == "GET" and (
        referral.status != S.READY_FOR_SOURCING or services.open_request_link(referral)
    ):
        messages.error(request, "Sourcing can start only for a referral that is ready for "
                       "sourcing and has no open request.")
        return redirect("sourcing-request", pk=pk)
    form = SourcingStartForm(request.POST or None, referral=referral)
    sourcing_request = saved(request, form, lambda data: services.sourcing_start(
        by=request.user, referral=referral, needs=data["needs"],
        needs_summary=data["needs_summary"], placement_type=data["placement_type"],
        max_distance_miles=data["max_distance_miles"],
        planned_end_date=data["planned_end_date"], use_referral_distance=False,
    ))
    if sourcing_request is not None:
        messages.success(request, f"Draft request {sourcing_request.reference} started. "
                         "Check the shortlist, then send it.")
        return redirect("sourcing-request", pk=pk)
    return render(
        request,
        "placements/sourcing/start.html",
        {"referral": referral, "form": form,
         "summary": provider_view(services.anonymised_fields(referral, on=timezone.localdate()))},
    )


# --- The request -----------------------------------------------------------------------


def _current_link(referral) -> ReferralSourcingRequest | None:
    """The open request, else the latest closed one (shown read-only)."""
    return services.open_request_link(referral) or (
        ReferralSourcingRequest.objects.select_related("sourcing_request", "chosen_quote")
        .filter(referral=referral)
        .order_by("-sourcing_request__created_at", "-pk")
        .first()
    )


def _draft_context(request, link, form=None) -> dict:
    shortlist = matching.shortlist(request=link.sourcing_request)
    form = form or SourcingSendForm(shortlist=shortlist)
    options = dict(zip([value for value, _ in form.fields["services"].choices],
                       form["services"], strict=True))
    reason = form.reason_field

    def rows(candidates):
        return [
            {"candidate": c, "checkbox": options[str(c.service.pk)],
             "reason": form[reason(c.service.pk)] if reason(c.service.pk) in form.fields else None}
            for c in candidates
        ]

    excluded = rows(shortlist.excluded)
    # Open the "do not meet every rule" section when something in it was ticked or is wrong.
    excluded_open = any(
        row["checkbox"].data["selected"] or (row["reason"] is not None and row["reason"].errors)
        for row in excluded
    )
    return {"form": form, "candidates": rows(shortlist.candidates), "excluded": excluded,
            "excluded_open": excluded_open}


def _sent_context(link) -> dict:
    sourcing_request = link.sourcing_request
    steps = NegotiationStep.objects.select_related("recorded_by").order_by("recorded_at", "pk")
    quotes = list(
        matching.quotes_with_context(request=sourcing_request)
        .select_related("agreed_by")
        .prefetch_related(Prefetch("negotiation_steps", queryset=steps))
    )
    for quote in quotes:
        quote.flags = matching.quote_flags(quote)
        quote.viable = quote.status in matching.VIABLE_QUOTE_STATUSES
        quote.chosen = quote.pk == link.chosen_quote_id
    answered = {quote.service_id for quote in quotes}
    invitations = list(
        sourcing_request.invitations.select_related("service__provider").order_by("sent_at", "pk")
    )
    for invitation in invitations:
        invitation.answered = invitation.service_id in answered
    return {
        "invitations": invitations,
        "quotes": quotes,
        "chosen_quote": next((quote for quote in quotes if quote.chosen), None),
        "has_viable_quote": any(quote.viable for quote in quotes),
    }


@login_required
def sourcing_request(request, pk):
    referral = visible_referral(request, pk)
    link = _current_link(referral)
    draft = link is not None and link.sourcing_request.status == SR.DRAFT
    form = None
    if request.method == "POST":
        require_commissioner(request)
        if not draft:
            messages.error(request, "This request has already been sent or closed; nothing "
                           "was changed.")
            return redirect("sourcing-request", pk=pk)
        form = SourcingSendForm(request.POST, shortlist=matching.shortlist(
            request=link.sourcing_request))
        sent = saved(request, form, lambda data: services.sourcing_send(
            by=request.user, referral=referral, service_ids=form.service_ids(),
            off_framework_reasons=form.off_framework_reasons(),
        ), on_error=functools.partial(show_error, show=SourcingSendForm.show_error))
        if sent is not None:
            messages.success(request, f"Request {sent.reference} sent to "
                             f"{len(form.service_ids())} service(s).")
            return redirect("sourcing-request", pk=pk)
    else:
        audit.record_view(request.user, referral)
    return render(request, "placements/sourcing/request.html",
                  _request_context(request, referral, link, form))


def _request_context(request, referral, link, form) -> dict:
    officer = is_commissioner(request.user)
    context = {
        "referral": referral,
        "link": link,
        "officer": officer,
        "timeline": list(referral.status_changes.select_related("by").order_by("at", "pk")),
        "can_start": officer and referral.status == S.READY_FOR_SOURCING
        and (link is None or link.sourcing_request.status not in services.OPEN_REQUEST),
    }
    if link is None:
        return context
    status = link.sourcing_request.status
    is_open = status in services.OPEN_REQUEST
    context.update(
        sourcing_request=link.sourcing_request,
        summary=provider_view(_request_fields(link.sourcing_request)),
        is_open=is_open,
        can_act=officer and status == SR.SENT,
        can_close=officer and is_open and referral.status in (
            S.READY_FOR_SOURCING, S.SOURCING, S.OPTIONS_READY),
    )
    if status == SR.DRAFT:
        if officer:
            context.update(_draft_context(request, link, form))
        return context
    context.update(_sent_context(link))
    context["can_share"] = (context["can_act"] and referral.status == S.SOURCING
                            and context["has_viable_quote"])
    return context


# --- Answers, negotiation, decline and withdrawal ---------------------------------------


def _officer_referral(request, pk):
    referral = visible_referral(request, pk)
    require_commissioner(request)
    return referral


def _referral_request_ids(referral):
    return ReferralSourcingRequest.objects.filter(referral=referral).values("sourcing_request_id")


@login_required
def sourcing_answer(request, pk, invitation_pk):
    referral = _officer_referral(request, pk)
    invitation = get_object_or_404(
        SourcingInvitation.objects.select_related("service__provider", "sourcing_request"),
        pk=invitation_pk, sourcing_request_id__in=_referral_request_ids(referral),
    )
    form = AnswerForm(request.POST or None)

    def record(data):
        answer = {"by": request.user, "request": invitation.sourcing_request,
                  "service": invitation.service}
        if data["answer"] == AnswerForm.OFFERED:
            return market.quote_record(
                **answer, quoted_weekly_price=data["quoted_weekly_price"],
                inclusions=data["inclusions"], available_from=data["available_from"],
            )
        return market.quote_record_declined(**answer, reason=data["decline_reason"])

    if saved(request, form, record) is not None:
        messages.success(request, f"Answer from {invitation.service} recorded.")
        return redirect("sourcing-request", pk=pk)
    return render(request, "placements/sourcing/answer.html",
                  {"referral": referral, "invitation": invitation, "form": form})


def _quote_of(referral, quote_pk) -> Quote:
    return get_object_or_404(
        Quote.objects.select_related("service__provider", "sourcing_request"),
        pk=quote_pk, sourcing_request_id__in=_referral_request_ids(referral),
    )


@login_required
def quote_negotiate(request, pk, quote_pk):
    referral = _officer_referral(request, pk)
    quote = _quote_of(referral, quote_pk)
    form = NegotiateForm(request.POST or None)
    step = saved(request, form, lambda data: market.quote_negotiate(
        by=request.user, quote=quote, kind=data["kind"], weekly_price=data["weekly_price"],
        note=data["note"],
    ))
    if step is not None:
        messages.success(request, f"{step.get_kind_display()} of £{step.weekly_price:,.2f} "
                         f"a week recorded for {quote.service}.")
        return redirect("sourcing-request", pk=pk)
    steps = quote.negotiation_steps.select_related("recorded_by").order_by("recorded_at", "pk")
    return render(request, "placements/sourcing/negotiate.html",
                  {"referral": referral, "quote": quote, "form": form, "steps": list(steps)})


QUOTE_ACTIONS = {
    "decline": (market.quote_decline, "Decline this offer", "Why is the offer not taken up?",
                "Offer from {service} declined."),
    "withdraw": (market.quote_withdraw, "Record that the provider withdrew this offer",
                 "Why did the provider withdraw it?",
                 "Offer from {service} recorded as withdrawn."),
}


def _quote_action(request, pk, quote_pk, action):
    referral = _officer_referral(request, pk)
    quote = _quote_of(referral, quote_pk)
    service, title, label, done = QUOTE_ACTIONS[action]
    form = ReasonForm(request.POST or None, label=label)
    if saved(request, form, lambda data: service(
        by=request.user, quote=quote, reason=data["reason"]
    )) is not None:
        messages.success(request, done.format(service=quote.service))
        return redirect("sourcing-request", pk=pk)
    return render(request, "placements/sourcing/quote_action.html",
                  {"referral": referral, "quote": quote, "form": form, "title": title})


@login_required
def quote_decline(request, pk, quote_pk):
    return _quote_action(request, pk, quote_pk, "decline")


@login_required
def quote_withdraw(request, pk, quote_pk):
    return _quote_action(request, pk, quote_pk, "withdraw")


# --- Inviting, sharing, closing ---------------------------------------------------------


def _open_link(referral) -> ReferralSourcingRequest:
    link = services.open_request_link(referral)
    if link is None:
        raise Http404("This referral has no open sourcing request")
    return link


@login_required
def sourcing_invite(request, pk):
    referral = _officer_referral(request, pk)
    sourcing_request = _open_link(referral).sourcing_request
    uninvited = (
        Service.objects.filter(is_active=True, provider__is_active=True)
        .exclude(invitations__sourcing_request=sourcing_request)
        .select_related("provider")
        .order_by("provider__name", "name")
    )
    form = InviteForm(request.POST or None, services=uninvited)
    invitation = saved(request, form, lambda data: market.invitation_add(
        by=request.user, request=sourcing_request, service=data["service"],
        off_framework_reason=data["off_framework_reason"],
    ))
    if invitation is not None:
        messages.success(request, f"{invitation.service} invited.")
        return redirect("sourcing-request", pk=pk)
    return render(request, "placements/sourcing/invite.html",
                  {"referral": referral, "sourcing_request": sourcing_request, "form": form})


@login_required
@require_POST
def options_share(request, pk):
    referral = _officer_referral(request, pk)
    try:
        services.options_share(by=request.user, referral=referral)
    except ActionNotPermitted as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Options shared: the social worker can now compare the "
                         "offers and choose one.")
    return redirect("sourcing-request", pk=pk)


@login_required
def sourcing_close(request, pk):
    referral = _officer_referral(request, pk)
    sourcing_request = _open_link(referral).sourcing_request
    form = ReasonForm(request.POST or None, label="Why is the request closing without a placement?")
    if saved(request, form, lambda data: services.sourcing_close_without_placement(
        by=request.user, referral=referral, reason=data["reason"]
    )) is not None:
        messages.success(request, f"Request {sourcing_request.reference} closed without a "
                         "placement. The referral is ready for sourcing again.")
        return redirect("sourcing-request", pk=pk)
    return render(request, "placements/sourcing/close.html",
                  {"referral": referral, "sourcing_request": sourcing_request, "form": form})
