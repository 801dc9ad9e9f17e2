"""The REST API's routes, /api/v1/…: one router for every app's viewsets (config may
import all three layers)."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from core.api import UnknownEndpoint
from panels.api import (
    AgendaItemViewSet,
    DecisionViewSet,
    DirectorApprovalViewSet,
    PanelMeetingViewSet,
    PanelViewSet,
)
from placements.api import ChildViewSet, ReferralViewSet
from placements.api_budgets import BudgetLineViewSet, BudgetPositionViewSet, WeeklyCostViewSet
from placements.api_placements import ContributionViewSet, PlacementViewSet
from placements.api_sourcing import QuoteViewSet, SourcingRequestViewSet
from providers.api import (
    FrameworkRateViewSet,
    FrameworkViewSet,
    ProviderDiscountViewSet,
    ProviderViewSet,
    ServiceViewSet,
)

router = DefaultRouter()
router.register("children", ChildViewSet, basename="child")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("panels", PanelViewSet, basename="panel")
router.register("meetings", PanelMeetingViewSet, basename="meeting")
router.register("agenda-items", AgendaItemViewSet, basename="agenda-item")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("director-approvals", DirectorApprovalViewSet, basename="director-approval")
router.register("providers", ProviderViewSet, basename="provider")
router.register("services", ServiceViewSet, basename="service")
router.register("frameworks", FrameworkViewSet, basename="framework")
router.register("framework-rates", FrameworkRateViewSet, basename="framework-rate")
router.register("provider-discounts", ProviderDiscountViewSet, basename="provider-discount")

router.register("sourcing-requests", SourcingRequestViewSet, basename="sourcing-request")
router.register("quotes", QuoteViewSet, basename="quote")

router.register("placements", PlacementViewSet, basename="placement")
router.register("contributions", ContributionViewSet, basename="contribution")

router.register("budget-lines", BudgetLineViewSet, basename="budget-line")
router.register("weekly-costs", WeeklyCostViewSet, basename="weekly-cost")
router.register("budget-positions", BudgetPositionViewSet, basename="budget-position")

urlpatterns = [
    *router.urls,
    # Last: any other address under /api/v1/ (even one with a newline in it) is a JSON
    # 404. Only addresses ending in a slash, so that APPEND_SLASH still redirects
    # /api/v1/children/5 to …/5/.
    re_path(r"^[\s\S]*/$", UnknownEndpoint.as_view(), name="unknown-endpoint"),
]
