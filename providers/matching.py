"""Which services fit a sourcing request, what the framework allows them to charge, and how
their offers compare. Reads only: the sourcing services and pages share them.

A service is a candidate when it is active, offers the placement type sought, takes the
child's age, excludes none of the child's risks, has a vacancy and, when the request sets
a distance, lies within it. Framework services (a framework ceiling covers the provider,
type and year) come first. Every rule a service fails is named, so the commissioner can
see why a home is missing from the shortlist.
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear, TruncDate

from providers import geo
from providers.models import (
    FrameworkMembership,
    FrameworkRate,
    PostcodeDistrict,
    ProviderDiscount,
    Quote,
    Service,
    ServicePlacementType,
    ServiceRiskExclusion,
    SourcingRequest,
)
from providers.reference import OfstedRating, ProviderKind, Risk, financial_year_start

PENCE = Decimal("0.01")
TENTH = Decimal("0.1")
BELOW_GOOD = frozenset({OfstedRating.REQUIRES_IMPROVEMENT, OfstedRating.INADEQUATE})
YEAR_OF_WEEKS = 52
VIABLE_QUOTE_STATUSES = frozenset({Quote.Status.OFFERED, Quote.Status.NEGOTIATING})


# --- Framework ceilings ----------------------------------------------------------------


def _membership_covers(day: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}start_date__lte": day}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": day})
    )


def ceiling_for_provider(*, provider_ref: str, placement_type: str, day: datetime.date):
    """A subquery: the framework ceiling weekly price for the provider at `provider_ref`,
    for `placement_type` in the financial year holding `day`. A provider's own rate wins
    over its lot's; where several frameworks apply, the lowest ceiling."""
    year = financial_year_start(day)
    rates = FrameworkRate.objects.filter(
        placement_type=placement_type,
        financial_year=year,
        framework__start_date__lte=day,
        framework__end_date__gte=day,
    )
    member = FrameworkMembership.objects.filter(
        _membership_covers(day), provider=OuterRef(OuterRef(provider_ref)),
        framework=OuterRef("framework"),
    )
    own = rates.filter(provider=OuterRef(provider_ref)).filter(Exists(member))
    lot_member = FrameworkMembership.objects.filter(
        _membership_covers(day), provider=OuterRef(OuterRef(provider_ref)), lot=OuterRef("lot")
    )
    by_lot = rates.filter(lot__isnull=False).filter(Exists(lot_member))
    first = ("ceiling_weekly_price",)
    return Coalesce(
        Subquery(own.order_by(*first).values("ceiling_weekly_price")[:1]),
        Subquery(by_lot.order_by(*first).values("ceiling_weekly_price")[:1]),
    )


def best_discount_for_provider(*, provider_ref: str, day):
    """A subquery: the highest discount percentage the provider offers on `day` (a date,
    or an expression of the outer row giving one, such as the quote's start)."""
    valid = ProviderDiscount.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        provider=OuterRef(provider_ref),
        valid_from__lte=day,
    )
    return Subquery(valid.order_by("-percentage").values("percentage")[:1])


def discount_for(*, provider, day: datetime.date) -> ProviderDiscount | None:
    return (
        ProviderDiscount.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day), provider=provider, valid_from__lte=day
        )
        .order_by("-percentage", "pk")
        .first()
    )


# --- The shortlist ---------------------------------------------------------------------


@dataclasses.dataclass
class Candidate:
    service: Service
    on_framework: bool
    ceiling: Decimal | None
    distance_miles: Decimal | None
    reasons: list[str]  # why it matched
    failures: list[str]  # which rules it fails (empty for a match)

    @property
    def matches(self) -> bool:
        return not self.failures

    @property
    def in_house(self) -> bool:
        """The council's own provision: considered first, and needs no off-framework
        reason (it is not bought)."""
        return self.service.provider.kind == ProviderKind.IN_HOUSE


@dataclasses.dataclass
class Shortlist:
    candidates: list[Candidate]  # every rule met, framework first, then nearest
    excluded: list[Candidate]  # offers the type but fails a rule

    def proposed(self) -> list[Candidate]:
        """The services the request goes to unless the officer changes it: the first
        framework matches (nearest first), SOURCING_SHORTLIST_SIZE of them. Sending to a
        few homes that can take the child, not to everyone, is the point."""
        first = [c for c in self.candidates if c.in_house or c.on_framework]
        return first[: settings.SOURCING_SHORTLIST_SIZE]

    def by_service(self) -> dict[int, Candidate]:
        return {c.service.pk: c for c in self.candidates + self.excluded}


def request_origin(request: SourcingRequest) -> PostcodeDistrict | None:
    return PostcodeDistrict.objects.filter(outward_code=geo.outward_code(request.area)).first()


def request_day(request: SourcingRequest) -> datetime.date:
    """The day the framework and discounts are judged on: the wanted start."""
    return request.wanted_start_date


def _services_for(request: SourcingRequest, origin: PostcodeDistrict | None) -> QuerySet:
    day = request_day(request)
    services = (
        Service.objects.filter(is_active=True, provider__is_active=True)
        .select_related("provider")
        .prefetch_related("needs_accepted")
        .annotate(
            ceiling=ceiling_for_provider(
                provider_ref="provider", placement_type=request.placement_type, day=day
            ),
            excluded_risk_hit=Exists(
                ServiceRiskExclusion.objects.filter(
                    service=OuterRef("pk"), risk__in=list(request.risks)
                )
            ),
        )
    )
    if origin is not None:
        services = services.annotate(distance=geo.distance_from(origin.latitude, origin.longitude))
    return services


def _evaluate(service: Service, request: SourcingRequest, *, has_origin: bool) -> Candidate:
    reasons, failures = [], []
    type_code = request.placement_type
    reasons.append(f"Offers {type_code}")
    if service.min_age <= request.age_years <= service.max_age:
        reasons.append(f"Takes ages {service.min_age}–{service.max_age}")
    else:
        failures.append(
            f"Takes ages {service.min_age}–{service.max_age}, not {request.age_years}"
        )
    if service.excluded_risk_hit:
        excluded = {e.risk for e in service.risks_excluded.all()} & set(request.risks)
        labels = ", ".join(sorted(Risk(r).label.lower() for r in excluded)) or "a risk"
        failures.append(f"Will not take {labels}")
    elif request.risks:
        reasons.append("Excludes none of the child's risks")
    if service.vacancies > 0:
        reasons.append(f"{service.vacancies} vacanc{'y' if service.vacancies == 1 else 'ies'}")
    else:
        failures.append("No vacancy")
    distance = geo.rounded_miles(getattr(service, "distance", None))
    if request.max_distance_miles is not None:
        if distance is None:
            failures.append(
                "Distance unknown" if has_origin else f"The area {request.area} is not known"
            )
        elif distance <= request.max_distance_miles:
            reasons.append(f"{distance} miles away, within {request.max_distance_miles}")
        else:
            failures.append(f"{distance} miles away, over {request.max_distance_miles}")
    elif distance is not None:
        reasons.append(f"{distance} miles away")
    accepted = {n.need for n in service.needs_accepted.all()} & set(request.needs)
    if accepted:
        reasons.append(f"Accepts {len(accepted)} of {len(request.needs)} needs listed")
    on_framework = service.ceiling is not None
    if on_framework:
        reasons.insert(0, f"On framework, ceiling £{service.ceiling:,.2f} a week")
    return Candidate(service, on_framework, service.ceiling, distance, reasons, failures)


def _order(candidate: Candidate):
    far = candidate.distance_miles if candidate.distance_miles is not None else Decimal(99999)
    return (not candidate.in_house, not candidate.on_framework, far,
            candidate.service.provider.name, candidate.service.name)


def shortlist(*, request: SourcingRequest) -> Shortlist:
    """Services offering the request's placement type, split into those meeting every rule
    (the proposed shortlist) and those that fail one, each with its reasons. Two queries
    (services with annotations, their needs) plus one for the origin district."""
    origin = request_origin(request)
    offering = ServicePlacementType.objects.filter(
        service=OuterRef("pk"), placement_type=request.placement_type
    )
    services = (
        _services_for(request, origin)
        .filter(Exists(offering))
        .prefetch_related("risks_excluded")
    )
    evaluated = [_evaluate(s, request, has_origin=origin is not None) for s in services]
    matched = sorted((c for c in evaluated if c.matches), key=_order)
    excluded = sorted((c for c in evaluated if not c.matches), key=_order)
    return Shortlist(matched, excluded)


def evaluate_services(*, request: SourcingRequest, service_ids) -> dict[int, Candidate]:
    """The same evaluation for chosen services, whatever types they offer (a commissioner
    may invite a service the shortlist left out)."""
    origin = request_origin(request)
    services = (
        _services_for(request, origin)
        .filter(pk__in=list(service_ids))
        .prefetch_related("risks_excluded", "placement_types")
    )
    result = {}
    for service in services:
        candidate = _evaluate(service, request, has_origin=origin is not None)
        offered = {t.placement_type for t in service.placement_types.all()}
        if request.placement_type not in offered:
            candidate.reasons.remove(f"Offers {request.placement_type}")
            candidate.failures.insert(0, f"Does not offer {request.placement_type}")
        result[service.pk] = candidate
    return result


# --- Quotes: flags, savings and the comparison -----------------------------------------


def expected_weeks(*, start: datetime.date, planned_end: datetime.date | None) -> int:
    """Weeks the saving is counted over: to the planned end (a part week counts as a
    week), at most a year, and a year when no end is planned. Savings are reported as a
    year's effect at most, as councils report them, so a long-term placement for a young
    child does not claim a decade of savings from one negotiation."""
    if planned_end is None or planned_end <= start:
        return YEAR_OF_WEEKS
    days = (planned_end - start).days
    return min(YEAR_OF_WEEKS, max(1, -(-days // 7)))


def negotiated_saving(*, quoted: Decimal, agreed: Decimal, weeks: int) -> Decimal:
    return ((quoted - agreed) * weeks).quantize(PENCE, rounding=ROUND_HALF_UP)


def quotes_with_context(*, request: SourcingRequest) -> QuerySet[Quote]:
    """The request's quotes with what the comparison and flags need, in one query:
    service and provider, framework ceiling, best discount and distance."""
    day = request_day(request)
    origin = request_origin(request)
    # A discount is judged on the day the offer could start, as accepting it judges it
    # (quote_accept), so that the flag promises only what confirming will apply.
    starts = Coalesce(OuterRef("available_from"), Value(day, output_field=DateField()))
    quotes = (
        request.quotes.select_related("service__provider", "discount")
        .annotate(
            ceiling=_ceiling_on_each_start(request, default_day=day),
            best_discount=best_discount_for_provider(provider_ref="service__provider", day=starts),
        )
        .order_by("status", F("agreed_weekly_price").asc(nulls_last=True), "quoted_weekly_price",
                  "pk")
    )
    if origin is not None:
        quotes = quotes.annotate(
            distance=geo.distance_from(origin.latitude, origin.longitude, prefix="service__")
        )
    return quotes


def _ceiling_on_each_start(request: SourcingRequest, *, default_day: datetime.date):
    """The ceiling for the year each offer could start in (an offer from 5 April is held
    to next year's ceiling): one CASE branch per distinct start date among the request's
    quotes, which are few; one small query to find them."""
    def ceiling_on(day):
        return ceiling_for_provider(
            provider_ref="service__provider", placement_type=request.placement_type, day=day
        )

    starts = set(
        request.quotes.filter(available_from__isnull=False)
        .values_list("available_from", flat=True).distinct()
    )
    branches = [When(available_from=day, then=ceiling_on(day)) for day in sorted(starts)]
    if not branches:
        return ceiling_on(default_day)
    return Case(*branches, default=ceiling_on(default_day), output_field=DecimalField())


@dataclasses.dataclass
class Flag:
    code: str
    text: str


def quote_flags(quote: Quote) -> list[Flag]:
    """Flags on a quote annotated by quotes_with_context."""
    flags = []
    price = _price(quote)
    if quote.ceiling is not None and price is not None and price > quote.ceiling:
        flags.append(Flag("above_ceiling", f"£{price - quote.ceiling:,.2f} above the "
                                           f"framework ceiling of £{quote.ceiling:,.2f}"))
    if not quote.on_framework and quote.service.provider.kind != ProviderKind.IN_HOUSE:
        flags.append(Flag("off_framework", "Off-framework"))
    rating = quote.service.ofsted_rating
    if rating in BELOW_GOOD:
        flags.append(Flag("below_good", f"Ofsted: {OfstedRating(rating).label}"))
    distance = geo.rounded_miles(getattr(quote, "distance", None))
    if distance is not None and distance > geo.LOCAL_DISTANCE_MILES:
        flags.append(Flag("over_20_miles", f"{distance} miles from home"))
    if quote.best_discount is not None:
        flags.append(Flag("discount", f"{quote.best_discount.normalize():f}% discount applies"))
    return flags


def _price(quote: Quote) -> Decimal | None:
    """The agreed weekly price, else the one quoted (an agreed £0 is still agreed)."""
    if quote.agreed_weekly_price is not None:
        return quote.agreed_weekly_price
    return quote.quoted_weekly_price


QUALITY_POINTS = {
    OfstedRating.OUTSTANDING: 100,
    OfstedRating.GOOD: 75,
    OfstedRating.NOT_YET_INSPECTED: 50,
    OfstedRating.REQUIRES_IMPROVEMENT: 30,
    OfstedRating.INADEQUATE: 0,
}


@dataclasses.dataclass
class Option:
    """One viable offer in the side-by-side comparison, with a score that explains itself."""

    quote: Quote
    price: Decimal
    distance_miles: Decimal | None
    flags: list[Flag]
    quality_points: int
    cost_points: Decimal
    score: Decimal
    explanation: str


def _weights() -> tuple[Decimal, Decimal]:
    quality = Decimal(settings.SOURCING_QUALITY_WEIGHT)
    return quality, Decimal(100) - quality


def comparison(*, request: SourcingRequest) -> list[Option]:
    """Viable offers side by side. Cost points: 100 for the cheapest weekly price (agreed,
    else quoted), scaled down in proportion for dearer ones. Quality points: from the Ofsted
    rating. Score = quality × quality weight + cost × cost weight (settings; default 60/40).
    The score informs the choice; the social worker decides."""
    quotes = [q for q in quotes_with_context(request=request) if q.status in VIABLE_QUOTE_STATUSES]
    if not quotes:
        return []
    quality_weight, cost_weight = _weights()
    prices = [_price(q) for q in quotes]
    cheapest = min(prices)
    options = []
    for quote, price in zip(quotes, prices):
        quality = QUALITY_POINTS[quote.service.ofsted_rating]
        # Half-up, like every other rounding here: a reader checking 77.45 expects 77.5.
        cost = (Decimal(100) * cheapest / price if price else Decimal(100)).quantize(
            TENTH, rounding=ROUND_HALF_UP
        )
        score = ((quality * quality_weight + cost * cost_weight) / 100).quantize(
            TENTH, rounding=ROUND_HALF_UP
        )
        rating = OfstedRating(quote.service.ofsted_rating).label
        explanation = (
            f"Quality {quality} ({rating}) × {quality_weight.normalize():f}% + cost {cost} "
            f"(£{price:,.2f} against the lowest £{cheapest:,.2f}) × "
            f"{cost_weight.normalize():f}% = {score}"
        )
        options.append(Option(
            quote=quote, price=price, distance_miles=geo.rounded_miles(getattr(quote, "distance", None)),
            flags=quote_flags(quote), quality_points=quality, cost_points=cost, score=score,
            explanation=explanation,
        ))
    return sorted(options, key=lambda o: (-o.score, o.price, o.quote.pk))


# --- Savings ----------------------------------------------------------------------------

SAVINGS_GROUPS = {
    "officer": ("agreed_by__first_name", "agreed_by__last_name", "agreed_by__username"),
    "provider": ("service__provider__name",),
    "year": ("financial_year",),
}


def savings_totals(*, group: str, financial_year: int | None = None) -> QuerySet:
    """Negotiation savings of accepted quotes, totalled per officer, provider or financial
    year (the year the price was agreed), largest first, in one query."""
    accepted = Quote.objects.filter(status=Quote.Status.ACCEPTED, negotiated_saving__isnull=False)
    accepted = accepted.annotate(financial_year=_financial_year_of("agreed_at"))
    if financial_year is not None:
        accepted = accepted.filter(financial_year=financial_year)
    return (
        accepted.values(*SAVINGS_GROUPS[group])
        .annotate(total=Sum("negotiated_saving"), quotes=Count("pk"))
        .order_by("-total", *SAVINGS_GROUPS[group])
    )


def _financial_year_of(field: str):
    """The financial year (1 April start) holding a timestamp, in SQL."""
    day = TruncDate(field)
    return Case(
        When(**{f"{field}__month__gte": 4}, then=ExtractYear(day)),
        default=ExtractYear(day) - 1,
        output_field=IntegerField(),
    )
