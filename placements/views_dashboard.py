"""The dashboard's downloads and its "rebuild this year's figures" pages. The dashboard page
itself is config.dashboard (it reads panels' record of retrospective reviews, which
placements may not import); both read the year and team the same way, here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit
from core.errors import DomainError
from placements import dashboard, exports, rollups, selectors_budgets
from placements.access import placements_visible_to
from placements.dashboard import DashboardScope
from placements.forms_dashboard import DashboardFilterForm
from placements.models import FinancialYear
from providers.reference import financial_year_label, financial_year_start

# Seconds between the progress page's reloads (an HTTP Refresh header: no script).
PROGRESS_REFRESH_SECONDS = 3


def today():
    """The day the dashboard is for (a function, so tests can fix it)."""
    return timezone.localdate()


def dashboard_scope(request) -> tuple[DashboardFilterForm, DashboardScope]:
    """The year and team the request asks for, as the user may see them: a team manager's
    is always their own team. An invalid choice leaves the form's errors to show and
    falls back to this year and every team."""
    user = request.user
    if not dashboard.reads_dashboard(user):
        raise PermissionDenied("The dashboard is for managers, finance and commissioning.")
    every_team = dashboard.sees_every_team(user)
    if not every_team and not dashboard.own_team_only(user):
        raise PermissionDenied("Your account has no team, so there is no dashboard to show.")
    day = today()
    this_year = financial_year_start(day)
    form = DashboardFilterForm(
        request.GET or None, years=dashboard.dashboard_years(today=day),
        choose_team=every_team, initial={"year": this_year},
    )
    year, team = this_year, None
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"] or this_year
        team = form.cleaned_data.get("team")
    if not every_team:
        team = user.team
    return form, DashboardScope(financial_year=year, team=team, today=day)


# --- Exports -----------------------------------------------------------------------------------


def _ledger(request, scope: DashboardScope) -> exports.Export:
    rows = rollups.ledger_rows(financial_year=scope.financial_year)
    return exports.ledger_export(rows.iterator(chunk_size=2000), year=scope.financial_year)


def _positions(request, scope: DashboardScope) -> exports.Export:
    snapshots = selectors_budgets.budget_positions().filter(
        budget_line__financial_year__start_year=scope.financial_year
    )
    return exports.budget_positions_export(snapshots.iterator(chunk_size=2000),
                                           year=scope.financial_year)


def _placements(request, scope: DashboardScope) -> exports.Export:
    placements = dashboard.placements_for_export(scope, visible=placements_visible_to(request.user))
    return exports.placement_list_export(
        placements.iterator(chunk_size=2000), year=scope.financial_year, on=scope.as_of,
        team_code=scope.team.code if scope.team else "",
    )


EXPORTS = {"weekly-ledger": _ledger, "budget-positions": _positions, "placements": _placements}
# Exports with a row per child (local child IDs): each download is logged. The ledger and
# budget positions are totals by budget line and are not.
PER_CHILD_EXPORTS = {"placements": "placement.export"}


def _record_export(request, what: str, scope: DashboardScope, file_format: str) -> None:
    """One audit event per download of children's data, naming no child (it may hold
    hundreds); its object is the user who downloaded it, as no one record was exported,
    and its changes say which year, team and format."""
    scope_given = {"financial_year": scope.financial_year,
                   "team": scope.team.pk if scope.team else None, "format": file_format}
    with transaction.atomic():
        audit.record(request.user, PER_CHILD_EXPORTS[what], request.user,
                     changes={name: [None, value] for name, value in scope_given.items()
                              if value is not None})


@login_required
def dashboard_export(request, what: str, file_format: str):
    """/dashboard/export/<what>.<csv|xlsx>?year=…&team=…: the ledger and budget positions
    are the authority's (the team does not apply); the placement list is the scope's."""
    if what not in EXPORTS or file_format not in ("csv", "xlsx"):
        raise Http404("No such export")
    form, scope = dashboard_scope(request)
    if not dashboard.may_export(request.user, what):
        raise PermissionDenied("Only finance, the Director and administrators export these.")
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest("Choose a financial year and team from the dashboard.")
    export = EXPORTS[what](request, scope)
    if what in PER_CHILD_EXPORTS:
        _record_export(request, what, scope, file_format)
    if file_format == "csv":
        response = StreamingHttpResponse(exports.to_csv(export),
                                         content_type=exports.CSV_CONTENT_TYPE)
    else:
        response = HttpResponse(exports.to_xlsx(export), content_type=exports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}.{file_format}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Rebuilding a year's figures -------------------------------------------------------------


@login_required
@require_POST
def dashboard_rebuild(request):
    """Start the rebuild of the chosen year's ledger and budget positions."""
    dashboard_scope(request)
    if not dashboard.rebuilds_figures(request.user):
        raise PermissionDenied("Only finance managers and administrators rebuild the figures.")
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        return HttpResponseBadRequest("Choose a financial year.")
    if not FinancialYear.objects.filter(start_year=year).exists():
        return HttpResponseBadRequest("Choose a financial year that has budgets.")
    try:
        rollups.rollup_rebuild_start(year=year, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('dashboard')}?year={year}")
    return redirect("dashboard-rebuild-progress", year=year)


@login_required
def dashboard_rebuild_progress(request, year: int):
    """How far the rebuild has gone; the page reloads itself until it is done."""
    dashboard_scope(request)
    if not dashboard.rebuilds_figures(request.user):
        raise PermissionDenied("Only finance managers and administrators rebuild the figures.")
    progress = rollups.rebuild_progress(year)
    running = progress["state"] in ("queued", "running")
    response = render(request, "placements/dashboard/rebuild_progress.html", {
        "progress": progress, "running": running, "year_label": financial_year_label(year),
        "year": year, "refresh_seconds": PROGRESS_REFRESH_SECONDS,
    })
    if running:
        response["Refresh"] = str(PROGRESS_REFRESH_SECONDS)
    return response
