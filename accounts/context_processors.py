from django.conf import settings
from django.urls import reverse

from accounts.roles import Role, roles_of


def navigation(request):
    """Service navigation items for the signed-in user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation_items": [], "council_name": settings.COUNCIL_NAME}
    items = [{"text": "Home", "href": reverse("home")}]
    if Role.ADMINISTRATOR in roles_of(user) or user.is_superuser:
        items.append({"text": "Administration", "href": reverse("admin:index")})
    current = request.path
    for item in items:
        item["active"] = item["href"] == current
    return {
        "navigation_items": items,
        "user_roles": sorted(role.label for role in roles_of(user)),
        "council_name": settings.COUNCIL_NAME,
    }
