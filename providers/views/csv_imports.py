"""CSV imports of services and of a framework's ceiling rates, with a template to fill in
for each."""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from core.pages import saved
from providers.forms import CsvUploadForm
from providers.models import Framework, Provider
from providers.reference import financial_year_label, financial_year_start
from providers.services import imports
from providers.views.common import editor_required, posted

SERVICE_EXAMPLE = [
    "Brightwater Care", "childrens_home", "PR4", "referrals@brightwater.example",
    "Brightwater House", "SC123456", "good", "2025-11-04", "LS6 2AB", "Leeds", "11", "17",
    "4", "1", "K2", "emotional_behavioural;autism", "fire_setting",
]


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
    form = CsvUploadForm(*posted(request, files=True),
                         columns=", ".join(imports.SERVICE_COLUMNS))
    report = saved(request, form, lambda data: imports.import_services_csv(
        by=request.user, file=data["file"]
    ))
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
        *posted(request, files=True),
        columns=", ".join(imports.RATE_COLUMNS)
        + " (fill in a lot number or a provider name, not both)",
    )
    report = saved(request, form, lambda data: imports.import_rates_csv(
        by=request.user, framework=framework, file=data["file"]
    ))
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
