"""Plan the county's referrals: which child, which scenario, and when each step happened.

Planning is pure (no database writes) so that the whole story is decided before anything
is created, and is the same on every run for the same children and the same day.
"""

import dataclasses
import datetime
import random

from demo.children import SW_NORTH_CASELOAD
from demo.clock import DemoCalendar, add_years, at, next_weekday, weekdays_before
from demo.scenarios import (
    IN_HOUSE,
    PANEL_NAMES,
    PANEL_WEEKDAYS,
    STORY,
    SW_NORTH_SCENARIOS,
    Scenario,
    scenario_named,
)
from placements.models import ALLOWED_TRANSITIONS, Child, Referral, ReferralStatus
from providers.reference import Urgency

S = ReferralStatus
FULL_COUNTY = 300
PAST_MEETINGS = 16  # how many weeks back a decision may have been made
# A young person this close to 18 is planning to leave care, not to move: a referral's
# wanted start would fall after their 18th birthday, when no children's service takes them.
LEAVING_CARE_DAYS = 90


@dataclasses.dataclass
class PlannedChange:
    from_status: str
    to_status: str
    actor: str
    at: datetime.datetime
    reason: str


@dataclasses.dataclass
class ReferralPlan:
    number: int
    child: Child
    scenario: Scenario
    changes: list[PlannedChange]
    meeting_date: datetime.date | None
    placement_type_sought: str
    wanted_start_date: datetime.date
    urgency: str
    must_be_within_20_miles: bool
    referral: Referral | None = None  # set once created

    @property
    def status(self) -> str:
        return self.scenario.status

    @property
    def drafted_on(self) -> datetime.date:
        return self.changes[0].at.date()

    @property
    def external(self) -> bool:
        return self.scenario.route != IN_HOUSE

    def change_to(self, status: str) -> PlannedChange | None:
        """The last move into `status`, if the referral made one."""
        return next((c for c in reversed(self.changes) if c.to_status == status), None)

    @property
    def decision(self) -> PlannedChange | None:
        index = self.scenario.meeting_index
        return None if index is None else self.changes[index]


def scenario_counts(*, children: int) -> list[Scenario]:
    """The county's scenarios, scaled to its size: several per status at 300 children."""
    chosen = []
    for full, minimum, scenarios in STORY.values():
        count = max(minimum, (full * children + FULL_COUNTY // 2) // FULL_COUNTY)
        chosen.extend(scenarios[n % len(scenarios)] for n in range(count))
    return chosen


def plan_story(*, children: list[Child], calendar: DemoCalendar) -> list[ReferralPlan]:
    rng = random.Random("demoshire:story")  # nosec B311 # seeded: the demo county must be the same every run; not security
    north = children[:SW_NORTH_CASELOAD]
    others = [c for c in children[SW_NORTH_CASELOAD:]
              if c.age_on(calendar.today) >= 3 and not leaving_care_soon(c, calendar=calendar)]
    rng.shuffle(others)
    casting = [(north[n], scenario_named(name)) for n, name in enumerate(SW_NORTH_SCENARIOS)]
    county = scenario_counts(children=len(children))
    if len(county) > len(others):
        raise ValueError("Too few children for the demo's referrals; seed at least 30.")
    casting += list(zip(others, county, strict=False))
    meeting_days = {
        kind: weekdays_before(calendar.today, weekday=weekday, count=PAST_MEETINGS)
        for kind, weekday in PANEL_WEEKDAYS.items()
    }
    return [
        plan_referral(number=n, child=child, scenario=scenario, rng=rng, calendar=calendar,
                      meeting_days=meeting_days)
        for n, (child, scenario) in enumerate(casting)
    ]


def leaving_care_soon(child: Child, *, calendar: DemoCalendar) -> bool:
    eighteen = add_years(child.date_of_birth, 18)
    return (eighteen - calendar.today).days < LEAVING_CARE_DAYS


def plan_referral(*, number, child, scenario, rng, calendar, meeting_days) -> ReferralPlan:
    days, meeting = step_days(scenario=scenario, rng=rng, calendar=calendar,
                              meeting_days=meeting_days[scenario.panel])
    times = step_times(scenario=scenario, days=days, rng=rng)
    changes = []
    previous = ""
    for step, moment in zip(scenario.steps, times, strict=True):
        if previous and step.to not in ALLOWED_TRANSITIONS[previous]:
            raise ValueError(f"Scenario {scenario.name}: {previous} → {step.to} is not allowed.")
        changes.append(PlannedChange(previous, step.to, step.actor, moment, step.reason))
        previous = step.to
    name_the_listings(changes=changes, scenario=scenario, meeting=meeting, calendar=calendar)
    age = child.age_on(calendar.today)
    drafted = days[0]
    placed = changes[-1].at.date() if scenario.status == S.PLACED else None
    return ReferralPlan(
        number=number,
        child=child,
        scenario=scenario,
        changes=changes,
        meeting_date=meeting,
        placement_type_sought=type_sought(rng, route=scenario.route, age=age,
                                          emergency=scenario.emergency),
        wanted_start_date=wanted_start(rng, scenario=scenario, drafted=drafted, placed=placed),
        urgency=Urgency.TODAY if scenario.emergency else (
            Urgency.WITHIN_5_DAYS if rng.random() < 0.2 else Urgency.LATER),
        must_be_within_20_miles=rng.random() < 0.75,
    )


def name_the_listings(*, changes, scenario, meeting, calendar) -> None:
    """Say which meeting each listing was for: the one that decided it, or the next one."""
    upcoming = next_weekday(calendar.today, weekday=PANEL_WEEKDAYS[scenario.panel])
    decided_at = changes[scenario.meeting_index].at if meeting else None
    for change in changes:
        if change.to_status == S.LISTED:
            day = meeting if decided_at and change.at < decided_at else upcoming
            change.reason = f"Listed for {PANEL_NAMES[scenario.panel]} {day:%d %b %Y}"


def step_days(*, scenario, rng, calendar, meeting_days):
    """The date of each step, and of the panel meeting that decided it, if one did.

    Gaps are working days: office steps fall on weekdays. Emergencies keep their day.
    """
    steps = scenario.steps
    anchor = scenario.meeting_index
    meeting = None
    if anchor is None:
        anchor = len(steps) - 1
        last = calendar.days_ago(rng.randint(*scenario.lag))
        days = lay_out(steps=steps, anchor=anchor,
                       day=last if scenario.emergency else weekday_on_or_before(last))
    else:
        # One of the latest meetings that leave time for the later steps before today.
        layouts = [lay_out(steps=steps, anchor=anchor, day=day) for day in meeting_days]
        fitting = [days for days in layouts if days[-1] < calendar.today][:3]
        days = rng.choice(fitting)
        meeting = days[anchor]
    return days, meeting


def lay_out(*, steps, anchor: int, day: datetime.date) -> list[datetime.date]:
    days = [day] * len(steps)
    for n in range(anchor - 1, -1, -1):
        days[n] = shift_working_days(days[n + 1], -steps[n + 1].days)
    for n in range(anchor + 1, len(steps)):
        days[n] = shift_working_days(days[n - 1], steps[n].days)
    return days


def shift_working_days(day: datetime.date, count: int) -> datetime.date:
    step = datetime.timedelta(days=1 if count > 0 else -1)
    for _n in range(abs(count)):
        day += step
        while day.weekday() >= 5:
            day += step
    return day


def weekday_on_or_before(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def step_times(*, scenario, days, rng) -> list[datetime.datetime]:
    """Office hours for each step, strictly increasing; emergencies run into the evening."""
    times = []
    for step, day in zip(scenario.steps, days, strict=True):
        if scenario.emergency:
            moment = at(day, 13, rng.randint(0, 90))
        elif step.at_meeting:
            moment = at(day, 10, rng.randint(0, 150))
        else:
            moment = at(day, 9, rng.randint(0, 180))
        if times and moment <= times[-1]:
            moment = times[-1] + datetime.timedelta(minutes=rng.randint(15, 50))
        times.append(moment)
    return times


def type_sought(rng: random.Random, *, route: str, age: int, emergency: bool) -> str:
    """An SSDA903 placement type that fits the child's age and the route to a placement."""
    fostering = "U4" if age >= 16 or rng.random() < 0.6 else "U6"
    if route == IN_HOUSE:
        return "U6" if emergency else fostering
    if age < 11:
        return "U6" if emergency else fostering
    if age < 16:
        return "K2" if emergency or rng.random() < 0.55 else fostering
    return "K3" if rng.random() < 0.6 else "K2"


def wanted_start(rng, *, scenario, drafted, placed) -> datetime.date:
    if scenario.emergency:
        return drafted
    if placed is not None:
        return placed - datetime.timedelta(days=rng.randint(0, 10))
    return drafted + datetime.timedelta(days=rng.randint(21, 56))
