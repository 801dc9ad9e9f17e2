"""Placements to change, for the placement service, page and API tests: a running
placement with its first weekly cost (and, when asked, a health contribution), one valid
call of each change, and a snapshot of everything a change may write."""

import datetime
from decimal import Decimal

from django.utils import timezone

from core.roles import Role
from placements.models import Contribution, Placement, PlacementCost
from placements.services import placements as services
from tests.factories import (
    ChildFactory,
    ContributionFactory,
    PlacementCostFactory,
    PlacementFactory,
    ServiceFactory,
)

DAY = datetime.timedelta(days=1)
CHANGERS = {Role.FINANCE_MANAGER, Role.COMMISSIONING_OFFICER}
CHANGES = ["cost_change", "retainer", "contribution_add", "contribution_end", "placement_end",
           "child_move"]


def today() -> datetime.date:
    return timezone.localdate()


def running_placement(*, team, days_ago: int = 200, amount: str = "820.00",
                      contribution: bool = False, child=None, **fields) -> Placement:
    """A placement begun `days_ago` days ago at `amount` a week, still running; with a
    £50 a week health contribution from its start when `contribution`."""
    placement = PlacementFactory(
        child=child or ChildFactory(team=team), start_date=today() - days_ago * DAY, **fields
    )
    PlacementCostFactory(placement=placement, weekly_amount=Decimal(amount))
    if contribution:
        ContributionFactory(placement=placement, weekly_amount=Decimal("50.00"),
                            funder_name="Demoshire ICB")
    return placement


def make_change(name: str, *, by, placement: Placement):
    """One valid call of each service, dated today (needs running_placement(contribution=True)
    for contribution_end)."""
    day = today()
    if name == "cost_change":
        return services.placement_cost_change(
            by=by, placement=placement, effective_from=day, weekly_amount=Decimal("860.00"),
            reason=PlacementCost.Reason.UPLIFT,
        )
    if name == "retainer":
        return services.retainer_record(
            by=by, placement=placement, effective_from=day, effective_to=day + 14 * DAY,
            weekly_amount=Decimal("400.00"), court_order_reference="LS24C00123",
        )
    if name == "contribution_add":
        return services.contribution_add(
            by=by, placement=placement, funder=Contribution.Funder.EDUCATION, funder_name="",
            percentage=Decimal("10"), start_date=day,
        )
    if name == "contribution_end":
        return services.contribution_end(
            by=by, contribution=placement.contributions.order_by("pk").first(), end_date=day
        )
    if name == "placement_end":
        return services.placement_end(by=by, placement=placement, end_date=day, reason="CARPL")
    if name == "child_move":
        return services.child_move(
            by=by, placement=placement, end_date=day, reason="CARPL", service=ServiceFactory(),
            placement_type="K2", weekly_amount=Decimal("3300.00"), on_framework=False,
        )
    raise ValueError(name)


def snapshot() -> tuple:
    """Everything a change may write, to show that a refused change wrote nothing."""
    return (
        list(Placement.objects.order_by("pk").values_list("pk", "end_date", "reason_for_change")),
        list(PlacementCost.objects.order_by("pk").values_list(
            "pk", "placement_id", "effective_from", "effective_to", "weekly_amount", "reason"
        )),
        list(Contribution.objects.order_by("pk").values_list(
            "pk", "placement_id", "start_date", "end_date", "weekly_amount", "percentage"
        )),
    )
