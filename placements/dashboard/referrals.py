"""Referrals: emergencies awaiting retrospective review, the pipeline by state, and the
median days from submission to decision and to placement (from the status history)."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from placements.dashboard.scope import LIST_LIMIT, DashboardScope, referrals_in_scope
from placements.models import Referral, ReferralStatus, ReferralStatusChange
from placements.models.referrals import OPEN_STATUSES

S = ReferralStatus
# Panel outcomes that decide a referral (approve, perhaps via the Director, or decline);
# a return for more work or a deferral leaves it undecided.
DECIDED_STATUSES = (S.READY_FOR_SOURCING, S.AWAITING_DIRECTOR, S.DECLINED)
CLOSED_STATUSES = tuple(status for status in S if status not in OPEN_STATUSES)
# The pipeline leaves out drafts: they stay with the team writing them.
PIPELINE_STATUSES = tuple(status for status in S if status != S.DRAFT)


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day`, local time, for comparing timestamps with days."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def emergencies_awaiting_review(
    scope: DashboardScope, *, reviewed: QuerySet, visible: QuerySet[Referral]
) -> dict:
    """Emergency placements made (the referral placed) that no panel has yet reviewed.
    Panels decide what counts as reviewed, so the caller passes `reviewed`: a queryset of
    referral IDs (placements may not read panels)."""
    awaiting = (
        referrals_in_scope(scope)
        .filter(is_emergency=True, status=S.PLACED, retrospective_review_due__isnull=False)
        .exclude(pk__in=reviewed)
    )
    counts = awaiting.aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(retrospective_review_due__lt=scope.today))
    )
    rows = (
        awaiting.filter(pk__in=visible.values("pk"))
        .select_related("child")
        .order_by("retrospective_review_due", "pk")[:LIST_LIMIT]
    )
    return {**counts, "rows": list(rows)}


def _changes(**filters) -> QuerySet[ReferralStatusChange]:
    return ReferralStatusChange.objects.filter(referral=OuterRef("pk"), **filters).order_by(
        "at", "pk"
    )


def referral_pipeline(scope: DashboardScope) -> list[dict]:
    """How many of the scope's referrals were in each state at the end of the scope's day:
    all open ones, and those that closed (placed, declined, withdrawn) within the year.
    The state is read from the status history, so a past year shows as it stood."""
    until = _start_of(scope.as_of + datetime.timedelta(days=1))
    latest = ReferralStatusChange.objects.filter(
        referral=OuterRef("pk"), at__lt=until
    ).order_by("-at", "-pk")
    rows = (
        referrals_in_scope(scope)
        .annotate(
            state=Subquery(latest.values("to_status")[:1]),
            state_since=Subquery(latest.values("at")[:1]),
        )
        .filter(
            Q(state__in=[s for s in PIPELINE_STATUSES if s in OPEN_STATUSES])
            | Q(state__in=CLOSED_STATUSES, state_since__gte=_start_of(scope.first_day))
        )
        .order_by()
        .values("state")
        .annotate(referrals=Count("pk"))
    )
    found = {row["state"]: row["referrals"] for row in rows}
    return [
        {"status": status, "label": status.label, "referrals": found.get(status.value, 0),
         "closed": status in CLOSED_STATUSES}
        for status in PIPELINE_STATUSES
    ]


def referral_timings(scope: DashboardScope) -> dict:
    """Median days from a referral's submission to its panel decision (approve or
    decline), and to its placement, over those decided (placed) within the year up to the
    scope's day. Emergencies are placed before any decision, so only count in the second."""
    submitted = Subquery(_changes(to_status=S.SUBMITTED).values("at")[:1])
    decided = Subquery(
        _changes(from_status=S.LISTED, to_status__in=DECIDED_STATUSES).values("at")[:1]
    )
    placed = Subquery(_changes(to_status=S.PLACED).values("at")[:1])
    referrals = referrals_in_scope(scope).annotate(submitted_at=submitted)
    return {
        "to_decision": _median_days(referrals.annotate(reached_at=decided), scope),
        "to_placement": _median_days(referrals.annotate(reached_at=placed), scope),
    }


def _median_days(referrals: QuerySet[Referral], scope: DashboardScope) -> dict:
    """The median of reached_at − submitted_at, in days to one place, over the referrals
    that reached it within the year up to the scope's day. In SQL on both databases: rank
    the durations and keep the middle one or two (SQLite has no percentile function)."""
    window = (_start_of(scope.first_day), _start_of(scope.as_of + datetime.timedelta(days=1)))
    durations = (
        referrals.filter(
            submitted_at__isnull=False, reached_at__gte=window[0], reached_at__lt=window[1]
        )
        .annotate(
            duration=ExpressionWrapper(F("reached_at") - F("submitted_at"),
                                       output_field=DurationField())
        )
        .order_by()
    )
    middle = (
        durations.annotate(
            position=Window(RowNumber(), order_by=[F("duration").asc(), F("pk").asc()]),
            total=Window(Count("pk")),
        )
        .filter(position__gte=(F("total") + 1) / 2, position__lte=(F("total") + 2) / 2)
        .values_list("duration", "total")
    )
    middle = list(middle)
    if not middle:
        return {"referrals": 0, "median_days": None}
    seconds = sum(duration.total_seconds() for duration, _total in middle) / len(middle)
    days = (Decimal(seconds) / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {"referrals": middle[0][1], "median_days": days}
