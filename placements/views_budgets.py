"""Budget pages: a year's lines and amounts, the mapping of placements to lines (and the
placements no line covers), creating a line with its rules, changing the rules, adjusting
an amount with a reason, and opening a year (new, or by copying the last one).

Finance managers read and write; administrators read; everyone else is refused (403).
Thin: reads through placements.selectors_budgets, writes through
placements.services.budgets, which decides again who may do what."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core.errors import ActionNotPermitted, DomainError
from core.forms import show_domain_error
from placements import selectors_budgets as selectors
from placements.forms_budgets import (
    PROVIDER_COLUMNS,
    BudgetAdjustForm,
    BudgetLineForm,
    BudgetLineRulesForm,
    BudgetYearCopyForm,
    BudgetYearForm,
    FinancialYearOpenForm,
    rule_value,
)
from placements.models import BudgetLine, FinancialYear
from placements.services import budgets as services

UNMAPPED_PAGE_SIZE = 50


def _require_reader(user) -> None:
    if not selectors.reads_budgets(user):
        raise PermissionDenied("Only finance managers and administrators see budgets.")


def _require_editor(user) -> None:
    if not selectors.edits_budgets(user):
        raise PermissionDenied("Only a finance manager can change budgets.")


def _year(start_year: int) -> FinancialYear:
    return get_object_or_404(FinancialYear, start_year=start_year)


def _line(pk: int) -> BudgetLine:
    return get_object_or_404(BudgetLine.objects.select_related("financial_year"), pk=pk)


def _with_phrases(lines) -> list[BudgetLine]:
    lines = list(lines)
    for line in lines:
        line.rule_phrases = selectors.describe_rules(line.rules.all())
    return lines


def _list_url(start_year: int) -> str:
    return f"{reverse('budget-list')}?year={start_year}"


# --- Reading ---------------------------------------------------------------------------


@login_required
def budget_list(request):
    """A year's lines with their amounts and total, and every open year."""
    _require_reader(request.user)
    years = list(selectors.financial_years())
    form = BudgetYearForm(request.GET if "year" in request.GET else None, years=years)
    year = selectors.default_year(years)
    if form.is_valid():
        year = next(y for y in years if y.start_year == form.cleaned_data["year"])
    elif year is not None and not form.is_bound:
        form = BudgetYearForm(initial={"year": year.start_year}, years=years)
    lines = _with_phrases(selectors.budget_lines_of(financial_year=year)) if year else []
    next_year = next((y for y in years if year and y.start_year == year.start_year + 1), None)
    return render(request, "placements/budgets/list.html", {
        "form": form, "years": years, "year": year, "lines": lines,
        "total": sum((line.amount for line in lines), Decimal("0.00")),
        "can_edit": selectors.edits_budgets(request.user),
        "can_copy": bool(lines) and not (next_year and next_year.line_count),
    })


@login_required
def budget_mapping(request, year):
    """Each line's rules, how many of the year's placements each covers, and the
    placements that no line covers."""
    _require_reader(request.user)
    year = _year(year)
    lines = _with_phrases(selectors.budget_lines_of(financial_year=year))
    counts = selectors.mapped_counts(user=request.user, financial_year=year)
    for line in lines:
        line.placement_count = counts.get(line.pk, 0)
    unmapped = selectors.unmapped_placements(user=request.user, financial_year=year)
    page = Paginator(unmapped, UNMAPPED_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "placements/budgets/mapping.html", {
        "year": year, "lines": lines, "page": page,
        "pairs": selectors.unmapped_pairs(unmapped) if page.paginator.count else [],
        "can_edit": selectors.edits_budgets(request.user),
    })


@login_required
def budget_line_detail(request, pk):
    """A line's amount, rules and the history of its adjustments."""
    _require_reader(request.user)
    try:
        line = selectors.budget_line_with_history(pk=pk)
    except BudgetLine.DoesNotExist:
        raise Http404("No such budget line") from None
    rules = list(line.rules.all())
    return render(request, "placements/budgets/line_detail.html", {
        "line": line, "rules": rules, "rule_phrases": selectors.describe_rules(rules),
        "adjustments": list(line.adjustments.all()),
        "can_edit": selectors.edits_budgets(request.user),
    })


# --- Writing ---------------------------------------------------------------------------


def _refuse(error: ActionNotPermitted):
    raise PermissionDenied(error.message) from None


@login_required
def budget_line_create(request, year):
    _require_editor(request.user)
    year = _year(year)
    form = BudgetLineForm(request.POST or None,
                          owners=selectors.rule_owners(financial_year=year))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            line = services.budget_line_create(
                by=request.user, financial_year=year, name=data["name"], amount=data["amount"],
                rules=data["rules"],
            )
        except ActionNotPermitted as error:
            _refuse(error)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"Budget line '{line.name}' added to {year}.")
            return redirect("budget-line-detail", pk=line.pk)
    return render(request, "placements/budgets/line_form.html", {
        "year": year, "form": form, "columns": PROVIDER_COLUMNS, "line": None,
    })


@login_required
def budget_line_rules(request, pk):
    _require_editor(request.user)
    line = _line(pk)
    current = [rule_value(r.placement_type, r.place_provider) for r in line.rules.all()]
    form = BudgetLineRulesForm(
        request.POST or None, initial={"rules": current},
        owners=selectors.rule_owners(financial_year=line.financial_year, exclude_line=line),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.budget_line_update_rules(by=request.user, line=line,
                                              rules=form.cleaned_data["rules"])
        except ActionNotPermitted as error:
            _refuse(error)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"The placements in '{line.name}' are changed. The weekly "
                                      "ledger and budget positions will be updated shortly.")
            return redirect("budget-line-detail", pk=line.pk)
    return render(request, "placements/budgets/line_form.html", {
        "year": line.financial_year, "form": form, "columns": PROVIDER_COLUMNS, "line": line,
    })


@login_required
def budget_line_adjust(request, pk):
    _require_editor(request.user)
    line = _line(pk)
    form = BudgetAdjustForm(request.POST or None, initial={"expected_amount": line.amount})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.budget_line_adjust(
                by=request.user, line=line, new_amount=data["new_amount"], reason=data["reason"],
                expected_amount=data["expected_amount"],
            )
        except ActionNotPermitted as error:
            _refuse(error)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"The budget for '{line.name}' is now £{data['new_amount']:,.2f}.")
            return redirect("budget-line-detail", pk=line.pk)
        line.refresh_from_db(fields=["amount"])
    return render(request, "placements/budgets/adjust.html", {"line": line, "form": form})


@login_required
def budget_year_open(request):
    _require_editor(request.user)
    form = FinancialYearOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            year = services.financial_year_open(by=request.user,
                                                start_year=form.cleaned_data["start_year"])
        except ActionNotPermitted as error:
            _refuse(error)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"{year} is open: add its budget lines.")
            return redirect(_list_url(year.start_year))
    return render(request, "placements/budgets/year_open.html", {"form": form})


@login_required
def budget_year_copy(request, year):
    _require_editor(request.user)
    year = _year(year)
    form = BudgetYearCopyForm(request.POST or None,
                              initial={"to_year": year.start_year + 1, "uplift_percentage": 0})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            target = services.budget_year_copy(
                by=request.user, from_year=year, to_year=data["to_year"],
                uplift_percentage=data["uplift_percentage"],
            )
        except ActionNotPermitted as error:
            _refuse(error)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"{target} is open with {year}'s budget lines and rules.")
            return redirect(_list_url(target.start_year))
    return render(request, "placements/budgets/year_copy.html", {
        "year": year, "form": form, "line_count": year.budget_lines.count(),
    })
