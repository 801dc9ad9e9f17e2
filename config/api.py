"""The REST API's routes, /api/v1/…: one router for every app's viewsets (config may
import all three layers)."""

from rest_framework.routers import DefaultRouter

from panels.api import (
    AgendaItemViewSet,
    DecisionViewSet,
    DirectorApprovalViewSet,
    PanelMeetingViewSet,
    PanelViewSet,
)
from placements.api import ChildViewSet, ReferralViewSet

router = DefaultRouter()
router.register("children", ChildViewSet, basename="child")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("panels", PanelViewSet, basename="panel")
router.register("meetings", PanelMeetingViewSet, basename="meeting")
router.register("agenda-items", AgendaItemViewSet, basename="agenda-item")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("director-approvals", DirectorApprovalViewSet, basename="director-approval")

urlpatterns = router.urls
