from django.conf import settings
from django.urls import reverse

from core.roles import Role, roles_of

R = Role
# (label, url name, roles that see the link); the pages themselves check access again.
NAVIGATION = [
    ("Home", "home", set(Role)),
    ("Children", "child-list", set(Role) - {R.FINANCE_MANAGER}),
    ("Referrals", "referral-list", set(Role) - {R.FINANCE_MANAGER}),
    ("Placements", "placement-list", set(Role)),
    ("Sourcing", "sourcing-queue", {R.COMMISSIONING_OFFICER, R.ADMINISTRATOR}),
    ("Providers", "service-directory", set(Role)),
    ("Panel meetings", "meeting-list", {R.PANEL_CHAIR, R.PANEL_MEMBER, R.DIRECTOR, R.ADMINISTRATOR}),
    ("Approvals", "director-queue", {R.DIRECTOR, R.ADMINISTRATOR}),
    ("Budgets", "budget-list", {R.FINANCE_MANAGER, R.ADMINISTRATOR}),
    ("Dashboard", "dashboard", {R.FINANCE_MANAGER, R.TEAM_MANAGER, R.DIRECTOR, R.ADMINISTRATOR,
                                R.COMMISSIONING_OFFICER}),
    ("Administration", "admin:index", {R.ADMINISTRATOR}),
]


def navigation(request):
    """Service navigation items for the signed-in user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation_items": [], "council_name": settings.COUNCIL_NAME}
    roles = roles_of(user)
    items = []
    for text, url_name, allowed in NAVIGATION:
        if user.is_superuser or roles & allowed:
            href = reverse(url_name)
            active = request.path == href if href == "/" else request.path.startswith(href)
            items.append({"text": text, "href": href, "active": active})
    return {
        "navigation_items": items,
        "user_roles": sorted(role.label for role in roles),
        "council_name": settings.COUNCIL_NAME,
    }
