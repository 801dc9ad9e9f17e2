"""Frameworks: their members and ceiling rates, setting a rate and the annual uplift."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError, InvalidInput
from core.forms import show_domain_error
from core.pages import saved
from providers import selectors
from providers.forms import FrameworkRateForm, UpliftForm
from providers.models import Framework, Provider
from providers.reference import PlacementType, financial_year_label
from providers.services import catalogue
from providers.views.common import (
    editor_required,
    form_page,
    is_catalogue_editor,
    posted,
)


@login_required
def framework_list(request):
    return render(
        request,
        "providers/framework_list.html",
        {"frameworks": selectors.frameworks_for_list(), "today": timezone.localdate()},
    )


def rates_grid(year: int, rows) -> dict:
    """One financial year's ceilings as a grid: a row per lot or provider, a column per
    placement type (in SSDA903 order)."""
    order = {code: i for i, code in enumerate(PlacementType.values)}
    types = sorted({row.placement_type for row in rows}, key=order.__getitem__)
    subjects = {}
    for row in rows:
        key = (type(row.subject).__name__, row.subject.pk)
        entry = subjects.setdefault(key, {"subject": row.subject,
                                          "is_provider": isinstance(row.subject, Provider),
                                          "ceilings": {}})
        entry["ceilings"][row.placement_type] = row.ceiling
    grid_rows = [
        {**entry, "cells": [entry["ceilings"].get(code) for code in types]}
        for entry in subjects.values()
    ]
    return {
        "year": year,
        "label": financial_year_label(year),
        "types": [(code, PlacementType(code).label) for code in types],
        "rows": grid_rows,
    }


@login_required
def framework_detail(request, pk):
    framework = get_object_or_404(Framework, pk=pk)
    table = selectors.framework_rates_table(framework=framework)
    return render(
        request,
        "providers/framework_detail.html",
        {
            "framework": framework,
            "lots": list(framework.lots.all()),
            "memberships": framework.memberships.select_related("provider", "lot")
            .order_by("lot__number", "provider__name", "start_date"),
            "years": [rates_grid(year, rows) for year, rows in table.items()],
            "today": timezone.localdate(),
            "can_edit": is_catalogue_editor(request.user),
        },
    )


# --- Ceiling rates ---------------------------------------------------------------------


def _show_rate_error(form, error: DomainError) -> None:
    # The service names the lot or provider; the form asks for them in one question.
    if isinstance(error, InvalidInput) and error.field in ("lot", "provider"):
        error = InvalidInput(error.message, field="applies_to")
    show_domain_error(form, error)


@editor_required
def framework_rate_set(request, pk):
    framework = get_object_or_404(Framework, pk=pk)
    form = FrameworkRateForm(*posted(request), framework=framework)
    if saved(request, form, lambda data: catalogue.framework_rate_set(
        by=request.user, framework=framework, placement_type=data["placement_type"],
        financial_year=data["financial_year"],
        ceiling_weekly_price=data["ceiling_weekly_price"], **data["applies_to"],
    ), on_error=_show_rate_error) is not None:
        data = form.cleaned_data
        messages.success(
            request,
            f"Ceiling rate saved: £{data['ceiling_weekly_price']:,.2f} a week for "
            f"{data['placement_type']} in {financial_year_label(data['financial_year'])}.",
        )
        return redirect("framework-detail", pk=pk)
    return form_page(request, form, title="Set a ceiling rate", caption=framework.name,
                     back_url=reverse("framework-detail", args=[pk]), submit="Save rate")


# --- The annual uplift -----------------------------------------------------------------


@editor_required
def framework_uplift(request, pk):
    """Two steps: the form, then a page showing every new rate; nothing changes until the
    person presses "Apply uplift" there."""
    framework = get_object_or_404(Framework, pk=pk)
    form = UpliftForm(*posted(request))
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirm") == "yes":
            done = _apply_uplift(request, framework, form)
            if done:
                return redirect("framework-detail", pk=pk)
        else:
            preview = _uplift_preview(framework, form)
            if preview:
                return _uplift_confirmation(request, framework, form, preview)
    return form_page(request, form, title="Apply an annual uplift", caption=framework.name,
                     back_url=reverse("framework-detail", args=[pk]), submit="Continue",
                     intro="You can check every new rate before anything changes.")


def _uplift_preview(framework, form) -> list:
    """The new rates, or [] with the reason shown on the form."""
    from_year = form.cleaned_data["from_year"]
    try:
        preview = catalogue.uplift_preview(
            framework=framework, from_year=from_year, percentage=form.cleaned_data["percentage"]
        )
    except DomainError as error:
        show_domain_error(form, error)
        return []
    if not preview:
        form.add_error("from_year", f"{framework} has no rates for "
                                    f"{financial_year_label(from_year)} to uplift")
    return preview


def _apply_uplift(request, framework, form) -> bool:
    from_year, percentage = form.cleaned_data["from_year"], form.cleaned_data["percentage"]
    try:
        created = catalogue.framework_apply_uplift(
            by=request.user, framework=framework, from_year=from_year, percentage=percentage
        )
    except DomainError as error:
        show_domain_error(form, error)
        return False
    messages.success(
        request,
        f"Uplift of {percentage}% applied: {len(created)} new ceiling "
        f"rate{pluralize(len(created))} for {financial_year_label(from_year + 1)}.",
    )
    return True


def _uplift_confirmation(request, framework, form, preview):
    from_year, percentage = form.cleaned_data["from_year"], form.cleaned_data["percentage"]
    rows = [
        {"subject": rate.lot if rate.lot_id else rate.provider, "is_provider": not rate.lot_id,
         "placement_type": rate.placement_type,
         "placement_type_label": rate.get_placement_type_display(),
         "ceiling": rate.ceiling_weekly_price,
         "new_ceiling": new_ceiling}
        for rate, new_ceiling in preview
    ]
    return render(
        request,
        "providers/uplift_confirm.html",
        {"framework": framework, "rows": rows, "from_year": from_year, "percentage": percentage,
         "from_label": financial_year_label(from_year),
         "to_label": financial_year_label(from_year + 1)},
    )
