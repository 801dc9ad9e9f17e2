"""/api/v1/sourcing-requests/: start, send, widen, share and close a request; its
shortlist and the side-by-side comparison of its offers."""

import django_filters
from django.db import models
from django.db.models import Exists
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, NamedChoiceField, ReasonSerializer
from core.errors import InvalidInput
from placements.access import sourcing_requests_visible_to
from placements.api_sourcing.common import (
    CREATE_ERRORS,
    DETAIL_ERRORS,
    LIST_ERRORS,
    IdRelatedField,
    VisibleReferralField,
    id_field,
    referral_locked_for,
    validated,
)
from placements.api_sourcing.quotes import QuoteFlagSerializer
from placements.api_sourcing.reads import link_of, with_request_details
from placements.models import Referral, ReferralStatus
from placements.selectors import referral_id_filter
from placements.services import sourcing as journey
from providers import matching
from providers.api import RiskCodeField
from providers.models import MONEY, Service, SourcingInvitation, SourcingRequest
from providers.reference import Need, PlacementType, Urgency
from providers.services import sourcing as market

# --- What the API shows ---------------------------------------------------------------

# Choices under a name of their own: drf-spectacular would otherwise name them after the
# field ("sex"), which the child's sex already uses, and rename that component.
SourcingRequestSex = models.TextChoices(
    "SourcingRequestSex", [(value, (value, label)) for value, label in
                           SourcingRequest._meta.get_field("sex").choices]
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


# --- What the API accepts -------------------------------------------------------------


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
    referral = referral_id_filter(method="filter_referral", label="Referral")

    class Meta:
        model = SourcingRequest
        fields = ["status", "placement_type", "urgency", "referral"]

    @extend_schema_field(OpenApiTypes.INT)  # the method hides the referral's ID type
    def filter_referral(self, requests, name, referral):
        return requests.filter(Exists(link_of("pk").filter(referral=referral)))


# --- The endpoint ---------------------------------------------------------------------


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
        data = validated(SourcingSendSerializer, request)
        with referral_locked_for(sourcing_request) as referral:
            try:
                journey.sourcing_send(
                    by=request.user, referral=referral, service_ids=data["services"],
                    off_framework_reasons=data["off_framework_reasons"],
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
        reason = validated(ReasonSerializer, request)["reason"]
        with referral_locked_for(sourcing_request) as referral:
            journey.sourcing_close_without_placement(
                by=request.user, referral=referral, reason=reason
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
        data = validated(InvitationAddSerializer, request)
        invitation = market.invitation_add(by=request.user, request=sourcing_request, **data)
        invitation = SourcingInvitation.objects.select_related("service__provider").get(
            pk=invitation.pk
        )
        return Response(SourcingInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SourcingRequestSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="share-options", url_name="share-options")
    def share_options(self, request, pk=None):
        """Tell the social worker the offers are ready to compare (needs one live offer)."""
        sourcing_request = self.get_object()
        with referral_locked_for(sourcing_request) as referral:
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
