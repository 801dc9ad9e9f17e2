"""Reads that pages and the API share. Each starts from an access helper."""

import datetime
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django_filters.widgets import BooleanWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.forms import DateInput, GovukForm
from core.models import Team
from placements.access import children_visible_to, placements_visible_to, referrals_visible_to
from placements.models import (
    BudgetLine,
    Child,
    Contribution,
    Placement,
    PlacementCost,
    Referral,
    ReferralStatus,
)

S = ReferralStatus
SOURCING_QUEUE_STATUSES = (S.READY_FOR_SOURCING, S.SOURCING, S.OPTIONS_READY, S.PROVIDER_CHOSEN)


def children_allocated_to(*, user) -> QuerySet[Child]:
    return children_visible_to(user).filter(social_worker=user).select_related("team")


def team_open_referrals(*, user) -> QuerySet[Referral]:
    """Open referrals for children of the user's team, returned ones first."""
    return (
        referrals_visible_to(user)
        .filter(child__team_id=user.team_id)
        .exclude(status__in=(S.PLACED, S.DECLINED, S.WITHDRAWN))
        .select_related("child")
        .annotate(returned_first=Case(When(status=S.RETURNED, then=0), default=1))
        .order_by("returned_first", "-updated_at", "-pk")
    )


def referrals_awaiting_endorsement(*, user) -> QuerySet[Referral]:
    return (
        referrals_visible_to(user)
        .filter(child__team_id=user.team_id, status=S.SUBMITTED)
        .select_related("child", "created_by")
        .order_by("created_at")
    )


def sourcing_queue(*, user) -> QuerySet[Referral]:
    """Approved referrals the commissioning team is working on, emergencies first."""
    return (
        referrals_visible_to(user)
        .filter(status__in=SOURCING_QUEUE_STATUSES)
        .select_related("child", "child__team")
        .order_by("-is_emergency", "wanted_start_date", "pk")
    )


def current_weekly_cost(day: datetime.date) -> Subquery:
    """The gross weekly cost in force on `day`, for annotating placements."""
    in_force = PlacementCost.objects.filter(
        placement=OuterRef("pk"), effective_from__lte=day
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
    return Subquery(
        in_force.order_by("-effective_from").values("weekly_amount")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


MONEY_FIELD = DecimalField(max_digits=12, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY_FIELD)


def _contribution_total(day: datetime.date, field: str) -> Coalesce:
    in_force = Contribution.objects.filter(placement=OuterRef("pk"), start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=day)
    )
    total = in_force.values("placement").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD)


def with_net_weekly_cost(placements: QuerySet[Placement], *, on: datetime.date):
    """Annotate gross weekly cost, contributions and net cost to the council on a day.
    Net = gross − fixed contributions − gross × percentage contributions / 100."""
    return placements.annotate(
        weekly_cost=current_weekly_cost(on),
        fixed_contributions=_contribution_total(on, "weekly_amount"),
        percentage_contributions=_contribution_total(on, "percentage"),
    ).annotate(
        net_weekly_cost=ExpressionWrapper(
            F("weekly_cost")
            - F("fixed_contributions")
            - F("weekly_cost") * F("percentage_contributions") / Value(Decimal("100")),
            output_field=MONEY_FIELD,
        )
    )


def costliest_active_placements_by_net_cost(*, on: datetime.date, limit: int):
    """The whole authority's most expensive running placements, for the high-cost review
    (a system read: the panel sees every placement)."""
    running = Placement.objects.filter(start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=on)
    )
    return (
        with_net_weekly_cost(running, on=on)
        .filter(weekly_cost__isnull=False)
        .order_by("-net_weekly_cost", "pk")[:limit]
    )


def active_placements(*, user, on: datetime.date) -> QuerySet[Placement]:
    return placements_visible_to(user).filter(start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=on)
    )


def costliest_active_placements(*, user, on: datetime.date, limit: int = 10):
    return (
        active_placements(user=user, on=on)
        .annotate(weekly_cost=current_weekly_cost(on))
        .filter(weekly_cost__isnull=False)
        .select_related("child", "service", "service__provider")
        .order_by("-weekly_cost", "pk")[:limit]
    )


def budget_lines_for_year(*, start_year: int) -> QuerySet[BudgetLine]:
    return (
        BudgetLine.objects.filter(financial_year__start_year=start_year)
        .select_related("financial_year")
        .annotate(rule_count=Count("rules"))
        .order_by("name")
    )


class AnyYesNo(BooleanWidget):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


# The largest ID a PostgreSQL bigint holds: a larger number is refused (400), never sent.
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A record's system ID, typed in a text box. Any whole number in range is taken
    without asking whether the record exists, so an ID the user may not see and one that
    does not exist answer alike, with an empty list. Never a <select>: DRF's browsable API
    renders each list's filter form, and a select would list every record, each named by
    its child's local ID, to anyone who may read the list."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"})
        )
        super().__init__(*args, **kwargs)


def referral_id_filter(**kwargs) -> IdFilter:
    return IdFilter(**kwargs)


class ReferralFilter(django_filters.FilterSet):
    """Filters for the referral list page and /api/v1/referrals/."""

    status = django_filters.MultipleChoiceFilter(
        choices=ReferralStatus.choices, widget=forms.CheckboxSelectMultiple, label="Status"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="child__team", queryset=Team.objects.all(), label="Team", empty_label="Any"
    )
    # A value that is not a whole number in range (text, 1e30, too many digits) is a form
    # error (400 in the API) rather than reaching the database.
    child = IdFilter(
        field_name="child",
        label="Child (system ID)",
        error_messages={key: "Enter the system ID of a child, for example 42"
                        for key in ("invalid", "min_value", "max_value")},
    )
    is_emergency = django_filters.BooleanFilter(label="Emergency", widget=AnyYesNo)
    created_after = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="gte", label="Started on or after",
        widget=DateInput,
    )
    created_before = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="lte", label="Started on or before",
        widget=DateInput,
    )
    wanted_from = django_filters.DateFilter(
        field_name="wanted_start_date", lookup_expr="gte", label="Wanted from, on or after",
        widget=DateInput,
    )
    wanted_to = django_filters.DateFilter(
        field_name="wanted_start_date", lookup_expr="lte", label="Wanted from, on or before",
        widget=DateInput,
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("updated_at", "updated"),
            ("created_at", "created"),
            ("wanted_start_date", "wanted"),
            ("status", "status"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Referral
        fields = ["status", "team", "child", "is_emergency"]
        form = GovukForm
