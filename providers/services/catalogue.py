"""Every change to the provider directory: providers, services, framework rates and
uplifts, and providers' discounts. Pages, the API and the CSV imports call these.

Only a commissioning officer or an administrator may change the directory. Each function
checks its input itself and refuses with a domain error naming the field, so a page or the
API shows a readable message and the database's constraints are the last line, not the
first.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from core.errors import ActionNotPermitted, Conflict, InvalidInput
from core.roles import Role, has_role
from providers.geo import district_for
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkRate,
    Provider,
    ProviderDiscount,
    Service,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
)
from providers.reference import (
    Need,
    OfstedRating,
    PlacementType,
    PlaceProvider,
    ProviderKind,
    Risk,
    financial_year_label,
)

EDITORS = (Role.COMMISSIONING_OFFICER, Role.ADMINISTRATOR)
PENCE = Decimal("0.01")
COORDINATE = Decimal("0.00001")
MAX_MONEY = Decimal("9999999999.99")  # what a DecimalField(max_digits=12, decimal_places=2) holds
MAX_SMALL_INT = 32767
MAX_AGE = 25

PROVIDER_FIELDS = frozenset({"name", "kind", "place_provider", "email", "phone", "is_active"})
SERVICE_FIELDS = frozenset({
    "name", "ofsted_urn", "ofsted_rating", "ofsted_inspection_date", "postcode", "latitude",
    "longitude", "local_authority_area", "min_age", "max_age", "places", "vacancies",
    "is_active",
})
DISCOUNT_FIELDS = frozenset({"basis", "description", "percentage", "valid_from", "valid_to"})

FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
OUTWARD_CODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def require_catalogue_editor(by) -> None:
    if not has_role(by, *EDITORS):
        raise ActionNotPermitted(
            "Only a commissioning officer or an administrator can change the provider directory."
        )


# --- Checking values ---------------------------------------------------------------------


def _unknown_fields(fields: dict, allowed: frozenset, what: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"Unknown {what} fields: {', '.join(sorted(unknown))}.")


def _text(value, *, field: str, label: str, max_length: int, required=False) -> str:
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


def _choice(value, choices, *, field: str, label: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"{label} '{value}' is not one we know.", field=field)
    return value


def _whole_number(value, *, field: str, label: str, minimum=0, maximum=MAX_SMALL_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number.", field=field)
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{label} must be between {minimum} and {maximum}.", field=field)
    return value


def _boolean(value, *, field: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{label} must be yes or no.", field=field)
    return value


def _date(value, *, field: str, label: str, required=False) -> datetime.date | None:
    if value is None and not required:
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise InvalidInput(f"{label} must be a date.", field=field)
    return value


def _decimal(value, *, field: str, label: str) -> Decimal:
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
    amount = _decimal(value, field=field, label=label).quantize(PENCE, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise InvalidInput(f"{label} cannot be negative.", field=field)
    if amount > MAX_MONEY:
        raise InvalidInput(f"{label} is too large.", field=field)
    return amount


def normalise_postcode(value) -> str:
    """"ls62ab" → "LS6 2AB"; an outward code alone ("LS6") is kept, because a children's
    home's full address is often withheld."""
    text = " ".join(str(value or "").upper().split())
    match = FULL_POSTCODE.match(text)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    if OUTWARD_CODE.match(text):
        return text
    if not text:
        raise InvalidInput("Enter the service's postcode.", field="postcode")
    raise InvalidInput(
        "Enter a real postcode, like LS6 2AB, or its first part, like LS6.", field="postcode"
    )


def _coordinate(value, *, field: str, limit: int) -> Decimal | None:
    if value is None:
        return None
    label = field.capitalize()
    number = _decimal(value, field=field, label=label).quantize(COORDINATE, ROUND_HALF_UP)
    if not -limit <= number <= limit:
        raise InvalidInput(f"{label} must be between -{limit} and {limit}.", field=field)
    return number


def _codes(values, choices, *, field: str, what: str) -> list[str]:
    """Codes each once, in the order given; refuses any code the list does not know."""
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise InvalidInput(f"Give the {what} as a list of codes.", field=field)
    codes = list(dict.fromkeys(values))
    unknown = [str(code) for code in codes if code not in choices.values]
    if unknown:
        raise InvalidInput(f"Unknown {what}: {', '.join(unknown)}.", field=field)
    return codes


# --- Providers ---------------------------------------------------------------------------


def _apply_provider_fields(provider: Provider, fields: dict) -> None:
    _unknown_fields(fields, PROVIDER_FIELDS, "provider")
    checks = {
        "name": lambda v: _text(v, field="name", label="The provider's name", max_length=200,
                                required=True),
        "kind": lambda v: _choice(v, ProviderKind, field="kind", label="Kind of provider"),
        "place_provider": lambda v: _choice(
            v, PlaceProvider, field="place_provider", label="SSDA903 provider code"
        ),
        "email": _provider_email,
        "phone": lambda v: _text(v, field="phone", label="Phone number", max_length=30),
        "is_active": lambda v: _boolean(v, field="is_active", label="Active"),
    }
    for name, value in fields.items():
        setattr(provider, name, checks[name](value))


def _provider_email(value) -> str:
    email = _text(value, field="email", label="Email address", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(
                "Enter an email address in the right format, like name@example.com.",
                field="email",
            ) from None
    return email


def _save_provider(provider: Provider) -> Provider:
    clash = Provider.objects.filter(name__iexact=provider.name).exclude(pk=provider.pk)
    if clash.exists():
        raise Conflict(f"A provider called '{provider.name}' is already in the directory.")
    provider.save()
    return provider


@transaction.atomic
def provider_create(*, by, fields: dict) -> Provider:
    require_catalogue_editor(by)
    required = {"name": "Enter the provider's name.", "kind": "Select the kind of provider.",
                "place_provider": "Select the provider's SSDA903 provider code."}
    for name, message in required.items():
        if name not in fields:
            raise InvalidInput(message, field=name)
    provider = Provider()
    _apply_provider_fields(provider, fields)
    return _save_provider(provider)


@transaction.atomic
def provider_update(*, by, provider: Provider, fields: dict) -> Provider:
    require_catalogue_editor(by)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    _apply_provider_fields(provider, fields)
    return _save_provider(provider)


# --- Services ----------------------------------------------------------------------------

SERVICE_CHECKS = {
    "name": lambda v: _text(v, field="name", label="The service's name", max_length=200,
                            required=True),
    "ofsted_urn": lambda v: _text(v, field="ofsted_urn", label="Ofsted URN", max_length=10).upper(),
    "ofsted_rating": lambda v: _choice(v, OfstedRating, field="ofsted_rating",
                                       label="Ofsted rating"),
    "ofsted_inspection_date": lambda v: _date(v, field="ofsted_inspection_date",
                                              label="Inspection date"),
    "postcode": normalise_postcode,
    "latitude": lambda v: _coordinate(v, field="latitude", limit=90),
    "longitude": lambda v: _coordinate(v, field="longitude", limit=180),
    "local_authority_area": lambda v: _text(v, field="local_authority_area",
                                            label="Local authority area", max_length=100),
    "min_age": lambda v: _whole_number(v, field="min_age", label="Youngest age", maximum=MAX_AGE),
    "max_age": lambda v: _whole_number(v, field="max_age", label="Oldest age", maximum=MAX_AGE),
    "places": lambda v: _whole_number(v, field="places", label="Places"),
    "vacancies": lambda v: _whole_number(v, field="vacancies", label="Vacancies"),
    "is_active": lambda v: _boolean(v, field="is_active", label="Active"),
}


def _apply_service_fields(service: Service, fields: dict) -> None:
    _unknown_fields(fields, SERVICE_FIELDS, "service")
    old_postcode = service.postcode
    for name, value in fields.items():
        setattr(service, name, SERVICE_CHECKS[name](value))
    if (service.latitude is None) != (service.longitude is None):
        raise InvalidInput("Give both latitude and longitude, or neither.", field="latitude")
    located = "latitude" in fields or "longitude" in fields
    if not located and (service.postcode != old_postcode or service.latitude is None):
        _locate_from_postcode(service)
    _check_service(service)


def _locate_from_postcode(service: Service) -> None:
    """The postcode district's centre, or no location when we do not know the district."""
    district = district_for(service.postcode)
    service.latitude = district.latitude if district else None
    service.longitude = district.longitude if district else None


def _check_service(service: Service) -> None:
    if service.max_age < service.min_age:
        raise InvalidInput("The oldest age cannot be below the youngest age.", field="max_age")
    if service.vacancies > service.places:
        raise InvalidInput("Vacancies cannot be more than places.", field="vacancies")
    if service.ofsted_inspection_date and service.ofsted_inspection_date > timezone.localdate():
        raise InvalidInput("The inspection date cannot be in the future.",
                           field="ofsted_inspection_date")
    if service.ofsted_urn and (
        Service.objects.filter(ofsted_urn=service.ofsted_urn).exclude(pk=service.pk).exists()
    ):
        raise InvalidInput(
            f"Another service already has Ofsted URN {service.ofsted_urn}.", field="ofsted_urn"
        )
    same_name = Service.objects.filter(provider_id=service.provider_id, name=service.name)
    if same_name.exclude(pk=service.pk).exists():
        raise Conflict(f"The provider already has a service called '{service.name}'.")


def _set_codes(service: Service, *, placement_types, needs, excluded_risks) -> None:
    """Replace whichever of the three lists are given (None leaves a list as it is)."""
    lists = (
        (placement_types, PlacementType, "placement_types", "placement types",
         ServicePlacementType, "placement_type"),
        (needs, Need, "needs", "needs", ServiceNeed, "need"),
        (excluded_risks, Risk, "excluded_risks", "risks", ServiceRiskExclusion, "risk"),
    )
    for values, choices, field, what, model, column in lists:
        if values is None:
            continue
        codes = _codes(values, choices, field=field, what=what)
        model.objects.filter(service=service).delete()
        model.objects.bulk_create([model(service=service, **{column: code}) for code in codes])


@transaction.atomic
def service_create(
    *, by, provider: Provider, fields: dict, placement_types: list[str], needs: list[str],
    excluded_risks: list[str],
) -> Service:
    require_catalogue_editor(by)
    for name in ("name", "postcode"):
        if name not in fields:
            raise InvalidInput(f"Enter the service's {name}.", field=name)
    service = Service(provider=provider, postcode="")
    _apply_service_fields(service, fields)
    service.save()
    _set_codes(service, placement_types=placement_types, needs=needs,
               excluded_risks=excluded_risks)
    return service


@transaction.atomic
def service_update(
    *, by, service: Service, fields: dict, placement_types=None, needs=None, excluded_risks=None
) -> Service:
    require_catalogue_editor(by)
    service = Service.objects.select_for_update().select_related("provider").get(pk=service.pk)
    _apply_service_fields(service, fields)
    service.save()
    _set_codes(service, placement_types=placement_types, needs=needs,
               excluded_risks=excluded_risks)
    return service


# --- Framework rates and the annual uplift ----------------------------------------------


def _year(value, *, field="financial_year") -> int:
    return _whole_number(value, field=field, label="Financial year", minimum=2000, maximum=2099)


def _rate_subject(framework: Framework, lot: FrameworkLot | None, provider: Provider | None):
    if (lot is None) == (provider is None):
        raise InvalidInput("Give the rate a lot or a provider: one, not both.", field="lot")
    if lot is not None and lot.framework_id != framework.pk:
        raise InvalidInput(f"{lot} is not a lot of {framework}.", field="lot")


@transaction.atomic
def framework_rate_upsert(
    *, by, framework: Framework, placement_type: str, financial_year: int,
    ceiling_weekly_price, lot: FrameworkLot | None = None, provider: Provider | None = None,
    only_new: bool = False,
) -> tuple[FrameworkRate, bool]:
    """framework_rate_set, also saying whether the rate is new (for the imports' counts)."""
    require_catalogue_editor(by)
    _rate_subject(framework, lot, provider)
    _choice(placement_type, PlacementType, field="placement_type", label="Placement type")
    year = _year(financial_year)
    ceiling = money(ceiling_weekly_price, field="ceiling_weekly_price", label="Ceiling")
    # The framework's row serialises rate changes with uplifts, which read a whole year.
    Framework.objects.select_for_update().get(pk=framework.pk)
    existing = (
        FrameworkRate.objects.select_for_update()
        .filter(framework=framework, lot=lot, provider=provider, placement_type=placement_type,
                financial_year=year)
        .first()
    )
    if existing is None:
        rate = FrameworkRate.objects.create(
            framework=framework, lot=lot, provider=provider, placement_type=placement_type,
            financial_year=year, ceiling_weekly_price=ceiling,
        )
        return rate, True
    if only_new:
        raise Conflict(
            f"{framework} already has a {placement_type} rate for {lot or provider} in "
            f"{financial_year_label(year)}; change that rate instead."
        )
    existing.ceiling_weekly_price = ceiling
    existing.save(update_fields=["ceiling_weekly_price"])
    return existing, False


@transaction.atomic
def framework_rate_set(
    *, by, framework: Framework, placement_type: str, financial_year: int,
    ceiling_weekly_price: Decimal, lot: FrameworkLot | None = None,
    provider: Provider | None = None, only_new: bool = False,
) -> FrameworkRate:
    """Set the ceiling for a lot's or a provider's placement type in a year, creating the
    rate or changing it (`only_new` refuses with Conflict when it already exists)."""
    rate, _created = framework_rate_upsert(
        by=by, framework=framework, placement_type=placement_type,
        financial_year=financial_year, ceiling_weekly_price=ceiling_weekly_price, lot=lot,
        provider=provider, only_new=only_new,
    )
    return rate


def uplifted(ceiling: Decimal, percentage: Decimal) -> Decimal:
    """ceiling × (1 + percentage / 100), rounded half-up to the penny, all in Decimal."""
    return (ceiling * (Decimal(100) + percentage) / Decimal(100)).quantize(
        PENCE, rounding=ROUND_HALF_UP
    )


def _uplift_percentage(value) -> Decimal:
    percentage = _decimal(value, field="percentage", label="Percentage")
    if not Decimal(0) <= percentage <= Decimal(100):
        raise InvalidInput("The uplift must be between 0% and 100%.", field="percentage")
    return percentage


def uplift_preview(
    *, framework: Framework, from_year: int, percentage: Decimal
) -> list[tuple[FrameworkRate, Decimal]]:
    """Each rate of `from_year` with its uplifted ceiling, for the confirmation page.
    Refuses, as applying would, when the next year already has rates, so the page says
    so before asking for confirmation."""
    percentage = _uplift_percentage(percentage)
    from_year = _year(from_year, field="from_year")
    _refuse_existing_next_year(framework, next_year=from_year + 1)
    rates = (
        FrameworkRate.objects.filter(framework=framework, financial_year=from_year)
        .select_related("lot", "provider")
        .order_by("lot__number", "provider__name", "placement_type", "pk")
    )
    return [(rate, uplifted(rate.ceiling_weekly_price, percentage)) for rate in rates]


def _refuse_existing_next_year(framework: Framework, *, next_year: int) -> None:
    if FrameworkRate.objects.filter(framework=framework, financial_year=next_year).exists():
        raise Conflict(
            f"{framework} already has rates for {financial_year_label(next_year)}. "
            "Change those rates one by one instead of uplifting again."
        )


@transaction.atomic
def framework_apply_uplift(
    *, by, framework: Framework, from_year: int, percentage: Decimal
) -> list[FrameworkRate]:
    """Carry every rate of `from_year` into the next year at the uplifted ceiling."""
    require_catalogue_editor(by)
    percentage = _uplift_percentage(percentage)
    from_year = _year(from_year, field="from_year")
    if from_year + 1 > 2099:
        raise InvalidInput("The next financial year is out of range.", field="from_year")
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    next_year = from_year + 1
    preview = uplift_preview(framework=framework, from_year=from_year, percentage=percentage)
    if not preview:
        raise InvalidInput(
            f"{framework} has no rates for {financial_year_label(from_year)} to uplift.",
            field="from_year",
        )
    if any(ceiling > MAX_MONEY for _rate, ceiling in preview):
        raise InvalidInput("An uplifted ceiling would be too large.", field="percentage")
    return FrameworkRate.objects.bulk_create(
        FrameworkRate(
            framework=framework, lot_id=rate.lot_id, provider_id=rate.provider_id,
            placement_type=rate.placement_type, financial_year=next_year,
            ceiling_weekly_price=ceiling,
        )
        for rate, ceiling in preview
    )


# --- Discounts ---------------------------------------------------------------------------


def _discount_percentage(value) -> Decimal:
    percentage = _decimal(value, field="percentage", label="Percentage").quantize(
        PENCE, rounding=ROUND_HALF_UP
    )
    if not Decimal(0) < percentage <= Decimal(100):
        raise InvalidInput("The discount must be more than 0% and at most 100%.",
                           field="percentage")
    return percentage


@transaction.atomic
def discount_create(*, by, provider: Provider, fields: dict) -> ProviderDiscount:
    require_catalogue_editor(by)
    _unknown_fields(fields, DISCOUNT_FIELDS, "discount")
    for name in ("basis", "description", "percentage", "valid_from"):
        if fields.get(name) in (None, ""):
            raise InvalidInput(f"Enter the discount's {name.replace('_', ' ')}.", field=name)
    discount = ProviderDiscount(
        provider=provider,
        basis=_choice(fields["basis"], ProviderDiscount.Basis, field="basis", label="Basis"),
        description=_text(fields["description"], field="description", label="The discount's terms",
                          max_length=300, required=True),
        percentage=_discount_percentage(fields["percentage"]),
        valid_from=_date(fields["valid_from"], field="valid_from", label="Start date",
                         required=True),
        valid_to=_date(fields.get("valid_to"), field="valid_to", label="End date"),
    )
    if discount.valid_to is not None and discount.valid_to < discount.valid_from:
        raise InvalidInput("The end date cannot be before the start date.", field="valid_to")
    discount.save()
    return discount


@transaction.atomic
def discount_end(*, by, discount: ProviderDiscount, valid_to: datetime.date) -> ProviderDiscount:
    """End a discount on `valid_to` (its last day); an ended discount may only end sooner."""
    require_catalogue_editor(by)
    discount = ProviderDiscount.objects.select_for_update().get(pk=discount.pk)
    valid_to = _date(valid_to, field="valid_to", label="End date", required=True)
    if valid_to < discount.valid_from:
        raise InvalidInput("The end date cannot be before the start date.", field="valid_to")
    if discount.valid_to is not None and valid_to > discount.valid_to:
        ended = discount.valid_to
        raise Conflict(f"The discount already ended on {ended.day} {ended:%B %Y}.")
    discount.valid_to = valid_to
    discount.save(update_fields=["valid_to"])
    return discount
