from django.contrib.auth.models import AbstractUser
from django.db import models


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
