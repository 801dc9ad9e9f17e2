import datetime

import django_filters
from django.db.models import Count, Prefetch, Q, QuerySet

from panels.access import meetings_visible_to, pending_approvals_visible_to
from panels.models import AgendaItem, Decision, DirectorApproval, PanelMeeting
from placements.access import referrals_visible_to
from placements.models import Placement, Referral, ReferralStatus
from placements.selectors import referral_id_filter, with_net_weekly_cost

# Items still on the agenda; distinct because visibility joins panel members.
ON_AGENDA_COUNT = Count("items", filter=Q(items__removed_at__isnull=True), distinct=True)


def upcoming_meetings(*, user, today: datetime.date, chaired_only=False) -> QuerySet[PanelMeeting]:
    meetings = meetings_visible_to(user).filter(
        date__gte=today, status=PanelMeeting.Status.SCHEDULED
    )
    if chaired_only:
        meetings = meetings.filter(chair=user)
    return (
        meetings.select_related("panel", "chair")
        .annotate(item_count=ON_AGENDA_COUNT)
        .order_by("date", "panel__name")
    )


def meetings_for_list(*, user) -> QuerySet[PanelMeeting]:
    return (
        meetings_visible_to(user)
        .select_related("panel", "chair")
        .annotate(item_count=ON_AGENDA_COUNT)
        .order_by("-date", "panel__name")
    )


def agenda(*, meeting: PanelMeeting) -> list[AgendaItem]:
    """The meeting's items with their subject and decisions, in a fixed number of queries."""
    items = (
        AgendaItem.objects.on_agenda()
        .filter(meeting=meeting)
        .select_related("referral", "referral__child", "placement", "placement__child",
                        "placement__service", "placement__service__provider")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("decided_by")
                     .order_by("decided_at", "pk"))
        )
        .order_by("position", "pk")
    )
    return list(items)


def agenda_with_costs(*, meeting: PanelMeeting) -> list[AgendaItem]:
    """The agenda, each high-cost item carrying its placement's net weekly cost on the
    meeting day (one extra query, whatever the number of items)."""
    items = agenda(meeting=meeting)
    ids = [item.placement_id for item in items if item.placement_id]
    rows = with_net_weekly_cost(Placement.objects.filter(pk__in=ids), on=meeting.date) if ids else []
    costs = {row.pk: row.net_weekly_cost for row in rows}
    for item in items:
        item.net_weekly_cost = costs.get(item.placement_id)
    return items


def referrals_ready_for_panel(*, meeting: PanelMeeting) -> QuerySet[Referral]:
    """Endorsed referrals the chair may add, leaving out any deferred at this meeting."""
    return (
        Referral.objects.filter(status=ReferralStatus.ENDORSED)
        .exclude(
            pk__in=AgendaItem.objects.filter(meeting=meeting, decisions__isnull=False).values(
                "referral_id"
            )
        )
        .select_related("child")
        .order_by("updated_at", "pk")
    )


def retrospective_reviews_overdue(*, user, today: datetime.date) -> QuerySet[Referral]:
    """Emergencies past their review date that no panel has yet reviewed."""
    reviewed = AgendaItem.objects.filter(
        kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW, decisions__isnull=False
    ).values("referral_id")
    return (
        referrals_visible_to(user)
        .filter(is_emergency=True, retrospective_review_due__lt=today)
        .exclude(status__in=(ReferralStatus.WITHDRAWN, ReferralStatus.DECLINED))
        .exclude(pk__in=reviewed)
        .select_related("child")
        .order_by("retrospective_review_due", "pk")
    )


def pending_director_approvals(*, user) -> QuerySet[DirectorApproval]:
    return (
        pending_approvals_visible_to(user)
        .select_related("referral", "referral__child", "decision")
        .order_by("requested_at", "pk")
    )


class MeetingFilter(django_filters.FilterSet):
    """Filters for /api/v1/meetings/."""

    # `date` becomes date_after and date_before (inclusive) in the query string.
    date = django_filters.DateFromToRangeFilter()

    class Meta:
        model = PanelMeeting
        fields = ["panel", "status", "date"]


class AgendaItemFilter(django_filters.FilterSet):
    """Filters for /api/v1/agenda-items/."""

    referral = referral_id_filter()

    class Meta:
        model = AgendaItem
        fields = ["meeting", "kind", "referral"]


class DirectorApprovalFilter(django_filters.FilterSet):
    """Filters for /api/v1/director-approvals/."""

    referral = referral_id_filter()

    class Meta:
        model = DirectorApproval
        fields = ["status", "referral"]


class DecisionFilter(django_filters.FilterSet):
    """Filters for /api/v1/decisions/."""

    meeting = django_filters.ModelChoiceFilter(
        field_name="agenda_item__meeting", queryset=PanelMeeting.objects.all(), label="Meeting"
    )

    class Meta:
        model = Decision
        fields = ["meeting", "agenda_item", "outcome"]
