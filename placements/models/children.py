import datetime

from django.conf import settings
from django.db import models

from placements.reference import Ethnicity, LegalStatus, Sex


class Child(models.Model):
    """A child in the council's care. Special-category data: reach it through
    placements.access.children_visible_to, never an unscoped query."""

    local_child_id = models.CharField("Local child ID", max_length=20, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(max_length=4, choices=Ethnicity.choices, default=Ethnicity.NOBT)
    home_postcode = models.CharField(max_length=10)
    legal_status = models.CharField(max_length=2, choices=LegalStatus.choices)
    team = models.ForeignKey("core.Team", on_delete=models.PROTECT, related_name="children")
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocated_children",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "local_child_id"]
        verbose_name_plural = "children"

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.local_child_id})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: datetime.date) -> int:
        birthday_passed = (day.month, day.day) >= (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - (0 if birthday_passed else 1)
