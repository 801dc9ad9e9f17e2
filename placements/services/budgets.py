"""Budgets: financial years, their budget lines, the rules that put placements into the
lines, and logged adjustments of a line's amount. Finance managers only (roles, never
superuser status).

Which line a placement falls in is data (ADR 0006): a BudgetLineRule per placement type ×
SSDA903 provider code per year, at most one per pair and year (a database constraint). A
rule's year is always its line's year; only this module writes rules, and it sets it.

Concurrency: every change to a year's lines or rules first locks the FinancialYear row,
so two finance managers editing the same year's mapping take turns and the second sees the
first's rules; the unique constraints refuse whatever slips past (409 in the API).

Audit (core.audit, same transaction; budgets concern no child): financial_year.open,
budget_line.create, budget_line.update_rules, budget_line.adjust and budget_year.copy.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit
from core.errors import ActionNotPermitted, Conflict, InvalidInput
from core.roles import Role, has_role
from placements import rollups
from placements.models import BudgetAdjustment, BudgetLine, BudgetLineRule, FinancialYear
from providers.reference import PlacementType, PlaceProvider, financial_year_label

PENNY = Decimal("0.01")
# What the MONEY fields hold (max_digits=12, decimal_places=2).
MAX_AMOUNT = Decimal("9999999999.99")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # FinancialYear's check constraint
MAX_UPLIFT_PERCENTAGE = Decimal("100")
PLACEMENT_TYPES = frozenset(PlacementType.values)
# Blank: SSDA903 gives temporary and "other" placements no provider code.
PROVIDER_CODES = frozenset(PlaceProvider.values) | {""}

Rule = tuple[str, str]


def require_finance_manager(by, *, action: str) -> None:
    if not has_role(by, Role.FINANCE_MANAGER):
        raise ActionNotPermitted(f"Only a finance manager can {action}.")


# --- Checking what we are given ----------------------------------------------------------


def _money(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput("Enter an amount in pounds, for example 250000.00", field=field) from None
    if not amount.is_finite():
        raise InvalidInput("Enter an amount in pounds, for example 250000.00", field=field)
    if amount < 0:
        raise InvalidInput("The amount cannot be negative.", field=field)
    amount = amount.quantize(PENNY, rounding=ROUND_HALF_UP)
    if amount > MAX_AMOUNT:
        raise InvalidInput("The amount is too large.", field=field)
    return amount


def _check_start_year(start_year, *, field: str) -> int:
    if isinstance(start_year, bool) or not isinstance(start_year, int):
        raise InvalidInput("Enter the year the financial year starts in, for example 2026", field=field)
    if not FIRST_YEAR <= start_year < LAST_YEAR:
        raise InvalidInput(f"Enter a year from {FIRST_YEAR} to {LAST_YEAR - 1}.", field=field)
    return start_year


def _clean_rules(rules: Iterable[Rule]) -> set[Rule]:
    """The (placement type, provider code) pairs, each once; unknown codes refused."""
    cleaned = set()
    for rule in rules:
        try:
            placement_type, place_provider = rule
        except (TypeError, ValueError):
            raise InvalidInput("Each rule is a placement type and a provider code.",
                               field="rules") from None
        place_provider = place_provider or ""
        if placement_type not in PLACEMENT_TYPES:
            raise InvalidInput(f"'{placement_type}' is not an SSDA903 placement type.",
                               field="rules")
        if place_provider not in PROVIDER_CODES:
            raise InvalidInput(f"'{place_provider}' is not an SSDA903 provider code.",
                               field="rules")
        cleaned.add((placement_type, place_provider))
    return cleaned


def _rule_text(rule: Rule) -> str:
    placement_type, place_provider = rule
    return f"{placement_type} with {place_provider or 'no provider code'}"


def _refuse_rules_of_other_lines(year: FinancialYear, rules: set[Rule], *, line=None) -> None:
    """A placement type and provider code belongs to one line a year: name the line that
    already has any of these."""
    if not rules:
        return
    taken = (
        BudgetLineRule.objects.filter(financial_year=year)
        .exclude(budget_line=line)
        .select_related("budget_line")
        .order_by("placement_type", "place_provider")
    )
    clashes = [rule for rule in taken if (rule.placement_type, rule.place_provider) in rules]
    if clashes:
        first = clashes[0]
        pairs = ", ".join(_rule_text((c.placement_type, c.place_provider)) for c in clashes
                          if c.budget_line_id == first.budget_line_id)
        raise InvalidInput(
            f"{pairs} already belong{'s' if ',' not in pairs else ''} to the line "
            f"'{first.budget_line.name}' in {year}. A placement falls in one line only: "
            "take it out of that line first.",
            field="rules",
        )


def _lock_year(year: FinancialYear) -> FinancialYear:
    return FinancialYear.objects.select_for_update().get(pk=year.pk)


def _lock_line(line: BudgetLine) -> BudgetLine:
    return BudgetLine.objects.select_for_update().select_related("financial_year").get(pk=line.pk)


def _refresh_rollups(year: FinancialYear) -> None:
    """Placements moved between lines in this year: the ledger and the positions of the
    whole year change (queued once the change commits)."""
    rollups.enqueue_refresh(first_day=year.start_date, last_day=year.end_date)


def _refresh_positions_from_today(year: FinancialYear) -> None:
    """A line's amount changed: positions from this week on compare against the new
    budget. Earlier weeks' snapshots keep the budget they had (they are the forecast's
    history); for a year already over, its last week is refreshed."""
    first_day = min(max(timezone.localdate(), year.start_date), year.end_date)
    rollups.enqueue_refresh(first_day=first_day, last_day=year.end_date)


# --- Financial years -----------------------------------------------------------------------


@transaction.atomic
def financial_year_open(*, by, start_year: int) -> FinancialYear:
    """Open a financial year (1 April start_year – 31 March next year) for budgets."""
    require_finance_manager(by, action="open a financial year")
    start_year = _check_start_year(start_year, field="start_year")
    return _create_year(start_year, by=by)


def _create_year(start_year: int, *, by) -> FinancialYear:
    if FinancialYear.objects.filter(start_year=start_year).exists():
        raise Conflict(f"The financial year {financial_year_label(start_year)} is already open.")
    try:
        with transaction.atomic():
            year = FinancialYear.objects.create(start_year=start_year)
    except IntegrityError:
        raise Conflict(
            f"Someone else opened {financial_year_label(start_year)} at the same time."
        ) from None
    audit.record(by, "financial_year.open", year, changes=audit.created(year, ["start_year"]))
    return year


# --- Budget lines ------------------------------------------------------------------------


def _clean_name(name) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter the budget line's name", field="name")
    if len(name) > BudgetLine._meta.get_field("name").max_length:
        raise InvalidInput("The name must be 100 characters or fewer.", field="name")
    return name


@transaction.atomic
def budget_line_create(
    *, by, financial_year: FinancialYear, name: str, amount, rules: Iterable[Rule] = ()
) -> BudgetLine:
    """A new line in a year, with its amount and the placement types × provider codes it
    covers."""
    require_finance_manager(by, action="create a budget line")
    name = _clean_name(name)
    amount = _money(amount, field="amount")
    rules = _clean_rules(rules)
    year = _lock_year(financial_year)
    if BudgetLine.objects.filter(financial_year=year, name__iexact=name).exists():
        raise InvalidInput(f"{year} already has a budget line called '{name}'.", field="name")
    _refuse_rules_of_other_lines(year, rules)
    line = BudgetLine.objects.create(financial_year=year, name=name, amount=amount)
    _add_rules(line, rules)
    audit.record(by, "budget_line.create", line, changes={
        **audit.created(line, ["financial_year", "name", "amount"]),
        "rules": [None, _rule_list(rules)],
    })
    if rules:
        _refresh_rollups(year)
    return line


def _rule_list(rules: Iterable[Rule]) -> list[list[str]]:
    """Rules as the audit records them: [placement type, provider code] pairs, sorted."""
    return [list(rule) for rule in sorted(rules)]


def _add_rules(line: BudgetLine, rules: set[Rule]) -> None:
    BudgetLineRule.objects.bulk_create(
        BudgetLineRule(
            budget_line=line, financial_year_id=line.financial_year_id,
            placement_type=placement_type, place_provider=place_provider,
        )
        for placement_type, place_provider in sorted(rules)
    )


@transaction.atomic
def budget_line_update_rules(*, by, line: BudgetLine, rules: Iterable[Rule]) -> BudgetLine:
    """Replace the line's rules. Refused, naming the other line, when a pair already belongs
    to another line in the same year."""
    require_finance_manager(by, action="change which placements fall in a budget line")
    rules = _clean_rules(rules)
    year = _lock_year(line.financial_year)
    line = _lock_line(line)
    _refuse_rules_of_other_lines(year, rules, line=line)
    current = {
        (rule.placement_type, rule.place_provider): rule.pk for rule in line.rules.all()
    }
    removed = [pk for rule, pk in current.items() if rule not in rules]
    added = rules - set(current)
    BudgetLineRule.objects.filter(pk__in=removed).delete()
    _add_rules(line, added)
    audit.record(by, "budget_line.update_rules", line,
                 changes=audit.diff({"rules": _rule_list(current)}, {"rules": _rule_list(rules)}))
    if removed or added:
        _refresh_rollups(year)
    return line


@transaction.atomic
def budget_line_adjust(
    *, by, line: BudgetLine, new_amount, reason: str, expected_amount=None
) -> BudgetAdjustment:
    """Change a line's amount, logging the previous and new amounts and why.

    `expected_amount`, when given, is the amount the person saw: if someone else adjusted
    the line since, the change is refused (409) rather than silently overwriting theirs."""
    require_finance_manager(by, action="adjust a budget")
    new_amount = _money(new_amount, field="new_amount")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Enter the reason for the adjustment", field="reason")
    line = _lock_line(line)
    if expected_amount is not None and _money(expected_amount, field="expected_amount") != line.amount:
        raise Conflict(
            f"Someone else changed this budget to £{line.amount:,.2f} while you were adjusting "
            "it. Check the new amount and try again."
        )
    if new_amount == line.amount:
        raise InvalidInput(f"The budget is already £{line.amount:,.2f}: enter a different amount.",
                           field="new_amount")
    adjustment = BudgetAdjustment.objects.create(
        budget_line=line, previous_amount=line.amount, new_amount=new_amount, reason=reason, by=by
    )
    BudgetLine.objects.filter(pk=line.pk).update(amount=new_amount)
    audit.record(by, "budget_line.adjust", line, reason=reason,
                 changes={"amount": [adjustment.previous_amount, new_amount]})
    line.amount = new_amount
    _refresh_positions_from_today(line.financial_year)
    return adjustment


# --- Copying a year ----------------------------------------------------------------------


def uplifted(amount: Decimal, percentage: Decimal) -> Decimal:
    return (amount * (1 + percentage / 100)).quantize(PENNY, rounding=ROUND_HALF_UP)


def _check_percentage(percentage) -> Decimal:
    try:
        percentage = Decimal(str(percentage))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput("Enter the uplift as a percentage, for example 3.5",
                           field="uplift_percentage") from None
    if not percentage.is_finite() or not 0 <= percentage <= MAX_UPLIFT_PERCENTAGE:
        raise InvalidInput(f"Enter an uplift from 0 to {MAX_UPLIFT_PERCENTAGE}%.",
                           field="uplift_percentage")
    return percentage


@transaction.atomic
def budget_year_copy(
    *, by, from_year: FinancialYear, to_year: int, uplift_percentage=Decimal("0")
) -> FinancialYear:
    """Open `to_year` (a start year) with the same lines and rules as `from_year`, each
    amount uplifted by a percentage (rounded half-up to pence). The year may already be
    open, but must have no lines yet."""
    require_finance_manager(by, action="copy a year's budgets")
    to_year = _check_start_year(to_year, field="to_year")
    percentage = _check_percentage(uplift_percentage)
    source = _lock_year(from_year)
    if to_year == source.start_year:
        raise InvalidInput("Choose a different year to copy the budgets to.", field="to_year")
    target = FinancialYear.objects.select_for_update().filter(start_year=to_year).first()
    if target is None:
        target = _create_year(to_year, by=by)
    if target.budget_lines.exists():
        raise Conflict(f"{target} already has budget lines: adjust them instead of copying.")
    lines = list(source.budget_lines.prefetch_related("rules").order_by("name", "pk"))
    copies = BudgetLine.objects.bulk_create(
        BudgetLine(financial_year=target, name=line.name, amount=uplifted(line.amount, percentage))
        for line in lines
    )
    BudgetLineRule.objects.bulk_create(
        BudgetLineRule(
            budget_line=copy, financial_year=target,
            placement_type=rule.placement_type, place_provider=rule.place_provider,
        )
        for line, copy in zip(lines, copies, strict=True)
        for rule in line.rules.all()
    )
    audit.record(by, "budget_year.copy", target, changes={
        "copied_from": [None, source.start_year],
        "uplift_percentage": [None, percentage],
        "budget_lines": [None, [
            {"name": copy.name, "amount": copy.amount,
             "rules": _rule_list((r.placement_type, r.place_provider) for r in line.rules.all())}
            for line, copy in zip(lines, copies, strict=True)
        ]],
    })
    if lines:
        _refresh_rollups(target)
    return target
