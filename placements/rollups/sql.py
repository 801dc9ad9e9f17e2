"""The rollups' SQL: one statement per table, set-based, the same text on SQLite and
PostgreSQL apart from a few dialect fragments.

Money is summed in exact units and rounded once per row. A weekly rate covers seven days,
so a cost row contributes `pence × days` "pence-days"; dividing a row's total by 7 and
rounding half up gives its pence. Contributions need four more decimal places (a
percentage has two, and is a share of 100), so they are summed in 1/10,000 pence-days and
divided by 70,000. On PostgreSQL the units are `numeric` (exact, unbounded); on SQLite
they are 64-bit integers, exact for any realistic council (the largest sum, a row's
contributions, stays below 10^15 for a thousand £10,000-a-week placements).

The statements are f-strings (bandit's B608, marked nosec where they are built): what is
interpolated is only table names from the models' _meta, dialect fragments and other
constants of this module; every value (dates, ids, the team) is a bound %(name)s parameter.
"""

import dataclasses

from django.db import connection

from placements.models import (
    BudgetLine,
    BudgetLineRule,
    BudgetPositionSnapshot,
    Child,
    Contribution,
    Placement,
    PlacementCost,
    WeeklyCostLedgerRow,
)
from providers.models import Provider, Service

FAR_FUTURE = "9999-12-31"  # stands in for an open end, so that LEAST/MIN see a date
TABLES = {
    "placement": Placement._meta.db_table,
    "cost": PlacementCost._meta.db_table,
    "contribution": Contribution._meta.db_table,
    "rule": BudgetLineRule._meta.db_table,
    "line": BudgetLine._meta.db_table,
    "ledger": WeeklyCostLedgerRow._meta.db_table,
    "service": Service._meta.db_table,
    "provider": Provider._meta.db_table,
    "child": Child._meta.db_table,
    "snapshot": BudgetPositionSnapshot._meta.db_table,
}
CONTRIBUTION_SCALE = 10_000  # percentage points × 100, and a share of 100


@dataclasses.dataclass(frozen=True)
class Dialect:
    """The fragments that differ between the two databases."""

    postgresql: bool

    def date(self, param: str) -> str:
        # SQLite keeps dates as ISO text; CAST(... AS DATE) there would make a number.
        return f"CAST(%({param})s AS date)" if self.postgresql else f"%({param})s"

    def add_days(self, expr: str, days: int) -> str:
        return f"({expr} + {days})" if self.postgresql else f"date({expr}, '+{days} days')"

    def days_between(self, end: str, start: str) -> str:
        if self.postgresql:
            return f"({end} - {start})"
        return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"

    def greatest(self, *exprs: str) -> str:
        return f"{'GREATEST' if self.postgresql else 'MAX'}({', '.join(exprs)})"

    def least(self, *exprs: str) -> str:
        return f"{'LEAST' if self.postgresql else 'MIN'}({', '.join(exprs)})"

    def hundredths(self, expr: str) -> str:
        """A two-decimal amount (pounds, percentage) as a whole number of hundredths."""
        if self.postgresql:
            return f"({expr} * 100)"
        return f"CAST(ROUND({expr} * 100) AS INTEGER)"

    def divide_half_up(self, expr: str, divisor: int) -> str:
        """A non-negative whole number divided and rounded half up to a whole number."""
        if self.postgresql:
            return f"ROUND(CAST({expr} AS numeric) / {divisor})"
        return f"((2 * ({expr}) + {divisor}) / {2 * divisor})"

    def pounds(self, pence: str) -> str:
        return f"(({pence}) / 100)" if self.postgresql else f"(({pence}) / 100.0)"


def dialect() -> Dialect:
    return Dialect(postgresql=connection.vendor == "postgresql")


def _weeks(d: Dialect) -> str:
    """Mondays from first_week to last_week, as a recursive CTE (both databases)."""
    return f"""weeks(week_start) AS (
        SELECT {d.date("first_week")}
        UNION ALL
        SELECT {d.add_days("week_start", 7)} FROM weeks WHERE week_start < {d.date("last_week")}
    )"""  # nosec B608 # constant tables and fragments; values are bound parameters


def _team_condition(alias: str, team: bool) -> str:
    if not team:
        return ""
    return f" AND {alias}.child_id IN (SELECT id FROM {TABLES['child']} WHERE team_id = %(team)s)"  # nosec B608 # constant tables and fragments; values are bound parameters


def _money_amounts(d: Dialect, keys: str, *, padding: str = "") -> str:
    """UNION ALL branches over a `spans` CTE (alias s: placement_id, span_start, span_end,
    and the `keys` columns): the gross units of the cost rows overlapping each span, and
    the contribution units of the fixed contributions and of the percentage contributions
    (of the cost rows they overlap) in it. `padding` fills any columns in between. Ranges
    are intersected by date arithmetic; nothing is expanded day by day."""
    t = TABLES
    far = d.date("far")
    span_start, span_end = "s.span_start", "s.span_end"
    cost_end = f"COALESCE(c.effective_to, {far})"
    contribution_end = f"COALESCE(k.end_date, {far})"
    cost_in_span = (
        f"c.placement_id = s.placement_id AND c.effective_from < {span_end}"
        f" AND (c.effective_to IS NULL OR c.effective_to > {span_start})"
    )
    contribution_in_span = (
        f"k.placement_id = s.placement_id AND k.start_date < {span_end}"
        f" AND (k.end_date IS NULL OR k.end_date > {span_start})"
    )
    cost_days = d.days_between(d.least(span_end, cost_end), d.greatest(span_start, "c.effective_from"))
    fixed_days = d.days_between(
        d.least(span_end, contribution_end), d.greatest(span_start, "k.start_date")
    )
    shared_days = d.days_between(
        d.least(span_end, cost_end, contribution_end),
        d.greatest(span_start, "c.effective_from", "k.start_date"),
    )
    return f"""SELECT {keys}, {padding}{d.hundredths("c.weekly_amount")} * {cost_days}
            AS gross_units, 0 AS contribution_units
        FROM spans s JOIN {t["cost"]} c ON {cost_in_span}
        UNION ALL
        SELECT {keys}, {padding}0,
            {d.hundredths("k.weekly_amount")} * {CONTRIBUTION_SCALE} * {fixed_days}
        FROM spans s JOIN {t["contribution"]} k ON {contribution_in_span}
            AND k.weekly_amount IS NOT NULL
        UNION ALL
        SELECT {keys}, {padding}0,
            {d.hundredths("c.weekly_amount")} * {d.hundredths("k.percentage")} * {shared_days}
        FROM spans s JOIN {t["cost"]} c ON {cost_in_span}
        JOIN {t["contribution"]} k ON {contribution_in_span} AND k.percentage IS NOT NULL
            AND k.start_date < {cost_end} AND (k.end_date IS NULL OR k.end_date > c.effective_from)"""  # nosec B608 # constant tables and fragments; values are bound parameters


def ledger_select(d: Dialect, *, team: bool = False) -> str:
    """Ledger rows, in pence, for the days in [lo, hi) of the weeks first_week…last_week,
    with budget lines from financial year `fy` (lo and hi lie within that year).

    Each placement's days in each week part ("spans") are intersected with its cost rows
    and contributions by date arithmetic; nothing is expanded day by day.
    """
    t = TABLES
    far = d.date("far")
    keys = "s.week_start, s.budget_line_id, s.provider_kind, s.on_framework"
    return f"""WITH RECURSIVE {_weeks(d)},
    parts AS (
        SELECT week_start,
            {d.greatest("week_start", d.date("lo"))} AS part_start,
            {d.least(d.add_days("week_start", 7), d.date("hi"))} AS part_end
        FROM weeks
    ),
    keyed AS (
        SELECT p.id AS placement_id, p.start_date, p.end_date, r.budget_line_id,
            pr.kind AS provider_kind, p.on_framework
        FROM {t["placement"]} p
        JOIN {t["rule"]} r ON r.financial_year_id = %(fy)s
            AND r.placement_type = p.placement_type AND r.place_provider = p.place_provider
        JOIN {t["service"]} sv ON sv.id = p.service_id
        JOIN {t["provider"]} pr ON pr.id = sv.provider_id
        WHERE p.start_date < {d.date("hi")}
            AND (p.end_date IS NULL OR p.end_date > {d.date("lo")}){_team_condition("p", team)}
    ),
    spans AS (
        SELECT pt.week_start, p.placement_id, p.budget_line_id, p.provider_kind,
            p.on_framework,
            {d.greatest("pt.part_start", "p.start_date")} AS span_start,
            {d.least("pt.part_end", f"COALESCE(p.end_date, {far})")} AS span_end
        FROM parts pt
        JOIN keyed p ON p.start_date < pt.part_end
            AND (p.end_date IS NULL OR p.end_date > pt.part_start)
        WHERE pt.part_start < pt.part_end
    ),
    amounts AS (
        SELECT {keys}, 1 AS spans, {d.days_between("s.span_end", "s.span_start")} AS days,
            0 AS gross_units, 0 AS contribution_units
        FROM spans s
        UNION ALL
        {_money_amounts(d, keys, padding="0, 0, ")}
    )
    SELECT week_start, budget_line_id, provider_kind, on_framework,
        SUM(spans) AS active_placements,
        SUM(days) AS child_days,
        {d.divide_half_up("SUM(gross_units)", 7)} AS gross_pence,
        {d.divide_half_up("SUM(contribution_units)", 7 * CONTRIBUTION_SCALE)}
            AS contribution_pence
    FROM amounts
    GROUP BY week_start, budget_line_id, provider_kind, on_framework"""  # nosec B608 # constant tables and fragments; values are bound parameters


def ledger_insert(d: Dialect) -> str:
    t = TABLES
    return f"""INSERT INTO {t["ledger"]} (week_start, financial_year_id, budget_line_id,
        provider_kind, on_framework, active_placements, child_days, gross_cost,
        contributions, net_cost)
    SELECT week_start, %(fy)s, budget_line_id, provider_kind, on_framework,
        active_placements, child_days, {d.pounds("gross_pence")},
        {d.pounds("contribution_pence")}, {d.pounds("gross_pence - contribution_pence")}
    FROM ({ledger_select(d)}) AS computed"""  # nosec B608 # constant tables and fragments; values are bound parameters


def committed_select(d: Dialect, *, team: bool = False) -> str:
    """Per snapshot week and budget line of year `fy`: the committed net cost, in pence, of
    the placements running on the week's cutoff day, from the cutoff until the earliest of
    the end date, the planned end date (when still ahead: a placement past its planned end
    is still being paid for) and the year end, at the cost rows and contributions in force
    over that range (so booked uplifts and step-downs count).

    The cutoff is the week's Monday (1 April in the year's first week; the day after the
    year in its closing week), or `today` in the current week (`current_week`): the
    current position is taken as it stands the day it is taken. `actual_before` is the
    first week whose ledger rows are not in actual to date: in the current week, the next
    (the ledger holds the days before today)."""
    t = TABLES
    far = d.date("far")
    current = f"week_start = {d.date('current_week')}"
    horizon = d.least(
        f"COALESCE(p.end_date, {far})",
        f"CASE WHEN p.planned_end_date > w.cutoff THEN p.planned_end_date ELSE {far} END",
        d.date("year_after"),
    )
    keys = "s.week_start, s.budget_line_id"
    return f"""{_weeks(d)},
    cut AS (
        SELECT week_start,
            {d.least(d.greatest(f"CASE WHEN {current} THEN {d.date('today')} ELSE week_start END",
                                d.date("year_start")), d.date("year_after"))} AS cutoff,
            CASE WHEN {current} THEN {d.add_days("week_start", 7)} ELSE week_start END
                AS actual_before
        FROM weeks
    ),
    spans AS (
        SELECT w.week_start, p.id AS placement_id, r.budget_line_id,
            w.cutoff AS span_start, {horizon} AS span_end
        FROM cut w
        JOIN {t["placement"]} p ON p.start_date <= w.cutoff
            AND (p.end_date IS NULL OR p.end_date > w.cutoff){_team_condition("p", team)}
        JOIN {t["rule"]} r ON r.financial_year_id = %(fy)s
            AND r.placement_type = p.placement_type AND r.place_provider = p.place_provider
    ),
    committed_amounts AS (
        {_money_amounts(d, keys)}
    ),
    committed AS (
        SELECT week_start, budget_line_id,
            {d.divide_half_up("SUM(gross_units)", 7)}
            - {d.divide_half_up("SUM(contribution_units)", 7 * CONTRIBUTION_SCALE)} AS pence
        FROM committed_amounts GROUP BY week_start, budget_line_id
    )"""  # nosec B608 # constant tables and fragments; values are bound parameters


def positions_select(d: Dialect) -> str:
    t = TABLES
    return f"""WITH RECURSIVE {committed_select(d)},
    actual AS (
        SELECT w.week_start, l.budget_line_id, SUM({d.hundredths("l.net_cost")}) AS pence
        FROM cut w JOIN {t["ledger"]} l
            ON l.financial_year_id = %(fy)s AND l.week_start < w.actual_before
        GROUP BY w.week_start, l.budget_line_id
    ),
    positions AS (
        SELECT w.week_start, bl.id AS budget_line_id, {d.hundredths("bl.amount")} AS budget,
            COALESCE(a.pence, 0) AS actual, COALESCE(c.pence, 0) AS committed
        FROM cut w
        CROSS JOIN {t["line"]} bl
        LEFT JOIN actual a ON a.week_start = w.week_start AND a.budget_line_id = bl.id
        LEFT JOIN committed c ON c.week_start = w.week_start AND c.budget_line_id = bl.id
        WHERE bl.financial_year_id = %(fy)s
    )
    SELECT week_start, budget_line_id, {d.pounds("budget")}, {d.pounds("actual")},
        {d.pounds("committed")}, {d.pounds("actual + committed")},
        {d.pounds("actual + committed - budget")}, %(taken_at)s
    FROM positions"""  # nosec B608 # constant tables and fragments; values are bound parameters


def positions_insert(d: Dialect) -> str:
    """Budget positions of every line of year `fy` for the weeks first_week…last_week:
    actual to date from the ledger before the cutoff, committed from the cutoff on."""
    return f"""INSERT INTO {TABLES["snapshot"]} (week_start, budget_line_id, budget,
        actual_to_date, committed_to_year_end, projected_outturn, variance, taken_at)
    {positions_select(d)}"""


def live_actual_select(d: Dialect, *, team: bool) -> str:
    """Per budget line: the ledger's net over [lo, hi), in pence, computed from the source
    rows (for one team's placements, or all), without storing it."""
    return f"""SELECT budget_line_id, SUM(gross_pence - contribution_pence)
    FROM ({ledger_select(d, team=team)}) AS computed GROUP BY budget_line_id"""  # nosec B608 # constant tables and fragments; values are bound parameters


def live_committed_select(d: Dialect, *, team: bool) -> str:
    """Per budget line: the committed cost, in pence, for one snapshot week."""
    return f"""WITH RECURSIVE {committed_select(d, team=team)}
    SELECT budget_line_id, pence FROM committed"""  # nosec B608 # constant tables and fragments; values are bound parameters
