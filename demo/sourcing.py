"""Sourcing for the external referrals: the anonymised requests sent to providers, who was
invited, the quotes that came back and how they were negotiated."""

import dataclasses
import datetime
import random
from decimal import Decimal

from demo import pricing
from demo.histories import planned_end
from demo.market import Market
from demo.people import Cast
from demo.stories import ReferralPlan
from placements.models import ReferralSourcingRequest, ReferralStatus
from providers import matching
from providers.geo import miles_between
from providers.models import (
    NegotiationStep,
    Quote,
    Service,
    SourcingInvitation,
    SourcingRequest,
)
from providers.reference import Need, financial_year_start

S = ReferralStatus
OFFER_FOR_TYPE = {"U4": pricing.IFA, "U5": pricing.IFA, "U6": pricing.IFA,
                  "K2": pricing.EXTERNAL_HOME, "K3": pricing.SUPPORTED, "K1": pricing.SECURE}
# How many providers answer, by how far the search has got.
RESPONSES = {S.SOURCING: 2, S.OPTIONS_READY: 4, S.PROVIDER_CHOSEN: 4, S.PLACED: 4}
INCLUSIONS = {
    pricing.IFA: "Supervising social worker, 24-hour support line, carer training, respite "
                 "up to 14 nights a year.",
    pricing.EXTERNAL_HOME: "Education on site, 2:1 staffing in the day, waking night staff, "
                           "weekly therapy.",
    pricing.SUPPORTED: "Own room with shared kitchen, 10 hours key-work a week, tenancy "
                       "training.",
    pricing.SECURE: "Education, health and therapeutic services on site.",
}
# The social worker's reason, where the status history gives none (emergencies).
EMERGENCY_CHOICE = "The only offer able to take the child tonight; the carers know the area."
PROVIDER_DECLINES = (
    "No vacancy for the child's age group.",
    "Cannot manage the risks described alongside current residents.",
    "No carers available within the distance asked for.",
)


@dataclasses.dataclass
class AcceptedOffer:
    service: Service
    quote: Quote
    weekly: Decimal
    on_framework: bool
    planned_end: datetime.date | None


@dataclasses.dataclass
class Timestamps:
    """recorded_at and created_at are set on insert; the story's times are put back after."""

    quotes: list = dataclasses.field(default_factory=list)
    steps: list = dataclasses.field(default_factory=list)


def seed_sourcing(*, plans: list[ReferralPlan], cast: Cast, market: Market) -> dict:
    """Sourcing requests for external referrals that reached sourcing; returns the accepted
    offers of the placed ones, by plan number."""
    rng = random.Random("demoshire:sourcing")  # nosec B311 # seeded: the demo county must be the same every run; not security
    counters: dict[int, int] = {}
    stamps = Timestamps()
    accepted = {}
    for plan in plans:
        if plan.external and plan.change_to(S.SOURCING) is not None:
            offer = seed_request(plan=plan, rng=rng, cast=cast, market=market,
                                 counters=counters, stamps=stamps)
            if offer is not None:
                accepted[plan.number] = offer
    Quote.objects.bulk_update(stamps.quotes, ["recorded_at"])
    NegotiationStep.objects.bulk_update(stamps.steps, ["recorded_at"])
    return accepted


def first_change(plan: ReferralPlan, status: str):
    return next(c for c in plan.changes if c.to_status == status)


def next_reference(*, year: int, counters: dict[int, int]) -> str:
    if year not in counters:
        counters[year] = SourcingRequest.objects.filter(reference__startswith=f"SR-{year}-").count()
    counters[year] += 1
    return f"SR-{year}-{counters[year]:04d}"


def seed_request(*, plan, rng, cast, market, counters, stamps) -> AcceptedOffer | None:
    sent_at = first_change(plan, S.SOURCING).at
    placed = plan.change_to(S.PLACED)
    child = plan.child
    hours = 4 if plan.scenario.emergency else 48
    deadline = datetime.timedelta(hours=hours)
    request = SourcingRequest.objects.create(
        reference=next_reference(year=sent_at.year, counters=counters),
        status=SourcingRequest.Status.CLOSED if placed else SourcingRequest.Status.SENT,
        placement_type=plan.placement_type_sought,
        age_years=child.age_on(sent_at.date()),
        sex=child.sex,
        needs=[Need.EMOTIONAL_BEHAVIOURAL] + ([Need.MENTAL_HEALTH] if rng.random() < 0.4 else []),
        risks=list(plan.referral.risks.values_list("risk", flat=True)),
        needs_summary=plan.referral.needs_summary,
        area=child.home_postcode.split()[0],
        max_distance_miles=20 if plan.must_be_within_20_miles else None,
        urgency=plan.urgency,
        wanted_start_date=plan.wanted_start_date,
        # The care plan's end, where it has one: 18 for long-term fostering and supported
        # accommodation, some months for short-term fostering; none for a children's home.
        planned_end_date=planned_end(rng, child=child, placement_type=plan.placement_type_sought,
                                     start=plan.wanted_start_date),
        response_deadline=sent_at + deadline,
        created_by=cast.users["commissioner"],
        sent_at=sent_at,
        closed_at=placed.at if placed else None,
    )
    invited = invite(request=request, plan=plan, rng=rng, market=market)
    quotes = record_quotes(request=request, plan=plan, invited=invited, rng=rng, cast=cast,
                           market=market, stamps=stamps)
    offer = settle(request=request, plan=plan, quotes=quotes, rng=rng, cast=cast, stamps=stamps)
    ReferralSourcingRequest.objects.create(
        referral=plan.referral, sourcing_request=request, **choice(plan=plan, quotes=quotes)
    )
    SourcingRequest.objects.filter(pk=request.pk).update(
        created_at=sent_at - datetime.timedelta(minutes=30),
        outcome_note=outcome_note(plan=plan, offer=offer, quotes=quotes) if placed else "",
    )
    return offer


def choice(*, plan: ReferralPlan, quotes: list[Quote]) -> dict:
    """The social worker's choice of offer, once the referral has got that far."""
    chosen = plan.change_to(S.PROVIDER_CHOSEN)
    if chosen is None:
        return {}
    return {
        "chosen_quote": quotes[0],
        "chosen_by": plan.child.social_worker,
        "chosen_at": chosen.at,
        "choice_reason": chosen.reason or EMERGENCY_CHOICE,
    }


def outcome_note(*, plan: ReferralPlan, offer: AcceptedOffer, quotes: list[Quote]) -> str:
    start = plan.change_to(S.PLACED).at.date()
    others = len(quotes) - 1
    return (
        f"Placed with {offer.service.name} from {start.day} {start:%B %Y} at "
        f"£{offer.weekly:,} a week. {others} other response{'s' if others != 1 else ''} "
        "thanked and closed."
    )


def within_reach(*, request: SourcingRequest, service: Service, market: Market) -> bool:
    if request.max_distance_miles is None:
        return True
    miles = miles_between(*market.centres[request.area], service.latitude, service.longitude)
    return miles <= request.max_distance_miles


def invite(*, request, plan, rng, market) -> list[SourcingInvitation]:
    offer = OFFER_FOR_TYPE[request.placement_type]
    fitting = [s for s in market.services[offer]
               if market.can_take(s, age=request.age_years, risks=request.risks)]
    fitting = fitting or list(market.services[offer])
    fitting = rng.sample(fitting, k=len(fitting))
    # Those within the distance asked for first; further ones only when too few are near.
    fitting.sort(key=lambda s: not within_reach(request=request, service=s, market=market))
    # Framework providers first, as the framework requires; then a couple of spot providers.
    framework = [s for s in fitting if market.is_on_framework(s, request.placement_type)][:4]
    spot = [s for s in fitting if s not in framework][:2]
    closed = request.status == SourcingRequest.Status.CLOSED
    invitations = [
        SourcingInvitation(
            sourcing_request=request,
            service=service,
            on_framework=service in framework,
            off_framework_reason="" if service in framework else
            "Framework providers could not offer within the distance asked for.",
            match_reasons=[f"Registered for {request.placement_type}",
                           f"Takes ages {service.min_age}–{service.max_age}"],
            sent_at=request.sent_at,
            status=SourcingInvitation.Status.NO_RESPONSE if closed else
            SourcingInvitation.Status.SENT,
        )
        for service in framework + spot
    ]
    responders = invitations[: RESPONSES[plan.status]]
    for invitation in responders:
        invitation.status = SourcingInvitation.Status.RESPONDED
        invitation.outcome_notified_at = request.closed_at
    for invitation in invitations[len(responders):]:
        if not closed:
            invitation.chased_at = request.sent_at + datetime.timedelta(days=1)
    SourcingInvitation.objects.bulk_create(invitations)
    return responders


def quoted_price(*, rng, service, request, market) -> Decimal:
    offer = OFFER_FOR_TYPE[request.placement_type]
    price = pricing.weekly_price(rng, kind=offer)
    year = financial_year_start(request.sent_at.date())
    ceiling = market.ceiling(service, request.placement_type, year)
    if ceiling is None:
        return pricing.scaled(price, percent=rng.randint(6, 15))  # spot prices run higher
    if rng.random() < 0.2:
        return pricing.scaled(ceiling, percent=3)  # over the ceiling: the quote gets flagged
    return min(price, ceiling - rng.randint(5, 60))


def record_quotes(*, request, plan, invited, rng, cast, market, stamps) -> list[Quote]:
    """What each responding provider said; the last of three or more declined to offer."""
    quotes = []
    for n, invitation in enumerate(invited):
        declines = n == len(invited) - 1 and len(invited) >= 3
        quotes.append(Quote(
            sourcing_request=request,
            service=invitation.service,
            status=Quote.Status.PROVIDER_DECLINED if declines else Quote.Status.OFFERED,
            quoted_weekly_price=None if declines else quoted_price(
                rng=rng, service=invitation.service, request=request, market=market),
            decline_reason=rng.choice(PROVIDER_DECLINES) if declines else "",
            inclusions="" if declines else INCLUSIONS[OFFER_FOR_TYPE[request.placement_type]],
            available_from=plan.wanted_start_date,
            on_framework=invitation.on_framework,
            expected_weeks=matching.expected_weeks(
                start=request.wanted_start_date, planned_end=request.planned_end_date
            ),
            recorded_by=cast.users["commissioner"],
        ))
    Quote.objects.bulk_create(quotes)
    for n, made in enumerate(quotes):
        made.recorded_at = request.sent_at + datetime.timedelta(hours=2 + 3 * n)
        stamps.quotes.append(made)
    return quotes


def settle(*, request, plan, quotes, rng, cast, stamps) -> AcceptedOffer | None:
    """How far the first offer got: challenged, negotiated, or accepted for a placed child."""
    commissioner = cast.users["commissioner"]
    status = plan.status
    chosen = quotes[0]
    if status == S.SOURCING:
        return None
    options_at = plan.change_to(S.OPTIONS_READY).at
    if status == S.OPTIONS_READY:
        negotiate(quote=chosen, at=options_at, rounds=1, by=commissioner, stamps=stamps)
        return None
    if status == S.PROVIDER_CHOSEN:
        negotiate(quote=chosen, at=options_at, rounds=2, by=commissioner, stamps=stamps)
        return None
    return accept(quote=chosen, others=quotes[1:], request=request, plan=plan, rng=rng,
                  at=options_at, by=commissioner, stamps=stamps)


def negotiate(*, quote: Quote, at, rounds: int, by, stamps, agree=False) -> Decimal:
    """Challenge the quote: our counter-offer, the provider's revision, then agreement."""
    counter = pricing.scaled(quote.quoted_weekly_price, percent=-8)
    revised = pricing.scaled(quote.quoted_weekly_price, percent=-4)
    challenge = "Challenged against the framework ceiling and recent prices for similar placements."
    rounds_made = [
        (NegotiationStep.Kind.COUNTER_OFFER, counter, challenge),
        (NegotiationStep.Kind.PROVIDER_REVISION, revised, "Provider revised its price."),
    ][:rounds]
    if agree:
        rounds_made.append((NegotiationStep.Kind.AGREED, revised, "Price agreed."))
    steps = NegotiationStep.objects.bulk_create(
        [NegotiationStep(quote=quote, kind=kind, weekly_price=price, note=note, recorded_by=by)
         for kind, price, note in rounds_made]
    )
    for n, step in enumerate(steps):
        step.recorded_at = at + datetime.timedelta(hours=1 + n)
        stamps.steps.append(step)
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.NEGOTIATING)
    return revised


def accept(*, quote, others, request, plan, rng, at, by, stamps) -> AcceptedOffer:
    negotiated = not plan.scenario.emergency and rng.random() < 0.7
    if negotiated:
        agreed = negotiate(quote=quote, at=at, rounds=2, by=by, stamps=stamps, agree=True)
        agreed_at = stamps.steps[-1].recorded_at
    else:
        # Taken at the price offered: always for an emergency bed, when there is no time
        # to haggle, and now and then when the offer is already keen.
        agreed, agreed_at = quote.quoted_weekly_price, at
    quote.status = Quote.Status.ACCEPTED
    quote.agreed_weekly_price = agreed
    quote.negotiated_saving = saving(quote)
    quote.agreed_by = by
    quote.agreed_at = agreed_at
    quote.save(update_fields=["status", "agreed_weekly_price", "negotiated_saving", "agreed_by",
                              "agreed_at"])
    for other in others:
        if other.status == Quote.Status.OFFERED:
            other.status = Quote.Status.DECLINED
    Quote.objects.bulk_update(others, ["status"])
    return AcceptedOffer(service=quote.service, quote=quote, weekly=agreed,
                         on_framework=quote.on_framework, planned_end=request.planned_end_date)


def saving(quote: Quote) -> Decimal:
    """(Quoted − agreed weekly price) × expected weeks, in pence."""
    return pricing.money(
        (quote.quoted_weekly_price - quote.agreed_weekly_price) * quote.expected_weeks
    )
