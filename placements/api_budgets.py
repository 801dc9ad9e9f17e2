"""/api/v1/budget-lines/, /api/v1/weekly-costs/ and /api/v1/budget-positions/: the budget
pages' reads and writes for systems.

Budget lines: finance managers and administrators read, finance managers write (the
service decides again). The weekly cost ledger and budget positions are derived tables
written only by the rollup, so read-only here; the dashboard's authority-wide readers read
them. Errors: 403 for a role that may not, 404 for no such object, 400 for refused data
(a filter that is not a valid value included), 409 for a clash.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, NamedChoiceField, error_responses
from placements import selectors_budgets as selectors
from placements.models import (
    BudgetAdjustment,
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    FinancialYear,
    WeeklyCostLedgerRow,
)
from placements.services import budgets as services
from providers.reference import PlacementType, PlaceProvider, ProviderKind, financial_year_label

LIST_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
CREATE_ERRORS = error_responses(400, 403, 409)
YEAR_HELP = "The year the financial year starts in: 2026 is 1 April 2026 – 31 March 2027."


class ReadsBudgets(permissions.BasePermission):
    message = "Only finance managers and administrators see budgets."

    def has_permission(self, request, view):
        return selectors.reads_budgets(request.user)


class ReadsRollups(permissions.BasePermission):
    message = ("Only finance managers, administrators, the Director and commissioning "
               "officers see the weekly costs and budget positions.")

    def has_permission(self, request, view):
        return selectors.reads_rollups(request.user)


# --- Budget lines: what the API shows ------------------------------------------------------


class BudgetLineRuleSerializer(serializers.Serializer):
    placement_type = NamedChoiceField(PlacementType)
    place_provider = NamedChoiceField(
        PlaceProvider, allow_blank=True, required=False, default="",
        help_text="The SSDA903 provider code; empty for placements that have none.",
    )


class BudgetAdjustmentSerializer(serializers.ModelSerializer):
    by_name = serializers.SerializerMethodField()

    class Meta:
        model = BudgetAdjustment
        fields = ["id", "previous_amount", "new_amount", "reason", "by", "by_name", "at"]
        read_only_fields = fields

    def get_by_name(self, adjustment: BudgetAdjustment) -> str:
        return adjustment.by.get_full_name() or adjustment.by.username


class BudgetLineSerializer(serializers.ModelSerializer):
    """A line with its rules, their summary in words and every adjustment, latest first."""

    financial_year = serializers.IntegerField(source="financial_year.start_year",
                                              read_only=True, help_text=YEAR_HELP)
    financial_year_label = serializers.SerializerMethodField(help_text="For example 2026/27.")
    rules = BudgetLineRuleSerializer(many=True, read_only=True)
    rules_summary = serializers.SerializerMethodField(
        help_text='The rules in words, e.g. "U4–U6 with private or voluntary provision (PR4, PR5)".'
    )
    adjustments = BudgetAdjustmentSerializer(many=True, read_only=True)

    class Meta:
        model = BudgetLine
        fields = ["id", "financial_year", "financial_year_label", "name", "amount", "rules",
                  "rules_summary", "adjustments"]
        read_only_fields = fields

    def get_financial_year_label(self, line: BudgetLine) -> str:
        return financial_year_label(line.financial_year.start_year)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_rules_summary(self, line: BudgetLine) -> list[str]:
        return selectors.describe_rules(line.rules.all())


def with_line_details(lines):
    """What BudgetLineSerializer reads, in a fixed number of queries."""
    return lines.select_related("financial_year").prefetch_related(
        Prefetch("rules", queryset=BudgetLineRule.objects.order_by("placement_type", "place_provider")),
        Prefetch("adjustments",
                 queryset=BudgetAdjustment.objects.select_related("by").order_by("-at", "-pk")),
    )


# --- Budget lines: what the API accepts ----------------------------------------------------


class BudgetRulesInputSerializer(serializers.Serializer):
    rules = BudgetLineRuleSerializer(
        many=True, max_length=len(PlacementType) * (len(PlaceProvider) + 1),
        help_text="Every placement type and provider code the line covers (replaces the "
        "line's rules). A pair may belong to one line a year only.",
    )

    def rule_pairs(self) -> list[tuple[str, str]]:
        return [(rule["placement_type"], rule["place_provider"])
                for rule in self.validated_data["rules"]]


class BudgetLineCreateSerializer(BudgetRulesInputSerializer):
    financial_year = serializers.SlugRelatedField(
        slug_field="start_year", queryset=FinancialYear.objects.all(),
        help_text=f"{YEAR_HELP} The year must be open.",
    )
    name = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    rules = BudgetLineRuleSerializer(
        many=True, required=False, default=list,
        max_length=len(PlacementType) * (len(PlaceProvider) + 1),
        help_text="The placement types and provider codes the line covers.",
    )


class BudgetAdjustSerializer(serializers.Serializer):
    new_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    reason = serializers.CharField(help_text="Why the budget changes: kept with the line.")
    expected_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None,
        help_text="The amount you last saw; if the line has changed since, 409.",
    )


# --- Budget lines: the endpoint ----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: BudgetLineSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: BudgetLineSerializer, **DETAIL_ERRORS}),
)
class BudgetLineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Budget lines per financial year, with the placement types × SSDA903 provider codes
    each covers and the log of adjustments. No DELETE; the amount changes only through
    `adjust`, which logs it."""

    serializer_class = BudgetLineSerializer
    filterset_class = selectors.BudgetLineFilter
    permission_classes = [permissions.IsAuthenticated, ReadsBudgets]

    def get_queryset(self):
        lines = BudgetLine.objects.order_by("-financial_year__start_year", "name", "pk")
        if self.action in ("list", "retrieve"):
            return with_line_details(lines)
        return lines.select_related("financial_year")

    @extend_schema(request=BudgetLineCreateSerializer,
                   responses={201: BudgetLineSerializer, **CREATE_ERRORS})
    def create(self, request):
        """Add a line to an open year, with its amount and rules."""
        body = BudgetLineCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        line = services.budget_line_create(
            by=request.user, financial_year=data["financial_year"], name=data["name"],
            amount=data["amount"], rules=body.rule_pairs(),
        )
        return self._line_response(line, code=status.HTTP_201_CREATED)

    @extend_schema(request=BudgetAdjustSerializer,
                   responses={200: BudgetLineSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """Change the line's amount, with a reason; the change is logged."""
        line = self.get_object()
        body = BudgetAdjustSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.budget_line_adjust(by=request.user, line=line, **body.validated_data)
        return self._line_response(line)

    @extend_schema(request=BudgetRulesInputSerializer,
                   responses={200: BudgetLineSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def rules(self, request, pk=None):
        """Replace the placement types and provider codes the line covers. Refused (400),
        naming the other line, when a pair already belongs to another line that year."""
        line = self.get_object()
        body = BudgetRulesInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.budget_line_update_rules(by=request.user, line=line, rules=body.rule_pairs())
        return self._line_response(line)

    def _line_response(self, line: BudgetLine, code=status.HTTP_200_OK) -> Response:
        fresh = with_line_details(BudgetLine.objects.all()).get(pk=line.pk)
        return Response(BudgetLineSerializer(fresh).data, status=code)


# --- The weekly cost ledger and budget positions (read-only) -------------------------------


class WeeklyCostSerializer(serializers.ModelSerializer):
    financial_year = serializers.IntegerField(source="financial_year.start_year", read_only=True,
                                              help_text=YEAR_HELP)
    budget_line_name = serializers.CharField(source="budget_line.name", read_only=True)
    provider_kind = NamedChoiceField(ProviderKind, read_only=True)

    class Meta:
        model = WeeklyCostLedgerRow
        fields = ["id", "week_start", "financial_year", "budget_line", "budget_line_name",
                  "provider_kind", "on_framework", "active_placements", "child_days",
                  "gross_cost", "contributions", "net_cost"]
        read_only_fields = fields
        extra_kwargs = {"week_start": {"help_text": "The Monday the week starts on."}}


@extend_schema_view(
    list=extend_schema(responses={200: WeeklyCostSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: WeeklyCostSerializer, **DETAIL_ERRORS}),
)
class WeeklyCostViewSet(viewsets.ReadOnlyModelViewSet):
    """The weekly cost ledger: per week (Monday start) × budget line × provider kind ×
    framework, the active placements, child-days, gross cost, contributions and net cost.
    Derived by the rollup from the cost rows; never written here."""

    serializer_class = WeeklyCostSerializer
    filterset_class = selectors.WeeklyCostFilter
    permission_classes = [permissions.IsAuthenticated, ReadsRollups]

    def get_queryset(self):
        return selectors.weekly_costs()


class BudgetPositionSerializer(serializers.ModelSerializer):
    financial_year = serializers.IntegerField(source="budget_line.financial_year.start_year",
                                              read_only=True, help_text=YEAR_HELP)
    budget_line_name = serializers.CharField(source="budget_line.name", read_only=True)

    class Meta:
        model = BudgetPositionSnapshot
        fields = ["id", "week_start", "financial_year", "budget_line", "budget_line_name",
                  "budget", "actual_to_date", "committed_to_year_end", "projected_outturn",
                  "variance", "taken_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(responses={200: BudgetPositionSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: BudgetPositionSerializer, **DETAIL_ERRORS}),
)
class BudgetPositionViewSet(viewsets.ReadOnlyModelViewSet):
    """Where each budget line stood each week: budget, actual to date, committed to year
    end, projected outturn and variance (overspend positive). Derived by the rollup."""

    serializer_class = BudgetPositionSerializer
    filterset_class = selectors.BudgetPositionFilter
    permission_classes = [permissions.IsAuthenticated, ReadsRollups]

    def get_queryset(self):
        return selectors.budget_positions()
