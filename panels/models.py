"""Panels decide: meetings, agendas, decisions and the Director's approvals."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from placements.models import Placement, Referral


class Panel(models.Model):
    class Kind(models.TextChoices):
        RESOURCE = "resource", "Resource Panel"
        CHILDRENS_DECISION = "decision_meeting", "Children's Decision Meeting"
        PERMANENCE = "permanence", "Permanence Panel"
        HIGH_COST_REVIEW = "high_cost_review", "High-cost placement review"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    default_chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panels_chaired"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="panels")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(weekday__lte=4), name="panel_weekday")]

    def __str__(self):
        return self.name


class PanelMeeting(models.Model):
    """One sitting of a panel. States: scheduled → closed. A closed meeting's decisions
    are never edited; a correction is a new decision that supersedes the old."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CLOSED = "closed", "Closed"

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="meetings")
    date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="meetings_chaired"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "panel"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "date"], name="meeting_once_per_day"),
            models.CheckConstraint(
                condition=Q(status="scheduled", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="meeting_closed_at_matches_status",
            ),
        ]

    def __str__(self):
        return f"{self.panel} {self.date:%d %b %Y}"


class AgendaItemQuerySet(models.QuerySet):
    def on_agenda(self):
        """Items still on their agenda (not taken off by the chair)."""
        return self.filter(removed_at__isnull=True)


class AgendaItem(models.Model):
    """A referral to decide, an emergency to review retrospectively, or a placement under
    high-cost review. An item the chair takes off is kept, marked removed, so that the
    daily agenda builder does not list the same referral on that meeting again."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", "Referral"
        RETROSPECTIVE_REVIEW = "retrospective", "Retrospective review of an emergency"
        HIGH_COST_REVIEW = "high_cost", "High-cost placement review"

    meeting = models.ForeignKey(PanelMeeting, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    position = models.PositiveSmallIntegerField()
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items"
    )
    placement = models.ForeignKey(
        Placement, on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = AgendaItemQuerySet.as_manager()

    class Meta:
        ordering = ["meeting", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="high_cost", referral__isnull=True, placement__isnull=False)
                | (~Q(kind="high_cost") & Q(referral__isnull=False, placement__isnull=True)),
                name="agenda_item_subject_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["meeting", "referral"],
                condition=Q(referral__isnull=False),
                name="agenda_item_referral_once_per_meeting",
            ),
            models.UniqueConstraint(
                fields=["meeting", "placement"],
                condition=Q(placement__isnull=False),
                name="agenda_item_placement_once_per_meeting",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True)
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="agenda_item_removed_fields",
            ),
        ]


class Decision(models.Model):
    """What the panel decided on one agenda item: a record, not a flag. One original
    decision per item; a correction is a new row that supersedes it."""

    class Outcome(models.TextChoices):
        APPROVE_IN_HOUSE = "approve_in_house", "Approve in-house placement"
        APPROVE_EXTERNAL = "approve_external", "Approve external placement"
        DECLINE = "decline", "Decline"
        RETURN = "return", "Return for more work"
        DEFER = "defer", "Defer to the next meeting"
        CONTINUE = "continue", "Continue the placement"
        RENEGOTIATE = "renegotiate", "Renegotiate the cost"
        STEP_DOWN = "step_down", "Plan a step-down"

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField()
    conditions = models.TextField(blank=True)
    review_date = models.DateField(null=True, blank=True)
    estimated_weekly_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text="What the approved placement is expected to cost a week, if known.",
    )
    out_of_area = models.BooleanField(
        "Outside the council's area", default=False,
        help_text="The placement approved may be outside the council's area.",
    )
    chaired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )

    class Meta:
        ordering = ["agenda_item", "decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agenda_item"],
                condition=Q(supersedes__isnull=True),
                name="decision_one_per_agenda_item",
            ),
            models.CheckConstraint(condition=~Q(rationale=""), name="decision_has_rationale"),
            models.CheckConstraint(
                condition=Q(estimated_weekly_cost__isnull=True) | Q(estimated_weekly_cost__gte=0),
                name="decision_cost_non_negative",
            ),
        ]


class DirectorApproval(models.Model):
    """An approval that waits for the Director: external, out of the council's area, or
    above the weekly cost threshold. States: pending → approved | refused."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the Director"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="director_approvals")
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="director_approvals"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    is_external = models.BooleanField(default=False)
    is_out_of_area = models.BooleanField(default=False)
    is_above_threshold = models.BooleanField(default=False)
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(status="pending"),
                name="director_approval_one_pending_per_referral",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="director_approval_decided_fields",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(reason=""),
                name="director_approval_refusal_has_reason",
            ),
        ]
