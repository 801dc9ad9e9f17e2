from django.conf import settings
from django.db import models
from django.db.models import Q

from providers.models import MONEY, non_negative
from providers.reference import (
    PlacementType,
    PlaceProvider,
    ProviderKind,
    financial_year_bounds,
    financial_year_label,
)


class FinancialYear(models.Model):
    """1 April to 31 March, named by the year it starts in (2025 is 2025/26)."""

    start_year = models.PositiveSmallIntegerField(unique=True)

    class Meta:
        ordering = ["-start_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__gte=2000, start_year__lte=2100),
                name="financial_year_range",
            )
        ]

    def __str__(self):
        return financial_year_label(self.start_year)

    @property
    def start_date(self):
        return financial_year_bounds(self.start_year)[0]

    @property
    def end_date(self):
        return financial_year_bounds(self.start_year)[1]


class BudgetLine(models.Model):
    """A year's budget for a group of placements (e.g. "Independent fostering agencies").
    Which placements fall in it is data: its BudgetLineRule rows."""

    financial_year = models.ForeignKey(
        FinancialYear, on_delete=models.PROTECT, related_name="budget_lines"
    )
    name = models.CharField(max_length=100)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["financial_year", "name"]
        constraints = [
            non_negative("amount", "budget_line_amount_non_negative"),
            models.UniqueConstraint(fields=["financial_year", "name"], name="budget_line_name_once"),
        ]

    def __str__(self):
        return f"{self.name} {self.financial_year}"


class BudgetLineRule(models.Model):
    """Puts placements of one SSDA903 type and provider code into a budget line.

    The year is repeated here so that the database can refuse a second rule for the same
    type and provider code in one year: every placement falls in at most one line.
    """

    budget_line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="rules")
    financial_year = models.ForeignKey(FinancialYear, on_delete=models.CASCADE, related_name="+")
    placement_type = models.CharField(max_length=3, choices=PlacementType.choices)
    place_provider = models.CharField(max_length=3, choices=PlaceProvider.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["financial_year", "placement_type", "place_provider"],
                name="budget_line_rule_once_per_year",
            )
        ]


class BudgetAdjustment(models.Model):
    """A logged change to a budget line's amount."""

    budget_line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="adjustments")
    previous_amount = models.DecimalField(**MONEY)
    new_amount = models.DecimalField(**MONEY)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["budget_line", "at"]
        constraints = [
            non_negative("new_amount", "budget_adjustment_non_negative"),
            models.CheckConstraint(condition=~Q(reason=""), name="budget_adjustment_has_reason"),
        ]


class WeeklyCostLedgerRow(models.Model):
    """Derived, never typed in: one week (Monday start) × budget line × provider kind ×
    framework, rebuilt from cost and contribution rows by the rollup. Placements that no
    budget line covers are not in the ledger; the mapping page lists them."""

    week_start = models.DateField()
    financial_year = models.ForeignKey(FinancialYear, on_delete=models.CASCADE, related_name="+")
    budget_line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="ledger_rows")
    provider_kind = models.CharField(max_length=30, choices=ProviderKind.choices)
    on_framework = models.BooleanField()
    active_placements = models.PositiveIntegerField()
    child_days = models.PositiveIntegerField()
    gross_cost = models.DecimalField(**MONEY)
    contributions = models.DecimalField(**MONEY)
    net_cost = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["week_start", "budget_line"]
        constraints = [
            models.UniqueConstraint(
                fields=["week_start", "budget_line", "provider_kind", "on_framework"],
                name="ledger_row_once",
            ),
            non_negative("gross_cost", "ledger_gross_non_negative"),
            non_negative("contributions", "ledger_contributions_non_negative"),
        ]


class BudgetPositionSnapshot(models.Model):
    """Derived: where a budget line stood in a given week, kept so the forecast's trend
    can be charted."""

    week_start = models.DateField()
    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.CASCADE, related_name="position_snapshots"
    )
    budget = models.DecimalField(**MONEY)
    actual_to_date = models.DecimalField(**MONEY)
    committed_to_year_end = models.DecimalField(**MONEY)
    projected_outturn = models.DecimalField(**MONEY)
    variance = models.DecimalField(**MONEY, help_text="Overspend is positive.")
    taken_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["budget_line", "week_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["week_start", "budget_line"], name="budget_position_once_per_week"
            )
        ]
