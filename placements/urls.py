from django.urls import include, path

from placements import views

urlpatterns = [
    # Sourcing first: "referrals/<pk>/sourcing/…" must not be read as a referral action.
    path("", include("placements.urls_sourcing")),
    path("", include("placements.urls_choice")),
    path("", include("placements.urls_placements")),
    path("", include("placements.urls_budgets")),
    path("", include("placements.urls_dashboard")),
    path("children/", views.child_list, name="child-list"),
    path("children/<int:pk>/", views.child_detail, name="child-detail"),
    path("children/<int:child_pk>/refer/", views.referral_create, name="referral-create"),
    path("referrals/", views.referral_list, name="referral-list"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/edit/<slug:section>/", views.referral_edit, name="referral-edit"),
    path("referrals/<int:pk>/check/", views.referral_check, name="referral-check"),
    path("referrals/<int:pk>/<slug:action>/", views.referral_action, name="referral-action"),
]
