"""python manage.py seed_budget_history [--years 4]: give the demo earlier financial years.

seed_demo makes budget lines for the current and the previous year only, but its
placements reach further back. For measuring the rollups over several years
(docs/performance.md), this copies the previous year's budget lines and rules to the
years before it, 5% smaller per year. Safe to run again: existing years are left alone.
"""

from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from placements.models import BudgetLine, BudgetLineRule, FinancialYear
from providers.reference import financial_year_label, financial_year_start

SHRINK_PER_YEAR = Decimal("0.95")
PENNY = Decimal("0.01")


class Command(BaseCommand):
    help = "Copy last financial year's budget lines and rules to the years before it."

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=4, help="How many earlier years.")

    @transaction.atomic
    def handle(self, *args, years: int, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError("Demo data is not allowed with these settings. Nothing was changed.")
        previous = financial_year_start(timezone.localdate()) - 1
        earliest = FinancialYear.objects.filter(start_year=previous).first()
        if earliest is None:
            raise CommandError("No budget for last financial year: run seed_demo first.")
        lines = list(BudgetLine.objects.filter(financial_year=earliest).prefetch_related("rules"))
        for back in range(1, years + 1):
            year, created = FinancialYear.objects.get_or_create(start_year=earliest.start_year - back)
            if not created:
                continue
            for line in lines:
                copy = BudgetLine.objects.create(
                    financial_year=year, name=line.name,
                    amount=(line.amount * SHRINK_PER_YEAR**back).quantize(PENNY),
                )
                BudgetLineRule.objects.bulk_create(
                    BudgetLineRule(budget_line=copy, financial_year=year,
                                   placement_type=rule.placement_type,
                                   place_provider=rule.place_provider)
                    for rule in line.rules.all()
                )
            self.stdout.write(f"{financial_year_label(year.start_year)}: {len(lines)} budget lines.")
