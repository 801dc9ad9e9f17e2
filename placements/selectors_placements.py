"""Reads of placements over time that the placement pages and /api/v1/placements/ share:
the list with its filters, a placement's cost history, and the child's placement history
with its stability. Each starts from placements.access.placements_visible_to."""

import dataclasses
import datetime

import django_filters
from django import forms
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.forms import GovukForm
from core.models import Team
from placements.access import placements_visible_to
from placements.models import BudgetLine, BudgetLineRule, Placement, PlacementCost
from placements.selectors import AnyYesNo, with_net_weekly_cost
from providers.models import Provider
from providers.reference import PlacementType, ProviderKind

# A child with this many placements in the last 12 months is a stability concern.
STABILITY_FLAG_AT = 3


def placements_for_list(*, user, on: datetime.date | None = None) -> QuerySet[Placement]:
    """The placements the user may see, with what the list shows: child, team, service,
    provider, and the gross and net weekly cost on `on` (today)."""
    on = on or timezone.localdate()
    visible = placements_visible_to(user).select_related(
        "child", "child__team", "service", "service__provider"
    )
    return with_net_weekly_cost(visible, on=on).order_by("-start_date", "-pk")


class PlacementFilter(django_filters.FilterSet):
    """Filters for the placement list page and /api/v1/placements/."""

    STATUS_CHOICES = [("active", "Active (not ended)"), ("ended", "Ended")]

    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label="Active or ended",
        empty_label="Any", widget=forms.RadioSelect,
    )
    placement_type = django_filters.MultipleChoiceFilter(
        choices=PlacementType.choices, widget=forms.CheckboxSelectMultiple, label="Placement type"
    )
    provider_kind = django_filters.MultipleChoiceFilter(
        field_name="service__provider__kind", choices=ProviderKind.choices,
        widget=forms.CheckboxSelectMultiple, label="Provider kind",
    )
    team = django_filters.ModelChoiceFilter(
        field_name="child__team", queryset=Team.objects.all(), label="Team", empty_label="Any"
    )
    on_framework = django_filters.BooleanFilter(label="On a framework", widget=AnyYesNo)
    # Model choices, so text or 1e30 is a form error (400 in the API), not a database error.
    provider = django_filters.ModelChoiceFilter(
        field_name="service__provider", queryset=Provider.objects.all(), label="Provider"
    )
    budget_line = django_filters.ModelChoiceFilter(
        queryset=BudgetLine.objects.select_related("financial_year"), method="filter_budget_line",
        label="Budget line",
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("start_date", "start"),
            ("end_date", "end"),
            ("weekly_cost", "weekly_cost"),
            ("net_weekly_cost", "net_weekly_cost"),
        ),
        field_labels={
            "start_date": "Start date", "end_date": "End date",
            "weekly_cost": "Weekly cost", "net_weekly_cost": "Net weekly cost",
        },
        label="Sort by",
    )

    class Meta:
        model = Placement
        fields = ["status", "placement_type", "provider_kind", "team", "on_framework",
                  "provider", "budget_line"]
        form = GovukForm

    def filter_status(self, placements, name, value):
        today = timezone.localdate()
        ended = Q(end_date__isnull=False, end_date__lte=today)
        return placements.filter(ended) if value == "ended" else placements.exclude(ended)

    @extend_schema_field(OpenApiTypes.INT)  # the method hides the line's ID type
    def filter_budget_line(self, placements, name, line: BudgetLine):
        """Placements the line's rules cover that ran during the line's financial year."""
        year = line.financial_year
        rules = BudgetLineRule.objects.filter(
            budget_line=line, placement_type=OuterRef("placement_type"),
            place_provider=OuterRef("place_provider"),
        )
        ran_in_year = Q(start_date__lte=year.end_date) & (
            Q(end_date__isnull=True) | Q(end_date__gt=year.start_date)
        )
        return placements.filter(Exists(rules)).filter(ran_in_year)


# --- One placement ------------------------------------------------------------------------


def cost_history(placement: Placement) -> list[PlacementCost]:
    """Every weekly cost row, oldest first, each with `last_day` (inclusive) for display."""
    rows = list(placement.costs.select_related("created_by").order_by("effective_from", "pk"))
    for row in rows:
        row.last_day = row.effective_to - datetime.timedelta(days=1) if row.effective_to else None
    return rows


def budget_line_of(placement: Placement, *, start_year: int) -> BudgetLine | None:
    """The line of that financial year whose rules cover the placement, if any."""
    rule = (
        BudgetLineRule.objects.filter(
            financial_year__start_year=start_year, placement_type=placement.placement_type,
            place_provider=placement.place_provider,
        )
        .select_related("budget_line")
        .first()
    )
    return rule.budget_line if rule else None


# --- The child's placements and stability ---------------------------------------------------


def twelve_months_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def in_last_12_months(day: datetime.date) -> Q:
    """Placements the child lived in at some time in the 12 months to `day` (inclusive):
    started by then, and not ceased before the window opened."""
    opened = twelve_months_before(day)
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=opened))


@dataclasses.dataclass
class Stability:
    placements_in_last_12_months: int
    since: datetime.date

    @property
    def flagged(self) -> bool:
        return self.placements_in_last_12_months >= STABILITY_FLAG_AT


def child_placement_history(*, user, child_id: int, on: datetime.date | None = None):
    """The child's placements the user may see, newest first, and the child's stability
    on `on` (today): how many of them the child lived in during the last 12 months."""
    on = on or timezone.localdate()
    placements = list(
        placements_visible_to(user).filter(child_id=child_id)
        .annotate(in_last_12_months=ExpressionWrapper(
            in_last_12_months(on), output_field=BooleanField()
        ))
        .select_related("service", "service__provider").order_by("-start_date", "-pk")
    )
    recent = sum(1 for placement in placements if placement.in_last_12_months)
    return placements, Stability(
        placements_in_last_12_months=recent, since=twelve_months_before(on)
    )
