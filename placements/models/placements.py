from django.conf import settings
from django.db import models
from django.db.models import Q

from placements.reference import ReasonPlaceChange
from providers.models import MONEY, ends_after_start, non_negative
from providers.reference import PlacementType, PlaceProvider


class Placement(models.Model):
    """A child living somewhere the council arranged, from start to end.

    One child never has two placements that overlap in time: the database refuses a
    second open placement everywhere, and on PostgreSQL an exclusion constraint refuses
    any overlap (migration 0002); the placements service checks it first for a clear
    message. `end_date` is the day the placement ceased (SSDA903 DEC); the next one may
    start that same day.
    """

    child = models.ForeignKey("placements.Child", on_delete=models.PROTECT, related_name="placements")
    referral = models.ForeignKey(
        "placements.Referral",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="placements",
    )
    service = models.ForeignKey(
        "providers.Service", on_delete=models.PROTECT, related_name="placements"
    )
    quote = models.OneToOneField(
        "providers.Quote", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    placement_type = models.CharField(max_length=3, choices=PlacementType.choices)
    place_provider = models.CharField(
        "SSDA903 provider code", max_length=3, choices=PlaceProvider.choices, blank=True
    )
    on_framework = models.BooleanField(
        default=False, help_text="Bought under a framework agreement (fixed at purchase)."
    )
    start_date = models.DateField()
    planned_end_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    reason_for_change = models.CharField(
        max_length=6, choices=ReasonPlaceChange.choices, blank=True
    )
    distance_from_home_miles = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True
    )
    out_of_authority = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "pk"]
        constraints = [
            # Strictly after: a placement occupies at least one night, so that the overlap
            # exclusion constraint (half-open ranges) sees every placement.
            ends_after_start("start_date", "end_date", "placement_end_after_start", strictly=True),
            ends_after_start("start_date", "planned_end_date", "placement_planned_end_not_before_start"),
            non_negative("distance_from_home_miles", "placement_distance_non_negative"),
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(end_date__isnull=True),
                name="placement_one_open_per_child",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | ~Q(reason_for_change=""),
                name="placement_ended_has_reason",
            ),
        ]

    def __str__(self):
        return f"Placement {self.pk} ({self.placement_type}) from {self.start_date}"


class PlacementCost(models.Model):
    """The weekly cost of a placement from `effective_from` until the day before
    `effective_to` (open-ended when empty). A change of rate ends one row and starts the
    next, so a past week's cost never changes. No two rows of a placement overlap (service
    check; exclusion constraint on PostgreSQL)."""

    class Reason(models.TextChoices):
        INITIAL = "initial", "Initial agreed price"
        UPLIFT = "uplift", "Annual uplift"
        RENEGOTIATION = "renegotiation", "Renegotiation"
        STEP_DOWN = "step_down", "Step-down"
        RETAINER = "retainer", "Retainer (court-ordered)"

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="costs")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    weekly_amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=15, choices=Reason.choices)
    court_order_reference = models.CharField(max_length=50, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["placement", "effective_from"]
        constraints = [
            non_negative("weekly_amount", "placement_cost_non_negative"),
            ends_after_start(
                "effective_from", "effective_to", "placement_cost_dates", strictly=True
            ),
            models.CheckConstraint(
                condition=~Q(reason="retainer") | ~Q(court_order_reference=""),
                name="placement_cost_retainer_needs_court_order",
            ),
            models.UniqueConstraint(
                fields=["placement", "effective_from"], name="placement_cost_once_per_date"
            ),
        ]


class Contribution(models.Model):
    """A share of a placement's cost paid by health, education or another funder: either a
    weekly amount or a percentage of the gross weekly cost, between two dates."""

    class Funder(models.TextChoices):
        HEALTH = "health", "Health (NHS)"
        EDUCATION = "education", "Education"
        OTHER = "other", "Other"

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="contributions")
    funder = models.CharField(max_length=10, choices=Funder.choices)
    funder_name = models.CharField(max_length=200, blank=True)
    weekly_amount = models.DecimalField(**MONEY, null=True, blank=True)
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["placement", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_amount__isnull=False, percentage__isnull=True)
                | Q(weekly_amount__isnull=True, percentage__isnull=False),
                name="contribution_amount_or_percentage",
            ),
            non_negative("weekly_amount", "contribution_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(percentage__isnull=True) | Q(percentage__gt=0, percentage__lte=100),
                name="contribution_percentage_range",
            ),
            ends_after_start("start_date", "end_date", "contribution_dates"),
        ]


class UnmetDemand(models.Model):
    """Where what a child got differs from what was sought: evidence for sufficiency."""

    class Kind(models.TextChoices):
        TYPE_DIFFERS = "type_differs", "Placement type differs from the one sought"
        TOO_FAR = "too_far", "Placed further than wanted"
        NO_OFFER = "no_offer", "No provider offered"

    referral = models.ForeignKey(
        "placements.Referral", on_delete=models.CASCADE, related_name="unmet_demand"
    )
    kind = models.CharField(max_length=15, choices=Kind.choices)
    sought = models.CharField(max_length=100, blank=True)
    obtained = models.CharField(max_length=100, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind"], name="unmet_demand_once")
        ]
