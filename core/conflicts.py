"""Pages' safety net for a database constraint that refused a write.

The services check every rule before they write, and most turn the database's refusal of
a race into a Conflict that the page shows on its form. Where one does not, the
IntegrityError would otherwise be a 500: this middleware answers it instead with a 409
page that says nothing was saved and leads back, as the API's exception handler
(core.api) answers 409. The write's transaction has already been rolled back.
"""

import logging

from django.db import IntegrityError
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from core.api import INTEGRITY_CONFLICT, constraint_name

logger = logging.getLogger(__name__)


class IntegrityErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, IntegrityError):
            return None
        # As in core.api: the database's message can quote personal data; log only where.
        logger.warning("Integrity error answered with a 409 page at %s (constraint %s)",
                       request.resolver_match.view_name if request.resolver_match else "?",
                       constraint_name(exception))
        context = {"message": INTEGRITY_CONFLICT, "back_url": _back_url(request)}
        return render(request, "core/conflict.html", context, status=409)


def _back_url(request) -> str:
    """The page the form was on (the Referer, when it is ours), else the same address."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
