"""The access helpers decide who sees which children, referrals and placements.
Every role is checked, in and out of its team."""

import pytest

from core.roles import Role
from placements.access import children_visible_to, placements_visible_to, referrals_visible_to
from placements.models import ReferralStatus
from tests.factories import ChildFactory, PlacementFactory, ReferralFactory, UserFactory

ALL_ROLES = list(Role)
EVERYONE_BUT_TEAM_AND_FINANCE = [
    Role.PANEL_CHAIR,
    Role.PANEL_MEMBER,
    Role.DIRECTOR,
    Role.COMMISSIONING_OFFICER,
    Role.ADMINISTRATOR,
]
REFERRAL_READERS = [Role.PANEL_CHAIR, Role.PANEL_MEMBER, Role.DIRECTOR, Role.COMMISSIONING_OFFICER]


@pytest.fixture
def casework(north, south):
    """A child in each team, each with a draft and a submitted referral and a placement."""
    rows = {}
    for team in (north, south):
        child = ChildFactory(team=team)
        rows[team.code] = {
            "child": child,
            "draft": ReferralFactory(child=child, status=ReferralStatus.DRAFT),
            "submitted": ReferralFactory(child=child, status=ReferralStatus.SUBMITTED),
            "placement": PlacementFactory(child=child),
        }
    return rows


def _ids(queryset):
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.TEAM_MANAGER])
def test_team_roles_see_only_their_own_teams_casework(personas, casework, role):
    user, north, south = personas[role], casework["north"], casework["south"]
    assert _ids(children_visible_to(user)) == {north["child"].pk}
    assert _ids(referrals_visible_to(user)) == {north["draft"].pk, north["submitted"].pk}
    assert _ids(placements_visible_to(user)) == {north["placement"].pk}
    assert south["child"].pk not in _ids(children_visible_to(user))


@pytest.mark.parametrize("role", EVERYONE_BUT_TEAM_AND_FINANCE)
def test_panel_director_commissioning_and_admin_see_every_referred_child(personas, casework, role):
    every_child = {rows["child"].pk for rows in casework.values()}
    assert _ids(children_visible_to(personas[role])) == every_child


@pytest.fixture
def unreferred(north, south):
    """Children nobody outside their team has been asked about: one with no referral,
    one with only a draft."""
    only_draft = ChildFactory(team=south)
    ReferralFactory(child=only_draft, status=ReferralStatus.DRAFT)
    return {"none": ChildFactory(team=north), "only_draft": only_draft}


@pytest.mark.parametrize("role", REFERRAL_READERS)
def test_a_child_with_no_submitted_referral_is_invisible_beyond_the_team(
    personas, casework, unreferred, role
):
    visible = _ids(children_visible_to(personas[role]))
    assert visible == {rows["child"].pk for rows in casework.values()}
    assert unreferred["none"].pk not in visible
    assert unreferred["only_draft"].pk not in visible


def test_administrators_and_their_teams_still_see_unreferred_children(
    personas, casework, unreferred
):
    everyone = {rows["child"].pk for rows in casework.values()} | {
        child.pk for child in unreferred.values()
    }
    assert _ids(children_visible_to(personas[Role.ADMINISTRATOR])) == everyone
    assert _ids(children_visible_to(UserFactory(is_superuser=True))) == everyone
    assert unreferred["none"].pk in _ids(children_visible_to(personas[Role.SOCIAL_WORKER]))


def test_a_team_manager_on_panel_sees_own_team_and_referred_children(
    north, casework, unreferred
):
    user = UserFactory(roles=[Role.TEAM_MANAGER, Role.PANEL_MEMBER], team=north)
    expected = {rows["child"].pk for rows in casework.values()} | {unreferred["none"].pk}
    assert _ids(children_visible_to(user)) == expected


@pytest.mark.parametrize("role", REFERRAL_READERS)
def test_drafts_stay_with_their_team(personas, casework, role):
    submitted = {rows["submitted"].pk for rows in casework.values()}
    assert _ids(referrals_visible_to(personas[role])) == submitted


def test_administrator_sees_every_referral(personas, casework):
    every = {rows[kind].pk for rows in casework.values() for kind in ("draft", "submitted")}
    assert _ids(referrals_visible_to(personas[Role.ADMINISTRATOR])) == every


def test_finance_sees_placements_but_not_children_or_referrals(personas, casework):
    finance = personas[Role.FINANCE_MANAGER]
    assert _ids(placements_visible_to(finance)) == {
        rows["placement"].pk for rows in casework.values()
    }
    assert not children_visible_to(finance).exists()
    assert not referrals_visible_to(finance).exists()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_some_placements(personas, casework, role):
    assert placements_visible_to(personas[role]).exists()


def test_a_user_with_no_role_sees_nothing(north, casework):
    nobody = UserFactory(team=north)
    assert not children_visible_to(nobody).exists()
    assert not referrals_visible_to(nobody).exists()
    assert not placements_visible_to(nobody).exists()


def test_a_social_worker_without_a_team_sees_nothing(casework):
    drifting = UserFactory(roles=[Role.SOCIAL_WORKER], team=None)
    assert not children_visible_to(drifting).exists()
    assert not referrals_visible_to(drifting).exists()


def test_a_team_manager_who_also_sits_on_panel_sees_own_drafts_and_all_submitted(north, casework):
    user = UserFactory(roles=[Role.TEAM_MANAGER, Role.PANEL_MEMBER], team=north)
    expected = {casework["north"]["draft"].pk} | {r["submitted"].pk for r in casework.values()}
    assert _ids(referrals_visible_to(user)) == expected


def test_superuser_sees_everything(casework):
    root = UserFactory(is_superuser=True)
    assert children_visible_to(root).count() == 2
    assert referrals_visible_to(root).count() == 4
