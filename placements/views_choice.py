"""Choosing an offer and making it a placement: the side-by-side comparison the social
worker chooses from, the commissioning officer's confirmation, the printable placement
agreement and the negotiation savings report.

Thin: reads start from the access helpers and providers.matching; every change goes
through placements.services.sourcing, which decides again who may do what."""

import dataclasses
import datetime
import types
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format

from core import audit
from core.auth import require_recent_password
from core.errors import DomainError
from core.roles import Role, has_role
from placements.access import children_visible_to, placements_visible_to, referrals_visible_to
from placements.forms import ReasonForm
from placements.forms_choice import ConfirmPlacementForm, OfferChoiceForm, SavingsFilterForm
from placements.models import Contribution, Placement, Referral, ReferralStatus
from placements.services import sourcing
from placements.views_common import (
    is_commissioner,
    require_commissioner,
    saved,
    show_error,
    visible_referral,
)
from providers import geo, matching
from providers.models import FrameworkMembership
from providers.reference import financial_year_label
from providers.services.sourcing import weekly_price_after_discount

S = ReferralStatus
PENCE = Decimal("0.01")
# The referral states the sourcing history on the options page covers.
SOURCING_STEPS = (S.SOURCING, S.OPTIONS_READY, S.PROVIDER_CHOSEN)
SAVINGS_READERS = (
    Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR,
)


def _in_childs_team(user, referral: Referral) -> bool:
    """The child's social worker or team manager: who chooses (the service decides again)."""
    in_team = user.team_id is not None and user.team_id == referral.child.team_id
    return in_team and has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)


# --- The comparison and the choice ------------------------------------------------------


@login_required
def sourcing_options(request, pk):
    """The viable offers side by side. The child's team chooses one, with a reason, once
    the commissioning team has shared the options."""
    referral = visible_referral(request, pk)
    user = request.user
    in_team = _in_childs_team(user, referral)
    if request.method == "POST" and not in_team:
        raise PermissionDenied("Only the child's social worker or team manager can choose an offer.")
    if request.method != "POST":
        audit.record_view(user, referral)
    link = sourcing.open_request_link(referral)
    options = matching.comparison(request=link.sourcing_request) if link else []
    for option in options:
        option.ceiling_text = _against_ceiling(option)
    form = None
    if request.method == "POST" or (referral.status == S.OPTIONS_READY and in_team):
        form = OfferChoiceForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        chosen = next(o.quote for o in options if o.quote.pk == form.cleaned_data["quote"])
        try:
            sourcing.offer_choose(by=user, referral=referral, quote=chosen,
                                  reason=form.cleaned_data["reason"])
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(
                request, f"You chose {chosen.service.name}. A commissioning officer will now "
                "confirm the placement with the provider.",
            )
            return redirect("sourcing-options", pk=pk)
    return render(request, "placements/choice/options.html", {
        "referral": referral, "link": link, "options": options, "form": form,
        "chosen": _chosen_option(link, options),
        "can_confirm": referral.status == S.PROVIDER_CHOSEN and is_commissioner(user),
        "can_reopen": referral.status == S.PROVIDER_CHOSEN
        and (is_commissioner(user) or in_team),
        "placement": _placement_of(referral),
        "history": _sourcing_history(referral),
        "quality_weight": settings.SOURCING_QUALITY_WEIGHT,
        "cost_weight": 100 - settings.SOURCING_QUALITY_WEIGHT,
    })


def _against_ceiling(option) -> str:
    ceiling = option.quote.ceiling
    if ceiling is None:
        return "No ceiling to compare with"
    difference = option.price - ceiling
    if difference > 0:
        return f"£{difference:,.2f} above"
    if difference < 0:
        return f"£{-difference:,.2f} below"
    return "At the ceiling"


def _chosen_option(link, options):
    if link is None or link.chosen_quote_id is None:
        return None
    return next((o for o in options if o.quote.pk == link.chosen_quote_id), None)


def _placement_of(referral: Referral) -> Placement | None:
    if referral.status != S.PLACED:
        return None
    return referral.placements.order_by("-start_date", "-pk").first()


def _sourcing_history(referral: Referral) -> list:
    return list(
        referral.status_changes.filter(
            Q(to_status__in=SOURCING_STEPS) | Q(from_status__in=SOURCING_STEPS)
        ).select_related("by").order_by("at", "pk")
    )


@login_required
def choice_reopen(request, pk):
    """Undo the choice (the provider withdrew, or it cannot be confirmed), with a reason."""
    referral = visible_referral(request, pk)
    if not (is_commissioner(request.user) or _in_childs_team(request.user, referral)):
        raise PermissionDenied("Only the commissioning team or the child's team can reopen the choice.")
    form = ReasonForm(request.POST or None, label="Reason for reopening the choice")
    if saved(request, form, lambda data: sourcing.choice_reopen(
        by=request.user, referral=referral, reason=data["reason"]
    )) is not None:
        messages.success(request, "The choice is reopened: choose again from the offers.")
        return redirect("sourcing-options", pk=pk)
    return render(request, "placements/choice/reopen.html", {"referral": referral, "form": form})


# --- Confirmation ------------------------------------------------------------------------


@dataclasses.dataclass
class ChosenOffer:
    """The chosen quote as the officer confirms it: the price that will be agreed, and the
    discount in force on the default start date, with the weekly cost they give."""

    quote: object  # annotated by matching.quotes_with_context
    agreed: Decimal
    discount: object | None
    weekly_cost: Decimal
    default_start: datetime.date
    distance_miles: Decimal | None


def _chosen_offer(link) -> ChosenOffer:
    request = link.sourcing_request
    quote = matching.quotes_with_context(request=request).get(pk=link.chosen_quote_id)
    start = quote.available_from or request.wanted_start_date
    # An offer never negotiated is agreed at the price quoted (quote_accept does the same).
    agreed = quote.agreed_weekly_price if quote.agreed_weekly_price is not None else quote.quoted_weekly_price
    discount = matching.discount_for(provider=quote.service.provider, day=start)
    weekly = weekly_price_after_discount(
        types.SimpleNamespace(agreed_weekly_price=agreed, discount=discount)
    )
    return ChosenOffer(
        quote=quote, agreed=agreed, discount=discount, weekly_cost=weekly, default_start=start,
        distance_miles=geo.rounded_miles(getattr(quote, "distance", None)),
    )


@login_required
def placement_confirm(request, pk):
    """The commissioning officer confirms the chosen offer: it becomes the placement."""
    require_commissioner(request, "Only a commissioning officer can confirm a placement.")
    referral = visible_referral(request, pk)
    link = sourcing.open_request_link(referral)
    if referral.status != S.PROVIDER_CHOSEN or link is None or link.chosen_quote_id is None:
        messages.error(request, f"This referral is '{referral.get_status_display()}': there is "
                                "no chosen offer to confirm.")
        return redirect("sourcing-options", pk=pk)
    offer = _chosen_offer(link)
    # The price before any discount: the officer may untick the discount.
    require_recent_password(request, weekly_cost=offer.agreed)
    current = (
        Placement.objects.filter(child_id=referral.child_id, end_date__isnull=True)
        .select_related("service__provider").first()
    )
    form = ConfirmPlacementForm(
        request.POST or None, discount=offer.discount, has_current_placement=current is not None,
        initial={"quote": offer.quote.pk, "start_date": offer.default_start, "apply_discount": True},
    )
    if request.method == "POST" and form.is_valid() and (
        form.cleaned_data["quote"] not in (None, offer.quote.pk)
    ):
        messages.error(request, "The chosen offer changed while you had this page open. "
                                "Check it below before you confirm.")
        return redirect("placement-confirm", pk=pk)
    placement = saved(request, form, lambda data: sourcing.placement_confirm(
        by=request.user, referral=referral, quote=offer.quote,
        start_date=data["start_date"],
        # A discount the page did not offer is not applied behind the officer's back.
        apply_discount=data.get("apply_discount", False),
        end_reason=data.get("end_reason", ""),
    ))
    if placement is not None:
        messages.success(
            request, f"Placement confirmed with {offer.quote.service.name} from "
            f"{date_format(placement.start_date, 'j F Y')}. The other providers will hear they were not chosen.",
        )
        return redirect("placement-agreement", pk=placement.pk)
    return render(request, "placements/choice/confirm.html", {
        "referral": referral, "link": link, "offer": offer, "current": current, "form": form,
    })


# --- The placement agreement -------------------------------------------------------------


@dataclasses.dataclass
class FundingLine:
    contribution: Contribution
    weekly: Decimal


@dataclasses.dataclass
class FundingSplit:
    """Who pays what in the week holding `day`: net = gross − contributions."""

    day: datetime.date
    gross: Decimal | None
    lines: list[FundingLine]
    contributions: Decimal
    net: Decimal | None


def _funding_day(placement: Placement, today: datetime.date) -> datetime.date:
    """Today, or the first day of a placement not yet started, or the last of one ended."""
    if placement.start_date > today:
        return placement.start_date
    if placement.end_date is not None and placement.end_date <= today:
        return placement.end_date - datetime.timedelta(days=1)
    return today


def _in_force(day: datetime.date, *, start: str, end: str) -> Q:
    return Q(**{f"{start}__lte": day}) & (Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gt": day}))


def funding_split(placement: Placement, *, day: datetime.date) -> FundingSplit:
    """The same arithmetic as placements.selectors.with_net_weekly_cost, row by row."""
    cost = (
        placement.costs.filter(_in_force(day, start="effective_from", end="effective_to"))
        .order_by("-effective_from").first()
    )
    gross = cost.weekly_amount if cost else None
    lines = []
    for contribution in placement.contributions.filter(_in_force(day, start="start_date", end="end_date")).order_by("start_date", "pk"):
        if contribution.weekly_amount is not None:
            weekly = contribution.weekly_amount
        elif gross is not None:
            weekly = (gross * contribution.percentage / 100).quantize(PENCE, rounding=ROUND_HALF_UP)
        else:
            weekly = None
        lines.append(FundingLine(contribution, weekly))
    total = sum((line.weekly for line in lines if line.weekly is not None), Decimal("0.00"))
    return FundingSplit(day=day, gross=gross, lines=lines, contributions=total,
                        net=None if gross is None else gross - total)


def _framework_of(placement: Placement):
    """The framework the provider belonged to when the placement began, if bought on one."""
    if not placement.on_framework:
        return None
    day = placement.start_date
    membership = (
        FrameworkMembership.objects.filter(
            provider_id=placement.service.provider_id, start_date__lte=day,
            framework__start_date__lte=day, framework__end_date__gte=day,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("framework").order_by("-start_date", "pk").first()
    )
    return membership.framework if membership else None


@login_required
def placement_agreement(request, pk):
    """The individual placement agreement summary, for the file and for print. The child's
    name shows only to those who may read the child's record (not finance)."""
    placement = get_object_or_404(
        placements_visible_to(request.user).select_related(
            "child", "service__provider", "quote__discount", "quote__sourcing_request",
            "created_by",
        ),
        pk=pk,
    )
    audit.record_view(request.user, placement)
    shows_child = children_visible_to(request.user).filter(pk=placement.child_id).exists()
    quote = placement.quote
    return render(request, "placements/choice/agreement.html", {
        "placement": placement, "quote": quote, "shows_child": shows_child,
        "framework": _framework_of(placement),
        "weekly_fee": weekly_price_after_discount(quote) if quote else None,
        "funding": funding_split(placement, day=_funding_day(placement, timezone.localdate())),
        "shows_referral": placement.referral_id is not None
        and referrals_visible_to(request.user).filter(pk=placement.referral_id).exists(),
    })


# --- Negotiation savings -----------------------------------------------------------------


@login_required
def sourcing_savings(request):
    """What negotiation saved: by officer, by provider and by financial year."""
    if not has_role(request.user, *SAVINGS_READERS):
        raise PermissionDenied("Only commissioning, finance, the Director and administrators "
                               "see the savings report.")
    by_year = list(matching.savings_totals(group="year"))
    for row in by_year:
        row["label"] = financial_year_label(row["financial_year"])
    form = SavingsFilterForm(request.GET or None, years=[row["financial_year"] for row in by_year])
    year = form.cleaned_data["financial_year"] if form.is_valid() else None
    if year is not None:
        by_year = [row for row in by_year if row["financial_year"] == year]
    by_officer = list(matching.savings_totals(group="officer", financial_year=year))
    for row in by_officer:
        name = f"{row['agreed_by__first_name']} {row['agreed_by__last_name']}".strip()
        row["label"] = name or row["agreed_by__username"] or "Not recorded"
    by_provider = list(matching.savings_totals(group="provider", financial_year=year))
    for row in by_provider:
        row["label"] = row["service__provider__name"]
    return render(request, "placements/choice/savings.html", {
        "form": form, "year_label": financial_year_label(year) if year is not None else None,
        "by_year": by_year, "by_officer": by_officer, "by_provider": by_provider,
        "total": sum((row["total"] for row in by_year), Decimal("0.00")),
        "quotes": sum(row["quotes"] for row in by_year),
    })
