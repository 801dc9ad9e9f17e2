"""Which panel meetings a user may see: members and chairs see their own panels'
meetings; the Director and administrators see all."""

from django.db.models import Q, QuerySet

from core.roles import Role, roles_of
from panels.models import PanelMeeting


def meetings_visible_to(user) -> QuerySet[PanelMeeting]:
    roles = roles_of(user)
    if user.is_superuser or roles & {Role.ADMINISTRATOR, Role.DIRECTOR}:
        return PanelMeeting.objects.all()
    if roles & {Role.PANEL_CHAIR, Role.PANEL_MEMBER}:
        return PanelMeeting.objects.filter(
            Q(panel__members=user) | Q(panel__default_chair=user) | Q(chair=user)
        ).distinct()
    return PanelMeeting.objects.none()
