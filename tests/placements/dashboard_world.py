"""A small hand-made world for the dashboard and export tests, with its figures worked out
by hand in the docstrings. "Today" is 15 June 2026, in the 2026/27 financial year.

Running on 15 June 2026:
  North  A  U4 in-house (PR1)                   £350/week           5 miles
  North  B  U4 IFA on framework (PR4)           £850/week − £100     25 miles
  North  C  K2 children's home off framework    £3,500/week          40 miles, 3rd
            placement in 12 months (two earlier ones, one ended in July 2025)
  South  D  U6 IFA off framework                £900/week            distance unknown
Ended before: North E (ended 1 May 2026).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from placements.models import (
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    FinancialYear,
    Placement,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
)
from providers.reference import PlaceProvider, ProviderKind
from tests.factories import (
    ChildFactory,
    ContributionFactory,
    PlacementCostFactory,
    PlacementFactory,
    ProviderFactory,
    ReferralFactory,
    ServiceFactory,
)

S = ReferralStatus
TODAY = datetime.date(2026, 6, 15)
YEAR = 2026


def at(year, month, day, hour=10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


def service(kind: str, code: str):
    return ServiceFactory(provider=ProviderFactory(kind=kind, place_provider=code))


def placement(*, child, kind, code, placement_type, weekly, start, end=None, framework=False,
              miles=None, reason="") -> Placement:
    made = PlacementFactory(
        child=child, service=service(kind, code), placement_type=placement_type,
        place_provider=code, on_framework=framework, start_date=start, end_date=end,
        reason_for_change=reason or ("E11" if end else ""),
        distance_from_home_miles=None if miles is None else Decimal(miles),
    )
    PlacementCostFactory(placement=made, weekly_amount=Decimal(weekly))
    return made


@dataclass
class World:
    placements: dict = field(default_factory=dict)
    referrals: dict = field(default_factory=dict)


def build_placements(*, north, south) -> World:
    world = World()
    p = world.placements
    p["A"] = placement(child=ChildFactory(team=north), kind=ProviderKind.IN_HOUSE,
                       code=PlaceProvider.PR1, placement_type="U4", weekly="350",
                       start=datetime.date(2026, 1, 5), miles="5")
    p["B"] = placement(child=ChildFactory(team=north), kind=ProviderKind.IFA,
                       code=PlaceProvider.PR4, placement_type="U4", weekly="850",
                       start=datetime.date(2026, 2, 2), framework=True, miles="25")
    ContributionFactory(placement=p["B"], weekly_amount=Decimal("100"))
    child_c = ChildFactory(team=north)
    p["C0"] = placement(child=child_c, kind=ProviderKind.IFA, code=PlaceProvider.PR4,
                        placement_type="U6", weekly="800", start=datetime.date(2025, 1, 6),
                        end=datetime.date(2025, 7, 1))
    p["C1"] = placement(child=child_c, kind=ProviderKind.IFA, code=PlaceProvider.PR4,
                        placement_type="U6", weekly="820", start=datetime.date(2025, 7, 1),
                        end=datetime.date(2026, 3, 2))
    p["C"] = placement(child=child_c, kind=ProviderKind.CHILDRENS_HOME, code=PlaceProvider.PR4,
                       placement_type="K2", weekly="3500", start=datetime.date(2026, 3, 2),
                       miles="40")
    p["D"] = placement(child=ChildFactory(team=south), kind=ProviderKind.IFA,
                       code=PlaceProvider.PR5, placement_type="U6", weekly="900",
                       start=datetime.date(2026, 4, 6))
    p["E"] = placement(child=ChildFactory(team=north), kind=ProviderKind.IFA,
                       code=PlaceProvider.PR4, placement_type="U4", weekly="780",
                       start=datetime.date(2026, 1, 5), end=datetime.date(2026, 5, 1),
                       miles="30")
    return world


def referral_with_history(*, team, moves, emergency=False, review_due=None) -> Referral:
    """moves: [(to_status, datetime)], from draft; the referral ends in the last state."""
    referral = ReferralFactory(
        child=ChildFactory(team=team), status=moves[-1][0], is_emergency=emergency,
        retrospective_review_due=review_due,
    )
    previous = S.DRAFT
    ReferralStatusChange.objects.create(referral=referral, from_status="", to_status=S.DRAFT,
                                        at=moves[0][1] - datetime.timedelta(days=1))
    for to_status, when in moves:
        ReferralStatusChange.objects.create(referral=referral, from_status=previous,
                                            to_status=to_status, at=when)
        previous = to_status
    return referral


def through_panel(submitted, decided, outcome=S.READY_FOR_SOURCING):
    return [(S.SUBMITTED, submitted), (S.ENDORSED, submitted + datetime.timedelta(days=1)),
            (S.LISTED, submitted + datetime.timedelta(days=2)), (outcome, decided)]


def build_referrals(*, north, south, world: World | None = None) -> World:
    """Submission → decision (days) and → placement (days):
      R1 North  10 → placed 20               R2 North  4, still ready for sourcing
      R3 North  endorsed, undecided          R4 South  declined after 10
      R5 North  withdrawn in 2025/26         R6 North  emergency, placed after 2, review
                                                       overdue (due 8 June)
      R7 North  emergency placed after 3, reviewed by panel (the test marks it)
    Medians: to decision 10.0 (North 7.0); to placement 3.0 (R1 20, R6 2, R7 3)."""
    world = world or World()
    r = world.referrals
    r["R1"] = referral_with_history(team=north, moves=through_panel(
        at(2026, 5, 1), at(2026, 5, 11)) + [
        (S.SOURCING, at(2026, 5, 12)), (S.OPTIONS_READY, at(2026, 5, 15)),
        (S.PROVIDER_CHOSEN, at(2026, 5, 18)), (S.PLACED, at(2026, 5, 21))])
    r["R2"] = referral_with_history(team=north, moves=through_panel(
        at(2026, 5, 1), at(2026, 5, 5)))
    r["R3"] = referral_with_history(team=north, moves=[
        (S.SUBMITTED, at(2026, 6, 1)), (S.ENDORSED, at(2026, 6, 2))])
    r["R4"] = referral_with_history(team=south, moves=through_panel(
        at(2026, 4, 10), at(2026, 4, 20), outcome=S.DECLINED))
    r["R5"] = referral_with_history(team=north, moves=[
        (S.SUBMITTED, at(2025, 9, 1)), (S.WITHDRAWN, at(2025, 9, 3))])
    emergency = [(S.SUBMITTED, at(2026, 6, 1)), (S.READY_FOR_SOURCING, at(2026, 6, 1, 11)),
                 (S.SOURCING, at(2026, 6, 1, 12)), (S.OPTIONS_READY, at(2026, 6, 2)),
                 (S.PROVIDER_CHOSEN, at(2026, 6, 2, 12))]
    r["R6"] = referral_with_history(
        team=north, moves=emergency + [(S.PLACED, at(2026, 6, 3))], emergency=True,
        review_due=datetime.date(2026, 6, 8))
    r["R7"] = referral_with_history(
        team=north, moves=emergency + [(S.PLACED, at(2026, 6, 4))], emergency=True,
        review_due=datetime.date(2026, 6, 9))
    return world


# --- Budgets and their rollups -----------------------------------------------------------------

LINES = {
    # name: (amount, rules)
    "External residential": ("150000", [("K2", "PR4"), ("K2", "PR5")]),
    "In-house fostering": ("20000", [(t, "PR1") for t in ("U4", "U6")]),
    "Independent fostering agencies": (
        "100000", [(t, code) for t in ("U4", "U6") for code in ("PR4", "PR5")]),
}
# Week → line → (actual to date, committed to year end); budget and outturn follow.
SNAPSHOTS = {
    datetime.date(2026, 6, 1): {"External residential": ("35000", "135000"),
                                "In-house fostering": ("4500", "14000"),
                                "Independent fostering agencies": ("27000", "72000")},
    datetime.date(2026, 6, 8): {"External residential": ("40000", "140000"),
                                "In-house fostering": ("5000", "13000"),
                                "Independent fostering agencies": ("30000", "70000")},
}


def build_budgets(*, year=YEAR, snapshots=True) -> dict:
    """The year's three lines (by name), every placement of the world in one of them, and
    two weeks of budget positions (latest: £30,000 over, £2,000 under, on budget)."""
    financial_year, _created = FinancialYear.objects.get_or_create(start_year=year)
    lines = {}
    for name, (amount, rules) in LINES.items():
        lines[name] = BudgetLine.objects.create(
            financial_year=financial_year, name=name, amount=Decimal(amount))
        for placement_type, code in rules:
            BudgetLineRule.objects.create(budget_line=lines[name], financial_year=financial_year,
                                          placement_type=placement_type, place_provider=code)
    if snapshots:
        for week, positions in SNAPSHOTS.items():
            for name, (actual, committed) in positions.items():
                snapshot(lines[name], week, actual, committed)
    return lines


def snapshot(line, week, actual, committed):
    outturn = Decimal(actual) + Decimal(committed)
    return BudgetPositionSnapshot.objects.create(
        week_start=week, budget_line=line, budget=line.amount, actual_to_date=Decimal(actual),
        committed_to_year_end=Decimal(committed), projected_outturn=outturn,
        variance=outturn - line.amount,
    )
