"""python manage.py rollup [--year 2025 ...] [--all-years] [--rebuild]: the weekly cost
ledger and budget positions, by the same functions the Celery tasks call."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from placements import rollups
from placements.models import BudgetPositionSnapshot, FinancialYear, WeeklyCostLedgerRow
from providers.reference import financial_year_bounds, financial_year_label, financial_year_start


class Command(BaseCommand):
    help = (
        "Bring the weekly cost ledger up to date and take this week's budget positions; "
        "with --rebuild, rebuild whole financial years (ledger and every weekly position)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, action="append", dest="years", metavar="YEAR",
            help="A financial year by the year it starts in (2025 is 2025/26); repeatable. "
            "Default: the current year.",
        )
        parser.add_argument("--all-years", action="store_true",
                            help="Every financial year in the database.")
        parser.add_argument("--rebuild", action="store_true",
                            help="Rebuild from scratch, with a progress bar.")

    def handle(self, *args, years, all_years, rebuild, **options):
        today = timezone.localdate()
        if all_years:
            years = list(FinancialYear.objects.order_by("start_year").values_list(
                "start_year", flat=True))
        elif not years:
            years = [financial_year_start(today)]
        missing = sorted(set(years) - set(FinancialYear.objects.filter(
            start_year__in=years).values_list("start_year", flat=True)))
        if missing:
            raise CommandError(
                "No such financial year: " + ", ".join(financial_year_label(y) for y in missing))
        for year in sorted(set(years)):
            started = time.perf_counter()
            if rebuild:
                self.rebuild(year, today=today)
            else:
                start, end = financial_year_bounds(year)
                rollups.refresh_days(first_day=start, last_day=end, today=today)
            self.stdout.write(
                f"{financial_year_label(year)}: rollups up to date in "
                f"{time.perf_counter() - started:.2f} s ({self.counts(year)})."
            )

    def counts(self, year) -> str:
        ledger = WeeklyCostLedgerRow.objects.filter(financial_year__start_year=year).count()
        positions = BudgetPositionSnapshot.objects.filter(
            budget_line__financial_year__start_year=year).count()
        return f"{ledger} ledger rows, {positions} weekly budget positions"

    def rebuild(self, year, *, today):
        with tqdm(desc=f"Rebuilding {financial_year_label(year)}", unit="step",
                  file=sys.stderr, disable=None) as bar:

            def on_step(done, total):
                bar.total = total
                bar.update(done - bar.n)

            rollups.rebuild_financial_year(year=year, today=today, on_step=on_step)
