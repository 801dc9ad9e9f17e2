"""python manage.py seed_demo [--children N] [--if-empty]: load the Demoshire demo county."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.models import Team, User
from demo.budgets import projected_position
from demo.clock import DemoCalendar
from demo.people import SIGN_IN_URL, other_usernames, sign_ins
from demo.seed import MIN_CHILDREN, seed_demo
from panels.models import AgendaItem, Decision, DirectorApproval, PanelMeeting
from placements.models import (
    BudgetLine,
    Child,
    Contribution,
    Placement,
    PlacementCost,
    Referral,
    ReferralStatusChange,
)
from providers.models import Provider, Quote, Service, SourcingRequest

SUMMARY = (
    ("Teams", Team), ("Users", User), ("Children", Child), ("Placements", Placement),
    ("Placement cost rows", PlacementCost), ("Contributions", Contribution),
    ("Providers", Provider), ("Services", Service), ("Referrals", Referral),
    ("Referral status changes", ReferralStatusChange), ("Sourcing requests", SourcingRequest),
    ("Quotes", Quote), ("Panel meetings", PanelMeeting), ("Agenda items", AgendaItem),
    ("Decisions", Decision), ("Director approvals", DirectorApproval),
    ("Budget lines", BudgetLine),
)


class Command(BaseCommand):
    help = (
        "Load the Demoshire demo county: teams, staff, children, providers, two financial "
        "years of placements, referrals, panels and sourcing. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--children", type=int, default=300,
                            help=f"How many children in care (at least {MIN_CHILDREN}).")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing if any child exists already.")

    def handle(self, *args, children: int, if_empty: bool, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "Demo data is not allowed with these settings (DEMO_DATA_ALLOWED is False, "
                "as in production). Nothing was changed."
            )
        if children < MIN_CHILDREN:
            raise CommandError(f"--children must be at least {MIN_CHILDREN}.")
        if if_empty and Child.objects.exists():
            self.stdout.write("Children already exist, so no demo data was loaded.")
        else:
            today = timezone.localdate()
            with transaction.atomic():
                seed_demo(children=children, today=today)
            self.write_summary(today=today)
        self.write_sign_ins()

    def write_summary(self, *, today):
        self.stdout.write(self.style.SUCCESS("Demoshire demo data is in place."))
        for label, model in SUMMARY:
            self.stdout.write(f"  {label:<26}{model.objects.count():>7}")
        position = projected_position(calendar=DemoCalendar(today=today))
        budget = sum(amount for _name, amount, _projected in position)
        projected = sum(projected for _name, _amount, projected in position)
        self.stdout.write(
            f"  Placement budget this year: £{budget:,.0f}; projected outturn "
            f"£{projected:,.0f} (£{projected - budget:,.0f} over)."
        )

    def write_sign_ins(self):
        rows = [("Username", "Role", "Password"), *sign_ins()]
        widths = [max(len(row[n]) for row in rows) for n in range(3)]
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins at {SIGN_IN_URL}")
        for row in rows:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(f"  {line.rstrip()}")
        self.stdout.write(
            "  Also, with the same password: " + ", ".join(other_usernames()) + "."
        )
