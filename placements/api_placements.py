"""/api/v1/placements/ and /api/v1/contributions/: the placement pages' operations for
systems.

Thin, like the pages: every read starts from placements.access (a placement the user may
not see answers 404), every write calls the same placements.services.placements function
the page calls, and the serializers only check the shape of the data. The services'
refusals become 403/409/400 in core.api.exception_handler.

Money is pounds and pence as decimal strings. Cost rows and contributions cover
half-open periods: `effective_to` and `end_date` are the first day no longer covered.
Children's names are never in these bodies (finance reads placements, not children).
"""

from decimal import ROUND_HALF_UP

import django_filters
from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, NamedChoiceField, error_responses
from core.auth import require_recent_password
from placements.access import placements_visible_to
from placements.api import ViewLoggedRetrieveMixin
from placements.api_sourcing.common import IdRelatedField, validated
from placements.models import Contribution, Placement, PlacementCost
from placements.reference import ReasonPlaceChange
from placements.selectors import IdFilter
from placements.selectors_placements import PlacementFilter, placements_for_list
from placements.services import placements as services
from providers.models import MONEY, Service
from providers.reference import PlacementType, PlaceProvider, ProviderKind

LIST_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
CREATE_ERRORS = error_responses(400, 403, 409)


def _named(name: str, choices) -> type[models.TextChoices]:
    """Choices under a name of their own: drf-spectacular would otherwise name them after
    the field ("reason", "funder"), which other code lists already use."""
    return models.TextChoices(name, [(choice.name, (choice.value, choice.label)) for choice in choices])


PlacementCostReason = _named("PlacementCostReason", PlacementCost.Reason)
CostChangeReason = _named(
    "CostChangeReason", [PlacementCost.Reason(r) for r in services.COST_CHANGE_REASONS]
)
ContributionFunder = _named("ContributionFunder", Contribution.Funder)


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, rounding=ROUND_HALF_UP, **kwargs)


class VisiblePlacementField(IdRelatedField):
    """A placement ID the user may see; any other is refused as if it did not exist."""

    def get_queryset(self):
        return placements_visible_to(self.context["request"].user)


# --- What the API shows ---------------------------------------------------------------------


class PlacementCostSerializer(serializers.ModelSerializer):
    reason = NamedChoiceField(PlacementCostReason, read_only=True)
    weekly_amount = money(read_only=True)

    class Meta:
        model = PlacementCost
        fields = ["id", "effective_from", "effective_to", "weekly_amount", "reason",
                  "court_order_reference", "note", "created_by", "created_at"]
        read_only_fields = fields


class ContributionSerializer(serializers.ModelSerializer):
    funder = NamedChoiceField(ContributionFunder, read_only=True)
    weekly_amount = money(read_only=True, allow_null=True)

    class Meta:
        model = Contribution
        fields = ["id", "placement", "funder", "funder_name", "weekly_amount", "percentage",
                  "start_date", "end_date"]
        read_only_fields = fields


class PlacementSerializer(serializers.ModelSerializer):
    """A placement with its whole cost history and contributions; list and detail share
    it (the prefetches keep the list at a fixed number of queries)."""

    child_local_id = serializers.CharField(source="child.local_child_id", read_only=True)
    team = serializers.IntegerField(source="child.team_id", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    provider = serializers.IntegerField(source="service.provider_id", read_only=True)
    provider_name = serializers.CharField(source="service.provider.name", read_only=True)
    provider_kind = NamedChoiceField(ProviderKind, source="service.provider.kind", read_only=True)
    placement_type = NamedChoiceField(PlacementType, read_only=True)
    place_provider = NamedChoiceField(PlaceProvider, allow_blank=True, read_only=True)
    reason_for_change = NamedChoiceField(ReasonPlaceChange, allow_blank=True, read_only=True)
    weekly_cost = money(
        read_only=True, allow_null=True,
        help_text="The gross weekly cost in force today (null when not running today).",
    )
    net_weekly_cost = money(
        read_only=True, allow_null=True,
        help_text="Today's gross weekly cost less today's contributions.",
    )
    costs = PlacementCostSerializer(many=True, read_only=True)
    contributions = ContributionSerializer(many=True, read_only=True)

    class Meta:
        model = Placement
        fields = [
            "id", "child", "child_local_id", "team", "service", "service_name", "provider",
            "provider_name", "provider_kind", "placement_type", "place_provider",
            "on_framework", "start_date", "planned_end_date", "end_date", "reason_for_change",
            "distance_from_home_miles", "out_of_authority", "weekly_cost", "net_weekly_cost",
            "costs", "contributions",
        ]
        read_only_fields = fields


def with_placement_details(placements):
    """What PlacementSerializer reads: two queries beyond the page's own, whatever the
    number of placements."""
    return placements.prefetch_related(
        Prefetch("costs", queryset=PlacementCost.objects.order_by("effective_from", "pk")),
        Prefetch("contributions", queryset=Contribution.objects.order_by("start_date", "pk")),
    )


# --- What the API accepts -------------------------------------------------------------------


class CostChangeSerializer(serializers.Serializer):
    effective_from = serializers.DateField(
        help_text="The first day of the new cost; after the latest cost row's start, and "
        "no more than the back-dating window (PLACEMENT_CHANGE_BACKDATE_DAYS) before today."
    )
    weekly_amount = money(min_value=0)
    reason = NamedChoiceField(CostChangeReason)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RetainerSerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The first day without the retainer; the cost before it resumes then. "
        "Null: until a later cost change.",
    )
    weekly_amount = money(min_value=0)
    court_order_reference = serializers.CharField(max_length=50)


class PlacementEndSerializer(serializers.Serializer):
    end_date = serializers.DateField(help_text="The day the placement ceased.")
    reason = NamedChoiceField(ReasonPlaceChange, help_text="The SSDA903 reason for the change.")


class ChildMoveSerializer(PlacementEndSerializer):
    end_date = serializers.DateField(help_text="This placement ends and the next starts.")
    service = IdRelatedField(queryset=Service.objects.all())
    placement_type = NamedChoiceField(PlacementType)
    weekly_amount = money(min_value=0)
    on_framework = serializers.BooleanField(default=False)
    planned_end_date = serializers.DateField(required=False, allow_null=True, default=None)


class ContributionCreateSerializer(serializers.Serializer):
    """A weekly amount or a percentage of the gross weekly cost, not both."""

    placement = VisiblePlacementField(queryset=Placement.objects.all())
    funder = NamedChoiceField(ContributionFunder)
    funder_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    weekly_amount = money(min_value=0, required=False, allow_null=True, default=None)
    percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False,
        allow_null=True, default=None,
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="The first day without the contribution; null: open-ended.",
    )


class ContributionEndSerializer(serializers.Serializer):
    end_date = serializers.DateField(help_text="The first day the contribution no longer applies.")


# --- Placements: the endpoint ---------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: PlacementSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: PlacementSerializer, **DETAIL_ERRORS}),
)
class PlacementViewSet(mixins.ListModelMixin, ViewLoggedRetrieveMixin, viewsets.GenericViewSet):
    """Placements the user may see (finance, panels, the Director and commissioners see
    all; social workers and team managers their team's), with their cost history and
    contributions. Finance managers and commissioning officers change them."""

    serializer_class = PlacementSerializer
    filterset_class = PlacementFilter

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return with_placement_details(placements_for_list(user=self.request.user))
        return placements_visible_to(self.request.user).order_by("-start_date", "-pk")

    @extend_schema(request=CostChangeSerializer, responses={200: PlacementSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="change-cost", url_name="change-cost")
    def change_cost(self, request, pk=None):
        """Change the weekly cost from a date (uplift, renegotiation or step-down): the
        row in force then ends and a new one starts; earlier weeks keep their cost."""
        placement = self.get_object()
        body = validated(CostChangeSerializer, request)
        require_recent_password(request, weekly_cost=body["weekly_amount"])
        services.placement_cost_change(by=request.user, placement=placement, **body)
        return self._placement_response(placement.pk)

    @extend_schema(request=RetainerSerializer, responses={200: PlacementSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def retainer(self, request, pk=None):
        """Record a court-ordered retainer for a period (a court order reference is
        required)."""
        placement = self.get_object()
        body = validated(RetainerSerializer, request)
        require_recent_password(request, weekly_cost=body["weekly_amount"])
        services.retainer_record(by=request.user, placement=placement, **body)
        return self._placement_response(placement.pk)

    @extend_schema(request=PlacementEndSerializer, responses={200: PlacementSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the placement on a date with its SSDA903 reason; its cost rows and
        contributions end that day. Cannot be undone."""
        placement = self.get_object()
        body = validated(PlacementEndSerializer, request)
        services.placement_end(by=request.user, placement=placement, **body)
        return self._placement_response(placement.pk)

    @extend_schema(request=ChildMoveSerializer, responses={201: PlacementSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """End this placement and start the child's next one the same day, with its first
        weekly cost, in one step. Answers with the new placement."""
        placement = self.get_object()
        body = validated(ChildMoveSerializer, request)
        require_recent_password(request, weekly_cost=body["weekly_amount"])
        new = services.child_move(by=request.user, placement=placement, **body)
        return self._placement_response(new.pk, code=status.HTTP_201_CREATED)

    def _placement_response(self, pk: int, code=status.HTTP_200_OK) -> Response:
        fresh = with_placement_details(placements_for_list(user=self.request.user)).get(pk=pk)
        return Response(PlacementSerializer(fresh).data, status=code)


# --- Contributions: the endpoint ------------------------------------------------------------


class ContributionFilter(django_filters.FilterSet):
    """Filters for /api/v1/contributions/."""

    placement = IdFilter(label="Placement")
    funder = django_filters.ChoiceFilter(choices=Contribution.Funder.choices)
    active = django_filters.BooleanFilter(
        method="filter_active", label="Running today (started, and not yet ended)"
    )

    class Meta:
        model = Contribution
        fields = ["placement", "funder", "active"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_active(self, contributions, name, value):
        today = timezone.localdate()
        running = Q(start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gt=today))
        return contributions.filter(running) if value else contributions.exclude(running)


@extend_schema_view(
    list=extend_schema(responses={200: ContributionSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ContributionSerializer, **DETAIL_ERRORS}),
)
class ContributionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Health, education and other funders' shares of the placements the user may see."""

    serializer_class = ContributionSerializer
    filterset_class = ContributionFilter

    def get_queryset(self):
        return Contribution.objects.filter(
            placement__in=placements_visible_to(self.request.user)
        ).order_by("placement", "start_date", "pk")

    @extend_schema(
        request=ContributionCreateSerializer,
        responses={201: ContributionSerializer, **CREATE_ERRORS},
    )
    def create(self, request):
        """Add a contribution to a running placement: a weekly amount or a percentage of
        the gross weekly cost, from a start date (and until an end date)."""
        body = validated(ContributionCreateSerializer, request, context=self.get_serializer_context())
        contribution = services.contribution_add(by=request.user, **body)
        return Response(ContributionSerializer(contribution).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContributionEndSerializer, responses={200: ContributionSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """The funder stops paying from a date (sooner than a set end, never later)."""
        contribution = self.get_object()
        body = validated(ContributionEndSerializer, request)
        contribution = services.contribution_end(by=request.user, contribution=contribution, **body)
        return Response(ContributionSerializer(contribution).data)
