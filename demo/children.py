"""Demoshire's children in care: names, ages, legal status, team and social worker.

Each child is drawn from its own seeded generator, keyed on its position, so child 17 is
the same child whether the county has 30 children or 300.
"""

import dataclasses
import datetime
import random

from demo.clock import DemoCalendar, add_years
from demo.market import AREAS, HOME_AREA, INWARD_LETTERS, weighted
from demo.people import Cast
from placements.models import Child
from placements.reference import Ethnicity, LegalStatus, Sex

# sw.north's own caseload comes first, so that persona always has children to show.
SW_NORTH_CASELOAD = 8
TEAM_WEIGHTS = {"north": 24, "south": 20, "east": 20, "west": 20, "central": 16}
# Roughly the national picture for children looked after (DfE, 2024).
AGE_BANDS = {(0, 0): 5, (1, 4): 13, (5, 9): 17, (10, 15): 39, (16, 17): 26}
LEGAL_STATUSES = {
    LegalStatus.C2: 62, LegalStatus.C1: 14, LegalStatus.V2: 15, LegalStatus.E1: 5,
    LegalStatus.J1: 2, LegalStatus.L2: 2,
}
ETHNICITIES = {
    Ethnicity.WBRI: 70, Ethnicity.WOTH: 5, Ethnicity.MWBC: 5, Ethnicity.MOTH: 4,
    Ethnicity.APKN: 3, Ethnicity.AIND: 1, Ethnicity.BAFR: 3, Ethnicity.BCRB: 2,
    Ethnicity.WROM: 1, Ethnicity.OOTH: 4, Ethnicity.NOBT: 2,
}
GIRLS = (
    "Amelia", "Ava", "Chloe", "Ella", "Emily", "Erin", "Evie", "Freya", "Grace", "Isla",
    "Jessica", "Kayla", "Lacey", "Lily", "Maisie", "Millie", "Mia", "Nadia", "Olivia",
    "Poppy", "Ruby", "Sofia", "Summer", "Tia", "Zara", "Aaliyah", "Hannah", "Leah",
)
BOYS = (
    "Alfie", "Archie", "Callum", "Charlie", "Connor", "Dylan", "Ethan", "Finley", "George",
    "Harry", "Jack", "Jacob", "Jayden", "Kai", "Leo", "Logan", "Mason", "Noah", "Oscar",
    "Reece", "Riley", "Ryan", "Theo", "Tyler", "Zain", "Ibrahim", "Kacper", "Lewis",
)
SURNAMES = (
    "Ahmed", "Atkinson", "Bailey", "Barker", "Bell", "Brown", "Clarke", "Cooper", "Davies",
    "Dixon", "Ellis", "Fletcher", "Foster", "Gill", "Green", "Hall", "Harrison", "Holmes",
    "Hughes", "Hussain", "Jackson", "Khan", "Kowalski", "Lee", "Marshall", "Mitchell",
    "Moore", "Murphy", "Parker", "Patel", "Price", "Richardson", "Robinson", "Shaw",
    "Simpson", "Smith", "Taylor", "Thompson", "Walker", "Ward", "Watson", "White", "Wilson",
    "Wood", "Wright", "Young",
)


@dataclasses.dataclass(frozen=True)
class ChildSpec:
    local_child_id: str
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    sex: str
    ethnicity: str
    home_postcode: str
    legal_status: str
    team_code: str
    social_worker: str


def child_rng(index: int) -> random.Random:
    return random.Random(f"demoshire:child:{index}")  # nosec B311 # seeded: the demo county must be the same every run; not security


def child_spec(*, index: int, calendar: DemoCalendar) -> ChildSpec:
    rng = child_rng(index)
    sex = weighted(rng, {Sex.MALE: 56, Sex.FEMALE: 44})
    if index < SW_NORTH_CASELOAD:
        team_code, social_worker = "north", "sw.north"
    else:
        team_code = weighted(rng, TEAM_WEIGHTS)
        # sw.north already holds the first eight, so takes a smaller share of the rest.
        first_share = 1 if team_code == "north" else 2
        social_worker = weighted(rng, {f"sw.{team_code}": first_share,
                                       f"sw.{team_code}.2": 2, f"sw.{team_code}.3": 2})
    prefix, districts, _miles = AREAS[HOME_AREA]
    return ChildSpec(
        local_child_id=f"DMS{index + 1:05d}",
        first_name=rng.choice(GIRLS if sex == Sex.FEMALE else BOYS),
        last_name=rng.choice(SURNAMES),
        # sw.north's caseload are all past toddlerhood, so their referrals read naturally.
        date_of_birth=date_of_birth(rng, today=calendar.today,
                                    min_age=3 if index < SW_NORTH_CASELOAD else 0),
        sex=sex,
        ethnicity=weighted(rng, ETHNICITIES),
        home_postcode=(
            f"{prefix}{rng.randint(1, districts)} {rng.randint(1, 9)}"
            f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        ),
        legal_status=weighted(rng, LEGAL_STATUSES),
        team_code=team_code,
        social_worker=social_worker,
    )


def date_of_birth(rng: random.Random, *, today: datetime.date, min_age: int) -> datetime.date:
    low, high = weighted(rng, AGE_BANDS)
    age = max(rng.randint(low, high), min_age)
    if age == 0:
        return today - datetime.timedelta(days=rng.randint(20, 360))
    return add_years(today, -age) - datetime.timedelta(days=rng.randint(0, 364))


def seed_children(*, count: int, calendar: DemoCalendar, cast: Cast) -> list[Child]:
    """The demo's children in index order, creating those not there yet."""
    specs = [child_spec(index=index, calendar=calendar) for index in range(count)]
    ids = [spec.local_child_id for spec in specs]
    existing = set(Child.objects.filter(local_child_id__in=ids).values_list("local_child_id",
                                                                             flat=True))
    Child.objects.bulk_create(
        [new_child(spec=spec, cast=cast) for spec in specs if spec.local_child_id not in existing]
    )
    by_id = Child.objects.select_related("team", "social_worker").in_bulk(ids,
                                                                         field_name="local_child_id")
    return [by_id[child_id] for child_id in ids]


def new_child(*, spec: ChildSpec, cast: Cast) -> Child:
    return Child(
        local_child_id=spec.local_child_id,
        first_name=spec.first_name,
        last_name=spec.last_name,
        date_of_birth=spec.date_of_birth,
        sex=spec.sex,
        ethnicity=spec.ethnicity,
        home_postcode=spec.home_postcode,
        legal_status=spec.legal_status,
        team=cast.teams[spec.team_code],
        social_worker=cast.users[spec.social_worker],
    )
