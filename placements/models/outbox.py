from django.db import models
from django.db.models import Q
from django.utils import timezone


class PendingRollup(models.Model):
    """Rollup work that a committed change asked for and no worker has done yet: the
    durable half of queueing it (an outbox). The row is written in the change's own
    transaction, so the work is recorded exactly when the change is; a worker deletes it
    in the transaction that does the work. A broker that is down, a message lost, or a
    worker killed mid-task leaves the row behind for the periodic sweep
    (placements.rollups.outbox).

    Kinds: `refresh` (the ledger weeks holding first_day…last_day, None: open ended),
    `positions` (a year's current budget positions), `rebuild` (a whole year)."""

    class Kind(models.TextChoices):
        REFRESH = "refresh", "Refresh ledger weeks"
        POSITIONS = "positions", "Retake budget positions"
        REBUILD = "rebuild", "Rebuild a financial year"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    financial_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The year it starts in (2025 is 2025/26)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="refresh", first_day__isnull=False, financial_year__isnull=True)
                    | Q(kind__in=["positions", "rebuild"], financial_year__isnull=False,
                        first_day__isnull=True, last_day__isnull=True)
                ),
                name="pending_rollup_has_its_key",
            ),
            models.CheckConstraint(
                condition=Q(last_day__isnull=True) | Q(last_day__gte=models.F("first_day")),
                name="pending_rollup_days_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.pk})"
