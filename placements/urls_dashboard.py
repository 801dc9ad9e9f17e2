"""The dashboard's downloads and rebuild pages (placements.views_dashboard). The dashboard
page itself is routed in config.urls: its view (config.dashboard) reads panels too."""

from django.urls import path

from placements import views_dashboard as views

urlpatterns = [
    path("dashboard/export/<slug:what>.<slug:file_format>", views.dashboard_export,
         name="dashboard-export"),
    path("dashboard/rebuild/", views.dashboard_rebuild, name="dashboard-rebuild"),
    path("dashboard/rebuild/<int:year>/", views.dashboard_rebuild_progress,
         name="dashboard-rebuild-progress"),
]
