"""Which panel meetings, agenda items, decisions and Director approvals a user may see.
Members and chairs see their own panels' meetings, with their items and decisions; the
Director and administrators see all, and only they see the Director's approvals."""

from django.db.models import Q, QuerySet

from core.roles import Role, roles_of
from panels.models import AgendaItem, Decision, DirectorApproval, PanelMeeting
from placements.models import ReferralStatus


def meetings_visible_to(user) -> QuerySet[PanelMeeting]:
    roles = roles_of(user)
    if user.is_superuser or roles & {Role.ADMINISTRATOR, Role.DIRECTOR}:
        return PanelMeeting.objects.all()
    if roles & {Role.PANEL_CHAIR, Role.PANEL_MEMBER}:
        return PanelMeeting.objects.filter(
            Q(panel__members=user) | Q(panel__default_chair=user) | Q(chair=user)
        ).distinct()
    return PanelMeeting.objects.none()


def agenda_items_visible_to(user) -> QuerySet[AgendaItem]:
    """Items still on the agendas of meetings the user may see."""
    return AgendaItem.objects.on_agenda().filter(meeting__in=meetings_visible_to(user))


def decisions_visible_to(user) -> QuerySet[Decision]:
    return Decision.objects.filter(agenda_item__meeting__in=meetings_visible_to(user))


def sees_director_approvals(user) -> bool:
    return user.is_superuser or bool(roles_of(user) & {Role.DIRECTOR, Role.ADMINISTRATOR})


def director_approvals_visible_to(user) -> QuerySet[DirectorApproval]:
    if not sees_director_approvals(user):
        return DirectorApproval.objects.none()
    return DirectorApproval.objects.all()


def pending_approvals_visible_to(user) -> QuerySet[DirectorApproval]:
    """Approvals still waiting: pending, for a referral still awaiting the Director (a
    referral withdrawn meanwhile no longer needs a decision)."""
    return director_approvals_visible_to(user).filter(
        status=DirectorApproval.Status.PENDING,
        referral__status=ReferralStatus.AWAITING_DIRECTOR,
    )
