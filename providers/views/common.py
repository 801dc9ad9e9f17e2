"""What every directory page shares: who may change the catalogue and how a form page is
shown. A posted form reaches a catalogue service through core.pages.saved, which shows
the service's refusal on the form."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from core.errors import ActionNotPermitted
from providers.services import catalogue

PAGE_SIZE = 25


def is_catalogue_editor(user) -> bool:
    """Whether to offer the editing buttons; the services decide again on submit."""
    try:
        catalogue.require_catalogue_editor(user)
    except ActionNotPermitted:
        return False
    return True


def editor_required(view):
    """Signed in, and allowed to change the catalogue: anyone else gets 403 on GET and POST."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            catalogue.require_catalogue_editor(request.user)
        except ActionNotPermitted as error:
            raise PermissionDenied(error.message) from None
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def posted(request, *, files=False) -> tuple:
    """The form's data: bound on every POST, even an empty one, so that it shows errors."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def form_page(request, form, *, title, caption="", back_url, submit, intro="", status=200):
    return render(
        request,
        "providers/form.html",
        {"form": form, "title": title, "caption": caption, "back_url": back_url,
         "submit": submit, "intro": intro},
        status=status,
    )
