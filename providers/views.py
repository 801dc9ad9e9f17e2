"""The commissioning team's provider directory: services, providers, frameworks and their
rates, discounts and CSV imports. Thin: reads go through providers.selectors, changes
through providers.services.catalogue and providers.services.imports, which decide who may
change the catalogue (commissioning officers and administrators)."""

import copy
import csv
import functools
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionNotPermitted, DomainError, InvalidInput
from core.forms import show_domain_error
from providers import selectors
from providers.forms import (
    CsvUploadForm,
    DiscountEndForm,
    DiscountForm,
    FrameworkRateForm,
    ProviderForm,
    ServiceForm,
    UpliftForm,
)
from providers.models import Framework, Provider, ProviderDiscount, Service
from providers.reference import PlacementType, financial_year_label, financial_year_start
from providers.services import catalogue, imports

PAGE_SIZE = 25
SERVICE_EXAMPLE = [
    "Brightwater Care", "childrens_home", "PR4", "referrals@brightwater.example",
    "Brightwater House", "SC123456", "good", "2025-11-04", "LS6 2AB", "Leeds", "11", "17",
    "4", "1", "K2", "emotional_behavioural;autism", "fire_setting",
]


# --- Who may change the catalogue ------------------------------------------------------


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


def _posted(request, *, files=False) -> tuple:
    """The form's data: bound on every POST, even an empty one, so that it shows errors."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def _form_page(request, form, *, title, caption="", back_url, submit, intro="", status=200):
    return render(
        request,
        "providers/form.html",
        {"form": form, "title": title, "caption": caption, "back_url": back_url,
         "submit": submit, "intro": intro},
        status=status,
    )


# --- The directory ---------------------------------------------------------------------


@login_required
def service_directory(request):
    filters = selectors.ServiceFilter(
        request.GET or None, queryset=selectors.services_for_directory()
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # Distances exist only when the postcode was understood.
    near = getattr(filters.form, "cleaned_data", {}).get("postcode") if filters.is_bound else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "providers/service_directory.html",
        # `form` too, so that the page title starts "Error:" when a filter is wrong.
        {"filters": filters, "form": filters.form, "page": page, "query": query.urlencode(),
         "near": near,
         "can_edit": is_catalogue_editor(request.user)},
    )


@login_required
def provider_detail(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    today = timezone.localdate()
    current_discounts = list(selectors.discounts_valid_on(provider=provider, day=today))
    other_discounts = (
        provider.discounts.exclude(pk__in=[discount.pk for discount in current_discounts])
        .order_by("-valid_from", "-pk")
    )
    rates = list(
        provider.framework_rates.select_related("framework")
        .order_by("-financial_year", "framework__name", "placement_type")
    )
    for rate in rates:
        rate.year_label = financial_year_label(rate.financial_year)
    return render(
        request,
        "providers/provider_detail.html",
        {
            "provider": provider,
            "services": selectors.services_for_directory().filter(provider=provider),
            "memberships": provider.framework_memberships.select_related("framework", "lot")
            .order_by("-start_date", "framework__name"),
            "rates": rates,
            "current_discounts": current_discounts,
            "other_discounts": other_discounts,
            "today": today,
            "can_edit": is_catalogue_editor(request.user),
        },
    )


@login_required
def service_detail(request, pk):
    service = get_object_or_404(selectors.services_for_directory(), pk=pk)
    return render(
        request,
        "providers/service_detail.html",
        {"service": service, "can_edit": is_catalogue_editor(request.user)},
    )


# --- Providers and services ------------------------------------------------------------


@editor_required
def provider_create(request):
    form = ProviderForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            provider = catalogue.provider_create(by=request.user, fields=form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"{provider.name} added to the directory.")
            return redirect("provider-detail", pk=provider.pk)
    return _form_page(request, form, title="Add a provider", back_url=reverse("service-directory"),
                      submit="Add provider")


@editor_required
def provider_edit(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    # The form writes the answers onto its instance; keep `provider` as it is in the database.
    form = ProviderForm(*_posted(request), instance=copy.copy(provider))
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.provider_update(by=request.user, provider=provider, fields=form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Provider details saved.")
            return redirect("provider-detail", pk=pk)
    return _form_page(request, form, title="Change provider details", caption=provider.name,
                      back_url=reverse("provider-detail", args=[pk]), submit="Save changes")


@editor_required
def service_create(request, provider_pk):
    provider = get_object_or_404(Provider, pk=provider_pk)
    form = ServiceForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            service = catalogue.service_create(
                by=request.user, provider=provider, fields=form.service_fields(),
                placement_types=form.cleaned_data["placement_types"],
                needs=form.cleaned_data["needs"],
                excluded_risks=form.cleaned_data["excluded_risks"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"{service.name} added.")
            return redirect("service-detail", pk=service.pk)
    return _form_page(request, form, title="Add a service", caption=provider.name,
                      back_url=reverse("provider-detail", args=[provider.pk]),
                      submit="Add service")


@editor_required
def service_edit(request, pk):
    service = get_object_or_404(
        Service.objects.select_related("provider").prefetch_related(
            "placement_types", "needs_accepted", "risks_excluded"
        ),
        pk=pk,
    )
    form = ServiceForm(*_posted(request), initial=ServiceForm.initial_for(service))
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.service_update(
                by=request.user, service=service, fields=form.service_fields(),
                placement_types=form.cleaned_data["placement_types"],
                needs=form.cleaned_data["needs"],
                excluded_risks=form.cleaned_data["excluded_risks"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Service details saved.")
            return redirect("service-detail", pk=pk)
    return _form_page(request, form, title="Change service details",
                      caption=f"{service.name}, {service.provider.name}",
                      back_url=reverse("service-detail", args=[pk]), submit="Save changes")


# --- Discounts -------------------------------------------------------------------------


@editor_required
def discount_create(request, provider_pk):
    provider = get_object_or_404(Provider, pk=provider_pk)
    form = DiscountForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.discount_create(by=request.user, provider=provider, fields=form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Discount added.")
            return redirect("provider-detail", pk=provider.pk)
    return _form_page(request, form, title="Add a discount", caption=provider.name,
                      back_url=reverse("provider-detail", args=[provider.pk]),
                      submit="Add discount")


@editor_required
def discount_end(request, pk):
    discount = get_object_or_404(ProviderDiscount.objects.select_related("provider"), pk=pk)
    form = DiscountEndForm(*_posted(request), initial={"valid_to": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.discount_end(
                by=request.user, discount=discount, valid_to=form.cleaned_data["valid_to"]
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Discount ended.")
            return redirect("provider-detail", pk=discount.provider_id)
    return _form_page(
        request, form, title="End a discount", caption=discount.provider.name,
        back_url=reverse("provider-detail", args=[discount.provider_id]), submit="End discount",
        intro=f"{discount.description} ({discount.percentage}%), valid from "
        f"{discount.valid_from:%-d %B %Y}.",
    )


# --- Frameworks and rates --------------------------------------------------------------


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


def _show_rate_error(form, error: DomainError) -> None:
    # The service names the lot or provider; the form asks for them in one question.
    if isinstance(error, InvalidInput) and error.field in ("lot", "provider"):
        error = InvalidInput(error.message, field="applies_to")
    show_domain_error(form, error)


@editor_required
def framework_rate_set(request, pk):
    framework = get_object_or_404(Framework, pk=pk)
    form = FrameworkRateForm(*_posted(request), framework=framework)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            catalogue.framework_rate_set(
                by=request.user, framework=framework, placement_type=data["placement_type"],
                financial_year=data["financial_year"],
                ceiling_weekly_price=data["ceiling_weekly_price"], **data["applies_to"],
            )
        except DomainError as error:
            _show_rate_error(form, error)
        else:
            messages.success(
                request,
                f"Ceiling rate saved: £{data['ceiling_weekly_price']:,.2f} a week for "
                f"{data['placement_type']} in {financial_year_label(data['financial_year'])}.",
            )
            return redirect("framework-detail", pk=pk)
    return _form_page(request, form, title="Set a ceiling rate", caption=framework.name,
                      back_url=reverse("framework-detail", args=[pk]), submit="Save rate")


@editor_required
def framework_uplift(request, pk):
    """Two steps: the form, then a page showing every new rate; nothing changes until the
    person presses "Apply uplift" there."""
    framework = get_object_or_404(Framework, pk=pk)
    form = UpliftForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirm") == "yes":
            done = _apply_uplift(request, framework, form)
            if done:
                return redirect("framework-detail", pk=pk)
        else:
            preview = _uplift_preview(framework, form)
            if preview:
                return _uplift_confirmation(request, framework, form, preview)
    return _form_page(request, form, title="Apply an annual uplift", caption=framework.name,
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


# --- CSV imports -----------------------------------------------------------------------


def _csv_response(filename: str, rows: list[list[str]]) -> HttpResponse:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _import_page(request, *, form, title, caption, back_url, template_url, report=None):
    return render(
        request,
        "providers/import_report.html" if report is not None else "providers/import_form.html",
        {"form": form, "title": title, "caption": caption, "back_url": back_url,
         "template_url": template_url, "report": report},
    )


@editor_required
def service_import(request):
    form = CsvUploadForm(*_posted(request, files=True),
                         columns=", ".join(imports.SERVICE_COLUMNS))
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = imports.import_services_csv(by=request.user, file=form.cleaned_data["file"])
        except DomainError as error:
            show_domain_error(form, error)
    return _import_page(
        request, form=form, title="Import services", caption="Provider directory",
        back_url=reverse("service-directory"), template_url=reverse("service-import-template"),
        report=report,
    )


@login_required
def service_import_template(request):
    return _csv_response("services-template.csv", [imports.SERVICE_COLUMNS, SERVICE_EXAMPLE])


@editor_required
def rate_import(request, pk):
    framework = get_object_or_404(Framework, pk=pk)
    form = CsvUploadForm(
        *_posted(request, files=True),
        columns=", ".join(imports.RATE_COLUMNS)
        + " (fill in a lot number or a provider name, not both)",
    )
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = imports.import_rates_csv(
                by=request.user, framework=framework, file=form.cleaned_data["file"]
            )
        except DomainError as error:
            show_domain_error(form, error)
    return _import_page(
        request, form=form, title="Import ceiling rates", caption=framework.name,
        back_url=reverse("framework-detail", args=[pk]),
        template_url=reverse("rate-import-template", args=[pk]), report=report,
    )


@login_required
def rate_import_template(request, pk):
    """An example using the framework's own first lot and member, so it imports as it is."""
    framework = get_object_or_404(Framework, pk=pk)
    lot = framework.lots.first()
    member = Provider.objects.filter(framework_memberships__framework=framework).first()
    year = financial_year_start(framework.start_date)
    rows = [
        imports.RATE_COLUMNS,
        [str(lot.number) if lot else "1", "", "K2", financial_year_label(year), "3500.00"],
        ["", member.name if member else "Brightwater Care", "U4", str(year), "875.00"],
    ]
    return _csv_response(f"framework-{framework.pk}-rates-template.csv", rows)
