"""Personas: one user per role, in the North team where a team matters."""

import pytest

from core.roles import Role
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def north(db):
    return TeamFactory(name="North", code="north")


@pytest.fixture
def south(db):
    return TeamFactory(name="South", code="south")


@pytest.fixture
def personas(north):
    """{Role: user}; team roles belong to North."""
    team_roles = {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}
    return {
        role: UserFactory(
            username=role.value, roles=[role], team=north if role in team_roles else None
        )
        for role in Role
    }
