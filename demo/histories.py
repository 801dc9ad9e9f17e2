"""Each child's placement history: where they have lived, at what weekly cost, who shares
the cost, and why each placement ended.

Histories are planned backwards from the current placement, one generator per child, so
they never overlap: each placement ends on the day the next one starts.
"""

import dataclasses
import datetime
import itertools
import random
from decimal import Decimal

from demo import pricing
from demo.clock import DemoCalendar, add_years, at
from demo.geography import is_out_of_authority, miles_from_home
from demo.market import Market, weighted
from placements.models import Child, Contribution, Placement, PlacementCost, Referral
from placements.reference import ReasonPlaceChange
from providers.models import Quote, Service
from providers.reference import financial_year_start

R = ReasonPlaceChange
END_REASONS = {R.CARPL: 40, R.CREQB: 15, R.CREQO: 10, R.CHILD: 8, R.LAREQ: 8, R.STAND: 5,
               R.CLOSE: 4, R.ALLEG: 3, R.OTHER: 7}
TYPE_FOR_OFFER = {pricing.IN_HOUSE_HOME: "K2", pricing.EXTERNAL_HOME: "K2",
                  pricing.SECURE: "K1", pricing.SUPPORTED: "K3"}
HISTORY_YEARS = 6
WINDOW = datetime.timedelta(days=365)


@dataclasses.dataclass
class Pin:
    """The current placement a referral's story fixes: it began the day the child was placed."""

    start: datetime.date
    offer: str
    service: Service
    placement_type: str
    referral: Referral
    previous_end_reason: str
    weekly: Decimal | None = None
    on_framework: bool = False
    quote: Quote | None = None
    planned_end: datetime.date | None = None  # the sourcing request's, when bought in


@dataclasses.dataclass
class Planned:
    offer: str
    start: datetime.date
    end: datetime.date | None = None
    reason: str = ""
    pin: Pin | None = None


def offer_for_age(rng: random.Random, *, age: int) -> str:
    """Where a child of this age lives: roughly the national mix for children in care."""
    if age >= 16:
        weights = {pricing.IN_HOUSE_FOSTERING: 22, pricing.IFA: 15, pricing.EXTERNAL_HOME: 20,
                   pricing.IN_HOUSE_HOME: 5, pricing.SUPPORTED: 35, pricing.SECURE: 1}
    elif age >= 12:
        weights = {pricing.IN_HOUSE_FOSTERING: 33, pricing.IFA: 27, pricing.EXTERNAL_HOME: 29,
                   pricing.IN_HOUSE_HOME: 8, pricing.SECURE: 1}
    elif age >= 9:
        weights = {pricing.IN_HOUSE_FOSTERING: 55, pricing.IFA: 35, pricing.EXTERNAL_HOME: 8,
                   pricing.IN_HOUSE_HOME: 2}
    else:
        weights = {pricing.IN_HOUSE_FOSTERING: 62, pricing.IFA: 38}
    return weighted(rng, weights)


def plan_dates(*, rng, child, calendar, pin, settled_before, stability) -> list[Planned]:
    earliest = max(child.date_of_birth + datetime.timedelta(days=2),
                   add_years(calendar.today, -HISTORY_YEARS))
    if stability:
        # Three or four moves inside the last year: the stability measure managers watch.
        first = max(earliest, calendar.days_ago(rng.randint(250, 350)))
        span = (calendar.days_ago(7) - first).days
        offsets = sorted(rng.sample(range(14, span, 7), k=rng.choice((2, 2, 3))))
        starts = [first] + [first + datetime.timedelta(days=o) for o in offsets]
    elif pin is not None:
        starts = [pin.start]
    else:
        latest = calendar.days_ago(14)
        if settled_before is not None:
            latest = min(latest, settled_before)
        low = max(earliest, calendar.days_ago(1500))
        sixteen = add_years(child.date_of_birth, 16)
        if child.age_on(calendar.today) >= 16 and sixteen < latest and rng.random() < 0.45:
            # Many young people move on at 16, often to supported accommodation.
            low = max(low, sixteen)
        starts = [low + datetime.timedelta(days=rng.randint(0, max((latest - low).days, 0)))]
    previous = rng.choices((0, 1, 2), weights=(55, 33, 12))[0]
    if pin is not None:
        previous = max(previous, 1)
    for _n in range(previous):
        start = starts[0] - datetime.timedelta(days=rng.randint(90, 700))
        if start < earliest:
            break
        starts.insert(0, start)
    planned = [Planned(offer="", start=start) for start in starts]
    for placement, following in itertools.pairwise(planned):
        placement.end = following.start
        placement.reason = weighted(rng, END_REASONS)
    if pin is not None:
        planned[-1].pin = pin
        if len(planned) > 1:
            planned[-2].reason = pin.previous_end_reason
    if not stability:
        planned = keep_stable(planned=planned, today=calendar.today)
    return planned


def keep_stable(*, planned: list[Planned], today: datetime.date) -> list[Planned]:
    """Drop the oldest placements until at most two fall in the last 12 months, so that
    only the children meant to show instability do."""
    def in_window(p):
        return p.end is None or p.end > today - WINDOW
    while sum(1 for p in planned if in_window(p)) >= 3:
        planned = planned[1:]
    return planned


def plan_history(*, child, calendar, market, pin=None, settled_before=None, stability=False,
                 left_care=False) -> list[Placement]:
    """Unsaved placements, oldest first, each carrying its cost rows and contributions on
    `demo_costs` and `demo_contributions`."""
    rng = random.Random(f"demoshire:placements:{child.local_child_id}")  # nosec B311 # seeded: the demo county must be the same every run; not security
    planned = plan_dates(rng=rng, child=child, calendar=calendar, pin=pin,
                         settled_before=settled_before, stability=stability)
    last = planned[-1]
    if left_care and last.pin is None and (calendar.days_ago(7) - last.start).days > 60:
        # The child went home under the care plan: no placement is open any more.
        last.end = last.start + datetime.timedelta(
            days=rng.randint(30, (calendar.days_ago(7) - last.start).days))
        last.reason = R.CARPL
    return [build_placement(rng=rng, child=child, planned=p, calendar=calendar, market=market)
            for p in planned]


def build_placement(*, rng, child, planned: Planned, calendar, market) -> Placement:
    pin = planned.pin
    age = child.age_on(planned.start)
    offer = pin.offer if pin else offer_for_age(rng, age=age)
    service = pin.service if pin else market.pick_service(rng, offer=offer, age=age)
    placement_type = pin.placement_type if pin else type_for(rng, offer=offer)
    solo = offer == pricing.EXTERNAL_HOME and rng.random() < 0.07
    on_framework = pin.on_framework if pin else (
        market.is_on_framework(service, placement_type) and not solo)
    weekly = pin.weekly if pin and pin.weekly else initial_price(
        rng, offer=offer, placement_type=placement_type, solo=solo, service=service,
        on_framework=on_framework, start=planned.start, calendar=calendar, market=market)
    placement = Placement(
        child=child, referral=pin.referral if pin else None, quote=pin.quote if pin else None,
        service=service, placement_type=placement_type,
        place_provider=service.provider.place_provider, on_framework=on_framework,
        start_date=planned.start, end_date=planned.end, reason_for_change=planned.reason,
        planned_end_date=pinned_end(pin) if pin and pin.quote else planned_end(
            rng, child=child, placement_type=placement_type, start=planned.start),
        distance_from_home_miles=miles_from_home(child.home_postcode, service, market.centres),
        out_of_authority=is_out_of_authority(service),
    )
    placement.demo_offer = offer
    placement.demo_costs = cost_rows(rng, placement=placement, weekly=weekly, solo=solo,
                                     calendar=calendar)
    placement.demo_contributions = contributions(rng, placement=placement, offer=offer)
    return placement


def type_for(rng: random.Random, *, offer: str) -> str:
    if offer == pricing.IN_HOUSE_FOSTERING:
        return weighted(rng, {"U4": 45, "U6": 35, "U1": 10, "U3": 10})
    if offer == pricing.IFA:
        return weighted(rng, {"U4": 55, "U6": 45})
    return TYPE_FOR_OFFER[offer]


def initial_price(rng, *, offer, placement_type, solo, service, on_framework, start, calendar,
                  market) -> Decimal:
    if offer == pricing.IN_HOUSE_FOSTERING and placement_type in ("U1", "U3"):
        return pricing.weekly_price(rng, kind="kinship")
    if solo:
        return pricing.weekly_price(rng, kind="external_home_solo")
    price = pricing.weekly_price(rng, kind=offer)
    if offer not in pricing.EXTERNAL_OFFERS:
        return price
    if not on_framework:
        return pricing.scaled(price, percent=rng.randint(4, 12))  # spot purchases cost more
    year = max(financial_year_start(start), calendar.previous_year)
    ceiling = market.ceiling(service, placement_type, min(year, calendar.current_year))
    return min(price, ceiling - rng.randint(5, 40)) if ceiling else price


def cost_rows(rng, *, placement: Placement, weekly: Decimal, solo: bool, calendar):
    """(effective_from, weekly amount, reason, note) for each rate the placement had."""
    start, end = placement.start_date, placement.end_date
    rows = [(start, weekly, PlacementCost.Reason.INITIAL, "")]
    renegotiated_on = calendar.previous_start + datetime.timedelta(days=rng.randint(120, 200))
    if solo and start + datetime.timedelta(days=28) < renegotiated_on and (
            end is None or end > renegotiated_on):
        weekly = pricing.scaled(weekly, percent=-6)
        rows.append((renegotiated_on, weekly, PlacementCost.Reason.RENEGOTIATION,
                     "Reduced after the high-cost placement review."))
    external = placement.demo_offer in pricing.EXTERNAL_OFFERS
    uplift_day = calendar.current_start
    if start < uplift_day and (end is None or end > uplift_day) and rng.random() < (
            0.75 if external else 0.6):
        rows.append((uplift_day, pricing.uplifted(weekly, rng=rng), PlacementCost.Reason.UPLIFT,
                     "Annual uplift from 1 April."))
    return rows


def contributions(rng, *, placement: Placement, offer: str) -> list[dict]:
    chance = {pricing.EXTERNAL_HOME: 0.22, pricing.SECURE: 0.5, pricing.IFA: 0.03}.get(offer, 0)
    if rng.random() >= chance:
        return []
    shared = {"start_date": placement.start_date, "end_date": placement.end_date}
    if rng.random() < 0.6:
        return [dict(shared, funder=Contribution.Funder.HEALTH,
                     funder_name="Demoshire Integrated Care Board",
                     percentage=rng.choice((Decimal("25.00"), Decimal("33.33"),
                                            Decimal("50.00"))))]
    return [dict(shared, funder=Contribution.Funder.EDUCATION,
                 funder_name="Demoshire SEND service",
                 weekly_amount=Decimal(rng.randint(35, 90) * 10).quantize(pricing.PENNY))]


def pinned_end(pin: Pin) -> datetime.date | None:
    """A bought placement keeps the planned end its sourcing request was sent with."""
    return None if pin.planned_end is None else max(pin.start, pin.planned_end)


def planned_end(rng, *, child: Child, placement_type: str, start: datetime.date):
    if placement_type in ("U4", "K3"):
        return max(start, add_years(child.date_of_birth, 18) - datetime.timedelta(days=1))
    if placement_type == "U6":
        return start + datetime.timedelta(days=rng.randint(84, 270))
    return None


def seed_placements(*, histories: list[list[Placement]], cast, calendar: DemoCalendar) -> None:
    placements = [p for history in histories for p in history]
    for placement in placements:
        external = placement.demo_offer in pricing.EXTERNAL_OFFERS
        placement.created_by = cast.users["commissioner"] if external else (
            placement.child.social_worker)
    Placement.objects.bulk_create(placements)
    costs = [cost for p in placements for cost in cost_objects(placement=p, cast=cast)]
    PlacementCost.objects.bulk_create(costs)
    for cost in costs:
        cost.created_at = at(min(cost.effective_from, calendar.today) - datetime.timedelta(days=1),
                             15)
    Contribution.objects.bulk_create(
        [Contribution(placement=p, **fields) for p in placements for fields in p.demo_contributions]
    )
    # The rows were made when each placement began, not when the demo was seeded.
    for placement in placements:
        placement.created_at = at(placement.start_date - datetime.timedelta(days=1), 16)
    Placement.objects.bulk_update(placements, ["created_at"])
    PlacementCost.objects.bulk_update(costs, ["created_at"])


def cost_objects(*, placement: Placement, cast) -> list[PlacementCost]:
    rows = placement.demo_costs
    ends = [row[0] for row in rows[1:]] + [placement.end_date]
    costs = []
    for (effective_from, weekly, reason, note), effective_to in zip(rows, ends, strict=True):
        costs.append(PlacementCost(
            placement=placement, effective_from=effective_from, effective_to=effective_to,
            weekly_amount=weekly, reason=reason, note=note, created_by=cast.users["finance"],
        ))
    return costs


def align_distances(*, children: list[Child], market: Market) -> None:
    """Bring the children's placements into line with the map: miles from the centre of the
    child's home district to the service, and outside the county when the service is.
    New placements already agree; this corrects those seeded before services had places."""
    homes = {child.pk: child.home_postcode for child in children}
    placements = Placement.objects.filter(child_id__in=homes).select_related("service")
    changed = []
    for placement in placements:
        if placement.service.latitude is None:
            continue  # not a demo service: nothing to measure from
        distance = miles_from_home(homes[placement.child_id], placement.service, market.centres)
        outside = is_out_of_authority(placement.service)
        if (placement.distance_from_home_miles, placement.out_of_authority) != (distance, outside):
            placement.distance_from_home_miles, placement.out_of_authority = distance, outside
            changed.append(placement)
    Placement.objects.bulk_update(changed, ["distance_from_home_miles", "out_of_authority"])
