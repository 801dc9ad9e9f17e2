"""Which children, referrals and placements a user may see: the one place that decides.

Every page and API endpoint starts from these querysets (STYLE.md §4). Least privilege:
social workers and team managers see their own team's casework; panel members, the
Director and commissioners see referrals once submitted; finance sees placements (for
their cost) but not children's records or referrals; administrators see everything.
"""

from django.db.models import QuerySet

from core.roles import Role, roles_of
from placements.models import Child, Placement, Referral, ReferralStatus

_TEAM_ROLES = {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}
_ALL_CHILDREN_ROLES = {
    Role.PANEL_CHAIR,
    Role.PANEL_MEMBER,
    Role.DIRECTOR,
    Role.COMMISSIONING_OFFICER,
    Role.ADMINISTRATOR,
}
_SUBMITTED_REFERRALS_ROLES = _ALL_CHILDREN_ROLES - {Role.ADMINISTRATOR}
_ALL_PLACEMENTS_ROLES = _ALL_CHILDREN_ROLES | {Role.FINANCE_MANAGER}


def _sees_everything(user, roles) -> bool:
    return user.is_superuser or Role.ADMINISTRATOR in roles


def children_visible_to(user) -> QuerySet[Child]:
    roles = roles_of(user)
    if _sees_everything(user, roles) or roles & _ALL_CHILDREN_ROLES:
        return Child.objects.all()
    if roles & _TEAM_ROLES and user.team_id:
        return Child.objects.filter(team_id=user.team_id)
    return Child.objects.none()


def referrals_visible_to(user) -> QuerySet[Referral]:
    roles = roles_of(user)
    if _sees_everything(user, roles):
        return Referral.objects.all()
    team_referrals = (
        Referral.objects.filter(child__team_id=user.team_id)
        if roles & _TEAM_ROLES and user.team_id
        else Referral.objects.none()
    )
    if roles & _SUBMITTED_REFERRALS_ROLES:
        # Drafts stay with the team that is writing them.
        submitted = Referral.objects.exclude(status=ReferralStatus.DRAFT)
        return submitted | team_referrals
    return team_referrals


def placements_visible_to(user) -> QuerySet[Placement]:
    roles = roles_of(user)
    if _sees_everything(user, roles) or roles & _ALL_PLACEMENTS_ROLES:
        return Placement.objects.all()
    if roles & _TEAM_ROLES and user.team_id:
        return Placement.objects.filter(child__team_id=user.team_id)
    return Placement.objects.none()
