"""/api/v1/sourcing-requests/ and /api/v1/quotes/: what the sourcing pages do, for systems.

Thin, like placements.api: reads start from placements.access (a request or quote the user
may not see answers 404), writes call placements.services.sourcing (the referral's side)
or providers.services.sourcing (the market's side), and the serializers only check the
shape of the data. The services' refusals become 403/409/400 in core.api.exception_handler.

A sourcing request does not know its referral (providers never import placements), so the
referral, its status and the social worker's choice are read through
ReferralSourcingRequest as annotations.
"""

import django_filters
from django.db import models, transaction
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
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, NamedChoiceField, ReasonSerializer, error_responses
from core.errors import Conflict, InvalidInput, TransitionNotAllowed
from placements.access import quotes_visible_to, referrals_visible_to, sourcing_requests_visible_to
from placements.models import (
    PlacementCost,
    Referral,
    ReferralSourcingRequest,
    ReferralStatus,
)
from placements.reference import ReasonPlaceChange
from placements.services import sourcing as journey
from providers import geo, matching
from providers.api import RiskCodeField
from providers.models import (
    MONEY,
    NegotiationStep,
    PostcodeDistrict,
    Provider,
    Quote,
    Service,
    SourcingInvitation,
    SourcingRequest,
)
from providers.reference import Need, PlacementType, Urgency
from providers.services import sourcing as market

LIST_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
CREATE_ERRORS = error_responses(400, 403, 409)
# Primary keys are 64-bit (BigAutoField): a larger number is refused as input (400), never
# handed to the database.
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must be a whole number in range (1.5, 1e30 and "x" are 400)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", id_field())
        super().__init__(**kwargs)


class VisibleReferralField(IdRelatedField):
    """A referral ID the user may see; any other ID is refused as if it did not exist
    (as placements.api.VisibleChildField does)."""

    def get_queryset(self):
        return referrals_visible_to(self.context["request"].user)


class VisibleSourcingRequestField(IdRelatedField):
    def get_queryset(self):
        return sourcing_requests_visible_to(self.context["request"].user)


# --- The link to the referral ---------------------------------------------------------


def _link_of(request_ref: str):
    """The ReferralSourcingRequest of the outer row's sourcing request."""
    return ReferralSourcingRequest.objects.filter(sourcing_request=OuterRef(request_ref))


def _from_link(request_ref: str, field: str) -> Subquery:
    return Subquery(_link_of(request_ref).values(field)[:1])


def with_request_details(requests):
    """What SourcingRequestSerializer reads: one query for the page (the link's fields as
    subqueries) and one for the invitations, whatever the number of requests."""
    invitations = SourcingInvitation.objects.select_related("service__provider").order_by(
        "sent_at", "pk"
    )
    return requests.annotate(
        referral=_from_link("pk", "referral"),
        referral_status=Coalesce(
            _from_link("pk", "referral__status"), Value(""), output_field=models.CharField()
        ),
        chosen_quote=_from_link("pk", "chosen_quote"),
        chosen_by=_from_link("pk", "chosen_by"),
        chosen_at=_from_link("pk", "chosen_at"),
        choice_reason=Coalesce(
            _from_link("pk", "choice_reason"), Value(""), output_field=models.TextField()
        ),
    ).prefetch_related(Prefetch("invitations", queryset=invitations))


def _lock_referral_of(sourcing_request: SourcingRequest) -> Referral:
    """The request's referral, locked (the lock order is referral, then request), after
    checking that this request is the one the referral's services will act on: the
    placements services act on the referral's *open* request, which for an old, closed
    request is another one. Call inside a transaction."""
    link = (
        ReferralSourcingRequest.objects.filter(sourcing_request=sourcing_request)
        .only("referral_id")
        .first()
    )
    if link is None:
        raise Conflict(f"Sourcing request {sourcing_request.reference} has no referral.")
    referral = Referral.objects.select_for_update().get(pk=link.referral_id)
    current = journey.open_request_link(referral)
    if current is not None and current.sourcing_request_id != sourcing_request.pk:
        fresh = SourcingRequest.objects.get(pk=sourcing_request.pk)
        raise TransitionNotAllowed(
            f"Sourcing request {fresh.reference} is '{fresh.get_status_display()}'; the "
            f"referral's open request is {current.sourcing_request.reference}.",
            current=fresh.status, allowed=[],
        )
    return referral


# --- Sourcing requests: what the API shows --------------------------------------------

# Choices under names of their own: drf-spectacular would otherwise name them after their
# fields ("sex", "kind"), which the child's sex and panels' kinds already use, and rename
# those components.
SourcingRequestSex = models.TextChoices(
    "SourcingRequestSex", [(value, (value, label)) for value, label in
                           SourcingRequest._meta.get_field("sex").choices]
)
NegotiationStepKind = models.TextChoices(
    "NegotiationStepKind", [(kind.name, (kind.value, kind.label)) for kind in NegotiationStep.Kind]
)


class SourcingInvitationSerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)
    provider = serializers.IntegerField(source="service.provider_id", read_only=True)
    provider_name = serializers.CharField(source="service.provider.name", read_only=True)
    match_reasons = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Why the service matched, then any rule it fails ('Does not meet: …').",
    )

    class Meta:
        model = SourcingInvitation
        fields = [
            "id", "service", "service_name", "provider", "provider_name", "on_framework",
            "off_framework_reason", "status", "sent_at", "chased_at", "match_reasons",
        ]
        read_only_fields = fields


class SourcingRequestSerializer(serializers.ModelSerializer):
    """A request with its invitations, its referral and the social worker's choice.
    List and detail share it (one component per object)."""

    placement_type = NamedChoiceField(PlacementType, read_only=True)
    sex = NamedChoiceField(SourcingRequestSex, read_only=True)
    needs = serializers.ListField(child=NamedChoiceField(Need), read_only=True)
    risks = serializers.ListField(child=RiskCodeField(), read_only=True)
    referral = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The referral this request is for."
    )
    referral_status = NamedChoiceField(
        ReferralStatus, read_only=True, allow_blank=True,
        help_text="The referral's status; empty for a request without a referral.",
    )
    chosen_quote = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The offer the social worker chose."
    )
    chosen_by = serializers.IntegerField(read_only=True, allow_null=True)
    chosen_at = serializers.DateTimeField(read_only=True, allow_null=True)
    choice_reason = serializers.CharField(read_only=True)
    invitations = SourcingInvitationSerializer(many=True, read_only=True)

    class Meta:
        model = SourcingRequest
        fields = [
            "id", "reference", "status", "referral", "referral_status", "placement_type",
            "age_years", "sex", "needs", "risks", "needs_summary", "area",
            "max_distance_miles", "urgency", "wanted_start_date", "planned_end_date",
            "response_deadline", "created_by", "created_at", "sent_at", "closed_at",
            "outcome_note", "chosen_quote", "chosen_by", "chosen_at", "choice_reason",
            "invitations",
        ]
        read_only_fields = fields


class ShortlistCandidateSerializer(serializers.Serializer):
    service = serializers.IntegerField(source="service.pk")
    service_name = serializers.CharField(source="service.name")
    provider = serializers.IntegerField(source="service.provider_id")
    provider_name = serializers.CharField(source="service.provider.name")
    on_framework = serializers.BooleanField()
    ceiling = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="The framework ceiling, pounds a week."
    )
    distance_miles = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why it matched.")
    failures = serializers.ListField(
        child=serializers.CharField(), help_text="The rules it fails (empty for a candidate)."
    )


class ShortlistSerializer(serializers.Serializer):
    candidates = ShortlistCandidateSerializer(
        many=True, help_text="Meet every rule: framework services first, then nearest."
    )
    excluded = ShortlistCandidateSerializer(
        many=True, help_text="Offer the placement type but fail a rule."
    )


class QuoteFlagSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="above_ceiling, off_framework, below_good, over_20_miles or discount."
    )
    text = serializers.CharField()


class ComparisonOptionSerializer(serializers.Serializer):
    quote = serializers.IntegerField(source="quote.pk")
    service = serializers.IntegerField(source="quote.service_id")
    service_name = serializers.CharField(source="quote.service.name")
    provider_name = serializers.CharField(source="quote.service.provider.name")
    status = serializers.CharField(source="quote.status")
    price = serializers.DecimalField(
        **MONEY, help_text="Weekly price compared: agreed, else quoted."
    )
    distance_miles = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    flags = QuoteFlagSerializer(many=True)
    quality_points = serializers.IntegerField()
    cost_points = serializers.DecimalField(max_digits=5, decimal_places=1)
    score = serializers.DecimalField(max_digits=5, decimal_places=1)
    explanation = serializers.CharField(help_text="How the score was worked out.")


# --- Sourcing requests: what the API accepts ------------------------------------------


class SourcingStartSerializer(serializers.Serializer):
    """A draft request for a referral ready for sourcing. The child's details (age, sex,
    risks, area, urgency, start date) come from the referral, anonymised."""

    referral = VisibleReferralField(queryset=Referral.objects.all())
    needs = serializers.ListField(
        child=NamedChoiceField(Need), required=False, default=list, max_length=len(Need)
    )
    needs_summary = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000,
        help_text="What providers read about the child: no names or addresses.",
    )
    placement_type = NamedChoiceField(
        PlacementType, required=False, help_text="Defaults to the type the referral sought."
    )
    max_distance_miles = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=32767,
        help_text="Leave out to follow the referral (20 miles when it must be local); "
        "null for no limit.",
    )
    planned_end_date = serializers.DateField(required=False, allow_null=True, default=None)

    def service_arguments(self) -> dict:
        arguments = dict(self.validated_data)
        if "max_distance_miles" in arguments:
            arguments["use_referral_distance"] = False
        return arguments


class SourcingSendSerializer(serializers.Serializer):
    services = serializers.ListField(
        child=id_field(), max_length=500, help_text="IDs of the services to send it to."
    )
    off_framework_reasons = serializers.DictField(
        child=serializers.CharField(max_length=300), required=False, default=dict,
        help_text="Why each off-framework service is invited, keyed by service ID.",
    )

    def validate(self, data):
        reasons = {}
        for key, reason in data["off_framework_reasons"].items():
            if not key.isdigit() or int(key) not in data["services"]:
                raise serializers.ValidationError(
                    {"off_framework_reasons": [f"'{key}' is not one of the services chosen."]}
                )
            reasons[int(key)] = reason
        data["off_framework_reasons"] = reasons
        return data


class InvitationAddSerializer(serializers.Serializer):
    service = IdRelatedField(queryset=Service.objects.all())
    off_framework_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300,
        help_text="Needed when the service is not on a framework for this request.",
    )


class SourcingRequestFilter(django_filters.FilterSet):
    """Filters for /api/v1/sourcing-requests/."""

    status = django_filters.MultipleChoiceFilter(choices=SourcingRequest.Status.choices)
    placement_type = django_filters.ChoiceFilter(choices=PlacementType.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    # A model choice, so text, 1e30 or too many digits is a 400, not a database error.
    referral = django_filters.ModelChoiceFilter(
        queryset=Referral.objects.all(), method="filter_referral", label="Referral"
    )

    class Meta:
        model = SourcingRequest
        fields = ["status", "placement_type", "urgency", "referral"]

    @extend_schema_field(OpenApiTypes.INT)  # the method hides the referral's ID type
    def filter_referral(self, requests, name, referral):
        links = ReferralSourcingRequest.objects.filter(
            referral=referral, sourcing_request=OuterRef("pk")
        )
        return requests.filter(Exists(links))


# --- Sourcing requests: the endpoint --------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: SourcingRequestSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: SourcingRequestSerializer, **DETAIL_ERRORS}),
)
class SourcingRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sourcing requests for the referrals the user may see (commissioning officers see
    all). Officers start, send, widen, share and close them; see /quotes/ for the answers."""

    serializer_class = SourcingRequestSerializer
    filterset_class = SourcingRequestFilter

    def get_queryset(self):
        visible = sourcing_requests_visible_to(self.request.user).order_by("-created_at", "-pk")
        if self.action in ("list", "retrieve"):
            return with_request_details(visible)
        return visible

    @extend_schema(
        request=SourcingStartSerializer,
        responses={201: SourcingRequestSerializer, **CREATE_ERRORS},
    )
    def create(self, request):
        """Start a draft request for a referral that is ready for sourcing (one open
        request per referral: a second answers 409)."""
        body = SourcingStartSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        sourcing_request = journey.sourcing_start(by=request.user, **body.service_arguments())
        return self._request_response(sourcing_request, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=SourcingSendSerializer,
        responses={200: SourcingRequestSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send the draft to the chosen services; the referral moves to sourcing. An
        off-framework service needs a reason."""
        sourcing_request = self.get_object()
        body = SourcingSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            referral = _lock_referral_of(sourcing_request)
            try:
                journey.sourcing_send(
                    by=request.user, referral=referral,
                    service_ids=body.validated_data["services"],
                    off_framework_reasons=body.validated_data["off_framework_reasons"],
                )
            except InvalidInput as refused:
                # The service names the reason singly; this body carries them as a map.
                if refused.field == "off_framework_reason":
                    refused.field = "off_framework_reasons"
                raise
        return self._request_response(sourcing_request)

    @extend_schema(
        request=ReasonSerializer, responses={200: SourcingRequestSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the request without a placement, saying why; the referral goes back to
        ready for sourcing (a draft is cancelled)."""
        sourcing_request = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            referral = _lock_referral_of(sourcing_request)
            journey.sourcing_close_without_placement(
                by=request.user, referral=referral, reason=body.validated_data["reason"]
            )
        return self._request_response(sourcing_request)

    @extend_schema(
        request=InvitationAddSerializer,
        responses={201: SourcingInvitationSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """Invite one more service to a request already sent."""
        sourcing_request = self.get_object()
        body = InvitationAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invitation = market.invitation_add(
            by=request.user, request=sourcing_request, **body.validated_data
        )
        invitation = SourcingInvitation.objects.select_related("service__provider").get(
            pk=invitation.pk
        )
        return Response(SourcingInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SourcingRequestSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="share-options", url_name="share-options")
    def share_options(self, request, pk=None):
        """Tell the social worker the offers are ready to compare (needs one live offer)."""
        sourcing_request = self.get_object()
        with transaction.atomic():
            referral = _lock_referral_of(sourcing_request)
            journey.options_share(by=request.user, referral=referral)
        return self._request_response(sourcing_request)

    @extend_schema(responses={200: ShortlistSerializer, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def shortlist(self, request, pk=None):
        """Services offering the placement type: those meeting every rule, and those
        left out with the rules they fail."""
        found = matching.shortlist(request=self.get_object())
        return Response(ShortlistSerializer(found).data)

    @extend_schema(responses={200: ComparisonOptionSerializer(many=True), **DETAIL_ERRORS})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def comparison(self, request, pk=None):
        """The live offers side by side, best score first. The score (quality and cost
        weighted by SOURCING_QUALITY_WEIGHT) explains itself; the social worker decides."""
        options = matching.comparison(request=self.get_object())
        return Response(ComparisonOptionSerializer(options, many=True).data)

    def _request_response(self, sourcing_request, code=status.HTTP_200_OK) -> Response:
        # Read back through the access helper, with the link and invitations.
        visible = sourcing_requests_visible_to(self.request.user)
        fresh = with_request_details(visible).get(pk=sourcing_request.pk)
        return Response(SourcingRequestSerializer(fresh).data, status=code)


# --- Quotes: flags for quotes of many requests ----------------------------------------


def _grouped(requests: dict, key) -> dict:
    groups = {}
    for pk, sourcing_request in requests.items():
        groups.setdefault(key(sourcing_request), []).append(pk)
    return groups


def with_flag_context(quotes: list[Quote]) -> list[Quote]:
    """Give each quote what matching.quote_flags reads (ceiling, best_discount, distance),
    as matching.quotes_with_context does for one request's quotes.

    A page of quotes spans many requests, each with its own placement type, wanted start
    and area, so each value is a CASE over the page's requests whose branches are the very
    subqueries quotes_with_context uses: two queries (the districts, then the values),
    however many quotes and requests are on the page."""
    if not quotes:
        return quotes
    requests = {quote.sourcing_request_id: quote.sourcing_request for quote in quotes}
    areas = _grouped(requests, lambda r: geo.outward_code(r.area))
    origins = PostcodeDistrict.objects.filter(outward_code__in=list(areas))
    ceilings = [
        When(sourcing_request__in=ids, then=matching.ceiling_for_provider(
            provider_ref="service__provider", placement_type=placement_type, day=day
        ))
        for (placement_type, day), ids in _grouped(
            requests, lambda r: (r.placement_type, matching.request_day(r))
        ).items()
    ]
    discounts = [
        When(sourcing_request__in=ids, then=matching.best_discount_for_provider(
            provider_ref="service__provider", day=day
        ))
        for day, ids in _grouped(requests, matching.request_day).items()
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
        referral=_from_link("sourcing_request", "referral"),
        chosen=Exists(ReferralSourcingRequest.objects.filter(chosen_quote=OuterRef("pk"))),
    ).prefetch_related(Prefetch("negotiation_steps", queryset=steps))


# --- Quotes: what the API shows ----------------------------------------------------------


class NegotiationStepSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(NegotiationStepKind, read_only=True)

    class Meta:
        model = NegotiationStep
        fields = ["id", "quote", "kind", "weekly_price", "note", "recorded_by", "recorded_at"]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    """A provider's answer with its negotiation and the flags the comparison shows.
    Prices are pounds a week."""

    service_name = serializers.CharField(source="service.name", read_only=True)
    provider = serializers.IntegerField(source="service.provider_id", read_only=True)
    provider_name = serializers.CharField(source="service.provider.name", read_only=True)
    placement_type = NamedChoiceField(
        PlacementType, source="sourcing_request.placement_type", read_only=True
    )
    referral = serializers.IntegerField(read_only=True, allow_null=True)
    chosen = serializers.BooleanField(
        read_only=True, help_text="The social worker chose this offer."
    )
    weekly_price_after_discount = serializers.SerializerMethodField(
        help_text="The agreed price less the discount applied on acceptance; null until a "
        "price is agreed."
    )
    ceiling = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True,
        help_text="The provider's framework ceiling for the type and year; null off framework.",
    )
    distance_miles = serializers.SerializerMethodField(
        help_text="Miles from the child's home district; null when unknown."
    )
    flags = serializers.SerializerMethodField()
    negotiation_steps = NegotiationStepSerializer(many=True, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id", "sourcing_request", "referral", "placement_type", "service", "service_name",
            "provider", "provider_name", "status", "quoted_weekly_price",
            "agreed_weekly_price", "weekly_price_after_discount", "inclusions",
            "available_from", "decline_reason", "on_framework", "expected_weeks",
            "negotiated_saving", "agreed_by", "agreed_at", "discount", "recorded_by",
            "recorded_at", "chosen", "ceiling", "distance_miles", "flags",
            "negotiation_steps",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(**MONEY, allow_null=True))
    def get_weekly_price_after_discount(self, quote: Quote):
        if quote.agreed_weekly_price is None:
            return None
        return f"{market.weekly_price_after_discount(quote):.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True))
    def get_distance_miles(self, quote: Quote):
        miles = geo.rounded_miles(quote.distance)
        return None if miles is None else f"{miles:.1f}"

    @extend_schema_field(QuoteFlagSerializer(many=True))
    def get_flags(self, quote: Quote) -> list[dict]:
        return QuoteFlagSerializer(matching.quote_flags(quote), many=True).data


class PlacementConfirmedSerializer(serializers.Serializer):
    placement = serializers.IntegerField(help_text="The new placement.")
    referral = serializers.IntegerField()
    quote = serializers.IntegerField()
    start_date = serializers.DateField()
    weekly_cost = serializers.DecimalField(
        **MONEY, help_text="Its first weekly cost: the agreed price less any discount."
    )


# --- Quotes: what the API accepts ----------------------------------------------------


class QuoteRecordSerializer(serializers.Serializer):
    """A provider's offer, or (declined: true) its refusal to offer and why."""

    sourcing_request = VisibleSourcingRequestField(queryset=SourcingRequest.objects.all())
    service = IdRelatedField(queryset=Service.objects.all())
    declined = serializers.BooleanField(
        default=False, help_text="The provider will not offer; give decline_reason."
    )
    quoted_weekly_price = serializers.DecimalField(
        **MONEY, min_value=0, required=False, help_text="Pounds a week; for an offer."
    )
    inclusions = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    available_from = serializers.DateField(required=False, allow_null=True, default=None)
    decline_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300,
        help_text="Why the provider declined; for a refusal.",
    )

    def validate(self, data):
        if data["declined"]:
            offered = {"quoted_weekly_price", "available_from"} & {
                name for name, value in data.items() if value is not None
            }
            if offered or data["inclusions"]:
                raise serializers.ValidationError(
                    "A provider that declined makes no offer: leave out the price, "
                    "inclusions and start."
                )
        else:
            if "quoted_weekly_price" not in data:
                raise serializers.ValidationError(
                    {"quoted_weekly_price": ["Enter the weekly price offered."]}
                )
            if data["decline_reason"]:
                raise serializers.ValidationError(
                    {"decline_reason": ["Only for a provider that declined (declined: true)."]}
                )
        return data


class QuoteNegotiateSerializer(serializers.Serializer):
    kind = NamedChoiceField(NegotiationStepKind)
    weekly_price = serializers.DecimalField(
        **MONEY, min_value=0, help_text="Pounds a week, no higher than first quoted."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class QuoteAcceptSerializer(serializers.Serializer):
    start_date = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="Defaults to the quote's available-from date, else the wanted start.",
    )
    apply_discount = serializers.BooleanField(
        default=True, help_text="Apply the provider's best discount on the start date."
    )
    end_reason = NamedChoiceField(
        ReasonPlaceChange, required=False, allow_blank=True, default="",
        help_text="Why the child's current placement ends; needed when there is one.",
    )


class QuoteFilter(django_filters.FilterSet):
    """Filters for /api/v1/quotes/."""

    status = django_filters.MultipleChoiceFilter(choices=Quote.Status.choices)
    sourcing_request = django_filters.ModelChoiceFilter(queryset=SourcingRequest.objects.all())
    service = django_filters.ModelChoiceFilter(queryset=Service.objects.all())
    provider = django_filters.ModelChoiceFilter(
        field_name="service__provider", queryset=Provider.objects.all(), label="Provider"
    )
    placement_type = django_filters.ChoiceFilter(
        field_name="sourcing_request__placement_type", choices=PlacementType.choices
    )
    referral = django_filters.ModelChoiceFilter(
        queryset=Referral.objects.all(), method="filter_referral", label="Referral"
    )

    class Meta:
        model = Quote
        fields = ["sourcing_request", "status", "service", "provider", "placement_type",
                  "referral"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_referral(self, quotes, name, referral):
        links = ReferralSourcingRequest.objects.filter(
            referral=referral, sourcing_request=OuterRef("sourcing_request")
        )
        return quotes.filter(Exists(links))


# --- Quotes: the endpoint ------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: QuoteSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: QuoteSerializer, **DETAIL_ERRORS}),
)
class QuoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Providers' answers to the sourcing requests the user may see. Officers record,
    negotiate, decline and accept them; the child's social worker or team manager chooses
    one. Flags: above_ceiling, off_framework, below_good, over_20_miles, discount."""

    serializer_class = QuoteSerializer
    filterset_class = QuoteFilter

    def get_queryset(self):
        return with_quote_details(quotes_visible_to(self.request.user)).order_by(
            "-recorded_at", "-pk"
        )

    def list(self, request, *args, **kwargs):
        quotes = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(quotes)
        if page is None:
            return Response(self.get_serializer(with_flag_context(list(quotes)), many=True).data)
        with_flag_context(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        (quote,) = with_flag_context([self.get_object()])
        return Response(self.get_serializer(quote).data)

    @extend_schema(
        request=QuoteRecordSerializer, responses={201: QuoteSerializer, **CREATE_ERRORS}
    )
    def create(self, request):
        """Record a provider's offer, or that it declined to offer, on a sent request."""
        body = QuoteRecordSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        answer = dict(body.validated_data)
        arguments = {
            "by": request.user, "request": answer["sourcing_request"], "service": answer["service"]
        }
        if answer["declined"]:
            quote = market.quote_record_declined(**arguments, reason=answer["decline_reason"])
        else:
            quote = market.quote_record(
                **arguments, quoted_weekly_price=answer["quoted_weekly_price"],
                inclusions=answer["inclusions"], available_from=answer["available_from"],
            )
        return self._quote_response(quote, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=QuoteNegotiateSerializer, responses={201: NegotiationStepSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def negotiate(self, request, pk=None):
        """Log a step of the negotiation; kind 'agreed' sets the agreed price and the
        saving, (quoted − agreed) × expected weeks."""
        quote = self.get_object()
        body = QuoteNegotiateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        step = market.quote_negotiate(by=request.user, quote=quote, **body.validated_data)
        return Response(NegotiationStepSerializer(step).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: QuoteSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """We will not take this offer, saying why."""
        return self._market_move(market.quote_decline)

    @extend_schema(request=ReasonSerializer, responses={200: QuoteSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The provider took its offer back, and why."""
        return self._market_move(market.quote_withdraw)

    @extend_schema(request=ReasonSerializer, responses={200: QuoteSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def choose(self, request, pk=None):
        """The child's social worker or team manager chooses this offer, saying why, once
        options are ready; an officer then accepts it."""
        quote = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            referral = _lock_referral_of(quote.sourcing_request)
            journey.offer_choose(
                by=request.user, referral=referral, quote=quote,
                reason=body.validated_data["reason"],
            )
        return self._quote_response(quote)

    @extend_schema(
        request=QuoteAcceptSerializer,
        responses={201: PlacementConfirmedSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Confirm the chosen offer: the quote is accepted, the others declined, and the
        placement made with its first weekly cost. Only the chosen quote can be accepted
        (another answers 409), and only once."""
        quote = self.get_object()
        body = QuoteAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            referral = _lock_referral_of(quote.sourcing_request)
            placement = journey.placement_confirm(
                by=request.user, referral=referral, quote=quote, **body.validated_data
            )
        first_cost = PlacementCost.objects.filter(placement=placement).order_by("pk").first()
        confirmed = {
            "placement": placement.pk, "referral": referral.pk, "quote": quote.pk,
            "start_date": placement.start_date, "weekly_cost": first_cost.weekly_amount,
        }
        return Response(
            PlacementConfirmedSerializer(confirmed).data, status=status.HTTP_201_CREATED
        )

    def _market_move(self, service):
        quote = self.get_object()
        body = ReasonSerializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        service(by=self.request.user, quote=quote, reason=body.validated_data["reason"])
        return self._quote_response(quote)

    def _quote_response(self, quote: Quote, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=quote.pk)
        with_flag_context([fresh])
        return Response(QuoteSerializer(fresh).data, status=code)

