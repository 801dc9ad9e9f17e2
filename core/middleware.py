"""Session lifetime and re-authentication, for every page (core.auth holds the rules)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import redirect
from django.urls import reverse

from core.auth import ReauthenticationRequired, renew_idle_expiry, session_outlived


class SessionLifetimeMiddleware:
    """Ends a session SESSION_ABSOLUTE_AGE seconds after sign-in, however active it has
    been; the request then goes on as anonymous (a page redirects to sign-in, the API
    refuses). Otherwise the request renews the session's idle expiry (SESSION_COOKIE_AGE,
    enforced by the session store itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # SESSION_KEY: a signed-in session, found without loading the user.
        if SESSION_KEY not in request.session:
            return self.get_response(request)
        if session_outlived(request):
            logout(request)
            messages.info(request, "You were signed out because you have been signed in for too long. "
                                   "Sign in again to carry on.")
        else:
            renew_idle_expiry(request)
        return self.get_response(request)


class ReauthenticationMiddleware:
    """A page that needs a recent password (core.auth.require_recent_password) sends the
    user to confirm it, and back to the page afterwards. A POST is refused the same way:
    nothing it asked for has been done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ReauthenticationRequired):
            return None
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('confirm-password')}?{query}")
