"""Checking the values a catalogue change is given: each check returns the clean value or
refuses with InvalidInput naming the field, so a page or the API shows a readable message
and the database's constraints are the last line, not the first. providers.services.catalogue
uses these; they change nothing."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import InvalidInput

PENCE = Decimal("0.01")
COORDINATE = Decimal("0.00001")
MAX_MONEY = Decimal("9999999999.99")  # what a DecimalField(max_digits=12, decimal_places=2) holds
MAX_SMALL_INT = 32767
MAX_AGE = 25

FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
OUTWARD_CODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def unknown_fields(fields: dict, allowed: frozenset, what: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"Unknown {what} fields: {', '.join(sorted(unknown))}.")


def text(value, *, field: str, label: str, max_length: int, required=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"Enter {label[0].lower()}{label[1:]}.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{label} must be {max_length} characters or fewer.", field=field)
    return value


def choice(value, choices, *, field: str, label: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"{label} '{value}' is not one we know.", field=field)
    return value


def whole_number(value, *, field: str, label: str, minimum=0, maximum=MAX_SMALL_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number.", field=field)
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{label} must be between {minimum} and {maximum}.", field=field)
    return value


def boolean(value, *, field: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{label} must be yes or no.", field=field)
    return value


def date(value, *, field: str, label: str, required=False) -> datetime.date | None:
    if value is None and not required:
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise InvalidInput(f"{label} must be a date.", field=field)
    return value


def decimal(value, *, field: str, label: str) -> Decimal:
    """A finite Decimal from a Decimal, int or numeric text (never via float)."""
    if isinstance(value, bool):
        raise InvalidInput(f"{label} must be a number.", field=field)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (int, float, str)) else value
    except InvalidOperation:
        number = None
    if not isinstance(number, Decimal) or not number.is_finite():
        raise InvalidInput(f"{label} must be a number.", field=field)
    return number


def money(value, *, field: str, label: str) -> Decimal:
    """Pounds and pence, not negative, rounded half-up to the penny."""
    amount = decimal(value, field=field, label=label).quantize(PENCE, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise InvalidInput(f"{label} cannot be negative.", field=field)
    if amount > MAX_MONEY:
        raise InvalidInput(f"{label} is too large.", field=field)
    return amount


def email(value) -> str:
    """An e-mail address, or "" for none."""
    address = text(value, field="email", label="Email address", max_length=254)
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidInput(
                "Enter an email address in the right format, like name@example.com.",
                field="email",
            ) from None
    return address


def normalise_postcode(value) -> str:
    """"ls62ab" → "LS6 2AB"; an outward code alone ("LS6") is kept, because a children's
    home's full address is often withheld."""
    cleaned = " ".join(str(value or "").upper().split())
    match = FULL_POSTCODE.match(cleaned)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    if OUTWARD_CODE.match(cleaned):
        return cleaned
    if not cleaned:
        raise InvalidInput("Enter the service's postcode.", field="postcode")
    raise InvalidInput(
        "Enter a real postcode, like LS6 2AB, or its first part, like LS6.", field="postcode"
    )


def coordinate(value, *, field: str, limit: int) -> Decimal | None:
    if value is None:
        return None
    label = field.capitalize()
    number = decimal(value, field=field, label=label).quantize(COORDINATE, ROUND_HALF_UP)
    if not -limit <= number <= limit:
        raise InvalidInput(f"{label} must be between -{limit} and {limit}.", field=field)
    return number


def codes(values, choices, *, field: str, what: str) -> list[str]:
    """Codes each once, in the order given; refuses any code the list does not know."""
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise InvalidInput(f"Give the {what} as a list of codes.", field=field)
    unique = list(dict.fromkeys(values))
    unknown = [str(code) for code in unique if code not in choices.values]
    if unknown:
        raise InvalidInput(f"Unknown {what}: {', '.join(unknown)}.", field=field)
    return unique


def financial_year(value, *, field="financial_year") -> int:
    return whole_number(value, field=field, label="Financial year", minimum=2000, maximum=2099)


def uplift_percentage(value) -> Decimal:
    percentage = decimal(value, field="percentage", label="Percentage")
    if not Decimal(0) <= percentage <= Decimal(100):
        raise InvalidInput("The uplift must be between 0% and 100%.", field="percentage")
    return percentage


def discount_percentage(value) -> Decimal:
    percentage = decimal(value, field="percentage", label="Percentage").quantize(
        PENCE, rounding=ROUND_HALF_UP
    )
    if not Decimal(0) < percentage <= Decimal(100):
        raise InvalidInput("The discount must be more than 0% and at most 100%.",
                           field="percentage")
    return percentage
