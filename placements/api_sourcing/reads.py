"""What the sourcing serializers read besides the rows themselves, in a fixed number of
queries whatever the number of rows: the referral through ReferralSourcingRequest (a
sourcing request does not know its referral), invitations and negotiation steps, and the
values the quote flags need."""

from django.db import models
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    FloatField,
    OuterRef,
    Prefetch,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from placements.models import ReferralSourcingRequest
from providers import geo, matching
from providers.models import MONEY, NegotiationStep, PostcodeDistrict, Quote, SourcingInvitation

# --- The link to the referral ---------------------------------------------------------


def link_of(request_ref: str):
    """The ReferralSourcingRequest of the outer row's sourcing request."""
    return ReferralSourcingRequest.objects.filter(sourcing_request=OuterRef(request_ref))


def from_link(request_ref: str, field: str) -> Subquery:
    return Subquery(link_of(request_ref).values(field)[:1])


def with_request_details(requests):
    """What SourcingRequestSerializer reads: one query for the page (the link's fields as
    subqueries) and one for the invitations, whatever the number of requests."""
    invitations = SourcingInvitation.objects.select_related("service__provider").order_by(
        "sent_at", "pk"
    )
    return requests.annotate(
        referral=from_link("pk", "referral"),
        referral_status=Coalesce(
            from_link("pk", "referral__status"), Value(""), output_field=models.CharField()
        ),
        chosen_quote=from_link("pk", "chosen_quote"),
        chosen_by=from_link("pk", "chosen_by"),
        chosen_at=from_link("pk", "chosen_at"),
        choice_reason=Coalesce(
            from_link("pk", "choice_reason"), Value(""), output_field=models.TextField()
        ),
    ).prefetch_related(Prefetch("invitations", queryset=invitations))


# --- Quotes -------------------------------------------------------------------------


def _grouped(requests: dict, key) -> dict:
    groups = {}
    for pk, sourcing_request in requests.items():
        groups.setdefault(key(sourcing_request), []).append(pk)
    return groups


def with_flag_context(quotes: list[Quote]) -> list[Quote]:
    """Give each quote what matching.quote_flags reads (ceiling, best_discount, distance),
    as matching.quotes_with_context does for one request's quotes.

    A page of quotes spans many requests, each with its own placement type, start days
    and area, so each value is a CASE over the page's quotes whose branches are the very
    subqueries quotes_with_context uses: two queries (the districts, then the values),
    however many quotes and requests are on the page."""
    if not quotes:
        return quotes
    requests = {quote.sourcing_request_id: quote.sourcing_request for quote in quotes}
    areas = _grouped(requests, lambda r: geo.outward_code(r.area))
    origins = PostcodeDistrict.objects.filter(outward_code__in=list(areas))
    # Ceiling and discount are judged on the day each offer could start, as
    # matching.quotes_with_context judges them: group the page's quotes by that day.
    by_start = {}
    for quote in quotes:
        sourcing_request = quote.sourcing_request
        day = quote.available_from or matching.request_day(sourcing_request)
        by_start.setdefault((sourcing_request.placement_type, day), []).append(quote.pk)
    ceilings = [
        When(pk__in=ids, then=matching.ceiling_for_provider(
            provider_ref="service__provider", placement_type=placement_type, day=day
        ))
        for (placement_type, day), ids in by_start.items()
    ]
    discounts = [
        When(pk__in=ids, then=matching.best_discount_for_provider(
            provider_ref="service__provider", day=day
        ))
        for (_type, day), ids in by_start.items()
    ]
    distances = [
        When(sourcing_request__in=areas[origin.outward_code], then=geo.distance_from(
            origin.latitude, origin.longitude, prefix="service__"
        ))
        for origin in origins
    ]
    values = Quote.objects.filter(pk__in=[quote.pk for quote in quotes]).annotate(
        ceiling=Case(*ceilings, output_field=DecimalField(**MONEY)),
        best_discount=Case(*discounts, output_field=DecimalField(max_digits=5, decimal_places=2)),
        distance=Case(*distances, output_field=FloatField())
        if distances else Value(None, output_field=FloatField()),
    )
    context = {row["pk"]: row for row in values.values("pk", "ceiling", "best_discount", "distance")}
    for quote in quotes:
        row = context[quote.pk]
        quote.ceiling, quote.best_discount = row["ceiling"], row["best_discount"]
        quote.distance = row["distance"]
    return quotes


def with_quote_details(quotes):
    """What QuoteSerializer reads apart from the flags: one query for the page and one
    for the negotiation steps."""
    steps = NegotiationStep.objects.order_by("recorded_at", "pk")
    return quotes.select_related("service__provider", "sourcing_request", "discount").annotate(
        referral=from_link("sourcing_request", "referral"),
        chosen=Exists(ReferralSourcingRequest.objects.filter(chosen_quote=OuterRef("pk"))),
    ).prefetch_related(Prefetch("negotiation_steps", queryset=steps))
