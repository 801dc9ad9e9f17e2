"""Factories for every model, one per lifecycle state where state matters."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from core.models import Team, User
from core.roles import Role
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from placements.models import (
    BudgetLine,
    BudgetLineRule,
    Child,
    Contribution,
    FinancialYear,
    Placement,
    PlacementCost,
    Referral,
    ReferralStatus,
)
from providers.models import (
    Framework,
    FrameworkRate,
    Provider,
    Quote,
    Service,
    SourcingRequest,
)
from providers.reference import PlaceProvider, ProviderKind, Urgency

DEMO_DAY = datetime.date(2026, 6, 15)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Team {n}")
    code = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """UserFactory(roles=[Role.SOCIAL_WORKER], team=team)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.django.Password("a-long-test-password")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=[Role(r).value for r in extracted]))


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    local_child_id = factory.Sequence(lambda n: f"C{n:06d}")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Child{n}")
    date_of_birth = datetime.date(2012, 5, 1)
    sex = "F"
    home_postcode = "LS6 1AA"
    legal_status = "C2"
    team = factory.SubFactory(TeamFactory)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Provider {n}")
    kind = ProviderKind.IFA
    place_provider = PlaceProvider.PR4


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    ofsted_urn = factory.Sequence(lambda n: f"SC{n:06d}")
    postcode = "LS1 1AA"
    places = 4
    vacancies = 1


class ReferralFactory(factory.django.DjangoModelFactory):
    """ReferralFactory(status=ReferralStatus.ENDORSED) builds one already in that state."""

    class Meta:
        model = Referral

    child = factory.SubFactory(ChildFactory)
    created_by = factory.SubFactory(UserFactory)
    status = ReferralStatus.DRAFT
    urgency = Urgency.LATER
    placement_type_sought = "U4"
    wanted_start_date = DEMO_DAY


class PlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Placement

    child = factory.SubFactory(ChildFactory)
    service = factory.SubFactory(ServiceFactory)
    placement_type = "U4"
    place_provider = PlaceProvider.PR4
    start_date = datetime.date(2026, 1, 5)
    created_by = factory.SubFactory(UserFactory)


class PlacementCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlacementCost

    placement = factory.SubFactory(PlacementFactory)
    effective_from = factory.SelfAttribute("placement.start_date")
    weekly_amount = Decimal("820.00")
    reason = PlacementCost.Reason.INITIAL
    created_by = factory.SelfAttribute("placement.created_by")


class ContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contribution

    placement = factory.SubFactory(PlacementFactory)
    funder = Contribution.Funder.HEALTH
    weekly_amount = Decimal("100.00")
    start_date = factory.SelfAttribute("placement.start_date")


class FinancialYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancialYear
        django_get_or_create = ["start_year"]

    start_year = 2026


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    financial_year = factory.SubFactory(FinancialYearFactory)
    name = factory.Sequence(lambda n: f"Budget line {n}")
    amount = Decimal("1000000.00")


class BudgetLineRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLineRule

    budget_line = factory.SubFactory(BudgetLineFactory)
    financial_year = factory.SelfAttribute("budget_line.financial_year")
    placement_type = "U4"
    place_provider = PlaceProvider.PR4


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    name = factory.Sequence(lambda n: f"Framework {n}")
    start_date = datetime.date(2024, 4, 1)
    end_date = datetime.date(2028, 3, 31)


class FrameworkRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkRate

    framework = factory.SubFactory(FrameworkFactory)
    provider = factory.SubFactory(ProviderFactory)
    placement_type = "U4"
    financial_year = 2026
    ceiling_weekly_price = Decimal("850.00")


class SourcingRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourcingRequest

    reference = factory.Sequence(lambda n: f"SR-{n:05d}")
    placement_type = "U4"
    age_years = 12
    sex = "F"
    area = "LS6"
    urgency = Urgency.LATER
    wanted_start_date = DEMO_DAY
    created_by = factory.SubFactory(UserFactory)


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    sourcing_request = factory.SubFactory(SourcingRequestFactory)
    service = factory.SubFactory(ServiceFactory)
    quoted_weekly_price = Decimal("900.00")
    recorded_by = factory.SelfAttribute("sourcing_request.created_by")


class PanelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Panel

    name = factory.Sequence(lambda n: f"Panel {n}")
    kind = Panel.Kind.RESOURCE
    weekday = Panel.Weekday.WEDNESDAY
    default_chair = factory.SubFactory(UserFactory, roles=[Role.PANEL_CHAIR])


class PanelMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PanelMeeting

    panel = factory.SubFactory(PanelFactory)
    date = DEMO_DAY
    chair = factory.SelfAttribute("panel.default_chair")


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(PanelMeetingFactory)
    kind = AgendaItem.Kind.REFERRAL
    position = factory.Sequence(lambda n: n)
    referral = factory.SubFactory(ReferralFactory, status=ReferralStatus.LISTED)


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    agenda_item = factory.SubFactory(AgendaItemFactory)
    outcome = Decision.Outcome.APPROVE_EXTERNAL
    rationale = "No in-house carer can meet the child's needs."
    chaired_by = factory.SelfAttribute("agenda_item.meeting.chair")
    decided_by = factory.SelfAttribute("agenda_item.meeting.chair")
    decided_at = factory.LazyFunction(timezone.now)


class DirectorApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DirectorApproval

    referral = factory.SubFactory(ReferralFactory, status=ReferralStatus.AWAITING_DIRECTOR)
    is_external = True
    requested_at = factory.LazyFunction(timezone.now)


# --- Lifecycle states -------------------------------------------------------------------
# Helpers that build objects already where the workflow would have left them, so a test
# can start from any state without walking the whole journey.


def referral_in(status, *, team=None, **kwargs) -> Referral:
    """A referral already in `status`; `team` puts its child on that team's caseload."""
    if team is not None:
        kwargs.setdefault("child", ChildFactory(team=team))
    return ReferralFactory(status=status, **kwargs)


def emergency_referral_in(status, *, review_due=DEMO_DAY, **kwargs) -> Referral:
    """An emergency referral already past submission, its retrospective review due."""
    return referral_in(
        status, is_emergency=True, urgency=Urgency.TODAY, retrospective_review_due=review_due,
        **kwargs,
    )


def listed_item(meeting, **referral_kwargs) -> AgendaItem:
    """A referral listed on `meeting`'s agenda, as the agenda builder leaves it."""
    referral = referral_in(ReferralStatus.LISTED, **referral_kwargs)
    return AgendaItemFactory(meeting=meeting, referral=referral)
