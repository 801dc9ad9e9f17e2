"""Build the demo county, in dependency order. Call inside one transaction.

Idempotent by construction: reference data is keyed on natural identifiers, and a child's
casework (placements, referrals and everything hanging off them) is only created while the
child has none, so a second run finds everything in place and adds nothing.
"""

import datetime

from demo import pricing
from demo.budgets import seed_budgets
from demo.children import seed_children
from demo.clock import DemoCalendar
from demo.frameworks import seed_framework
from demo.geography import seed_geography
from demo.histories import Pin, align_distances, plan_history, seed_placements
from demo.market import Market, seed_market
from demo.panels import seed_panel_business, seed_panels
from demo.people import seed_people
from demo.referrals import seed_referrals
from demo.sourcing import OFFER_FOR_TYPE, seed_sourcing
from demo.stories import ReferralPlan, plan_story
from placements.models import Child, Placement, Referral, ReferralStatus
from placements.reference import ReasonPlaceChange

MIN_CHILDREN = 30
STABILITY_SHARE = 20  # one child in twenty has moved three or more times this year
LEFT_CARE_SHARE = 50  # one in fifty has gone home and has no open placement


def seed_demo(*, children: int, today) -> None:
    if children < MIN_CHILDREN:
        raise ValueError(f"The demo needs at least {MIN_CHILDREN} children.")
    calendar = DemoCalendar(today=today)
    cast = seed_people()
    market = seed_market(calendar=calendar)
    seed_geography(market)
    seed_framework(market=market, calendar=calendar)
    panels = seed_panels(cast=cast)
    county = seed_children(count=children, calendar=calendar, cast=cast)
    plans = plan_story(children=county, calendar=calendar)
    fresh = children_without_casework(county)
    fresh_plans = [plan for plan in plans if plan.child.pk in fresh]
    seed_referrals(plans=fresh_plans, cast=cast)
    accepted = seed_sourcing(plans=fresh_plans, cast=cast, market=market)
    histories = plan_histories(
        county=county, fresh=fresh, plans=plans, accepted=accepted, calendar=calendar,
        market=market,
    )
    seed_placements(histories=histories, cast=cast, calendar=calendar)
    align_distances(children=county, market=market)
    seed_panel_business(plans=fresh_plans, panels=panels, cast=cast, calendar=calendar)
    seed_budgets(calendar=calendar)


def children_without_casework(children: list[Child]) -> set[int]:
    ids = {child.pk for child in children}
    busy = set(Placement.objects.filter(child_id__in=ids).values_list("child_id", flat=True))
    busy |= set(Referral.objects.filter(child_id__in=ids).values_list("child_id", flat=True))
    return ids - busy


def plan_histories(*, county, fresh, plans, accepted, calendar, market) -> list:
    story_children = {plan.child.pk: plan for plan in plans}
    quiet = [c for c in county if c.pk not in story_children and c.age_on(calendar.today) >= 2]
    stability = set(evenly(quiet, count=len(county) // STABILITY_SHARE))
    settled = [c for c in quiet if c.pk not in stability]
    left_care = set(evenly(settled, count=len(county) // LEFT_CARE_SHARE))
    histories = []
    for child in county:
        if child.pk not in fresh:
            continue
        plan = story_children.get(child.pk)
        histories.append(plan_history(
            child=child, calendar=calendar, market=market,
            pin=pin_for(plan=plan, accepted=accepted, market=market),
            settled_before=settled_before(plan),
            stability=child.pk in stability,
            left_care=child.pk in left_care,
        ))
    return histories


def evenly(children: list[Child], *, count: int) -> list[int]:
    """`count` child ids spread evenly through the list."""
    if not children or count <= 0:
        return []
    return [children[(2 * k + 1) * len(children) // (2 * count)].pk for k in range(count)]


def settled_before(plan: ReferralPlan | None):
    """A child being referred had been living in their current placement for a while."""
    if plan is None or plan.status == ReferralStatus.PLACED:
        return None
    return plan.drafted_on - datetime.timedelta(days=30)


def pin_for(*, plan: ReferralPlan | None, accepted: dict, market: Market) -> Pin | None:
    """The current placement a placed referral led to."""
    if plan is None or plan.status != ReferralStatus.PLACED:
        return None
    start = plan.change_to(ReferralStatus.PLACED).at.date()
    # An emergency follows a breakdown; a planned move implements the care plan.
    reason = ReasonPlaceChange.CREQB if plan.scenario.emergency else ReasonPlaceChange.CARPL
    offer = accepted.get(plan.number)
    if offer is not None:
        return Pin(start=start, offer=OFFER_FOR_TYPE[plan.placement_type_sought],
                   service=offer.service, placement_type=plan.placement_type_sought,
                   referral=plan.referral, previous_end_reason=reason, weekly=offer.weekly,
                   on_framework=offer.on_framework, quote=offer.quote,
                   planned_end=offer.planned_end)
    return Pin(start=start, offer=pricing.IN_HOUSE_FOSTERING,
               service=market.services[pricing.IN_HOUSE_FOSTERING][0],
               placement_type=plan.placement_type_sought, referral=plan.referral,
               previous_end_reason=reason)
