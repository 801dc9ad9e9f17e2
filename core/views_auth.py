"""Sign-in pages beyond Django's own: confirming the password before a decision that
matters (core.auth), changing one's password, and the page a locked-out sign-in gets
(django-axes). Every password typed here goes through authenticate(), so wrong ones count
towards the same lockout as the sign-in page's."""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme

from core.auth import record_password_given
from core.forms import GovukForm, GovukFormMixin

WRONG_PASSWORD = "The password is not right: enter the password you sign in with"  # nosec B105 # a message


def _is_password_of(request, user, password: str) -> bool:
    """Checked through authenticate() (not user.check_password), so that django-axes
    counts a wrong password and refuses one during a lockout."""
    found = authenticate(request, username=user.get_username(), password=password)
    return found is not None and found.pk == user.pk


def _sign_out_if_locked_out(request) -> None:
    """Too many wrong passwords: whoever is at this browser is signed out, and
    django-axes answers with the lockout page."""
    if getattr(request, "axes_locked_out", False):
        logout(request)


class PasswordConfirmForm(GovukForm):
    """The signed-in user's password, checked through authenticate() so that wrong ones
    count towards the sign-in lockout like any other failed sign-in."""

    password = forms.CharField(
        label="Password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["password"].error_messages["required"] = "Enter your password"

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not _is_password_of(self.request, self.request.user, password):
            raise forms.ValidationError(WRONG_PASSWORD)
        return password


def safe_next(request) -> str:
    """Where to go back to: a path on this site, never another site (an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _forget_failed_attempts(request) -> None:
    """A right password clears this user's earlier wrong ones from this address, as a
    successful sign-in does (AXES_RESET_ON_SUCCESS)."""
    credentials = get_credentials(request.user.get_username())
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, credentials)


@login_required
def confirm_password(request):
    form = PasswordConfirmForm(request.POST if request.method == "POST" else None, request=request)
    if form.is_bound and form.is_valid():
        record_password_given(request)
        _forget_failed_attempts(request)
        return redirect(safe_next(request))
    _sign_out_if_locked_out(request)
    return render(request, "registration/confirm_password.html", {
        "form": form, "next": safe_next(request),
        "threshold": settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD,
        "minutes": settings.REAUTH_MAX_AGE // 60,
    })


class GovukPasswordChangeForm(GovukFormMixin, PasswordChangeForm):
    """Django's password change (AUTH_PASSWORD_VALIDATORS apply to the new password), in
    GOV.UK words, with the current password checked like a sign-in."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request
        fields = self.fields
        fields["old_password"].label = "Current password"
        fields["old_password"].error_messages["required"] = "Enter your current password"
        fields["new_password1"].label = "New password"
        fields["new_password1"].help_text = (
            "At least 12 characters, not a common password, not only numbers, and not like "
            "your name, username or e-mail address."
        )
        fields["new_password1"].error_messages["required"] = "Enter a new password"
        fields["new_password2"].label = "New password again"
        fields["new_password2"].help_text = ""
        fields["new_password2"].error_messages["required"] = "Enter the new password again"
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": "The two new passwords are not the same",  # nosec B105 # a message
        }

    def clean_old_password(self):
        password = self.cleaned_data["old_password"]
        if not _is_password_of(self.request, self.user, password):
            raise forms.ValidationError(WRONG_PASSWORD)
        return password


class PasswordChange(auth_views.PasswordChangeView):
    """Signed-in users change their own password; the session carries on, and typing the
    current password counts as confirming it (core.auth)."""

    form_class = GovukPasswordChangeForm
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        record_password_given(self.request)
        _forget_failed_attempts(self.request)
        messages.success(self.request, "Your password is changed.")
        return response

    def form_invalid(self, form):
        _sign_out_if_locked_out(self.request)
        return super().form_invalid(form)


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: one page whether or not the username exists, naming neither
    the username nor the address."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request, "registration/locked_out.html", {"minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
