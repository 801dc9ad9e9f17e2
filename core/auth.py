"""How long a sign-in counts for, and re-authentication before the decisions that matter.

The session remembers three times (seconds since the epoch):

- SIGNED_IN_AT: when the user signed in. core.middleware ends the session
  SESSION_ABSOLUTE_AGE seconds later, however busy it has been.
- PASSWORD_GIVEN_AT: when the user last typed their password (at sign-in or on the
  "Confirm your password" page). Approving for the Director, or fixing a weekly cost above
  DIRECTOR_APPROVAL_WEEKLY_THRESHOLD, needs it to be under REAUTH_MAX_AGE seconds old, so
  that a browser left signed in cannot commit the council's money.
- RENEWED_AT: when a request last pushed the session's idle expiry (SESSION_COOKIE_AGE)
  back; renewed at most once every SESSION_RENEW_SECONDS, to spare every page a write.

Views call require_recent_password; it raises ReauthenticationRequired, which
core.middleware turns into a redirect to the confirm page and the API into a 403 saying
what to do.

API calls authenticated by token pass: a token is a credential handed to an integration by
an administrator and sent whole with every request, so there is no ageing sign-in to
refresh and no unattended browser to protect. Session-authenticated API calls (the
browser's) are held to the same rule as the pages.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication

SIGNED_IN_AT = "signed_in_at"
PASSWORD_GIVEN_AT = "password_given_at"  # nosec B105 # a session key's name, not a password
# When a request last pushed the session's idle expiry back (core.middleware).
RENEWED_AT = "renewed_at"


class ReauthenticationRequired(PermissionDenied):
    """The action needs a password typed within REAUTH_MAX_AGE; a page redirects to the
    confirm page (core.middleware), the API answers 403 with this message."""

    def __init__(self):
        minutes = settings.REAUTH_MAX_AGE // 60
        super().__init__(
            f"Confirm your password first: this action needs you to have signed in or "
            f"confirmed your password in the last {minutes} minutes. Confirm it at "
            f"{reverse('confirm-password')} (or sign in again), then repeat the request."
        )


def _now() -> int:
    return int(timezone.now().timestamp())


def record_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: both clocks start now."""
    if request is None or not hasattr(request, "session"):
        return
    now = _now()
    for key in (SIGNED_IN_AT, PASSWORD_GIVEN_AT, RENEWED_AT):
        request.session[key] = now


def record_password_given(request) -> None:
    """The user typed their password again (the confirm page)."""
    request.session[PASSWORD_GIVEN_AT] = _now()


def seconds_since(request, key: str) -> int | None:
    """Age of one of the session's times, or None when the session lacks it."""
    stamp = request.session.get(key)
    return None if not isinstance(stamp, int) else _now() - stamp


def session_outlived(request) -> bool:
    """Signed in longer ago than SESSION_ABSOLUTE_AGE (or at an unknown time)."""
    age = seconds_since(request, SIGNED_IN_AT)
    return age is None or age > settings.SESSION_ABSOLUTE_AGE


def renew_idle_expiry(request) -> None:
    """Push the session's idle expiry (SESSION_COOKIE_AGE from now) back, at most once
    every SESSION_RENEW_SECONDS: changing the session makes Django save it, with a new
    expiry date, at the end of the request."""
    age = seconds_since(request, RENEWED_AT)
    if age is None or age >= settings.SESSION_RENEW_SECONDS:
        request.session[RENEWED_AT] = _now()


def password_given_recently(request) -> bool:
    age = seconds_since(request, PASSWORD_GIVEN_AT)
    return age is not None and age <= settings.REAUTH_MAX_AGE


def _by_token(request) -> bool:
    return isinstance(getattr(request, "successful_authenticator", None), TokenAuthentication)


def require_recent_password(request, *, weekly_cost: Decimal | None = None) -> None:
    """Raise ReauthenticationRequired unless the user typed their password recently.

    With weekly_cost, only a cost above DIRECTOR_APPROVAL_WEEKLY_THRESHOLD needs it; without,
    the action always does (a Director's approval)."""
    if weekly_cost is not None and weekly_cost <= settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD:
        return
    if _by_token(request) or password_given_recently(request):
        return
    raise ReauthenticationRequired()


def client_ip_address(request) -> str | None:
    """The client's address for sign-in throttling (AXES_CLIENT_IP_CALLABLE).

    Behind TRUSTED_PROXY_COUNT proxies, each appends the address it heard from to
    X-Forwarded-For, so the client is that many entries from the right; anything further
    left was written by the client and cannot be trusted."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
