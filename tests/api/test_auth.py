"""Who may call the API at all: signed-in users by session (the browser) or by token
(scripts, from `manage.py drf_create_token USER`); nobody anonymously."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from rest_framework.test import APIClient

from core.roles import Role
from placements.models import ReferralStatus
from tests.factories import ChildFactory, ReferralFactory

LIST_URLS = [
    "/api/v1/children/",
    "/api/v1/referrals/",
    "/api/v1/panels/",
    "/api/v1/meetings/",
    "/api/v1/agenda-items/",
    "/api/v1/decisions/",
    "/api/v1/director-approvals/",
    "/api/schema/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_URLS)
def test_anonymous_callers_are_refused(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert b"results" not in response.content


def test_anonymous_callers_cannot_act(anonymous, north):
    referral = ReferralFactory(child=ChildFactory(team=north))
    response = anonymous.post(f"/api/v1/referrals/{referral.pk}/submit/")
    assert response.status_code == 401
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DRAFT


def test_a_script_uses_a_token_from_drf_create_token(personas, north):
    social_worker = personas[Role.SOCIAL_WORKER]
    referral = ReferralFactory(child=ChildFactory(team=north))
    output = StringIO()
    call_command("drf_create_token", social_worker.username, stdout=output)
    key = re.search(r"Generated token (\w+) for user", output.getvalue()).group(1)

    script = APIClient(enforce_csrf_checks=True)  # a script has no CSRF cookie
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get("/api/v1/referrals/").data["count"] == 1
    response = script.post(f"/api/v1/referrals/{referral.pk}/submit/")
    assert response.status_code == 200, response.data
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED


def test_a_wrong_token_is_refused(anonymous, personas):
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anonymous.get("/api/v1/referrals/").status_code == 401


def test_a_signed_in_browser_uses_its_session(personas, north):
    ReferralFactory(child=ChildFactory(team=north))
    browser = APIClient()
    # django-axes checks every password sign-in against its lockouts, so it needs a request.
    assert browser.login(request=HttpRequest(), username="social_worker",
                         password="a-long-test-password")
    response = browser.get("/api/v1/referrals/")
    assert response.status_code == 200
    assert response.data["count"] == 1


def test_session_writes_need_the_csrf_token(personas, north):
    """A session cookie alone must not let another site post on the user's behalf."""
    referral = ReferralFactory(child=ChildFactory(team=north))
    browser = APIClient(enforce_csrf_checks=True)
    browser.login(request=HttpRequest(), username="social_worker", password="a-long-test-password")
    response = browser.post(f"/api/v1/referrals/{referral.pk}/submit/")
    assert response.status_code == 403
    assert "CSRF" in response.data["detail"]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DRAFT
