"""/api/v1/panels/, meetings/, agenda-items/, decisions/ and director-approvals/: what the
chair's meeting page and the Director's queue do, for systems.

Thin: reads start from panels.access (a meeting the user may not see answers 404, and so
do its items and decisions); writes call panels.services, which check the actor and the
state; the serializers only check the shape of the data.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, OptionalReasonSerializer, ReasonSerializer, error_responses
from core.auth import require_recent_password
from core.models import User
from panels import selectors, services
from panels.access import (
    agenda_items_visible_to,
    decisions_visible_to,
    director_approvals_visible_to,
    meetings_visible_to,
    sees_director_approvals,
)
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from placements.access import referrals_visible_to
from placements.models import Referral

LIST_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)


# --- Panels ------------------------------------------------------------------------------


class PanelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Panel
        fields = ["id", "name", "kind", "weekday", "default_chair", "members", "is_active"]
        read_only_fields = fields


class PanelViewSet(viewsets.ReadOnlyModelViewSet):
    """The panels and who sits on them; not personal data, so every signed-in user sees them."""

    serializer_class = PanelSerializer
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self):
        return Panel.objects.prefetch_related(
            Prefetch("members", queryset=User.objects.only("pk"))
        ).order_by("name", "pk")


# --- Meetings ----------------------------------------------------------------------------


class PanelMeetingSerializer(serializers.ModelSerializer):
    item_count = serializers.IntegerField(read_only=True, help_text="Items on the agenda.")

    class Meta:
        model = PanelMeeting
        fields = ["id", "panel", "date", "status", "chair", "closed_at", "item_count"]
        read_only_fields = fields


class AgendaReorderSerializer(serializers.Serializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        help_text="The IDs of every item on the agenda, each once, in the new order.",
    )


@extend_schema_view(
    list=extend_schema(responses={200: PanelMeetingSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: PanelMeetingSerializer, **DETAIL_ERRORS}),
)
class PanelMeetingViewSet(viewsets.ReadOnlyModelViewSet):
    """Meetings of the panels the user sits on (all of them for the Director and
    administrators). The chair reorders the agenda of an open meeting; closing one locks
    its decisions."""

    serializer_class = PanelMeetingSerializer
    filterset_class = selectors.MeetingFilter

    def get_queryset(self):
        meetings = selectors.meetings_for_list(user=self.request.user)
        return meetings.order_by("-date", "panel__name", "pk")

    @extend_schema(request=None, responses={200: PanelMeetingSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the meeting once every item has a decision; its decisions are then locked."""
        meeting = services.meeting_close(meeting=self.get_object(), by=request.user)
        return Response(PanelMeetingSerializer(self.get_queryset().get(pk=meeting.pk)).data)

    @extend_schema(
        request=AgendaReorderSerializer,
        responses={200: PanelMeetingSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reorder(self, request, pk=None):
        """Put the agenda in a new order (the chair, before the meeting closes). The items'
        positions are then listed by /agenda-items/?meeting={id}."""
        meeting = self.get_object()
        body = AgendaReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.agenda_reorder(
            meeting=meeting, item_ids=body.validated_data["item_ids"], by=request.user
        )
        return Response(PanelMeetingSerializer(self.get_queryset().get(pk=meeting.pk)).data)


# --- Agenda items ------------------------------------------------------------------------


# IDs in a request body are looked up among what the user may see, so an ID they may not
# see is refused as unknown (400), like placements.api.VisibleChildField.


class VisibleMeetingField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return meetings_visible_to(self.context["request"].user)


class VisibleReferralField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return referrals_visible_to(self.context["request"].user)


class VisibleAgendaItemField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return agenda_items_visible_to(self.context["request"].user)


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["id", "meeting", "kind", "position", "referral", "placement", "decisions"]
        read_only_fields = fields
        extra_kwargs = {"decisions": {"help_text": "Its decision, then any corrections."}}


class AgendaItemAddSerializer(serializers.Serializer):
    meeting = VisibleMeetingField(queryset=PanelMeeting.objects.all())
    referral = VisibleReferralField(
        queryset=Referral.objects.all(), help_text="An endorsed referral to list."
    )


@extend_schema_view(
    list=extend_schema(responses={200: AgendaItemSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: AgendaItemSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        request=AgendaItemAddSerializer,
        responses={201: AgendaItemSerializer, **error_responses(400, 403, 409)},
    ),
    destroy=extend_schema(responses={204: None, **error_responses(403, 404, 409)}),
)
class AgendaItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The items on the agendas of meetings the user may see. The chair adds an endorsed
    referral (POST) or takes an undecided item off (DELETE) before the meeting closes."""

    serializer_class = AgendaItemSerializer
    filterset_class = selectors.AgendaItemFilter

    def get_queryset(self):
        decision_ids = Decision.objects.only("pk", "agenda_item_id").order_by("decided_at", "pk")
        return (
            agenda_items_visible_to(self.request.user)
            .prefetch_related(Prefetch("decisions", queryset=decision_ids))
            .order_by("meeting", "position", "pk")
        )

    def create(self, request):
        body = AgendaItemAddSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        item = services.agenda_item_add(by=request.user, **body.validated_data)
        return Response(
            AgendaItemSerializer(self.get_queryset().get(pk=item.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def destroy(self, request, pk=None):
        services.agenda_item_remove(item=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Decisions ---------------------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="agenda_item.meeting_id", read_only=True)
    superseded_by = serializers.SerializerMethodField(
        help_text="The correction that replaced this decision, if any."
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "agenda_item",
            "meeting",
            "outcome",
            "rationale",
            "conditions",
            "review_date",
            "estimated_weekly_cost",
            "out_of_area",
            "chaired_by",
            "decided_by",
            "decided_at",
            "supersedes",
            "superseded_by",
        ]
        read_only_fields = fields

    def get_superseded_by(self, decision: Decision) -> int | None:
        # A missing reverse one-to-one raises an AttributeError subclass; select_related
        # has already fetched it, so this costs no query.
        correction = getattr(decision, "superseded_by", None)
        return correction.pk if correction else None


class VisibleDecisionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return decisions_visible_to(self.context["request"].user)


class DecisionRecordSerializer(serializers.Serializer):
    """A decision on an agenda item, or (with `supersedes`) a correction of a closed
    meeting's decision. Which outcomes fit which item is for panels.services."""

    agenda_item = VisibleAgendaItemField(
        queryset=AgendaItem.objects.all(), required=False,
        help_text="The item decided. Give this or supersedes.",
    )
    supersedes = VisibleDecisionField(
        queryset=Decision.objects.all(), required=False,
        help_text="The decision this corrects (closed meetings only). Give this or agenda_item.",
    )
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    rationale = serializers.CharField()
    conditions = serializers.CharField(required=False, allow_blank=True, default="")
    review_date = serializers.DateField(required=False, allow_null=True, default=None)
    estimated_weekly_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True,
        help_text="Pounds a week, if known. Not part of a correction.",
    )
    out_of_area = serializers.BooleanField(
        required=False, help_text="The placement may be outside the council's area. "
        "Not part of a correction.",
    )

    def validate(self, data):
        if ("agenda_item" in data) == ("supersedes" in data):
            raise serializers.ValidationError(
                "Give either agenda_item (a decision) or supersedes (a correction)."
            )
        if "supersedes" in data:
            # decision_correct takes neither: refuse them rather than drop them unseen.
            # (out_of_area false is what a form sends for an unticked box.)
            unchanged = "A correction does not change this."
            if data.get("estimated_weekly_cost") is not None:
                raise serializers.ValidationError({"estimated_weekly_cost": unchanged})
            if data.get("out_of_area"):
                raise serializers.ValidationError({"out_of_area": unchanged})
            data.pop("estimated_weekly_cost", None)
            data.pop("out_of_area", None)
        return data


@extend_schema_view(
    list=extend_schema(responses={200: DecisionSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: DecisionSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        request=DecisionRecordSerializer,
        responses={201: DecisionSerializer, **error_responses(400, 403, 409)},
    ),
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Decisions of meetings the user may see. POST records the chair's decision on an item
    (one per item: a second answers 409), or a correction of a closed meeting's decision."""

    serializer_class = DecisionSerializer
    filterset_class = selectors.DecisionFilter

    def get_queryset(self):
        return (
            decisions_visible_to(self.request.user)
            .select_related("agenda_item", "superseded_by")
            .order_by("decided_at", "pk")
        )

    def create(self, request):
        body = DecisionRecordSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        answers = dict(body.validated_data)
        corrected = answers.pop("supersedes", None)
        if corrected is not None:
            decision = services.decision_correct(decision=corrected, by=request.user, **answers)
        else:
            decision = services.decision_record(
                item=answers.pop("agenda_item"), by=request.user, **answers
            )
        return Response(
            DecisionSerializer(self.get_queryset().get(pk=decision.pk)).data,
            status=status.HTTP_201_CREATED,
        )


# --- The Director's approvals --------------------------------------------------------


class SeesDirectorApprovals(permissions.BasePermission):
    """The queue is the Director's; administrators may look at it but not decide."""

    message = "Only the Director and administrators see the approval queue."

    def has_permission(self, request, view):
        return sees_director_approvals(request.user)


class DirectorApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = DirectorApproval
        fields = [
            "id",
            "referral",
            "decision",
            "status",
            "is_external",
            "is_out_of_area",
            "is_above_threshold",
            "requested_at",
            "decided_by",
            "decided_at",
            "reason",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(responses={200: DirectorApprovalSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: DirectorApprovalSerializer, **DETAIL_ERRORS}),
)
class DirectorApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    """Approvals waiting for (or given by) the Director: external placements, placements
    outside the council's area, or above the weekly cost threshold."""

    serializer_class = DirectorApprovalSerializer
    permission_classes = [permissions.IsAuthenticated, SeesDirectorApprovals]
    filterset_class = selectors.DirectorApprovalFilter

    def get_queryset(self):
        return director_approvals_visible_to(self.request.user).order_by("requested_at", "pk")

    @extend_schema(
        request=OptionalReasonSerializer,
        responses={200: DirectorApprovalSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The Director approves; the referral moves on to sourcing."""
        return self._decide(approved=True, reason_serializer=OptionalReasonSerializer)

    @extend_schema(
        request=ReasonSerializer, responses={200: DirectorApprovalSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """The Director refuses, saying why; the referral is declined."""
        return self._decide(approved=False, reason_serializer=ReasonSerializer)

    def _decide(self, *, approved: bool, reason_serializer):
        approval = self.get_object()
        require_recent_password(self.request)
        body = reason_serializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        approval = services.director_decide(
            approval=approval, by=self.request.user, approved=approved,
            reason=body.validated_data["reason"],
        )
        return Response(DirectorApprovalSerializer(approval).data)
