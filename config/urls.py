from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import dashboard, views
from core import views_auth
from core.forms import GovukAuthenticationForm

admin.site.site_header = "Find a placement: administration"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            authentication_form=GovukAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("sign-in/confirm/", views_auth.confirm_password, name="confirm-password"),
    path("account/password/", views_auth.PasswordChange.as_view(), name="password-change"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", dashboard.dashboard_page, name="dashboard"),
    path("", include("placements.urls")),
    path("", include("panels.urls")),
    path("", include("providers.urls")),
    path("admin/", admin.site.urls),
    # The API's OpenAPI schema; endpoints arrive with the workflow issues under /api/v1/.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include(("config.api", "api"))),
]
