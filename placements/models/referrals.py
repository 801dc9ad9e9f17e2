from django.conf import settings
from django.db import models
from django.db.models import F, Q

from placements.reference import Suitability
from providers.reference import PlacementType, Risk, Urgency


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Awaiting endorsement"
    RETURNED = "returned", "Returned to social worker"
    ENDORSED = "endorsed", "Endorsed, awaiting panel"
    LISTED = "listed", "Listed for panel"
    AWAITING_DIRECTOR = "awaiting_director", "Awaiting Director approval"
    DECLINED = "declined", "Declined"
    READY_FOR_SOURCING = "ready_for_sourcing", "Ready for sourcing"
    SOURCING = "sourcing", "Sourcing"
    OPTIONS_READY = "options_ready", "Options ready"
    PROVIDER_CHOSEN = "provider_chosen", "Provider chosen"
    PLACED = "placed", "Placed"
    WITHDRAWN = "withdrawn", "Withdrawn"


S = ReferralStatus
# The referral workflow as data: from each state, the states it may move to. Every
# transition goes through one service function that checks this table (STYLE.md §2).
# Panel outcomes: approve → ready for sourcing, or awaiting Director when external, out of
# area or above the cost threshold; decline → declined; return for more work → returned;
# defer → endorsed (listed again next meeting). Emergencies skip endorsement and panel.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.ENDORSED, S.RETURNED, S.READY_FOR_SOURCING, S.WITHDRAWN}),
    S.RETURNED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.ENDORSED: frozenset({S.LISTED, S.WITHDRAWN}),
    S.LISTED: frozenset(
        {S.READY_FOR_SOURCING, S.AWAITING_DIRECTOR, S.DECLINED, S.RETURNED, S.ENDORSED,
         S.WITHDRAWN}
    ),
    S.AWAITING_DIRECTOR: frozenset({S.READY_FOR_SOURCING, S.DECLINED, S.WITHDRAWN}),
    S.READY_FOR_SOURCING: frozenset({S.SOURCING, S.WITHDRAWN}),
    S.SOURCING: frozenset({S.OPTIONS_READY, S.READY_FOR_SOURCING, S.WITHDRAWN}),
    S.OPTIONS_READY: frozenset({S.PROVIDER_CHOSEN, S.SOURCING, S.READY_FOR_SOURCING, S.WITHDRAWN}),
    S.PROVIDER_CHOSEN: frozenset({S.PLACED, S.OPTIONS_READY, S.WITHDRAWN}),
    S.DECLINED: frozenset(),
    S.PLACED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
OPEN_STATUSES = frozenset(s for s, moves in ALLOWED_TRANSITIONS.items() if moves)


class Referral(models.Model):
    """A social worker's request for a placement, with the fields of the draft national
    Placements data standard.

    States (ReferralStatus, moves in ALLOWED_TRANSITIONS):
    draft → submitted → endorsed (or returned) → listed for panel → decided
    [→ awaiting Director] → ready for sourcing → sourcing → options ready →
    provider chosen → placed; withdrawn from any open state.
    Emergency: submitted → ready for sourcing → … → placed, with a retrospective panel
    review due by `retrospective_review_due`.
    """

    child = models.ForeignKey("placements.Child", on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=S.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # What is sought.
    is_emergency = models.BooleanField("Emergency placement", default=False)
    urgency = models.CharField(max_length=15, choices=Urgency.choices, default=Urgency.LATER)
    placement_type_sought = models.CharField(max_length=3, choices=PlacementType.choices)
    wanted_start_date = models.DateField()
    must_be_within_20_miles = models.BooleanField(default=True)
    preferred_location = models.CharField(max_length=200, blank=True)
    siblings = models.ManyToManyField(
        "placements.Child", blank=True, related_name="+", help_text="Siblings to place with."
    )
    suitability_foster = models.CharField(
        "Foster care", max_length=15, choices=Suitability.choices, default=Suitability.NOT_SPECIFIED
    )
    suitability_residential = models.CharField(
        "Residential care",
        max_length=15,
        choices=Suitability.choices,
        default=Suitability.NOT_SPECIFIED,
    )
    suitability_supported = models.CharField(
        "Supported accommodation",
        max_length=15,
        choices=Suitability.choices,
        default=Suitability.NOT_SPECIFIED,
    )

    # About the child's needs (Placements data standard).
    needs_summary = models.TextField(blank=True)
    communication_and_language_needs = models.TextField(blank=True)
    home_adaptations = models.TextField(blank=True)
    cultural_needs = models.TextField(blank=True)
    can_live_alongside = models.TextField("Who the child can live alongside", blank=True)
    pets = models.TextField(blank=True)
    additional_support = models.TextField(blank=True)
    deprivation_of_liberty_order = models.BooleanField(default=False)

    # Emergency placements come to panel afterwards.
    retrospective_review_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_emergency=True) | Q(retrospective_review_due__isnull=True),
                name="referral_retrospective_review_only_for_emergency",
            )
        ]

    def __str__(self):
        return f"Referral {self.pk} for {self.child.local_child_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def allowed_moves(self) -> frozenset[str]:
        return ALLOWED_TRANSITIONS[self.status]


# The referral's answers (Placements data standard), in the order the question pages ask
# them: what is sought, then the child's needs. Forms, the API and the services share them.
PLACEMENT_QUESTIONS = (
    "is_emergency",
    "urgency",
    "placement_type_sought",
    "wanted_start_date",
    "must_be_within_20_miles",
    "preferred_location",
    "suitability_foster",
    "suitability_residential",
    "suitability_supported",
)
NEEDS_QUESTIONS = (
    "needs_summary",
    "communication_and_language_needs",
    "cultural_needs",
    "home_adaptations",
    "can_live_alongside",
    "pets",
    "additional_support",
    "deprivation_of_liberty_order",
)
REFERRAL_ANSWERS = PLACEMENT_QUESTIONS + NEEDS_QUESTIONS


class ReferralRisk(models.Model):
    """One risk to the child or to others, with what the provider needs to know about it."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="risks")
    risk = models.CharField(max_length=30, choices=Risk.choices)
    details = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "risk"], name="referral_risk_once")]


class ReferralStatusChange(models.Model):
    """The referral's timeline: every transition, who, when and why. Append-only."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when a scheduled task made the change (e.g. listing for panel).",
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["referral", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")), name="referral_change_moves"
            )
        ]


class ReferralSourcingRequest(models.Model):
    """Links a referral to the anonymised sourcing request(s) sent for it. The link lives
    here because providers must not know about referrals."""

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="sourcing_links"
    )
    sourcing_request = models.OneToOneField(
        "providers.SourcingRequest", on_delete=models.PROTECT, related_name="+"
    )
    # The social worker's choice among the offers, which a commissioning officer confirms.
    chosen_quote = models.ForeignKey(
        "providers.Quote", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    chosen_at = models.DateTimeField(null=True, blank=True)
    choice_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(chosen_quote__isnull=True) | ~Q(choice_reason=""),
                name="referral_sourcing_choice_has_reason",
            )
        ]
