from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Team(models.Model):
    """A social work team: it holds a caseload of children and the staff who work it."""

    name = models.CharField(max_length=100, unique=True)
    code = models.SlugField(max_length=30, unique=True, help_text="Short code, e.g. 'north'.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A member of staff. Roles are groups (core.roles.Role); team scopes casework."""

    job_title = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        help_text="Social workers and team managers see this team's children.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username


class AuditEventQuerySet(models.QuerySet):
    """The audit log is append-only: the application can add events, never change or
    remove them. (PostgreSQL also refuses it: a trigger, migration core/0003.)"""

    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """Who did what to which record, when and why: one row per change made through a
    service, and one per view of a child's record, referral or placement.

    Written by core.audit in the same transaction as the change it records. Objects are
    named by model label and numeric id (never by a name), so the log holds no personal
    data of its own beyond what the fields changed carry.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (a scheduled task).",
    )
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, help_text="Model label, e.g. placements.referral")
    object_id = models.CharField(max_length=40)
    child_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The child the record concerns, if any."
    )
    changes = models.JSONField(
        default=dict, blank=True, help_text="Changed fields: {field: [before, after]}."
    )
    reason = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class PendingTask(models.Model):
    """A task that a committed change asked for and no worker has finished, such as an
    e-mail to the next actor or to providers: the durable half of queueing it (an outbox,
    ADR 0011). core.outbox writes the row in the change's own transaction and deletes it in
    the transaction that runs the task, so a broker that is down, a lost message or a
    killed worker leaves the row for the periodic sweep. Arguments are IDs and fixed words,
    never personal data."""

    task = models.CharField(max_length=200, help_text="The Celery task's registered name.")
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    failures = models.PositiveSmallIntegerField(
        default=0, help_text="Runs that failed with an error that retrying will not mend."
    )
    last_error = models.CharField(
        max_length=100, blank=True, help_text="The last error's class (never its message)."
    )
    last_tried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.task} ({self.pk})"
