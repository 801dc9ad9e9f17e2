"""Choosing an offer, confirming the placement, the placement agreement and the savings
report (placements.views_choice)."""

from django.urls import path

from placements import views_choice as views

urlpatterns = [
    path("referrals/<int:pk>/sourcing/options/", views.sourcing_options, name="sourcing-options"),
    path("referrals/<int:pk>/sourcing/reopen/", views.choice_reopen, name="sourcing-choice-reopen"),
    path("referrals/<int:pk>/sourcing/confirm/", views.placement_confirm, name="placement-confirm"),
    path("placements/<int:pk>/agreement/", views.placement_agreement, name="placement-agreement"),
    path("sourcing/savings/", views.sourcing_savings, name="sourcing-savings"),
]
