"""/api/v1/quotes/: providers' answers to sourcing requests, with the flags the comparison
shows; record, negotiate, decline, withdraw, choose and accept them."""

import django_filters
from django.db import models
from django.db.models import Exists
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, NamedChoiceField, ReasonSerializer
from core.auth import require_recent_password
from placements.access import quotes_visible_to
from placements.api_sourcing.common import (
    CREATE_ERRORS,
    DETAIL_ERRORS,
    LIST_ERRORS,
    IdRelatedField,
    VisibleSourcingRequestField,
    referral_locked_for,
    validated,
)
from placements.api_sourcing.reads import link_of, with_flag_context, with_quote_details
from placements.models import PlacementCost
from placements.reference import ReasonPlaceChange
from placements.selectors import referral_id_filter
from placements.services import sourcing as journey
from providers import geo, matching
from providers.models import (
    MONEY,
    NegotiationStep,
    Provider,
    Quote,
    Service,
    SourcingRequest,
)
from providers.reference import PlacementType
from providers.services import sourcing as market

# --- What the API shows ---------------------------------------------------------------

# Choices under a name of their own: drf-spectacular would otherwise name them after the
# field ("kind"), which panels' kinds already use, and rename that component.
NegotiationStepKind = models.TextChoices(
    "NegotiationStepKind", [(kind.name, (kind.value, kind.label)) for kind in NegotiationStep.Kind]
)


class QuoteFlagSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="above_ceiling, off_framework, below_good, over_20_miles or discount."
    )
    text = serializers.CharField()


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


# --- What the API accepts -------------------------------------------------------------


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
    referral = referral_id_filter(method="filter_referral", label="Referral")

    class Meta:
        model = Quote
        fields = ["sourcing_request", "status", "service", "provider", "placement_type",
                  "referral"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_referral(self, quotes, name, referral):
        return quotes.filter(Exists(link_of("sourcing_request").filter(referral=referral)))


# --- The endpoint ---------------------------------------------------------------------


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
        answer = dict(
            validated(QuoteRecordSerializer, request, context=self.get_serializer_context())
        )
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
        step = market.quote_negotiate(
            by=request.user, quote=quote, **validated(QuoteNegotiateSerializer, request)
        )
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
        reason = validated(ReasonSerializer, request)["reason"]
        with referral_locked_for(quote.sourcing_request) as referral:
            journey.offer_choose(by=request.user, referral=referral, quote=quote, reason=reason)
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
        data = validated(QuoteAcceptSerializer, request)
        # The price before any discount, as on the confirmation page.
        require_recent_password(request, weekly_cost=(
            quote.quoted_weekly_price if quote.agreed_weekly_price is None else quote.agreed_weekly_price
        ))
        with referral_locked_for(quote.sourcing_request) as referral:
            placement = journey.placement_confirm(
                by=request.user, referral=referral, quote=quote, **data
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
        reason = validated(ReasonSerializer, self.request)["reason"]
        service(by=self.request.user, quote=quote, reason=reason)
        return self._quote_response(quote)

    def _quote_response(self, quote: Quote, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=quote.pk)
        with_flag_context([fresh])
        return Response(QuoteSerializer(fresh).data, status=code)
