"""/api/v1/children/ and /api/v1/referrals/: the referral pages' operations for systems.

Thin, like the pages: every read starts from an access helper (an object the user may not
see answers 404), every write calls the same service function the page calls, and the
serializers only check the shape of the data. The services' refusals become 403/409/400
in core.api.exception_handler.
"""

from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import audit
from core.api import (
    ACTION_ERRORS,
    NamedChoiceField,
    OptionalReasonSerializer,
    ReasonSerializer,
    error_responses,
)
from placements.access import children_visible_to, referrals_visible_to
from placements.models import (
    REFERRAL_ANSWERS,
    Child,
    Referral,
    ReferralRisk,
    ReferralStatus,
    ReferralStatusChange,
)
from placements.reference import Suitability
from placements.selectors import ReferralFilter
from placements.services import referrals as services
from providers.reference import Risk

# The referral's own answers (the Placements data standard fields), in form order.
# tests/api checks that this matches what placements.services accepts.
REFERRAL_ANSWER_FIELDS = list(REFERRAL_ANSWERS)


# --- Reading one record is logged ------------------------------------------------------


class ViewLoggedRetrieveMixin(mixins.RetrieveModelMixin):
    """GET of one child, referral or placement, logged as a view (core.audit.record_view)
    once the access helper has found it: a 404 logs nothing."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        audit.record_view(request.user, instance)
        return Response(self.get_serializer(instance).data)


# --- Children ----------------------------------------------------------------------------


class ChildSerializer(serializers.ModelSerializer):
    class Meta:
        model = Child
        fields = [
            "id",
            "local_child_id",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "ethnicity",
            "legal_status",
            "home_postcode",
            "team",
            "social_worker",
        ]
        read_only_fields = fields


class ChildViewSet(ViewLoggedRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    """Children in the council's care that the user may see (their team's caseload, or
    all of them for panels, the Director, commissioners and administrators)."""

    serializer_class = ChildSerializer
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_fields = ["team"]
    # Only the local ID: names and other personal data stay out of URLs and logs.
    search_fields = ["local_child_id"]

    def get_queryset(self):
        return children_visible_to(self.request.user).order_by("last_name", "first_name", "pk")


# --- Referrals: what the API shows ----------------------------------------------------


class ReferralRiskSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralRisk
        fields = ["risk", "details"]
        read_only_fields = fields


class TimelineEntrySerializer(serializers.ModelSerializer):
    from_status = NamedChoiceField(ReferralStatus, allow_blank=True, read_only=True,
                                   help_text="Empty for the referral's first entry.")
    to_status = NamedChoiceField(ReferralStatus, read_only=True)
    by_name = serializers.SerializerMethodField(help_text="Empty when a scheduled task moved it.")

    class Meta:
        model = ReferralStatusChange
        fields = ["from_status", "to_status", "by", "by_name", "at", "reason"]
        read_only_fields = fields

    def get_by_name(self, change: ReferralStatusChange) -> str:
        return str(change.by) if change.by_id else ""


class ReferralSerializer(serializers.ModelSerializer):
    """A referral with its answers, risks, siblings and whole timeline.

    List and detail share it: the prefetches keep the list at a fixed number of queries,
    and one shape per object keeps the schema to one component per object."""

    child_local_id = serializers.CharField(source="child.local_child_id", read_only=True)
    team = serializers.IntegerField(source="child.team_id", read_only=True)
    status = NamedChoiceField(ReferralStatus, read_only=True)
    suitability_foster = NamedChoiceField(Suitability, read_only=True)
    suitability_residential = NamedChoiceField(Suitability, read_only=True)
    suitability_supported = NamedChoiceField(Suitability, read_only=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text="The states this referral may move to from its current one."
    )
    risks = ReferralRiskSerializer(many=True, read_only=True)
    timeline = TimelineEntrySerializer(many=True, read_only=True, source="status_changes")

    class Meta:
        model = Referral
        fields = [
            "id",
            "child",
            "child_local_id",
            "team",
            "status",
            "allowed_transitions",
            *REFERRAL_ANSWER_FIELDS,
            "siblings",
            "risks",
            "retrospective_review_due",
            "created_by",
            "created_at",
            "updated_at",
            "timeline",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, referral: Referral) -> list[str]:
        return sorted(referral.allowed_moves())


def with_referral_details(referrals):
    """What ReferralSerializer reads: three queries beyond the page's own, whatever the
    number of referrals."""
    return referrals.select_related("child").prefetch_related(
        "risks",
        Prefetch("siblings", queryset=Child.objects.only("pk")),
        Prefetch(
            "status_changes",
            queryset=ReferralStatusChange.objects.select_related("by").order_by("at", "pk"),
        ),
    )


# --- Referrals: what the API accepts --------------------------------------------------


class VisibleChildField(serializers.PrimaryKeyRelatedField):
    """A child ID the user may see; any other ID is refused as if it did not exist.
    (The queryset given where it is declared only types the field for DRF and the schema;
    get_queryset decides.) The same holds for panels.api's Visible*Field."""

    def get_queryset(self):
        return children_visible_to(self.context["request"].user)


class RiskInputSerializer(serializers.Serializer):
    risk = serializers.ChoiceField(choices=Risk.choices)
    details = serializers.CharField(allow_blank=True, required=False, default="")


class ReferralAnswersSerializer(serializers.ModelSerializer):
    """The answers a draft may set or change. Types and lengths only: whether the user may
    write them, and when, is for placements.services.referrals."""

    siblings = VisibleChildField(
        many=True, required=False, queryset=Child.objects.all(),
        help_text="IDs of siblings to place with the child (replaces the list when given).",
    )
    risks = RiskInputSerializer(
        many=True, required=False,
        help_text="Each risk at most once (replaces the list when given).",
    )
    suitability_foster = NamedChoiceField(Suitability, required=False)
    suitability_residential = NamedChoiceField(Suitability, required=False)
    suitability_supported = NamedChoiceField(Suitability, required=False)

    class Meta:
        model = Referral
        fields = [*REFERRAL_ANSWER_FIELDS, "siblings", "risks"]

    def validate_risks(self, risks):
        codes = [entry["risk"] for entry in risks]
        if len(codes) != len(set(codes)):
            raise serializers.ValidationError("Give each risk once.")
        return risks

    def service_arguments(self) -> dict:
        """validated_data in the form the services take: fields, siblings, risks."""
        answers = dict(self.validated_data)
        risks = answers.pop("risks", None)
        siblings = answers.pop("siblings", None)
        if risks is not None:
            risks = {entry["risk"]: entry["details"] for entry in risks}
        return {"fields": answers, "siblings": siblings, "risks": risks}


class ReferralCreateSerializer(ReferralAnswersSerializer):
    child = VisibleChildField(queryset=Child.objects.all())

    class Meta(ReferralAnswersSerializer.Meta):
        fields = ["child", *ReferralAnswersSerializer.Meta.fields]

    def service_arguments(self) -> dict:
        arguments = super().service_arguments()
        arguments["child"] = arguments["fields"].pop("child")
        return arguments


# --- Referrals: the endpoint ----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: ReferralSerializer(many=True), **error_responses(400, 403)}),
    retrieve=extend_schema(responses={200: ReferralSerializer, **error_responses(403, 404)}),
)
class ReferralViewSet(mixins.ListModelMixin, ViewLoggedRetrieveMixin, viewsets.GenericViewSet):
    """Referrals (placement requests) the user may see, and the moves their team makes.
    No DELETE: a referral is withdrawn, never removed."""

    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self):
        visible = referrals_visible_to(self.request.user).order_by("-created_at", "-pk")
        if self.action in ("list", "retrieve"):
            return with_referral_details(visible)
        return visible.select_related("child")

    @extend_schema(
        request=ReferralCreateSerializer,
        responses={201: ReferralSerializer, **error_responses(400, 403, 409)},
    )
    def create(self, request):
        """Start a draft referral for a child on the user's team's caseload."""
        answers = ReferralCreateSerializer(data=request.data, context=self.get_serializer_context())
        answers.is_valid(raise_exception=True)
        referral = services.referral_create(by=request.user, **answers.service_arguments())
        return self._referral_response(referral, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReferralAnswersSerializer,
        responses={200: ReferralSerializer, **ACTION_ERRORS},
    )
    def partial_update(self, request, pk=None):
        """Change a draft or returned referral's answers; only the fields given change."""
        referral = self.get_object()
        answers = ReferralAnswersSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        answers.is_valid(raise_exception=True)
        services.referral_update(referral=referral, by=request.user, **answers.service_arguments())
        return self._referral_response(referral)

    @extend_schema(request=None, responses={200: ReferralSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send for the team manager's endorsement; an emergency goes straight to sourcing."""
        referral = services.referral_submit(referral=self.get_object(), by=request.user)
        return self._referral_response(referral)

    @extend_schema(
        request=OptionalReasonSerializer, responses={200: ReferralSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def endorse(self, request, pk=None):
        """The team manager endorses a submitted referral for panel."""
        return self._move_with_reason(services.referral_endorse, OptionalReasonSerializer)

    @extend_schema(request=ReasonSerializer, responses={200: ReferralSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_social_worker(self, request, pk=None):
        """The team manager sends a submitted referral back, saying why."""
        return self._move_with_reason(services.referral_return, ReasonSerializer)

    @extend_schema(request=ReasonSerializer, responses={200: ReferralSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw an open referral, saying why."""
        return self._move_with_reason(services.referral_withdraw, ReasonSerializer)

    def _move_with_reason(self, service, reason_serializer):
        referral = self.get_object()
        body = reason_serializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        service(referral=referral, by=self.request.user, reason=body.validated_data["reason"])
        return self._referral_response(referral)

    def _referral_response(self, referral: Referral, code=status.HTTP_200_OK) -> Response:
        # Read back through the access helper: the services return the locked row, without
        # the timeline the response shows.
        fresh = with_referral_details(referrals_visible_to(self.request.user)).get(pk=referral.pk)
        return Response(ReferralSerializer(fresh).data, status=code)
