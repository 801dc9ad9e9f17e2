"""python manage.py measure_rollups [--year 2026] [--user finance]: time the rollups and
count the queries of the dashboard's reads on the current database (docs/performance.md).

Rebuilds the year once (inside a transaction that is rolled back, so the stored rows are
left as they were), then times and counts the read selectors and, when a user is given,
the dashboard page itself as that user sees it.
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Team, User
from placements import rollups
from placements.models import Contribution, Placement, PlacementCost
from providers.reference import financial_year_label, financial_year_start


class Command(BaseCommand):
    help = "Time a rollup rebuild and count the dashboard's queries."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Default: the current financial year.")
        parser.add_argument("--user", default="", help="Also load /dashboard/ as this user.")

    def handle(self, *args, year, user, **options):
        year = year or financial_year_start(timezone.localdate())
        self.stdout.write(
            f"Database: {connection.vendor}; {Placement.objects.count()} placements, "
            f"{PlacementCost.objects.count()} cost rows, {Contribution.objects.count()} "
            f"contributions."
        )
        self.time_rebuild(year)
        team = Team.objects.order_by("pk").first()
        self.measure("budget_positions", lambda: rollups.budget_positions(financial_year=year))
        self.measure("budget_positions(team=…)",
                     lambda: rollups.budget_positions(financial_year=year, team=team))
        self.measure("outturn_trend", lambda: rollups.outturn_trend(financial_year=year))
        self.measure("ledger_rows", lambda: [
            (row.budget_line.name, row.financial_year.start_year)
            for row in rollups.ledger_rows(financial_year=year)])
        if user:
            client = Client(HTTP_HOST="localhost")
            client.force_login(User.objects.get(username=user))
            url = reverse("dashboard") + f"?year={year}"
            self.measure(f"GET {url} as {user}", lambda: self.get_ok(client, url))

    def time_rebuild(self, year):
        today = timezone.localdate()
        with transaction.atomic():
            started = time.perf_counter()
            rollups.rebuild_financial_year(year=year)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        self.stdout.write(f"Rebuild of {financial_year_label(year)}: {elapsed:.2f} s")
        with transaction.atomic():
            started = time.perf_counter()
            # What a cost change backdated four weeks queues (enqueue_refresh).
            rollups.refresh_days(first_day=today - datetime.timedelta(weeks=4), last_day=None)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        self.stdout.write(f"Refresh after a change backdated four weeks: {elapsed:.2f} s")

    def measure(self, label, read):
        read()  # warm caches (sessions, content types) before counting
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            read()
            elapsed = time.perf_counter() - started
        self.stdout.write(f"{label}: {len(queries)} queries, {1000 * elapsed:.0f} ms")

    @staticmethod
    def get_ok(client, url):
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}, not 200.")
