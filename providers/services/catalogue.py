"""Every change to the provider directory: providers, services, framework rates and
uplifts, and providers' discounts. Pages, the API and the CSV imports call these.

Only a commissioning officer or an administrator may change the directory. Each function
checks its input itself and refuses with a domain error naming the field, so a page or the
API shows a readable message and the database's constraints are the last line, not the
first. The checks of single values are in providers.services.validation.

Each change writes an audit event per record it changes, in its transaction: an update
that changes nothing writes none. The CSV imports pass a `reason` naming the file's line.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from core import audit
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
from providers.services import validation as check

# The value checks live in providers.services.validation; these names, once defined here,
# stay importable from here.
from providers.services.validation import (  # noqa: F401
    COORDINATE,
    FULL_POSTCODE,
    MAX_AGE,
    MAX_MONEY,
    MAX_SMALL_INT,
    OUTWARD_CODE,
    PENCE,
    money,
    normalise_postcode,
)

EDITORS = (Role.COMMISSIONING_OFFICER, Role.ADMINISTRATOR)

PROVIDER_FIELDS = frozenset({"name", "kind", "place_provider", "email", "phone", "is_active"})
SERVICE_FIELDS = frozenset({
    "name", "ofsted_urn", "ofsted_rating", "ofsted_inspection_date", "postcode", "latitude",
    "longitude", "local_authority_area", "min_age", "max_age", "places", "vacancies",
    "is_active",
})
DISCOUNT_FIELDS = frozenset({"basis", "description", "percentage", "valid_from", "valid_to"})
# What the audit log keeps of each record.
PROVIDER_AUDIT = tuple(sorted(PROVIDER_FIELDS))
SERVICE_AUDIT = ("provider", *sorted(SERVICE_FIELDS))
RATE_AUDIT = ("framework", "lot", "provider", "placement_type", "financial_year",
              "ceiling_weekly_price")
DISCOUNT_AUDIT = ("provider", *sorted(DISCOUNT_FIELDS))


def require_catalogue_editor(by) -> None:
    if not has_role(by, *EDITORS):
        raise ActionNotPermitted(
            "Only a commissioning officer or an administrator can change the provider directory."
        )


# --- Providers ---------------------------------------------------------------------------


def _apply_provider_fields(provider: Provider, fields: dict) -> None:
    check.unknown_fields(fields, PROVIDER_FIELDS, "provider")
    checks = {
        "name": lambda v: check.text(v, field="name", label="The provider's name",
                                     max_length=200, required=True),
        "kind": lambda v: check.choice(v, ProviderKind, field="kind", label="Kind of provider"),
        "place_provider": lambda v: check.choice(
            v, PlaceProvider, field="place_provider", label="SSDA903 provider code"
        ),
        "email": check.email,
        "phone": lambda v: check.text(v, field="phone", label="Phone number", max_length=30),
        "is_active": lambda v: check.boolean(v, field="is_active", label="Active"),
    }
    for name, value in fields.items():
        setattr(provider, name, checks[name](value))


def _save_provider(provider: Provider) -> Provider:
    clash = Provider.objects.filter(name__iexact=provider.name).exclude(pk=provider.pk)
    if clash.exists():
        raise Conflict(f"A provider called '{provider.name}' is already in the directory.")
    provider.save()
    return provider


def _record_update(by, action: str, obj, *, before: dict, after: dict, reason: str = "") -> None:
    """An update's event, unless it changed nothing."""
    changes = audit.diff(before, after)
    if changes:
        audit.record(by, action, obj, changes=changes, reason=reason)


@transaction.atomic
def provider_create(*, by, fields: dict, reason: str = "") -> Provider:
    require_catalogue_editor(by)
    required = {"name": "Enter the provider's name.", "kind": "Select the kind of provider.",
                "place_provider": "Select the provider's SSDA903 provider code."}
    for name, message in required.items():
        if name not in fields:
            raise InvalidInput(message, field=name)
    provider = Provider()
    _apply_provider_fields(provider, fields)
    _save_provider(provider)
    audit.record(by, "provider.create", provider, reason=reason,
                 changes=audit.created(provider, PROVIDER_AUDIT))
    return provider


@transaction.atomic
def provider_update(*, by, provider: Provider, fields: dict, reason: str = "") -> Provider:
    require_catalogue_editor(by)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    before = audit.snapshot(provider, PROVIDER_AUDIT)
    _apply_provider_fields(provider, fields)
    _save_provider(provider)
    _record_update(by, "provider.update", provider, reason=reason, before=before,
                   after=audit.snapshot(provider, PROVIDER_AUDIT))
    return provider


# --- Services ----------------------------------------------------------------------------

SERVICE_CHECKS = {
    "name": lambda v: check.text(v, field="name", label="The service's name", max_length=200,
                                 required=True),
    "ofsted_urn": lambda v: check.text(
        v, field="ofsted_urn", label="Ofsted URN", max_length=10
    ).upper(),
    "ofsted_rating": lambda v: check.choice(v, OfstedRating, field="ofsted_rating",
                                            label="Ofsted rating"),
    "ofsted_inspection_date": lambda v: check.date(v, field="ofsted_inspection_date",
                                                   label="Inspection date"),
    "postcode": normalise_postcode,
    "latitude": lambda v: check.coordinate(v, field="latitude", limit=90),
    "longitude": lambda v: check.coordinate(v, field="longitude", limit=180),
    "local_authority_area": lambda v: check.text(v, field="local_authority_area",
                                                 label="Local authority area", max_length=100),
    "min_age": lambda v: check.whole_number(v, field="min_age", label="Youngest age",
                                            maximum=MAX_AGE),
    "max_age": lambda v: check.whole_number(v, field="max_age", label="Oldest age",
                                            maximum=MAX_AGE),
    "places": lambda v: check.whole_number(v, field="places", label="Places"),
    "vacancies": lambda v: check.whole_number(v, field="vacancies", label="Vacancies"),
    "is_active": lambda v: check.boolean(v, field="is_active", label="Active"),
}


def _apply_service_fields(service: Service, fields: dict) -> None:
    check.unknown_fields(fields, SERVICE_FIELDS, "service")
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


# A service's code lists: (argument and audit name, codes, what to call them, model, column).
CODE_LISTS = (
    ("placement_types", PlacementType, "placement types", ServicePlacementType, "placement_type"),
    ("needs", Need, "needs", ServiceNeed, "need"),
    ("excluded_risks", Risk, "risks", ServiceRiskExclusion, "risk"),
)


def _service_snapshot(service: Service, *, lists=()) -> dict:
    """The service's audited fields, and the named code lists (sorted)."""
    values = audit.snapshot(service, SERVICE_AUDIT)
    for field, _choices, _what, model, column in CODE_LISTS:
        if field in lists:
            values[field] = sorted(model.objects.filter(service=service)
                                   .values_list(column, flat=True))
    return values


def _given(**lists) -> tuple[str, ...]:
    return tuple(name for name, values in lists.items() if values is not None)


def _set_codes(service: Service, *, placement_types, needs, excluded_risks) -> None:
    """Replace whichever of the three lists are given (None leaves a list as it is)."""
    given = {"placement_types": placement_types, "needs": needs,
             "excluded_risks": excluded_risks}
    for field, choices, what, model, column in CODE_LISTS:
        values = given[field]
        if values is None:
            continue
        codes = check.codes(values, choices, field=field, what=what)
        model.objects.filter(service=service).delete()
        model.objects.bulk_create([model(service=service, **{column: code}) for code in codes])


@transaction.atomic
def service_create(
    *, by, provider: Provider, fields: dict, placement_types: list[str], needs: list[str],
    excluded_risks: list[str], reason: str = "",
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
    after = _service_snapshot(service, lists=[name for name, *_ in CODE_LISTS])
    audit.record(by, "service.create", service, changes=audit.diff({}, after), reason=reason)
    return service


@transaction.atomic
def service_update(
    *, by, service: Service, fields: dict, placement_types=None, needs=None, excluded_risks=None,
    reason: str = "",
) -> Service:
    require_catalogue_editor(by)
    service = Service.objects.select_for_update().select_related("provider").get(pk=service.pk)
    lists = _given(placement_types=placement_types, needs=needs, excluded_risks=excluded_risks)
    before = _service_snapshot(service, lists=lists)
    _apply_service_fields(service, fields)
    service.save()
    _set_codes(service, placement_types=placement_types, needs=needs,
               excluded_risks=excluded_risks)
    _record_update(by, "service.update", service, reason=reason, before=before,
                   after=_service_snapshot(service, lists=lists))
    return service


# --- Framework rates and the annual uplift ----------------------------------------------


def _rate_subject(framework: Framework, lot: FrameworkLot | None, provider: Provider | None):
    if (lot is None) == (provider is None):
        raise InvalidInput("Give the rate a lot or a provider: one, not both.", field="lot")
    if lot is not None and lot.framework_id != framework.pk:
        raise InvalidInput(f"{lot} is not a lot of {framework}.", field="lot")


@transaction.atomic
def framework_rate_upsert(
    *, by, framework: Framework, placement_type: str, financial_year: int,
    ceiling_weekly_price, lot: FrameworkLot | None = None, provider: Provider | None = None,
    only_new: bool = False, reason: str = "",
) -> tuple[FrameworkRate, bool]:
    """framework_rate_set, also saying whether the rate is new (for the imports' counts)."""
    require_catalogue_editor(by)
    _rate_subject(framework, lot, provider)
    check.choice(placement_type, PlacementType, field="placement_type", label="Placement type")
    year = check.financial_year(financial_year)
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
        audit.record(by, "framework_rate.create", rate, reason=reason,
                     changes=audit.created(rate, RATE_AUDIT))
        return rate, True
    if only_new:
        raise Conflict(
            f"{framework} already has a {placement_type} rate for {lot or provider} in "
            f"{financial_year_label(year)}; change that rate instead."
        )
    before = audit.snapshot(existing, ("ceiling_weekly_price",))
    existing.ceiling_weekly_price = ceiling
    existing.save(update_fields=["ceiling_weekly_price"])
    _record_update(by, "framework_rate.update", existing, reason=reason, before=before,
                   after=audit.snapshot(existing, before))
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


def uplift_preview(
    *, framework: Framework, from_year: int, percentage: Decimal
) -> list[tuple[FrameworkRate, Decimal]]:
    """Each rate of `from_year` with its uplifted ceiling, for the confirmation page.
    Refuses, as applying would, when the next year already has rates, so the page says
    so before asking for confirmation."""
    percentage = check.uplift_percentage(percentage)
    from_year = check.financial_year(from_year, field="from_year")
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
    """Carry every rate of `from_year` into the next year at the uplifted ceiling, in one
    insert whatever the number of rates, and one audit event on the framework for the
    whole uplift: it is one decision, and the event lists every rate before and after
    (same order), so each new ceiling traces back to the one it came from."""
    require_catalogue_editor(by)
    percentage = check.uplift_percentage(percentage)
    from_year = check.financial_year(from_year, field="from_year")
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
    created = FrameworkRate.objects.bulk_create(
        FrameworkRate(
            framework=framework, lot_id=rate.lot_id, provider_id=rate.provider_id,
            placement_type=rate.placement_type, financial_year=next_year,
            ceiling_weekly_price=ceiling,
        )
        for rate, ceiling in preview
    )
    old_rates = [rate for rate, _ceiling in preview]
    audit.record(by, "framework.uplift", framework, changes={
        "financial_year": [from_year, next_year],
        "rates": [[rate.pk for rate in old_rates], [rate.pk for rate in created]],
        "ceiling_weekly_price": [[rate.ceiling_weekly_price for rate in old_rates],
                                 [rate.ceiling_weekly_price for rate in created]],
    }, reason=f"{percentage}% uplift of {len(created)} rate(s) from "
              f"{financial_year_label(from_year)} to {financial_year_label(next_year)}.")
    return created


# --- Discounts ---------------------------------------------------------------------------


@transaction.atomic
def discount_create(*, by, provider: Provider, fields: dict) -> ProviderDiscount:
    require_catalogue_editor(by)
    check.unknown_fields(fields, DISCOUNT_FIELDS, "discount")
    for name in ("basis", "description", "percentage", "valid_from"):
        if fields.get(name) in (None, ""):
            raise InvalidInput(f"Enter the discount's {name.replace('_', ' ')}.", field=name)
    discount = ProviderDiscount(
        provider=provider,
        basis=check.choice(fields["basis"], ProviderDiscount.Basis, field="basis", label="Basis"),
        description=check.text(fields["description"], field="description",
                               label="The discount's terms", max_length=300, required=True),
        percentage=check.discount_percentage(fields["percentage"]),
        valid_from=check.date(fields["valid_from"], field="valid_from", label="Start date",
                              required=True),
        valid_to=check.date(fields.get("valid_to"), field="valid_to", label="End date"),
    )
    if discount.valid_to is not None and discount.valid_to < discount.valid_from:
        raise InvalidInput("The end date cannot be before the start date.", field="valid_to")
    discount.save()
    audit.record(by, "discount.create", discount, changes=audit.created(discount, DISCOUNT_AUDIT))
    return discount


@transaction.atomic
def discount_end(*, by, discount: ProviderDiscount, valid_to: datetime.date) -> ProviderDiscount:
    """End a discount on `valid_to` (its last day); an ended discount may only end sooner."""
    require_catalogue_editor(by)
    discount = ProviderDiscount.objects.select_for_update().get(pk=discount.pk)
    valid_to = check.date(valid_to, field="valid_to", label="End date", required=True)
    if valid_to < discount.valid_from:
        raise InvalidInput("The end date cannot be before the start date.", field="valid_to")
    if discount.valid_to is not None and valid_to > discount.valid_to:
        ended = discount.valid_to
        raise Conflict(f"The discount already ended on {ended.day} {ended:%B %Y}.")
    before = audit.snapshot(discount, ("valid_to",))
    discount.valid_to = valid_to
    discount.save(update_fields=["valid_to"])
    _record_update(by, "discount.end", discount, before=before,
                   after=audit.snapshot(discount, before))
    return discount
