"""The directory itself: services, providers and their discounts, to read and to change."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from core.pages import saved
from providers import geo, selectors
from providers.forms import DiscountEndForm, DiscountForm, ProviderForm, ServiceForm
from providers.models import Provider, ProviderDiscount, Service
from providers.reference import financial_year_label
from providers.services import catalogue
from providers.views.common import (
    PAGE_SIZE,
    editor_required,
    form_page,
    is_catalogue_editor,
    posted,
)


def _full_postcode_in(query) -> str | None:
    value = query.get("postcode", "").strip()
    code = geo.outward_code(value) if value else ""
    return value if code and value.replace(" ", "").upper() != code else None


# --- Reading -------------------------------------------------------------------------


@login_required
def service_directory(request):
    full_postcode = _full_postcode_in(request.GET)
    if full_postcode:
        # Only the district is needed for distances; a full postcode can point at a
        # child's home, so it must not stay in the address bar, history or referrers.
        query = request.GET.copy()
        query["postcode"] = geo.outward_code(full_postcode)
        return redirect(f"{reverse('service-directory')}?{query.urlencode()}")
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
    form = ProviderForm(*posted(request))
    provider = saved(request, form, lambda data: catalogue.provider_create(
        by=request.user, fields=data
    ))
    if provider is not None:
        messages.success(request, f"{provider.name} added to the directory.")
        return redirect("provider-detail", pk=provider.pk)
    return form_page(request, form, title="Add a provider", back_url=reverse("service-directory"),
                     submit="Add provider")


@editor_required
def provider_edit(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    # The form writes the answers onto its instance; keep `provider` as it is in the database.
    form = ProviderForm(*posted(request), instance=copy.copy(provider))
    if saved(request, form, lambda data: catalogue.provider_update(
        by=request.user, provider=provider, fields=data
    )) is not None:
        messages.success(request, "Provider details saved.")
        return redirect("provider-detail", pk=pk)
    return form_page(request, form, title="Change provider details", caption=provider.name,
                     back_url=reverse("provider-detail", args=[pk]), submit="Save changes")


def _service_codes(form) -> dict:
    return {name: form.cleaned_data[name] for name in ("placement_types", "needs",
                                                       "excluded_risks")}


@editor_required
def service_create(request, provider_pk):
    provider = get_object_or_404(Provider, pk=provider_pk)
    form = ServiceForm(*posted(request))
    service = saved(request, form, lambda data: catalogue.service_create(
        by=request.user, provider=provider, fields=form.service_fields(), **_service_codes(form)
    ))
    if service is not None:
        messages.success(request, f"{service.name} added.")
        return redirect("service-detail", pk=service.pk)
    return form_page(request, form, title="Add a service", caption=provider.name,
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
    form = ServiceForm(*posted(request), initial=ServiceForm.initial_for(service))
    if saved(request, form, lambda data: catalogue.service_update(
        by=request.user, service=service, fields=form.service_fields(), **_service_codes(form)
    )) is not None:
        messages.success(request, "Service details saved.")
        return redirect("service-detail", pk=pk)
    return form_page(request, form, title="Change service details",
                     caption=f"{service.name}, {service.provider.name}",
                     back_url=reverse("service-detail", args=[pk]), submit="Save changes")


# --- Discounts -------------------------------------------------------------------------


@editor_required
def discount_create(request, provider_pk):
    provider = get_object_or_404(Provider, pk=provider_pk)
    form = DiscountForm(*posted(request))
    if saved(request, form, lambda data: catalogue.discount_create(
        by=request.user, provider=provider, fields=data
    )) is not None:
        messages.success(request, "Discount added.")
        return redirect("provider-detail", pk=provider.pk)
    return form_page(request, form, title="Add a discount", caption=provider.name,
                     back_url=reverse("provider-detail", args=[provider.pk]),
                     submit="Add discount")


@editor_required
def discount_end(request, pk):
    discount = get_object_or_404(ProviderDiscount.objects.select_related("provider"), pk=pk)
    form = DiscountEndForm(*posted(request), initial={"valid_to": timezone.localdate()})
    if saved(request, form, lambda data: catalogue.discount_end(
        by=request.user, discount=discount, valid_to=data["valid_to"]
    )) is not None:
        messages.success(request, "Discount ended.")
        return redirect("provider-detail", pk=discount.provider_id)
    return form_page(
        request, form, title="End a discount", caption=discount.provider.name,
        back_url=reverse("provider-detail", args=[discount.provider_id]), submit="End discount",
        intro=f"{discount.description} ({discount.percentage}%), valid from "
        f"{discount.valid_from:%-d %B %Y}.",
    )
