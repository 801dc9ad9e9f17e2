"""Placements over time: the list, one placement, and the pages that change it
(placements.views_placements). The agreement page is in placements.urls_choice."""

from django.urls import path

from placements import views_placements as views

urlpatterns = [
    path("placements/", views.placement_list, name="placement-list"),
    path("placements/<int:pk>/", views.placement_detail, name="placement-detail"),
    path("placements/<int:pk>/change-cost/", views.placement_change_cost,
         name="placement-change-cost"),
    path("placements/<int:pk>/retainer/", views.placement_retainer, name="placement-retainer"),
    path("placements/<int:pk>/contributions/add/", views.contribution_add,
         name="placement-contribution-add"),
    path("placements/<int:pk>/contributions/<int:contribution_pk>/end/", views.contribution_end,
         name="placement-contribution-end"),
    path("placements/<int:pk>/end/", views.placement_end, name="placement-end"),
    path("placements/<int:pk>/move/", views.placement_move, name="placement-move"),
]
