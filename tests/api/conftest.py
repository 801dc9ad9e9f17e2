"""Clients for the API tests: most tests go through HTTP as a persona would."""

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def as_user(db):
    """as_user(user) → an APIClient signed in with a session cookie, as a browser is."""

    def sign_in(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def south_social_worker(south):
    return UserFactory(username="south_sw", roles=[Role.SOCIAL_WORKER], team=south)
