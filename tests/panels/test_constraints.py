"""The database itself refuses panel data that breaks a rule: every CheckConstraint and
UniqueConstraint on the panels models, and the one-correction-per-decision rule of
Decision.supersedes. Each test first writes a valid row, then makes the violating write
with .create() or .update(), so no Python-side validation runs."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.roles import Role
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from tests.constraints import refused_by
from tests.factories import (
    DEMO_DAY,
    AgendaItemFactory,
    DecisionFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    PlacementFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

ONE_DAY = datetime.timedelta(days=1)




def high_cost_item(placement=None, **fields):
    return AgendaItemFactory(
        kind=AgendaItem.Kind.HIGH_COST_REVIEW,
        referral=None,
        placement=placement or PlacementFactory(),
        **fields,
    )


# --- Panels and meetings -----------------------------------------------------------------


@pytest.mark.parametrize("weekday", [5, 6], ids=["saturday", "sunday"])
def test_a_panel_sitting_at_the_weekend_is_refused(weekday):
    panel = PanelFactory(weekday=Panel.Weekday.FRIDAY)

    with refused_by("panel_weekday"):
        Panel.objects.filter(pk=panel.pk).update(weekday=weekday)


def test_a_second_meeting_of_a_panel_on_one_day_is_refused():
    first = PanelMeetingFactory(date=DEMO_DAY)
    PanelMeetingFactory(date=DEMO_DAY)  # another panel may sit that day
    second = PanelMeetingFactory(panel=first.panel, date=DEMO_DAY + 7 * ONE_DAY)

    with refused_by("meeting_once_per_day"):
        PanelMeeting.objects.filter(pk=second.pk).update(date=DEMO_DAY)


@pytest.mark.parametrize(
    "status, closed",
    [("scheduled", True), ("closed", False)],
    ids=["scheduled-with-closed-at", "closed-without-closed-at"],
)
def test_a_meeting_whose_closed_at_contradicts_its_status_is_refused(status, closed):
    PanelMeetingFactory(status="closed", closed_at=timezone.now())
    meeting = PanelMeetingFactory(status="scheduled", closed_at=None)

    with refused_by("meeting_closed_at_matches_status"):
        PanelMeeting.objects.filter(pk=meeting.pk).update(
            status=status, closed_at=timezone.now() if closed else None
        )


# --- Agenda items ------------------------------------------------------------------------


def test_each_kind_of_agenda_item_may_have_its_own_subject():
    AgendaItemFactory(kind=AgendaItem.Kind.REFERRAL)
    AgendaItemFactory(kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW)
    high_cost_item()

    assert AgendaItem.objects.count() == 3


@pytest.mark.parametrize(
    "kind, has_referral, has_placement",
    [
        (AgendaItem.Kind.REFERRAL, False, False),
        (AgendaItem.Kind.REFERRAL, False, True),
        (AgendaItem.Kind.REFERRAL, True, True),
        (AgendaItem.Kind.RETROSPECTIVE_REVIEW, False, True),
        (AgendaItem.Kind.HIGH_COST_REVIEW, True, False),
        (AgendaItem.Kind.HIGH_COST_REVIEW, True, True),
        (AgendaItem.Kind.HIGH_COST_REVIEW, False, False),
    ],
    ids=[
        "referral-item-without-subject",
        "referral-item-about-a-placement",
        "referral-item-with-both",
        "retrospective-item-about-a-placement",
        "high-cost-item-about-a-referral",
        "high-cost-item-with-both",
        "high-cost-item-without-subject",
    ],
)
def test_an_agenda_item_whose_subject_does_not_match_its_kind_is_refused(
    kind, has_referral, has_placement
):
    item = AgendaItemFactory(kind=AgendaItem.Kind.REFERRAL)
    placement = PlacementFactory(child=item.referral.child)

    with refused_by("agenda_item_subject_matches_kind"):
        AgendaItem.objects.filter(pk=item.pk).update(
            kind=kind,
            referral=item.referral if has_referral else None,
            placement=placement if has_placement else None,
        )


def test_listing_a_referral_twice_at_one_meeting_is_refused():
    first = AgendaItemFactory()
    AgendaItemFactory(referral=first.referral)  # it may come back to a later meeting
    second = AgendaItemFactory(meeting=first.meeting)

    with refused_by("agenda_item_referral_once_per_meeting"):
        AgendaItem.objects.filter(pk=second.pk).update(referral=first.referral)


def test_listing_a_placement_twice_at_one_meeting_is_refused():
    first = high_cost_item()
    high_cost_item(placement=first.placement)  # it may come back to a later meeting
    second = high_cost_item(meeting=first.meeting)

    with refused_by("agenda_item_placement_once_per_meeting"):
        AgendaItem.objects.filter(pk=second.pk).update(placement=first.placement)


# --- Decisions ---------------------------------------------------------------------------


def test_a_second_original_decision_on_an_agenda_item_is_refused():
    original = DecisionFactory()
    DecisionFactory(agenda_item=original.agenda_item, supersedes=original)  # a correction

    with refused_by("decision_one_per_agenda_item"):
        DecisionFactory(agenda_item=original.agenda_item)


def test_correcting_the_same_decision_twice_is_refused():
    original = DecisionFactory()
    correction = DecisionFactory(agenda_item=original.agenda_item, supersedes=original)
    DecisionFactory(agenda_item=original.agenda_item, supersedes=correction)  # correct it again

    # A OneToOneField, so the refusal names the column rather than a Meta constraint.
    with refused_by("supersedes_id"):
        DecisionFactory(agenda_item=original.agenda_item, supersedes=original)


def test_a_decision_without_a_rationale_is_refused():
    decision = DecisionFactory()

    with refused_by("decision_has_rationale"):
        Decision.objects.filter(pk=decision.pk).update(rationale="")


def test_a_decision_with_a_negative_expected_cost_is_refused():
    decision = DecisionFactory(estimated_weekly_cost=Decimal("0.00"))

    with refused_by("decision_cost_non_negative"):
        Decision.objects.filter(pk=decision.pk).update(estimated_weekly_cost=Decimal("-1.00"))


@pytest.mark.parametrize("half", ["removed_at", "removed_by"])
def test_an_agenda_item_removed_without_when_and_by_whom_is_refused(personas, half):
    chair = personas[Role.PANEL_CHAIR]
    item = AgendaItemFactory()
    AgendaItem.objects.filter(pk=item.pk).update(removed_at=timezone.now(), removed_by=chair)
    other = AgendaItemFactory()
    only_half = {"removed_at": timezone.now()} if half == "removed_at" else {"removed_by": chair}

    with refused_by("agenda_item_removed_fields"):
        AgendaItem.objects.filter(pk=other.pk).update(**only_half)


# --- Director approvals ------------------------------------------------------------------


def test_a_second_pending_director_approval_for_a_referral_is_refused(personas):
    director = personas[Role.DIRECTOR]
    first = DirectorApprovalFactory(
        status="refused", decided_by=director, decided_at=timezone.now(), reason="Too far away"
    )
    DirectorApprovalFactory(referral=first.referral)  # one pending after the refusal is fine
    DirectorApprovalFactory(referral=ReferralFactory())  # so is one for another referral

    with refused_by("director_approval_one_pending_per_referral"):
        DirectorApprovalFactory(referral=first.referral)


@pytest.mark.parametrize(
    "status, decided_by, decided_at",
    [
        ("pending", True, False),
        ("pending", False, True),
        ("pending", True, True),
        ("approved", False, False),
        ("approved", True, False),
        ("approved", False, True),
        ("refused", False, False),
    ],
    ids=[
        "pending-with-decider",
        "pending-with-decision-time",
        "pending-with-both",
        "approved-without-either",
        "approved-without-time",
        "approved-without-decider",
        "refused-without-either",
    ],
)
def test_director_approval_decided_fields_contradicting_its_status_are_refused(
    personas, status, decided_by, decided_at
):
    director = personas[Role.DIRECTOR]
    DirectorApprovalFactory(status="approved", decided_by=director, decided_at=timezone.now())
    approval = DirectorApprovalFactory(reason="Out of area")

    with refused_by("director_approval_decided_fields"):
        DirectorApproval.objects.filter(pk=approval.pk).update(
            status=status,
            decided_by=director if decided_by else None,
            decided_at=timezone.now() if decided_at else None,
        )


def test_a_director_refusal_without_a_reason_is_refused(personas):
    approval = DirectorApprovalFactory(
        status="refused",
        decided_by=personas[Role.DIRECTOR],
        decided_at=timezone.now(),
        reason="Cost not justified",
    )

    with refused_by("director_approval_refusal_has_reason"):
        DirectorApproval.objects.filter(pk=approval.pk).update(reason="")
