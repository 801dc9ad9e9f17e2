"""What the sourcing and choice pages share: the referral read through the access helper
(404 for anyone who may not see it), the commissioning officer's check, and a posted form
handed to a service whose refusal is shown on the form, or as 403 when the person may not
act at all."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from core import pages
from core.errors import ActionNotPermitted, DomainError
from core.forms import show_domain_error
from core.roles import Role, has_role
from placements.models import Referral
from placements.services.referrals import referral_for


def visible_referral(request, pk) -> Referral:
    try:
        return referral_for(user=request.user, pk=pk)
    except Referral.DoesNotExist:
        raise Http404("No such referral") from None


def is_commissioner(user) -> bool:
    return has_role(user, Role.COMMISSIONING_OFFICER)


def require_commissioner(request, message="Only a commissioning officer can do this.") -> None:
    """The forms are for commissioning officers; the services check again on submit."""
    if not is_commissioner(request.user):
        raise PermissionDenied(message)


def show_error(form, error: DomainError, *, show=show_domain_error) -> None:
    """A service's refusal on the form (put there by `show`); 'you may not' is a 403 page
    instead."""
    if isinstance(error, ActionNotPermitted):
        raise PermissionDenied(error.message) from None
    show(form, error)


def saved(request, form, save, *, on_error=show_error):
    """core.pages.saved, with 'you may not' a 403 page (see show_error)."""
    return pages.saved(request, form, save, on_error=on_error)
