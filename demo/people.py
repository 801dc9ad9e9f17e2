"""Demoshire's teams and staff: one demo user per role, plus colleagues for every team.

Every demo user has the same password, printed by the command. The hash is computed
once and shared, because the production hasher takes a noticeable fraction of a second
per call and the accounts are throwaway demo accounts anyway.
"""

import dataclasses

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from core.models import Team, User
from core.roles import Role

DEMO_PASSWORD = "placements-demo-2026"  # nosec B105 # the published demo sign-in (README); production refuses demo data
SIGN_IN_URL = "http://127.0.0.1:8000/sign-in/"
EMAIL_DOMAIN = "demoshire.example"  # RFC 2606: never delivers real mail

TEAMS = (
    ("north", "North"),
    ("south", "South"),
    ("east", "East"),
    ("west", "West"),
    ("central", "Central"),
)


@dataclasses.dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    first_name: str
    last_name: str
    job_title: str
    team_code: str | None = None
    is_superuser: bool = False
    # One user per role is "the" demo sign-in printed in the table.
    is_headline: bool = False


DEMO_USERS = (
    DemoUser("sw.north", Role.SOCIAL_WORKER, "Priya", "Shah", "Social worker", "north",
             is_headline=True),
    DemoUser("tm.north", Role.TEAM_MANAGER, "Daniel", "Okafor", "Team manager", "north",
             is_headline=True),
    DemoUser("chair", Role.PANEL_CHAIR, "Helen", "Marsh", "Head of Service, Children in Care",
             is_headline=True),
    DemoUser("member", Role.PANEL_MEMBER, "Tom", "Reilly", "Independent reviewing officer",
             is_headline=True),
    DemoUser("director", Role.DIRECTOR, "Margaret", "Ellison",
             "Director of Children's Services", is_headline=True),
    DemoUser("commissioner", Role.COMMISSIONING_OFFICER, "Aisha", "Rahman",
             "Commissioning officer, placements", is_headline=True),
    DemoUser("finance", Role.FINANCE_MANAGER, "Gareth", "Lloyd",
             "Finance business partner, children's services", is_headline=True),
    DemoUser("admin", Role.ADMINISTRATOR, "Chris", "Dunn",
             "Business support and systems administrator", is_superuser=True, is_headline=True),
    DemoUser("chair.permanence", Role.PANEL_CHAIR, "Ruth", "Adeyemi",
             "Service manager, permanence"),
    DemoUser("sw.north.2", Role.SOCIAL_WORKER, "Jack", "Turner", "Social worker", "north"),
    DemoUser("sw.north.3", Role.SOCIAL_WORKER, "Bethany", "Holt", "Senior social worker",
             "north"),
    DemoUser("sw.south", Role.SOCIAL_WORKER, "Emma", "Clarke", "Social worker", "south"),
    DemoUser("sw.south.2", Role.SOCIAL_WORKER, "Kwame", "Mensah", "Senior social worker",
             "south"),
    DemoUser("sw.south.3", Role.SOCIAL_WORKER, "Lucy", "Fenwick", "Social worker", "south"),
    DemoUser("tm.south", Role.TEAM_MANAGER, "Sarah", "Whitfield", "Team manager", "south"),
    DemoUser("sw.east", Role.SOCIAL_WORKER, "Liam", "Doherty", "Social worker", "east"),
    DemoUser("sw.east.2", Role.SOCIAL_WORKER, "Fatima", "Begum", "Social worker", "east"),
    DemoUser("sw.east.3", Role.SOCIAL_WORKER, "Adam", "Sutcliffe", "Senior social worker",
             "east"),
    DemoUser("tm.east", Role.TEAM_MANAGER, "Paul", "Haworth", "Team manager", "east"),
    DemoUser("sw.west", Role.SOCIAL_WORKER, "Chloe", "Evans", "Social worker", "west"),
    DemoUser("sw.west.2", Role.SOCIAL_WORKER, "Marek", "Nowak", "Advanced practitioner",
             "west"),
    DemoUser("sw.west.3", Role.SOCIAL_WORKER, "Grace", "Obi", "Social worker", "west"),
    DemoUser("tm.west", Role.TEAM_MANAGER, "Joanne", "Pickering", "Team manager", "west"),
    DemoUser("sw.central", Role.SOCIAL_WORKER, "Hannah", "Brooks", "Social worker", "central"),
    DemoUser("sw.central.2", Role.SOCIAL_WORKER, "Oliver", "Grant", "Social worker", "central"),
    DemoUser("sw.central.3", Role.SOCIAL_WORKER, "Ryan", "McKenna", "Social worker",
             "central"),
    DemoUser("tm.central", Role.TEAM_MANAGER, "Nadia", "Hussain", "Team manager", "central"),
)


@dataclasses.dataclass
class Cast:
    """The demo's teams and users, by code and username."""

    teams: dict[str, Team]
    users: dict[str, User]

    def team_manager(self, team_code: str) -> User:
        return self.users[f"tm.{team_code}"]


def sign_ins() -> list[tuple[str, str, str]]:
    """(username, role, password) for the printed table: one user per role."""
    return [(u.username, u.role.label, DEMO_PASSWORD) for u in DEMO_USERS if u.is_headline]


def other_usernames() -> list[str]:
    return [u.username for u in DEMO_USERS if not u.is_headline]


def seed_people() -> Cast:
    teams = {
        code: Team.objects.update_or_create(code=code, defaults={"name": name})[0]
        for code, name in TEAMS
    }
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    password_hash = make_password(DEMO_PASSWORD)
    users = {}
    for spec in DEMO_USERS:
        users[spec.username] = seed_user(
            spec=spec, team=teams.get(spec.team_code), password_hash=password_hash
        )
        users[spec.username].groups.add(groups[spec.role])
    return Cast(teams=teams, users=users)


def seed_user(*, spec: DemoUser, team: Team | None, password_hash: str) -> User:
    # Resetting the password on every run keeps the printed table true.
    user, _created = User.objects.update_or_create(
        username=spec.username,
        defaults={
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "email": f"{spec.username}@{EMAIL_DOMAIN}",
            "job_title": spec.job_title,
            "team": team,
            "is_active": True,
            "is_staff": spec.is_superuser,
            "is_superuser": spec.is_superuser,
            "password": password_hash,
        },
    )
    return user
