"""The roles people hold. Each role is a Django group created by a data migration."""

from django.db import models


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", "Social worker"
    TEAM_MANAGER = "team_manager", "Team manager"
    PANEL_CHAIR = "panel_chair", "Panel chair"
    PANEL_MEMBER = "panel_member", "Panel member"
    DIRECTOR = "director", "Director"
    COMMISSIONING_OFFICER = "commissioning_officer", "Commissioning officer"
    FINANCE_MANAGER = "finance_manager", "Finance manager"
    ADMINISTRATOR = "administrator", "Administrator"


def roles_of(user) -> frozenset[Role]:
    """The user's roles, read once per request object and cached on it."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_roles_cache", None)
    if cached is None:
        names = {group.name for group in user.groups.all()}
        cached = frozenset(role for role in Role if role.value in names)
        user._roles_cache = cached
    return cached


def has_role(user, *roles: Role) -> bool:
    return bool(roles_of(user).intersection(roles))
