"""Reads that pages and the API share. Each starts from an access helper."""

import datetime

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery

from placements.access import children_visible_to, placements_visible_to, referrals_visible_to
from placements.models import BudgetLine, Child, Placement, PlacementCost, Referral, ReferralStatus

S = ReferralStatus
SOURCING_QUEUE_STATUSES = (S.READY_FOR_SOURCING, S.SOURCING, S.OPTIONS_READY, S.PROVIDER_CHOSEN)


def children_allocated_to(*, user) -> QuerySet[Child]:
    return children_visible_to(user).filter(social_worker=user).select_related("team")


def team_open_referrals(*, user) -> QuerySet[Referral]:
    """Open referrals for children of the user's team, returned ones first."""
    return (
        referrals_visible_to(user)
        .filter(child__team_id=user.team_id)
        .exclude(status__in=(S.PLACED, S.DECLINED, S.WITHDRAWN))
        .select_related("child")
        .order_by("-updated_at")
    )


def referrals_awaiting_endorsement(*, user) -> QuerySet[Referral]:
    return (
        referrals_visible_to(user)
        .filter(child__team_id=user.team_id, status=S.SUBMITTED)
        .select_related("child", "created_by")
        .order_by("created_at")
    )


def sourcing_queue(*, user) -> QuerySet[Referral]:
    """Approved referrals the commissioning team is working on, emergencies first."""
    return (
        referrals_visible_to(user)
        .filter(status__in=SOURCING_QUEUE_STATUSES)
        .select_related("child", "child__team")
        .order_by("-is_emergency", "wanted_start_date", "pk")
    )


def current_weekly_cost(day: datetime.date) -> Subquery:
    """The gross weekly cost in force on `day`, for annotating placements."""
    in_force = PlacementCost.objects.filter(
        placement=OuterRef("pk"), effective_from__lte=day
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
    return Subquery(
        in_force.order_by("-effective_from").values("weekly_amount")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def active_placements(*, user, on: datetime.date) -> QuerySet[Placement]:
    return placements_visible_to(user).filter(start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=on)
    )


def costliest_active_placements(*, user, on: datetime.date, limit: int = 10):
    return (
        active_placements(user=user, on=on)
        .annotate(weekly_cost=current_weekly_cost(on))
        .filter(weekly_cost__isnull=False)
        .select_related("child", "service", "service__provider")
        .order_by("-weekly_cost", "pk")[:limit]
    )


def budget_lines_for_year(*, start_year: int) -> QuerySet[BudgetLine]:
    return (
        BudgetLine.objects.filter(financial_year__start_year=start_year)
        .select_related("financial_year")
        .annotate(rule_count=Count("rules"))
        .order_by("name")
    )
