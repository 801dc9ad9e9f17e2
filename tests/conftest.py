"""Personas: one user per role, in the North team where a team matters."""

import pytest
from django.contrib.auth.models import Group

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


@pytest.fixture
def role_groups(db):
    """The role groups, made again for transactional tests: another transactional test may
    have flushed the database, taking the groups (made by a data migration) with it."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
