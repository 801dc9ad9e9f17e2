"""Reads for the budget pages and the budget API: years and their lines, how each line's
rules read in words, the placements no rule covers, and the FilterSets of
/api/v1/budget-lines/, /weekly-costs/ and /budget-positions/."""

from collections import defaultdict

import django_filters
from django import forms
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from core.forms import DateInput, GovukForm
from core.roles import Role, has_role
from placements.access import placements_visible_to
from placements.models import (
    BudgetAdjustment,
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    FinancialYear,
    Placement,
    WeeklyCostLedgerRow,
)
from providers.reference import PlacementType, ProviderKind, financial_year_start

# Who reads budgets; only finance managers change them (placements.services.budgets).
BUDGET_READERS = (Role.FINANCE_MANAGER, Role.ADMINISTRATOR)
# Who reads the ledger and positions: authority-wide figures with no team in them, so the
# dashboard's readers who see the whole authority (team managers see their team's
# placements on the dashboard, not these tables).
ROLLUP_READERS = (Role.FINANCE_MANAGER, Role.ADMINISTRATOR, Role.DIRECTOR,
                  Role.COMMISSIONING_OFFICER)
FIRST_YEAR, LAST_YEAR = 2000, 2100


def reads_budgets(user) -> bool:
    return has_role(user, *BUDGET_READERS)


def edits_budgets(user) -> bool:
    return has_role(user, Role.FINANCE_MANAGER)


def reads_rollups(user) -> bool:
    return has_role(user, *ROLLUP_READERS)


# --- Years and lines -----------------------------------------------------------------------


def financial_years() -> QuerySet[FinancialYear]:
    """Every open year, latest first, with its number of lines and their total."""
    return FinancialYear.objects.annotate(
        line_count=Count("budget_lines"), total=Sum("budget_lines__amount")
    ).order_by("-start_year")


def default_year(years: list[FinancialYear]) -> FinancialYear | None:
    """This financial year if it is open, else the latest one."""
    this_year = financial_year_start(timezone.localdate())
    return next((y for y in years if y.start_year == this_year), years[0] if years else None)


def rules_in_order() -> Prefetch:
    return Prefetch("rules", queryset=BudgetLineRule.objects.order_by(
        "placement_type", "place_provider"))


def budget_lines_of(*, financial_year: FinancialYear) -> QuerySet[BudgetLine]:
    """A year's lines with their rules (prefetched) and how often each was adjusted."""
    return (
        BudgetLine.objects.filter(financial_year=financial_year)
        .select_related("financial_year")
        .annotate(adjustment_count=Count("adjustments"))
        .prefetch_related(rules_in_order())
        .order_by("name", "pk")
    )


def budget_line_with_history(*, pk: int) -> BudgetLine:
    adjustments = Prefetch(
        "adjustments", queryset=BudgetAdjustment.objects.select_related("by").order_by("-at", "-pk")
    )
    return (
        BudgetLine.objects.select_related("financial_year")
        .prefetch_related(rules_in_order(), adjustments)
        .get(pk=pk)
    )


def rule_owners(*, financial_year: FinancialYear, exclude_line: BudgetLine | None = None
                ) -> dict[tuple[str, str], str]:
    """(placement type, provider code) → the name of the line it belongs to this year."""
    rules = BudgetLineRule.objects.filter(financial_year=financial_year)
    if exclude_line is not None:
        rules = rules.exclude(budget_line=exclude_line)
    return {
        (placement_type, place_provider): name
        for placement_type, place_provider, name in rules.values_list(
            "placement_type", "place_provider", "budget_line__name")
    }


# --- Rules in words ------------------------------------------------------------------------

TYPE_ORDER = {code: index for index, code in enumerate(PlacementType.values)}
# "with private or voluntary provision (PR4, PR5)"
PROVISION_WORDS = {
    "PR0": "parental", "PR1": "own", "PR2": "other local authority", "PR3": "other public",
    "PR4": "private", "PR5": "voluntary",
}


def describe_rules(rules) -> list[str]:
    """A line's rules as short phrases, e.g. ["U4–U6 with private or voluntary provision
    (PR4, PR5)"]: types sharing the same provider codes are grouped, and runs of three or
    more consecutive codes written as a range."""
    codes_by_type: dict[str, set[str]] = defaultdict(set)
    for rule in rules:
        codes_by_type[rule.placement_type].add(rule.place_provider)
    types_by_codes: dict[frozenset, list[str]] = defaultdict(list)
    for placement_type in sorted(codes_by_type, key=_type_position):
        types_by_codes[frozenset(codes_by_type[placement_type])].append(placement_type)
    return [f"{_type_ranges(types)} with {_provision(codes)}"
            for codes, types in types_by_codes.items()]


def _type_position(code: str) -> int:
    return TYPE_ORDER.get(code, len(TYPE_ORDER))


def _type_ranges(types: list[str]) -> str:
    runs: list[list[str]] = []
    for code in types:
        previous = runs[-1][-1] if runs else None
        if previous and _type_position(code) == _type_position(previous) + 1 and code[0] == previous[0]:
            runs[-1].append(code)
        else:
            runs.append([code])
    parts = []
    for run in runs:
        parts.extend([f"{run[0]}–{run[-1]}"] if len(run) >= 3 else run)
    return ", ".join(parts)


def _provision(codes: frozenset) -> str:
    named = sorted(code for code in codes if code)
    phrases = []
    if named:
        words = [PROVISION_WORDS.get(code, code) for code in named]
        listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
        phrases.append(f"{listed} provision ({', '.join(named)})")
    if "" in codes:
        phrases.append("no provider code")
    return " or ".join(phrases)


# --- Placements no rule covers -------------------------------------------------------------


def active_in_year(placements: QuerySet[Placement], year: FinancialYear) -> QuerySet[Placement]:
    """Placements with at least one night in the year. end_date is the day the placement
    ceased, so one that ended on 1 April had its last night in the year before."""
    return placements.filter(start_date__lte=year.end_date).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=year.start_date)
    )


def _covered_by_a_rule(year: FinancialYear) -> Exists:
    return Exists(BudgetLineRule.objects.filter(
        financial_year=year, placement_type=OuterRef("placement_type"),
        place_provider=OuterRef("place_provider"),
    ))


def unmapped_placements(*, user, financial_year: FinancialYear) -> QuerySet[Placement]:
    """The placements active in the year whose type and provider code no rule of that year
    covers: they are in no budget line, so not in the ledger. (None can be in two lines:
    the database allows one rule per type and code a year.)"""
    return (
        active_in_year(placements_visible_to(user), financial_year)
        .filter(~_covered_by_a_rule(financial_year))
        .select_related("service", "service__provider")
        .order_by("placement_type", "place_provider", "start_date", "pk")
    )


def unmapped_pairs(placements: QuerySet[Placement]) -> list[dict]:
    """The unmapped placements counted by type and provider code."""
    return list(
        placements.order_by()
        .values("placement_type", "place_provider")
        .annotate(placements=Count("pk"))
        .order_by("placement_type", "place_provider")
    )


def mapped_counts(*, user, financial_year: FinancialYear) -> dict[int, int]:
    """Line ID → the number of placements active in the year that fall in it."""
    rules = BudgetLineRule.objects.filter(financial_year=financial_year)
    rows = (
        active_in_year(placements_visible_to(user), financial_year).order_by()
        .annotate(line=rules.filter(
            placement_type=OuterRef("placement_type"), place_provider=OuterRef("place_provider"),
        ).values("budget_line")[:1])
        .filter(line__isnull=False)
        .values("line").annotate(placements=Count("pk"))
    )
    return {row["line"]: row["placements"] for row in rows}


# --- API filters ---------------------------------------------------------------------------


class IntegerFilter(django_filters.NumberFilter):
    """An integer, refused (400) outside the range given, so that no value can overflow a
    column on PostgreSQL."""

    field_class = forms.IntegerField


class StrictBooleanField(forms.NullBooleanField):
    """true or false; anything else is refused rather than ignored."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError("Enter true or false", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


def _year_filter(field_name: str) -> IntegerFilter:
    return IntegerFilter(
        field_name=field_name, min_value=FIRST_YEAR, max_value=LAST_YEAR - 1,
        label="Financial year (the year it starts in: 2026 is 2026/27)",
    )


class WeekRangeForm(GovukForm):
    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("week_from"), cleaned.get("week_to")
        if first and last and first > last:
            self.add_error("week_to", "The last week must be on or after the first week")
        return cleaned


class BudgetLineFilter(django_filters.FilterSet):
    year = _year_filter("financial_year__start_year")

    class Meta:
        model = BudgetLine
        fields = ["year"]
        form = GovukForm


class _WeeklyFilter(django_filters.FilterSet):
    week_from = django_filters.DateFilter(
        field_name="week_start", lookup_expr="gte", widget=DateInput,
        label="Weeks starting on or after (a date)",
    )
    week_to = django_filters.DateFilter(
        field_name="week_start", lookup_expr="lte", widget=DateInput,
        label="Weeks starting on or before (a date)",
    )
    budget_line = django_filters.ModelChoiceFilter(
        queryset=BudgetLine.objects.all(), label="Budget line",
        error_messages={"invalid_choice": "Select a budget line that exists"},
    )


class WeeklyCostFilter(_WeeklyFilter):
    year = _year_filter("financial_year__start_year")
    provider_kind = django_filters.ChoiceFilter(choices=ProviderKind.choices,
                                                label="Kind of provider")
    on_framework = StrictBooleanFilter(label="Bought under a framework (true or false)")

    class Meta:
        model = WeeklyCostLedgerRow
        fields = ["year", "week_from", "week_to", "budget_line", "provider_kind", "on_framework"]
        form = WeekRangeForm


class BudgetPositionFilter(_WeeklyFilter):
    year = _year_filter("budget_line__financial_year__start_year")

    class Meta:
        model = BudgetPositionSnapshot
        fields = ["year", "week_from", "week_to", "budget_line"]
        form = WeekRangeForm


def weekly_costs() -> QuerySet[WeeklyCostLedgerRow]:
    return WeeklyCostLedgerRow.objects.select_related("financial_year", "budget_line").order_by(
        "week_start", "budget_line__name", "budget_line_id", "provider_kind", "on_framework", "pk"
    )


def budget_positions() -> QuerySet[BudgetPositionSnapshot]:
    return BudgetPositionSnapshot.objects.select_related(
        "budget_line", "budget_line__financial_year"
    ).order_by("week_start", "budget_line__name", "budget_line_id", "pk")
