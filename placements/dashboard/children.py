"""Children in care on the scope's day: by placement type, in-house and external, in
residential care, far from home, and with 3 or more placements in 12 months."""

import datetime
from decimal import Decimal

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value, When

from placements.dashboard.scope import (
    LIST_LIMIT,
    DashboardScope,
    placements_in_scope,
    pounds,
    running_on,
    share,
)
from placements.models import Placement
from placements.selectors import current_weekly_cost
from placements.selectors_placements import (
    STABILITY_FLAG_AT,
    in_last_12_months,
    twelve_months_before,
)
from providers.reference import RESIDENTIAL_TYPES, PlacementType, ProviderKind

FAR_FROM_HOME_MILES = 20
IN_HOUSE = Case(
    When(service__provider__kind=ProviderKind.IN_HOUSE, then=Value(True)), default=Value(False)
)


def children_by_placement_type(scope: DashboardScope) -> list[dict]:
    """Children in care on the scope's day by placement type, in-house and external
    separately, with the average gross weekly cost of those whose cost is recorded."""
    rows = (
        running_on(placements_in_scope(scope), scope.as_of)
        .annotate(in_house=IN_HOUSE, weekly_cost=current_weekly_cost(scope.as_of))
        .order_by()
        .values("placement_type", "in_house")
        .annotate(
            children=Count("child", distinct=True),
            costed=Count("weekly_cost"),
            weekly_total=Sum("weekly_cost"),
        )
        .order_by("placement_type", "-in_house")
    )
    labels = dict(PlacementType.choices)
    return [
        {
            **row,
            "label": labels.get(row["placement_type"], row["placement_type"]),
            "average_weekly_cost": _average(row["weekly_total"], row["costed"]),
        }
        for row in rows
    ]


def _average(total, count) -> Decimal | None:
    return pounds(Decimal(total) / count) if count else None


def in_house_and_external(by_type: list[dict]) -> list[dict]:
    """The by-type rows summed into in-house and external (their averages weighted by the
    number of placements costed)."""
    totals = {}
    for in_house in (True, False):
        rows = [row for row in by_type if row["in_house"] is in_house]
        costed = sum(row["costed"] for row in rows)
        total = sum((row["weekly_total"] or 0 for row in rows), Decimal(0))
        totals[in_house] = {
            "in_house": in_house,
            "label": "In-house" if in_house else "External",
            "children": sum(row["children"] for row in rows),
            "average_weekly_cost": _average(total, costed),
        }
    return list(totals.values())


def care_shares(scope: DashboardScope) -> dict:
    """On the scope's day: children in care, how many in residential care, placed more than
    20 miles from home (of those whose distance is recorded), and with 3 or more
    placements in the 12 months to that day (a stability failure)."""
    day = scope.as_of
    counts = running_on(placements_in_scope(scope), day).annotate(
        recent_placements=_recent_placement_count(day)
    ).aggregate(
        children=Count("child", distinct=True),
        residential=Count("child", distinct=True, filter=Q(placement_type__in=RESIDENTIAL_TYPES)),
        distance_known=Count("pk", filter=Q(distance_from_home_miles__isnull=False)),
        far_from_home=Count("pk", filter=Q(distance_from_home_miles__gt=FAR_FROM_HOME_MILES)),
        unstable=Count("pk", filter=Q(recent_placements__gte=STABILITY_FLAG_AT)),
    )
    return {
        **counts,
        "residential_share": share(counts["residential"], counts["children"]),
        "far_from_home_share": share(counts["far_from_home"], counts["distance_known"]),
        "unstable_share": share(counts["unstable"], counts["children"]),
        "stability_window_start": twelve_months_before(day),
    }


def _recent_placement_count(day: datetime.date) -> Subquery:
    """How many placements the placement's child lived in during the 12 months to `day`,
    counted as the placement page counts them."""
    recent = (
        Placement.objects.filter(child=OuterRef("child"))
        .filter(in_last_12_months(day))
        .order_by()
        .values("child")
        .annotate(placements=Count("pk"))
        .values("placements")
    )
    return Subquery(recent)


def unstable_placements(scope: DashboardScope, *, visible: QuerySet[Placement]) -> list[Placement]:
    """The current placements of children with 3 or more placements in 12 months, those
    with most first, as far as the viewer may see them."""
    day = scope.as_of
    return list(
        running_on(placements_in_scope(scope), day)
        .filter(pk__in=visible.values("pk"))
        .annotate(recent_placements=_recent_placement_count(day))
        .filter(recent_placements__gte=STABILITY_FLAG_AT)
        .select_related("child")
        .order_by("-recent_placements", "start_date", "pk")[:LIST_LIMIT]
    )
