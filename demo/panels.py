"""Panels, their meetings, agendas and decisions, and the Director's approvals.

The one demo module that reaches up into the panels app: a demo county needs every layer
filled in, and nothing outside the seed imports this module.
"""

import datetime

from django.conf import settings

from demo.clock import DemoCalendar, at, next_weekday, weekdays_before
from demo.people import Cast
from demo.scenarios import (
    DECISION_MEETING,
    HIGH_COST_REVIEW,
    PANEL_CHAIRS,
    PANEL_NAMES,
    PANEL_WEEKDAYS,
    PERMANENCE,
    RESOURCE,
)
from demo.stories import ReferralPlan
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from placements.models import ReferralStatus
from placements.selectors import costliest_active_placements_by_net_cost

S = ReferralStatus
PANEL_MEMBERS = {
    RESOURCE: ("member", "director", "commissioner", "finance"),
    DECISION_MEETING: ("member", "tm.north", "tm.south"),
    PERMANENCE: ("member", "director"),
    HIGH_COST_REVIEW: ("finance", "commissioner", "chair"),
}
RATIONALES = {
    Decision.Outcome.APPROVE_IN_HOUSE: "In-house foster carers can meet the child's needs; "
                                       "family-finding to start now.",
    Decision.Outcome.APPROVE_EXTERNAL: "No in-house carers or homes can meet the child's "
                                       "needs in the timescale; an external placement is "
                                       "approved.",
    Decision.Outcome.DECLINE: "The evidence does not show a move is in the child's interest.",
    Decision.Outcome.RETURN: "The panel needs more information before it can decide.",
    Decision.Outcome.DEFER: "Deferred until the outstanding assessment is available.",
    Decision.Outcome.CONTINUE: "The placement is meeting the child's needs; continue.",
    Decision.Outcome.RENEGOTIATE: "The cost is well above similar placements; commissioning "
                                  "to renegotiate with the provider.",
    Decision.Outcome.STEP_DOWN: "The child has made good progress; plan a step-down to foster "
                                "care over the next six months.",
}
HIGH_COST_OUTCOMES = (Decision.Outcome.CONTINUE, Decision.Outcome.RENEGOTIATE,
                      Decision.Outcome.CONTINUE, Decision.Outcome.STEP_DOWN)
RECENT_EMERGENCY_DAYS = 14


def seed_panels(*, cast: Cast) -> dict[str, Panel]:
    panels = {}
    for kind, members in PANEL_MEMBERS.items():
        panel, _created = Panel.objects.get_or_create(
            name=PANEL_NAMES[kind],
            defaults={"kind": kind, "weekday": PANEL_WEEKDAYS[kind],
                      "default_chair": cast.users[PANEL_CHAIRS[kind]]},
        )
        panel.members.add(*(cast.users[username] for username in members))
        panels[kind] = panel
    return panels


def meeting_on(*, panel: Panel, day: datetime.date, calendar: DemoCalendar) -> PanelMeeting:
    past = day < calendar.today
    meeting, _created = PanelMeeting.objects.get_or_create(
        panel=panel,
        date=day,
        defaults={
            "chair": panel.default_chair,
            "status": PanelMeeting.Status.CLOSED if past else PanelMeeting.Status.SCHEDULED,
            "closed_at": at(day, 16, 30) if past else None,
        },
    )
    return meeting


def upcoming_meeting(*, panel: Panel, calendar: DemoCalendar, weeks_ahead: int = 0):
    day = next_weekday(calendar.today, weekday=panel.weekday)
    return meeting_on(panel=panel, day=day + datetime.timedelta(weeks=weeks_ahead),
                      calendar=calendar)


def add_item(*, meeting: PanelMeeting, kind: str, referral=None, placement=None):
    """The meeting's item for this referral or placement, and whether it is new."""
    subject = {"referral": referral} if referral is not None else {"placement": placement}
    existing = AgendaItem.objects.filter(meeting=meeting, **subject).first()
    if existing is not None:
        return existing, False
    item = AgendaItem.objects.create(
        meeting=meeting, kind=kind, position=meeting.items.count() + 1, **subject
    )
    return item, True


def decide(*, item: AgendaItem, outcome: str, at_time: datetime.datetime, reason: str = ""):
    meeting = item.meeting
    approved = outcome in (Decision.Outcome.APPROVE_IN_HOUSE, Decision.Outcome.APPROVE_EXTERNAL,
                           Decision.Outcome.CONTINUE)
    return Decision.objects.create(
        agenda_item=item,
        outcome=outcome,
        rationale=" ".join(part for part in (RATIONALES[outcome], reason) if part),
        conditions="Review the placement plan at panel in 12 weeks." if approved else "",
        review_date=meeting.date + datetime.timedelta(weeks=12) if approved else None,
        chaired_by=meeting.chair,
        decided_by=meeting.chair,
        decided_at=at_time,
    )


def seed_panel_business(*, plans: list[ReferralPlan], panels, cast: Cast,
                        calendar: DemoCalendar) -> None:
    for panel in panels.values():
        upcoming_meeting(panel=panel, calendar=calendar)
    upcoming_meeting(panel=panels[RESOURCE], calendar=calendar, weeks_ahead=1)
    decided = sorted((p for p in plans if p.decision is not None), key=lambda p: p.decision.at)
    for plan in decided:
        seed_decided_referral(plan=plan, panels=panels, cast=cast, calendar=calendar)
    for plan in plans:
        if plan.status == S.LISTED:
            meeting = upcoming_meeting(panel=panels[plan.scenario.panel], calendar=calendar)
            add_item(meeting=meeting, kind=AgendaItem.Kind.REFERRAL, referral=plan.referral)
        elif plan.scenario.emergency and plan.status == S.PLACED:
            seed_retrospective_review(plan=plan, panel=panels[RESOURCE], calendar=calendar)
    seed_high_cost_reviews(panel=panels[HIGH_COST_REVIEW], calendar=calendar)


def seed_decided_referral(*, plan: ReferralPlan, panels, cast: Cast, calendar) -> None:
    meeting = meeting_on(panel=panels[plan.scenario.panel], day=plan.meeting_date,
                         calendar=calendar)
    item, created = add_item(meeting=meeting, kind=AgendaItem.Kind.REFERRAL,
                             referral=plan.referral)
    if not created:
        return
    decision = decide(item=item, outcome=plan.scenario.outcome, at_time=plan.decision.at,
                      reason=plan.decision.reason)
    if plan.scenario.director:
        seed_director_approval(plan=plan, decision=decision, cast=cast)


def seed_director_approval(*, plan: ReferralPlan, decision: Decision, cast: Cast) -> None:
    status = plan.scenario.director
    decided = None if status == DirectorApproval.Status.PENDING else (
        plan.changes[plan.scenario.meeting_index + 1])
    DirectorApproval.objects.create(
        referral=plan.referral,
        decision=decision,
        status=status,
        is_external=True,
        is_out_of_area=not plan.must_be_within_20_miles,
        is_above_threshold=plan.placement_type_sought in ("K1", "K2"),
        requested_at=decision.decided_at,
        decided_by=cast.users["director"] if decided else None,
        decided_at=decided.at if decided else None,
        reason=decided.reason if decided else "",
    )


def seed_retrospective_review(*, plan: ReferralPlan, panel: Panel, calendar) -> None:
    """Emergencies come to Resource Panel afterwards: recent ones are on the next agenda,
    older ones were reviewed at the first meeting after the placement began."""
    placed_on = plan.change_to(S.PLACED).at.date()
    if (calendar.today - placed_on).days <= RECENT_EMERGENCY_DAYS:
        meeting = upcoming_meeting(panel=panel, calendar=calendar)
        add_item(meeting=meeting, kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW,
                 referral=plan.referral)
        return
    day = next_weekday(placed_on + datetime.timedelta(days=1), weekday=panel.weekday)
    meeting = meeting_on(panel=panel, day=day, calendar=calendar)
    item, created = add_item(meeting=meeting, kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW,
                             referral=plan.referral)
    if created:
        decide(item=item, outcome=Decision.Outcome.CONTINUE, at_time=at(day, 11, 30),
               reason="The emergency placement was the right decision on the night.")


def seed_high_cost_reviews(*, panel: Panel, calendar: DemoCalendar) -> None:
    """The costliest placements, reviewed a month ago and listed again for the next review,
    chosen as the agenda builder chooses them (net cost, HIGH_COST_REVIEW_COUNT of them)."""
    count = settings.HIGH_COST_REVIEW_COUNT
    past_day = weekdays_before(calendar.days_ago(20), weekday=panel.weekday, count=1)[0]
    past = meeting_on(panel=panel, day=past_day, calendar=calendar)
    reviewed = costliest_active_placements_by_net_cost(on=past_day, limit=count)
    for n, placement in enumerate(reviewed):
        item, created = add_item(meeting=past, kind=AgendaItem.Kind.HIGH_COST_REVIEW,
                                 placement=placement)
        if created:
            decide(item=item, outcome=HIGH_COST_OUTCOMES[n % len(HIGH_COST_OUTCOMES)],
                   at_time=at(past_day, 10, 5 * n))
    upcoming = upcoming_meeting(panel=panel, calendar=calendar)
    for placement in costliest_active_placements_by_net_cost(on=calendar.today, limit=count):
        add_item(meeting=upcoming, kind=AgendaItem.Kind.HIGH_COST_REVIEW, placement=placement)
