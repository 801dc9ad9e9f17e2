"""What every app's pages share when a posted form goes to a service: the service decides,
and its refusal is shown on the form (core.forms.show_domain_error) rather than as an
error page."""

from core.errors import DomainError
from core.forms import show_domain_error


def saved(request, form, save, *, on_error=show_domain_error):
    """What `save(form.cleaned_data)` returns for a valid POST (a service, which returns
    what it changed), else None: nothing was posted, the form is wrong, or the service
    refused and `on_error(form, error)` showed why."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except DomainError as error:
        on_error(form, error)
        return None
