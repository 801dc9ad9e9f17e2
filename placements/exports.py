"""The dashboard's downloads as CSV and XLSX: the weekly cost ledger, the budget positions
and the placement list. Pure functions: rows in, file contents out (the views query).

A cell that a spreadsheet would read as a formula (text starting with =, +, -, @, a tab or
a carriage return) is written as text with a leading apostrophe, in both formats, so that
a provider's or service's name cannot run as a formula on a finance officer's computer
(OWASP "CSV injection"). Numbers and dates stay numbers and dates.
"""

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from providers.reference import financial_year_label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
PENNY = Decimal("0.01")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def escape_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    heading: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Export:
    """A table to download: its file name (without extension), sheet title, columns and
    rows (model instances or dicts, read by each column's `value`)."""

    filename: str
    title: str
    columns: tuple[Column, ...]
    rows: Iterable[Any]

    def values(self) -> Iterator[list[Any]]:
        for row in self.rows:
            yield [column.value(row) for column in self.columns]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _text(value: Any) -> Any:
    """Booleans as words; everything else as it is (None as an empty cell)."""
    return _yes_no(value) if isinstance(value, bool) else value


# --- CSV -------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    value = _text(value)
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return escape_formula(value)
    return str(value)  # a number: "-12.50" is a number to a spreadsheet, not a formula


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def to_csv(export: Export) -> Iterator[str]:
    """The export as CSV lines, a byte-order mark first so that Excel reads UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([escape_formula(c.heading) for c in export.columns])
    for values in export.values():
        yield writer.writerow([_csv_cell(value) for value in values])


# --- XLSX ------------------------------------------------------------------------------------


def _xlsx_cell(sheet, value: Any) -> WriteOnlyCell:
    value = _text(value)
    if isinstance(value, str):
        # Control characters other than tab, LF and CR are not allowed in the XML.
        cell = WriteOnlyCell(sheet, value=escape_formula(ILLEGAL_CHARACTERS_RE.sub("", value)))
        cell.data_type = "s"  # never a formula, whatever openpyxl would guess
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, Decimal):
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
    return cell


def to_xlsx(export: Export) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=export.title[:31])
    bold = Font(bold=True)
    header = []
    for column in export.columns:
        cell = _xlsx_cell(sheet, column.heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in export.values():
        sheet.append([_xlsx_cell(sheet, value) for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The three exports -----------------------------------------------------------------------


def _year_slug(year: int) -> str:
    return financial_year_label(year).replace("/", "-")


def _get(name: str) -> Callable[[Any], Any]:
    def read(row):
        return row[name] if isinstance(row, dict) else getattr(row, name)

    return read


LEDGER_COLUMNS = (
    Column("Week starting", _get("week_start")),
    Column("Budget line", lambda row: row.budget_line.name),
    Column("Provider kind", lambda row: row.get_provider_kind_display()),
    Column("On a framework", _get("on_framework")),
    Column("Active placements", _get("active_placements")),
    Column("Child-days", _get("child_days")),
    Column("Gross cost (£)", _get("gross_cost")),
    Column("Contributions (£)", _get("contributions")),
    Column("Net cost (£)", _get("net_cost")),
)


def ledger_export(rows: Iterable, *, year: int) -> Export:
    """WeeklyCostLedgerRow rows (with budget_line selected)."""
    return Export(f"weekly-cost-ledger-{_year_slug(year)}",
                  f"Weekly costs {_year_slug(year)}", LEDGER_COLUMNS, rows)


POSITION_COLUMNS = (
    Column("Week starting", _get("week_start")),
    Column("Budget line", lambda row: row.budget_line.name),
    Column("Budget (£)", _get("budget")),
    Column("Actual to date (£)", _get("actual_to_date")),
    Column("Committed to year end (£)", _get("committed_to_year_end")),
    Column("Projected outturn (£)", _get("projected_outturn")),
    Column("Variance, overspend positive (£)", _get("variance")),
)


def budget_positions_export(snapshots: Iterable, *, year: int) -> Export:
    """BudgetPositionSnapshot rows (with budget_line selected), week by week."""
    return Export(f"budget-positions-{_year_slug(year)}",
                  f"Budget positions {_year_slug(year)}", POSITION_COLUMNS, snapshots)


def _pounds(name: str) -> Callable[[Any], Any]:
    """Weekly costs from SQL annotations (the net is arithmetic on a percentage of the
    gross): to the penny, half up."""

    def read(row):
        value = _get(name)(row)
        return None if value is None else Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)

    return read


def _cost_on(name: str, on: datetime.date) -> Callable[[Any], Any]:
    """A weekly cost on `on`, for a placement running that day (a cost row may run on
    past a placement's end: the end is on the placement)."""
    pounds = _pounds(name)

    def read(row):
        running = row.start_date <= on and (row.end_date is None or row.end_date > on)
        return pounds(row) if running else None

    return read


def _placement_columns(on: datetime.date) -> tuple[Column, ...]:
    day = f"{on.day} {on:%b %Y}"
    return (
        Column("Placement", _get("pk")),
        Column("Local child ID", lambda row: row.child.local_child_id),
        Column("Team", lambda row: row.child.team.name),
        Column("Placement type", _get("placement_type")),
        Column("Provider code", _get("place_provider")),
        Column("Provider", lambda row: row.service.provider.name),
        Column("Provider kind", lambda row: row.service.provider.get_kind_display()),
        Column("Service", lambda row: row.service.name),
        Column("On a framework", _get("on_framework")),
        Column("Out of authority", _get("out_of_authority")),
        Column("Distance from home (miles)", _get("distance_from_home_miles")),
        Column("Start date", _get("start_date")),
        Column("Planned end date", _get("planned_end_date")),
        Column("End date", _get("end_date")),
        Column("Reason for change", _get("reason_for_change")),
        Column("Budget line", _get("budget_line_name")),
        Column(f"Gross weekly cost on {day} (£)", _cost_on("weekly_cost", on)),
        Column(f"Net weekly cost on {day} (£)", _cost_on("net_weekly_cost", on)),
    )


def placement_list_export(placements: Iterable, *, year: int, on: datetime.date,
                          team_code: str = "") -> Export:
    """Placements annotated with weekly_cost and net_weekly_cost on `on`, and
    budget_line_name, with child__team and service__provider selected."""
    suffix = f"-{team_code}" if team_code else ""
    return Export(f"placements-{_year_slug(year)}{suffix}", f"Placements {_year_slug(year)}",
                  _placement_columns(on), placements)
