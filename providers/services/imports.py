"""Loading the provider directory and framework rates from CSV files.

A file is read whole and checked before anything is written: a file that is not UTF-8 CSV
text, lacks a required column, has no data rows or is too big is refused (InvalidInput on
"file") and changes nothing. Then each row is applied in its own savepoint through the
catalogue services, so a bad row is reported with its line number and changes nothing,
while the good rows are applied.

Each row is written through a catalogue service, which audits each record it changes
(provider, service, framework rate) with the file's line as the reason, so an auditor sees
every imported change one by one and where it came from. A row that changes nothing
writes no event.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core.errors import DomainError, InvalidInput
from providers.models import Framework, FrameworkLot, Provider, Service
from providers.reference import (
    Need,
    OfstedRating,
    PlacementType,
    PlaceProvider,
    ProviderKind,
    Risk,
)
from providers.services import catalogue

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

SERVICE_COLUMNS = (
    "provider_name", "provider_kind", "provider_code", "provider_email", "service_name",
    "ofsted_urn", "ofsted_rating", "ofsted_inspection_date", "postcode",
    "local_authority_area", "min_age", "max_age", "places", "vacancies", "placement_types",
    "needs", "excluded_risks",
)
SERVICE_REQUIRED = ("provider_name", "service_name", "postcode")
RATE_COLUMNS = ("lot_number", "provider_name", "placement_type", "financial_year",
                "ceiling_weekly_price")
RATE_REQUIRED = ("placement_type", "financial_year", "ceiling_weekly_price")


@dataclass
class RowError:
    line: int
    errors: list[str]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass
class CsvRow:
    line: int  # where the row starts in the file; the header is line 1
    values: dict[str, str]  # every known column, "" when blank or absent
    has_extra_values: bool = False


class RowInvalid(Exception):
    """The row's cells cannot be read; nothing of the row is applied."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- Reading the file --------------------------------------------------------------------


def _file_error(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def _read_text(file) -> str:
    data = file.read(MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise _file_error("The file must be smaller than 2 MB.")
    if b"\x00" in data:
        raise _file_error("The file must be a CSV file (text), not a spreadsheet or other file.")
    try:
        return data.decode("utf-8-sig")  # accepts a byte-order mark, as Excel writes
    except UnicodeDecodeError:
        raise _file_error("The file must be a CSV file saved as UTF-8 text.") from None


def read_csv(
    file, *, columns: tuple[str, ...], required: tuple[str, ...], one_of: tuple[str, ...] = ()
) -> list[CsvRow]:
    """The file's data rows, keyed by the known columns (other columns are ignored), or
    InvalidInput for the whole file. `one_of`: columns of which the file needs at least one."""
    text = _read_text(file)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise _file_error("The file is empty.")
        header = [name.strip().lower() for name in header]
        missing = [name for name in required if name not in header]
        if missing:
            raise _file_error(f"The file has no column called {', '.join(missing)}.")
        if one_of and not set(one_of) & set(header):
            raise _file_error(f"The file needs a column called {' or '.join(one_of)}.")
        rows = _data_rows(reader, header, columns)
    except csv.Error as error:
        raise _file_error(f"Line {reader.line_num} is not valid CSV: {error}.") from None
    if not rows:
        raise _file_error("The file has a header row but no data rows.")
    return rows


def _data_rows(reader, header: list[str], columns: tuple[str, ...]) -> list[CsvRow]:
    rows = []
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise _file_error(f"The file has more than {MAX_ROWS:,} rows; split it up.")
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        known = {name: values.get(name, "") for name in columns}
        rows.append(CsvRow(start, known, has_extra_values=len(cells) > len(header)))
    return rows


# --- Reading cells -----------------------------------------------------------------------


class Cells:
    """Typed reads of one row's cells, collecting every error rather than stopping at the
    first, so the report lists all that is wrong with a row."""

    def __init__(self, row: CsvRow):
        self.values = row.values
        self.errors: list[str] = []
        if row.has_extra_values:
            self.errors.append("The row has more values than the header has columns.")

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def fail(self, name: str, message: str) -> None:
        self.errors.append(f"{name}: {message}")

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.fail(name, "is empty")
        return value

    def choice(self, name: str, choices) -> str | None:
        """A code (any case), or its label as the code list writes it."""
        value = self.text(name)
        if not value:
            return None
        for code, label in choices.choices:
            if value.lower() in (code.lower(), label.lower()):
                return code
        self.fail(name, f"'{value}' is not a code we know")
        return None

    def whole_number(self, name: str) -> int | None:
        value = self.text(name)
        if not value:
            return None
        if not re.fullmatch(r"[0-9]{1,5}", value):
            self.fail(name, f"'{value}' is not a whole number")
            return None
        return int(value)

    def date(self, name: str) -> datetime.date | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.fail(name, f"'{value}' is not a date like 2025-03-31")
            return None

    def codes(self, name: str, choices, *, upper: bool) -> list[str] | None:
        value = self.text(name)
        if not value:
            return None
        codes = [c.upper() if upper else c.lower() for c in re.split(r"[;,\s]+", value) if c]
        unknown = [code for code in codes if code not in choices.values]
        if unknown:
            self.fail(name, f"unknown code {', '.join(unknown)}")
            return None
        return codes

    def financial_year(self, name: str) -> int | None:
        """2026, "2026/27" or "2026-27"."""
        value = self.required(name)
        if not value:
            return None
        match = re.fullmatch(r"(20[0-9]{2})(?:[/-]([0-9]{2}))?", value)
        if not match or (match.group(2) and int(match.group(2)) != (int(match.group(1)) + 1) % 100):
            self.fail(name, f"'{value}' is not a financial year like 2026/27")
            return None
        return int(match.group(1))

    def money(self, name: str) -> Decimal | None:
        value = self.required(name)
        if not value:
            return None
        cleaned = value.replace("£", "").replace(",", "").strip()
        try:
            amount = Decimal(cleaned) if re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", cleaned) else None
        except InvalidOperation:
            amount = None
        if amount is None:
            self.fail(name, f"'{value}' is not an amount in pounds and pence, like 812.34")
        return amount

    def check(self) -> None:
        if self.errors:
            raise RowInvalid(self.errors)


def _reason(row: CsvRow) -> str:
    return f"CSV import, line {row.line}."


def _apply_rows(rows: list[CsvRow], apply_row) -> ImportReport:
    """apply_row(row) → True when it created, False when it updated; each in a savepoint."""
    report = ImportReport()
    for row in rows:
        try:
            with transaction.atomic():
                created = apply_row(row)
        except RowInvalid as error:
            report.rejected.append(RowError(row.line, error.errors))
        except DomainError as error:
            report.rejected.append(RowError(row.line, [_described(error)]))
        else:
            if created:
                report.created += 1
            else:
                report.updated += 1
    return report


def _described(error: DomainError) -> str:
    name = getattr(error, "field", None)
    return f"{name}: {error.message}" if name else error.message


# --- Services ----------------------------------------------------------------------------


@transaction.atomic
def import_services_csv(*, by, file) -> ImportReport:
    """One service a row; providers are matched by name (any case) and created when new,
    services by provider and name and updated when they exist. A blank cell leaves an
    existing service's value as it is."""
    catalogue.require_catalogue_editor(by)
    rows = read_csv(file, columns=SERVICE_COLUMNS, required=SERVICE_REQUIRED)
    return _apply_rows(rows, lambda row: _apply_service_row(row, by=by))


def _provider_fields(cells: Cells) -> dict:
    fields = {
        "kind": cells.choice("provider_kind", ProviderKind),
        "place_provider": cells.choice("provider_code", PlaceProvider),
        "email": cells.text("provider_email") or None,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _service_fields(cells: Cells) -> dict:
    fields = {
        "name": cells.required("service_name"),
        "ofsted_urn": cells.text("ofsted_urn") or None,
        "ofsted_rating": cells.choice("ofsted_rating", OfstedRating),
        "ofsted_inspection_date": cells.date("ofsted_inspection_date"),
        "postcode": cells.required("postcode"),
        "local_authority_area": cells.text("local_authority_area") or None,
        "min_age": cells.whole_number("min_age"),
        "max_age": cells.whole_number("max_age"),
        "places": cells.whole_number("places"),
        "vacancies": cells.whole_number("vacancies"),
    }
    return {name: value for name, value in fields.items() if value is not None}


def _apply_service_row(row: CsvRow, *, by) -> bool:
    cells = Cells(row)
    provider_name = cells.required("provider_name")
    provider_fields = _provider_fields(cells)
    fields = _service_fields(cells)
    codes = {
        "placement_types": cells.codes("placement_types", PlacementType, upper=True),
        "needs": cells.codes("needs", Need, upper=False),
        "excluded_risks": cells.codes("excluded_risks", Risk, upper=False),
    }
    cells.check()
    reason = _reason(row)
    provider = _provider_for_row(provider_name, provider_fields, by=by, reason=reason)
    service = Service.objects.filter(provider=provider, name__iexact=fields["name"]).first()
    if service is None:
        catalogue.service_create(
            by=by, provider=provider, fields=fields, reason=reason,
            **{name: values or [] for name, values in codes.items()},
        )
        return True
    fields.pop("name")  # matched regardless of case; keep the name as the directory has it
    catalogue.service_update(by=by, service=service, fields=fields, reason=reason, **codes)
    return False


def _provider_for_row(name: str, fields: dict, *, by, reason: str) -> Provider:
    provider = Provider.objects.filter(name__iexact=name).first()
    if provider is None:
        for column, field_name in (("provider_kind", "kind"), ("provider_code", "place_provider")):
            if field_name not in fields:
                raise RowInvalid([f"{column}: is empty, and {name} is a new provider"])
        return catalogue.provider_create(by=by, fields={"name": name, **fields}, reason=reason)
    changed = {key: value for key, value in fields.items() if getattr(provider, key) != value}
    if changed:
        provider = catalogue.provider_update(
            by=by, provider=provider, fields=changed, reason=reason
        )
    return provider


# --- Framework rates ---------------------------------------------------------------------


@transaction.atomic
def import_rates_csv(*, by, framework: Framework, file) -> ImportReport:
    """One ceiling a row, for a lot (by number) or a provider (by name), created or changed."""
    catalogue.require_catalogue_editor(by)
    rows = read_csv(
        file, columns=RATE_COLUMNS, required=RATE_REQUIRED, one_of=("lot_number", "provider_name")
    )
    return _apply_rows(rows, lambda row: _apply_rate_row(row, by=by, framework=framework))


def _lot(cells: Cells, framework: Framework) -> FrameworkLot | None:
    number = cells.whole_number("lot_number")
    if number is None:
        return None
    lot = FrameworkLot.objects.filter(framework=framework, number=number).first()
    if lot is None:
        cells.fail("lot_number", f"{framework} has no lot {number}")
    return lot


def _provider(cells: Cells) -> Provider | None:
    name = cells.text("provider_name")
    provider = Provider.objects.filter(name__iexact=name).first()
    if provider is None:
        cells.fail("provider_name", f"no provider called '{name}' is in the directory")
    return provider


def _apply_rate_row(row: CsvRow, *, by, framework: Framework) -> bool:
    cells = Cells(row)
    lot_number, provider_name = cells.text("lot_number"), cells.text("provider_name")
    if bool(lot_number) == bool(provider_name):
        cells.errors.append("Fill in either lot_number or provider_name, not both.")
    lot = _lot(cells, framework) if lot_number else None
    provider = _provider(cells) if provider_name else None
    placement_type = cells.choice("placement_type", PlacementType)
    if placement_type is None and cells.text("placement_type") == "":
        cells.fail("placement_type", "is empty")
    year = cells.financial_year("financial_year")
    ceiling = cells.money("ceiling_weekly_price")
    cells.check()
    _rate, created = catalogue.framework_rate_upsert(
        by=by, framework=framework, lot=lot, provider=provider, placement_type=placement_type,
        financial_year=year, ceiling_weekly_price=ceiling, reason=_reason(row),
    )
    return created
