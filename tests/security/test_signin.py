"""Signing in: failed sign-ins are throttled per username and address (django-axes, in the
database), the lockout page says for how long without telling whether the username exists,
a successful sign-in clears the count, and a session ends after inactivity or, however
busy, SESSION_ABSOLUTE_AGE after sign-in."""

import datetime
import getpass
import io
import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.auth import PASSWORD_GIVEN_AT, RENEWED_AT, SIGNED_IN_AT
from core.roles import Role
from tests.factories import UserFactory
from tests.pages import error_links, plain

PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def fail(client, username, times, **extra):
    return [sign_in(client, username, "not-the-password", **extra) for _ in range(times)]


@pytest.fixture
def social_worker(personas):
    return personas[Role.SOCIAL_WORKER]


# --- The sign-in page -------------------------------------------------------------------------


def test_the_sign_in_page_signs_in_and_starts_the_sessions_clocks(client, social_worker):
    assert client.get(reverse("login")).status_code == 200

    response = sign_in(client, social_worker.username, PASSWORD)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    now = int(timezone.now().timestamp())
    assert now - 5 <= client.session[SIGNED_IN_AT] <= now
    assert client.session[PASSWORD_GIVEN_AT] == client.session[SIGNED_IN_AT]
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_password_is_shown_in_the_error_summary(client, social_worker):
    response = sign_in(client, social_worker.username, "not-the-password")
    assert response.status_code == 200
    assert error_links(response) == ["id_username"]
    assert "Please enter a correct username and password" in plain(response)


# --- Throttling -------------------------------------------------------------------------------


def test_the_limit_and_cool_off_come_from_the_environment_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=30)
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_too_many_failures_lock_the_username_out_from_that_address(client, social_worker):
    responses = fail(client, social_worker.username, LIMIT)

    assert [r.status_code for r in responses] == [200] * (LIMIT - 1) + [429]
    page = plain(responses[-1])
    assert "Too many attempts to sign in" in page
    assert "locked for 30 minutes" in page
    assert social_worker.username not in page and "127.0.0.1" not in page
    assert responses[-1]["Content-Security-Policy"]
    # Even the right password is refused while the lockout lasts.
    assert sign_in(client, social_worker.username, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_for_that_username_and_address_only(client, personas, social_worker):
    fail(client, social_worker.username, LIMIT)

    other_address = sign_in(client, social_worker.username, PASSWORD, REMOTE_ADDR="10.1.2.3")
    assert other_address.status_code == 302

    client.logout()
    other_user = sign_in(client, personas[Role.TEAM_MANAGER].username, PASSWORD)
    assert other_user.status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, social_worker):
    fail(client, social_worker.username, LIMIT)
    # As if the cool-off had passed since the last failure.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    )
    assert sign_in(client, social_worker.username, PASSWORD).status_code == 302


def test_attempts_during_the_lockout_do_not_extend_it(client, social_worker):
    fail(client, social_worker.username, LIMIT)
    started = AccessAttempt.objects.get().attempt_time
    fail(client, social_worker.username, 3)
    attempt = AccessAttempt.objects.get()
    assert attempt.attempt_time == started
    assert attempt.failures_since_start == LIMIT


def test_a_successful_sign_in_clears_the_failures(client, social_worker):
    fail(client, social_worker.username, LIMIT - 1)
    assert sign_in(client, social_worker.username, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()

    # The count starts again: LIMIT - 1 more failures do not lock out.
    responses = fail(client, social_worker.username, LIMIT - 1)
    assert {r.status_code for r in responses} == {200}
    assert sign_in(client, social_worker.username, PASSWORD).status_code == 302


def test_the_lockout_does_not_tell_whether_the_username_exists(client, social_worker):
    known = fail(client, social_worker.username, LIMIT)
    unknown = fail(client, "no-such-user", LIMIT)

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert plain(known[0]) == plain(unknown[0])  # the same error before the lockout
    assert plain(known[-1]) == plain(unknown[-1])  # and the same lockout page


def test_failed_sign_ins_keep_usernames_and_addresses_out_of_the_logs(client, social_worker, caplog):
    caplog.set_level(logging.DEBUG)
    fail(client, social_worker.username, LIMIT + 1, REMOTE_ADDR="198.51.100.7")
    sign_in(client, social_worker.username, PASSWORD, REMOTE_ADDR="203.0.113.9")

    assert caplog.records, "axes logs nothing: the check below would prove nothing"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for personal in (social_worker.username, "198.51.100.7", "203.0.113.9"):
        assert personal not in logged
    # axes keeps them in its own table, for administrators.
    assert AccessAttempt.objects.filter(username=social_worker.username,
                                        ip_address="198.51.100.7").exists()


def test_the_admin_sign_in_is_throttled_too(client, personas):
    admin = personas[Role.ADMINISTRATOR]
    responses = [
        client.post(reverse("admin:login"), {"username": admin.username, "password": "guess"})
        for _ in range(LIMIT)
    ]
    assert responses[-1].status_code == 429


def test_a_locked_out_user_s_api_token_still_works(client, social_worker):
    """Throttling guards the password; an integration's token is a separate credential."""
    fail(client, social_worker.username, LIMIT)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=social_worker).key}")
    assert script.get("/api/v1/referrals/").status_code == 200


def test_behind_a_proxy_the_address_comes_from_x_forwarded_for(client, social_worker, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote the first entry; the proxy appended the address it saw.
    fail(client, social_worker.username, 2, REMOTE_ADDR="10.0.0.1",
         HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.20"


# --- Session lifetime -------------------------------------------------------------------------


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_the_session_cookie_lasts_30_minutes_and_is_http_only(client, social_worker):
    response = sign_in(client, social_worker.username, PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert cookie["max-age"] == 30 * 60
    assert cookie["httponly"]


def _idle_for(client, minutes: int) -> None:
    """As if `minutes` had passed since the last request renewed the session."""
    session = client.session
    session[RENEWED_AT] -= minutes * 60
    session.save()
    Session.objects.filter(pk=session.session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - minutes * 60)
    )


def test_a_request_restarts_the_inactivity_clock(client, social_worker):
    client.force_login(social_worker)
    _idle_for(client, 29)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    left = _session_row(client).expire_date - timezone.now()
    assert left > datetime.timedelta(minutes=29)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 60


def test_requests_within_a_minute_do_not_rewrite_the_session(client, social_worker):
    """Renewing at most once a minute spares every page a session write."""
    client.force_login(social_worker)
    expiry = _session_row(client).expire_date

    response = client.get(reverse("home"))

    assert _session_row(client).expire_date == expiry
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not settings.SESSION_SAVE_EVERY_REQUEST


def test_a_session_idle_for_too_long_has_ended(client, social_worker):
    client.force_login(social_worker)
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _signed_in_ago(client, seconds):
    session = client.session
    session[SIGNED_IN_AT] = int(timezone.now().timestamp()) - seconds
    session.save()


def test_a_busy_session_ends_10_hours_after_sign_in(client, social_worker):
    client.force_login(social_worker)
    assert settings.SESSION_ABSOLUTE_AGE == 10 * 60 * 60
    _signed_in_ago(client, settings.SESSION_ABSOLUTE_AGE + 1)
    old_key = client.session.session_key

    response = client.get(reverse("referral-list"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "signed in for too long" in plain(response)
    assert not Session.objects.filter(session_key=old_key).exists()  # gone from the server
    assert client.get(reverse("home")).status_code == 302  # still signed out


def test_a_session_within_its_absolute_limit_carries_on(client, social_worker):
    client.force_login(social_worker)
    _signed_in_ago(client, settings.SESSION_ABSOLUTE_AGE - 60)
    assert client.get(reverse("home")).status_code == 200


def test_a_session_without_a_sign_in_time_is_ended(client, social_worker):
    """Sessions from before the limit existed have no sign-in time: they end once."""
    client.force_login(social_worker)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()
    assert client.get(reverse("home")).status_code == 302


def test_the_api_refuses_a_session_past_its_absolute_limit(social_worker):
    api = APIClient()
    api.force_login(social_worker)
    assert api.get("/api/v1/referrals/").status_code == 200
    _signed_in_ago(api, settings.SESSION_ABSOLUTE_AGE + 1)
    assert api.get("/api/v1/referrals/").status_code == 401


# --- Strong passwords -------------------------------------------------------------------------

WEAK = [
    ("short-1a", "This password is too short"),  # under 12 characters
    ("password1234", "This password is too common"),
    ("830274619305", "This password is entirely numeric"),
    ("social_worker1", "The password is too similar to the username"),
]
STRONG = "tidy-harbour-lantern-42"


def test_the_validators_are_configured():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == ["UserAttributeSimilarityValidator", "MinimumLengthValidator",
                     "CommonPasswordValidator", "NumericPasswordValidator"]
    assert settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"]["min_length"] == 12


def _change_password(client, new, *, current=PASSWORD):
    return client.post(reverse("password-change"), {
        "old_password": current, "new_password1": new, "new_password2": new,
    })


@pytest.mark.parametrize("weak, message", WEAK, ids=[w for w, _ in WEAK])
def test_the_password_change_page_refuses_a_weak_password(client, social_worker, weak, message):
    client.force_login(social_worker)

    response = _change_password(client, weak)

    assert response.status_code == 200
    assert error_links(response) == ["id_new_password2"]
    assert message in plain(response)
    social_worker.refresh_from_db()
    assert social_worker.check_password(PASSWORD)


def test_the_password_change_page_takes_a_strong_password_and_keeps_the_session(
    client, social_worker
):
    client.force_login(social_worker)
    signed_in_at = client.session[SIGNED_IN_AT]
    assert "Change your password" in plain(client.get(reverse("home")))

    response = _change_password(client, STRONG)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    social_worker.refresh_from_db()
    assert social_worker.check_password(STRONG)
    assert client.get(reverse("home")).status_code == 200  # still signed in
    assert client.session[SIGNED_IN_AT] == signed_in_at


def test_a_wrong_current_password_is_refused_and_counted(client, social_worker):
    client.force_login(social_worker)

    response = _change_password(client, STRONG, current="not-my-password")

    assert error_links(response) == ["id_old_password"]
    assert "The password is not right" in plain(response)
    assert AccessAttempt.objects.get(username=social_worker.username).failures_since_start == 1
    social_worker.refresh_from_db()
    assert social_worker.check_password(PASSWORD)


@pytest.mark.parametrize("weak, message", WEAK[:3], ids=[w for w, _ in WEAK[:3]])
def test_the_admin_password_forms_refuse_a_weak_password(client, social_worker, weak, message):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    own = client.post(reverse("admin:password_change"), {
        "old_password": PASSWORD, "new_password1": weak, "new_password2": weak})
    other = client.post(reverse("admin:auth_user_password_change", args=[social_worker.pk]),
                        {"password1": weak, "password2": weak})

    for response in (own, other):
        assert response.status_code == 200
        assert message in plain(response)
    admin.refresh_from_db()
    social_worker.refresh_from_db()
    assert admin.check_password(PASSWORD) and social_worker.check_password(PASSWORD)


def test_createsuperuser_refuses_a_weak_password_from_the_environment(monkeypatch, db):
    """Django checks only a typed password; ours (core) checks DJANGO_SUPERUSER_PASSWORD too."""

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "password1234")
    with pytest.raises(CommandError, match="too common"):
        call_command("createsuperuser", interactive=False, username="root",
                     email="root@example.gov.uk")
    assert not get_user_model().objects.filter(username="root").exists()

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    call_command("createsuperuser", interactive=False, username="root",
                 email="root@example.gov.uk", stdout=io.StringIO())
    assert get_user_model().objects.get(username="root").check_password(STRONG)


def test_createsuperuser_asks_again_for_a_weak_typed_password(monkeypatch, db):
    """The prompt checks the same validators (Django's own behaviour, kept by ours)."""
    typed = iter(["830274619305", "830274619305", STRONG, STRONG])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="Password: ": next(typed))
    monkeypatch.setattr("builtins.input", lambda prompt="": "N")  # do not bypass the check

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    errors = io.StringIO()
    call_command("createsuperuser", interactive=True, username="root",
                 email="root@example.gov.uk", stdin=Terminal(), stdout=io.StringIO(),
                 stderr=errors)

    assert "This password is entirely numeric" in errors.getvalue()
    assert get_user_model().objects.get(username="root").check_password(STRONG)


def test_the_nightly_task_forgets_old_sign_in_records(db, settings):
    from axes.models import AccessFailureLog, AccessLog

    from config.celery import app
    from core.tasks import trim_sign_in_logs

    settings.SIGN_IN_LOG_DAYS = 90
    now = timezone.now()
    for model in (AccessLog, AccessFailureLog):
        for username, days in (("old", 91), ("recent", 89)):
            record = model.objects.create(username=username, ip_address="192.0.2.1",
                                          user_agent="", http_accept="", path_info="/sign-in/")
            model.objects.filter(pk=record.pk).update(
                attempt_time=now - datetime.timedelta(days=days))

    assert trim_sign_in_logs.delay().get() == 2

    for model in (AccessLog, AccessFailureLog):
        assert list(model.objects.values_list("username", flat=True)) == ["recent"]
    assert app.conf.beat_schedule["trim-sign-in-logs"]["task"] == "core.tasks.trim_sign_in_logs"
