import datetime

from django.db.models import Count, QuerySet

from accounts.roles import Role, has_role
from panels.access import meetings_visible_to
from panels.models import DirectorApproval, PanelMeeting


def upcoming_meetings(*, user, today: datetime.date, chaired_only=False) -> QuerySet[PanelMeeting]:
    meetings = meetings_visible_to(user).filter(
        date__gte=today, status=PanelMeeting.Status.SCHEDULED
    )
    if chaired_only:
        meetings = meetings.filter(chair=user)
    return (
        meetings.select_related("panel", "chair")
        .annotate(item_count=Count("items", distinct=True))
        .order_by("date", "panel__name")
    )


def pending_director_approvals(*, user) -> QuerySet[DirectorApproval]:
    if not (user.is_superuser or has_role(user, Role.DIRECTOR, Role.ADMINISTRATOR)):
        return DirectorApproval.objects.none()
    return (
        DirectorApproval.objects.filter(status=DirectorApproval.Status.PENDING)
        .select_related("referral", "referral__child", "decision")
        .order_by("requested_at")
    )
