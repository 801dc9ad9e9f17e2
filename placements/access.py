"""Which children, referrals and placements a user may see: the one place that decides.

Every page and API endpoint starts from these querysets (STYLE.md §4). Least privilege:
- social workers and team managers see their own team's children and referrals;
- panel chairs and members, the Director and commissioning officers see referrals once
  submitted, and only the children who have such a referral: a child's record is not
  theirs to read until the child has been referred to them;
- finance sees placements (for their cost) but not children's records or referrals;
- administrators and superusers see everything.
A user with several roles sees the union.
"""

from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet

from core.roles import Role, roles_of
from placements.models import (
    Child,
    Placement,
    Referral,
    ReferralSourcingRequest,
    ReferralStatus,
)
from providers.models import Quote, SourcingRequest

_TEAM_ROLES = {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}
_SUBMITTED_REFERRALS_ROLES = {
    Role.PANEL_CHAIR,
    Role.PANEL_MEMBER,
    Role.DIRECTOR,
    Role.COMMISSIONING_OFFICER,
}
_ALL_PLACEMENTS_ROLES = _SUBMITTED_REFERRALS_ROLES | {Role.FINANCE_MANAGER}


def _sees_everything(user, roles) -> bool:
    return user.is_superuser or Role.ADMINISTRATOR in roles


def _submitted_referrals() -> QuerySet[Referral]:
    # Drafts stay with the team that is writing them.
    return Referral.objects.exclude(status=ReferralStatus.DRAFT)


def children_visible_to(user) -> QuerySet[Child]:
    roles = roles_of(user)
    if _sees_everything(user, roles):
        return Child.objects.all()
    visible = []
    if roles & _TEAM_ROLES and user.team_id:
        visible.append(Q(team_id=user.team_id))
    if roles & _SUBMITTED_REFERRALS_ROLES:
        visible.append(Q(Exists(_submitted_referrals().filter(child=OuterRef("pk")))))
    if not visible:
        return Child.objects.none()
    return Child.objects.filter(reduce(or_, visible))


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
        return _submitted_referrals() | team_referrals
    return team_referrals


def placements_visible_to(user) -> QuerySet[Placement]:
    roles = roles_of(user)
    if _sees_everything(user, roles) or roles & _ALL_PLACEMENTS_ROLES:
        return Placement.objects.all()
    if roles & _TEAM_ROLES and user.team_id:
        return Placement.objects.filter(child__team_id=user.team_id)
    return Placement.objects.none()


def sourcing_requests_visible_to(user) -> QuerySet[SourcingRequest]:
    """Sourcing requests of the referrals the user may see (finance sees none)."""
    roles = roles_of(user)
    if _sees_everything(user, roles) or Role.COMMISSIONING_OFFICER in roles:
        return SourcingRequest.objects.all()
    links = ReferralSourcingRequest.objects.filter(
        referral__in=referrals_visible_to(user), sourcing_request=OuterRef("pk")
    )
    return SourcingRequest.objects.filter(Exists(links))


def quotes_visible_to(user) -> QuerySet[Quote]:
    return Quote.objects.filter(sourcing_request__in=sourcing_requests_visible_to(user))
