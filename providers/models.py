"""The market: providers, their services, frameworks and rates, sourcing requests and quotes.

This app imports nothing from placements or panels. A sourcing request is the anonymised
referral-out that providers see; the referral points to it, never the other way round.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from providers.reference import (
    Need,
    OfstedRating,
    PlacementType,
    PlaceProvider,
    ProviderKind,
    Risk,
    Urgency,
)

MONEY = {"max_digits": 12, "decimal_places": 2}


def non_negative(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}), name=name)


def ends_after_start(start: str, end: str, name: str, *, strictly=False) -> models.CheckConstraint:
    lookup = "gt" if strictly else "gte"
    return models.CheckConstraint(
        condition=Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__{lookup}": F(start)}), name=name
    )


class PostcodeDistrict(models.Model):
    """The centre of a postcode district (outward code, e.g. "LS6"), for distances.

    Loaded from a CSV of outward codes with their centroids (e.g. derived from the ONS
    Postcode Directory) or by the demo. Distances are straight lines between centres."""

    outward_code = models.CharField(max_length=4, unique=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)

    class Meta:
        ordering = ["outward_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="postcode_district_coordinates",
            )
        ]

    def __str__(self):
        return self.outward_code


class Provider(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=ProviderKind.choices)
    place_provider = models.CharField(
        "SSDA903 provider code", max_length=3, choices=PlaceProvider.choices
    )
    email = models.EmailField(blank=True, help_text="Where sourcing requests are sent.")
    phone = models.CharField(max_length=30, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """A home or fostering service a provider runs, as registered with Ofsted."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    ofsted_urn = models.CharField("Ofsted URN", max_length=10, blank=True)
    ofsted_rating = models.CharField(
        max_length=30, choices=OfstedRating.choices, default=OfstedRating.NOT_YET_INSPECTED
    )
    ofsted_inspection_date = models.DateField(null=True, blank=True)
    postcode = models.CharField(max_length=10)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    local_authority_area = models.CharField(max_length=100, blank=True)
    min_age = models.PositiveSmallIntegerField(default=0)
    max_age = models.PositiveSmallIntegerField(default=17)
    places = models.PositiveSmallIntegerField(default=1)
    vacancies = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["provider__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ofsted_urn"], condition=~Q(ofsted_urn=""), name="service_unique_urn"
            ),
            models.UniqueConstraint(fields=["provider", "name"], name="service_unique_name"),
            models.CheckConstraint(condition=Q(max_age__gte=F("min_age")), name="service_ages"),
            models.CheckConstraint(condition=Q(max_age__lte=25), name="service_max_age"),
            models.CheckConstraint(
                condition=Q(vacancies__lte=F("places")), name="service_vacancies_within_places"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.provider.name})"


class ServicePlacementType(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="placement_types")
    placement_type = models.CharField(max_length=3, choices=PlacementType.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "placement_type"], name="service_placement_type_once"
            )
        ]


class ServiceNeed(models.Model):
    """A need the service accepts."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="needs_accepted")
    need = models.CharField(max_length=30, choices=Need.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "need"], name="service_need_once")]


class ServiceRiskExclusion(models.Model):
    """A risk the service will not take; matching leaves such services out."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="risks_excluded")
    risk = models.CharField(max_length=30, choices=Risk.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "risk"], name="service_risk_exclusion_once")
        ]


class Framework(models.Model):
    """A regional agreement with accredited providers, price ceilings and annual uplifts."""

    name = models.CharField(max_length=200, unique=True)
    lead_authority = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [ends_after_start("start_date", "end_date", "framework_dates")]

    def __str__(self):
        return self.name


class FrameworkLot(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["framework", "number"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="framework_lot_number")
        ]

    def __str__(self):
        return f"Lot {self.number}: {self.name}"


class FrameworkMembership(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="memberships")
    lot = models.ForeignKey(
        FrameworkLot, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="framework_memberships"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            ends_after_start("start_date", "end_date", "framework_membership_dates"),
            # Two constraints because a unique constraint treats empty lots as distinct.
            models.UniqueConstraint(
                fields=["framework", "lot", "provider", "start_date"],
                condition=Q(lot__isnull=False),
                name="framework_membership_once",
            ),
            models.UniqueConstraint(
                fields=["framework", "provider", "start_date"],
                condition=Q(lot__isnull=True),
                name="framework_membership_once_without_lot",
            ),
        ]


class FrameworkRate(models.Model):
    """A ceiling weekly price for a placement type in one financial year, for a lot or a
    provider (a provider's own rate overrides its lot's)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="rates")
    lot = models.ForeignKey(
        FrameworkLot, on_delete=models.CASCADE, null=True, blank=True, related_name="rates"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="framework_rates"
    )
    placement_type = models.CharField(max_length=3, choices=PlacementType.choices)
    financial_year = models.PositiveSmallIntegerField(
        help_text="The year the financial year starts: 2025 means 1 April 2025 – 31 March 2026."
    )
    ceiling_weekly_price = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            non_negative("ceiling_weekly_price", "framework_rate_non_negative"),
            models.CheckConstraint(
                condition=Q(lot__isnull=True, provider__isnull=False)
                | Q(lot__isnull=False, provider__isnull=True),
                name="framework_rate_lot_or_provider",
            ),
            models.CheckConstraint(
                condition=Q(financial_year__gte=2000, financial_year__lte=2100),
                name="framework_rate_year_range",
            ),
            models.UniqueConstraint(
                fields=["framework", "lot", "placement_type", "financial_year"],
                condition=Q(lot__isnull=False),
                name="framework_rate_once_per_lot",
            ),
            models.UniqueConstraint(
                fields=["framework", "provider", "placement_type", "financial_year"],
                condition=Q(provider__isnull=False),
                name="framework_rate_once_per_provider",
            ),
        ]


class ProviderDiscount(models.Model):
    """A volume- or duration-based discount a provider has agreed with the council."""

    class Basis(models.TextChoices):
        VOLUME = "volume", "Volume (number of placements)"
        DURATION = "duration", "Duration (length of placement)"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="discounts")
    basis = models.CharField(max_length=10, choices=Basis.choices)
    description = models.CharField(max_length=300)
    percentage = models.DecimalField(max_digits=5, decimal_places=2)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(percentage__gt=0, percentage__lte=100), name="discount_percentage"
            ),
            ends_after_start("valid_from", "valid_to", "discount_dates"),
        ]


class SourcingRequest(models.Model):
    """The anonymised referral-out sent to providers.

    States: draft → sent → closed (a quote was accepted, or nothing suitable) | cancelled.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent to providers"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    reference = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    placement_type = models.CharField(max_length=3, choices=PlacementType.choices)
    age_years = models.PositiveSmallIntegerField()
    sex = models.CharField(max_length=1, choices=[("M", "Male"), ("F", "Female"), ("U", "Unknown")])
    needs = models.JSONField(default=list, blank=True, help_text="Need codes.")
    risks = models.JSONField(default=list, blank=True, help_text="Risk codes.")
    needs_summary = models.TextField(blank=True)
    area = models.CharField(max_length=10, help_text="Postcode district, e.g. 'LS6'.")
    max_distance_miles = models.PositiveSmallIntegerField(null=True, blank=True)
    urgency = models.CharField(max_length=15, choices=Urgency.choices)
    wanted_start_date = models.DateField()
    planned_end_date = models.DateField(
        null=True, blank=True, help_text="When known; savings count the weeks until then."
    )
    response_deadline = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.TextField(blank=True, help_text="Why it was closed or cancelled.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            ends_after_start("wanted_start_date", "planned_end_date", "sourcing_request_dates"),
        ]

    def __str__(self):
        return self.reference


class SourcingInvitation(models.Model):
    """What was sent to which service, and whether they answered."""

    class Status(models.TextChoices):
        SENT = "sent", "Awaiting response"
        RESPONDED = "responded", "Responded"
        NO_RESPONSE = "no_response", "No response"

    sourcing_request = models.ForeignKey(
        SourcingRequest, on_delete=models.CASCADE, related_name="invitations"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="invitations")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.SENT)
    on_framework = models.BooleanField()
    off_framework_reason = models.CharField(max_length=300, blank=True)
    match_reasons = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField()
    chased_at = models.DateTimeField(null=True, blank=True)
    outcome_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sourcing_request", "service"], name="invitation_once_per_service"
            ),
            models.CheckConstraint(
                condition=Q(on_framework=True) | ~Q(off_framework_reason=""),
                name="invitation_off_framework_needs_reason",
            ),
        ]


class Quote(models.Model):
    """A provider's answer to a sourcing request, and the negotiation that follows.

    States: offered → negotiating → accepted | declined (by us) | withdrawn (by them);
    a provider that will not offer is recorded as `provider_declined` with its reason.
    """

    class Status(models.TextChoices):
        PROVIDER_DECLINED = "provider_declined", "Provider declined to offer"
        OFFERED = "offered", "Offered"
        NEGOTIATING = "negotiating", "Under negotiation"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Not chosen"
        WITHDRAWN = "withdrawn", "Withdrawn by provider"

    sourcing_request = models.ForeignKey(
        SourcingRequest, on_delete=models.CASCADE, related_name="quotes"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="quotes")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OFFERED)
    quoted_weekly_price = models.DecimalField(**MONEY, null=True, blank=True)
    agreed_weekly_price = models.DecimalField(**MONEY, null=True, blank=True)
    inclusions = models.TextField(blank=True, help_text="Education, therapy, staffing hours …")
    available_from = models.DateField(null=True, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    on_framework = models.BooleanField(default=True)
    expected_weeks = models.PositiveSmallIntegerField(default=52)
    negotiated_saving = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="(Quoted − agreed weekly price) × expected weeks, set when a price is agreed.",
    )
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    discount = models.ForeignKey(
        ProviderDiscount, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The discount applied when the quote was accepted.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sourcing_request", "agreed_weekly_price", "quoted_weekly_price"]
        constraints = [
            non_negative("quoted_weekly_price", "quote_quoted_non_negative"),
            non_negative("agreed_weekly_price", "quote_agreed_non_negative"),
            models.UniqueConstraint(
                fields=["sourcing_request"],
                condition=Q(status="accepted"),
                name="quote_one_accepted_per_request",
            ),
            models.UniqueConstraint(
                fields=["sourcing_request", "service"], name="quote_once_per_service"
            ),
            models.CheckConstraint(
                condition=Q(status="provider_declined") | Q(quoted_weekly_price__isnull=False),
                name="quote_offer_has_price",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(agreed_weekly_price__isnull=False),
                name="quote_accepted_has_agreed_price",
            ),
            # Negotiation brings a price down; a dearer offer is a new quote.
            models.CheckConstraint(
                condition=Q(agreed_weekly_price__isnull=True)
                | Q(agreed_weekly_price__lte=F("quoted_weekly_price")),
                name="quote_agreed_not_above_quoted",
            ),
        ]

    def __str__(self):
        return f"Quote {self.pk} from {self.service}"


class NegotiationStep(models.Model):
    """One step of a quote's negotiation, logged in order."""

    class Kind(models.TextChoices):
        COUNTER_OFFER = "counter_offer", "Our counter-offer"
        PROVIDER_REVISION = "provider_revision", "Provider's revised price"
        AGREED = "agreed", "Price agreed"

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="negotiation_steps")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    weekly_price = models.DecimalField(**MONEY)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["quote", "recorded_at", "pk"]
        constraints = [non_negative("weekly_price", "negotiation_step_non_negative")]
