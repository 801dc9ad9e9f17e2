"""python manage.py schedule_meetings [--today YYYY-MM-DD]: what the 07:00 beat task does,
on demand (useful where no beat runs, e.g. the embedded demo)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from panels.services import meetings_schedule_all


class Command(BaseCommand):
    help = "Create each panel's next meeting a week ahead and list its agenda."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Pretend today is this ISO date (YYYY-MM-DD).")

    def handle(self, *args, today=None, **options):
        try:
            day = datetime.date.fromisoformat(today) if today else timezone.localdate()
        except ValueError:
            raise CommandError(f"--today must be a date like 2026-12-01, not {today!r}.") from None
        for meeting in meetings_schedule_all(today=day):
            self.stdout.write(f"{meeting}: {meeting.items.count()} item(s) on the agenda")
