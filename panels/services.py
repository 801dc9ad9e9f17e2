"""Every change panels make: building agendas, recording decisions, closing meetings and
the Director's approvals. Each function checks the actor, locks what it changes, and
moves the referral through placements' services in the same transaction, writing the
audit events for what panels own (meetings, agenda items, decisions, Director approvals);
the referral's own moves are audited by placements' services."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core import audit
from core.errors import ActionNotPermitted, Conflict, InvalidInput, TransitionNotAllowed
from core.roles import Role, has_role
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting
from placements import selectors as placement_selectors
from placements.models import Referral, ReferralStatus
from placements.services import referrals as referral_services

S = ReferralStatus
O = Decision.Outcome
OUTCOMES_BY_KIND = {
    AgendaItem.Kind.REFERRAL: (O.APPROVE_IN_HOUSE, O.APPROVE_EXTERNAL, O.DECLINE, O.RETURN, O.DEFER),
    AgendaItem.Kind.RETROSPECTIVE_REVIEW: (O.APPROVE_IN_HOUSE, O.APPROVE_EXTERNAL, O.RETURN),
    AgendaItem.Kind.HIGH_COST_REVIEW: (O.CONTINUE, O.RENEGOTIATE, O.STEP_DOWN),
}
# Where a referral decided at panel goes next (approvals may detour via the Director).
REFERRAL_STATUS_AFTER = {
    O.APPROVE_IN_HOUSE: S.READY_FOR_SOURCING,
    O.APPROVE_EXTERNAL: S.READY_FOR_SOURCING,
    O.DECLINE: S.DECLINED,
    O.RETURN: S.RETURNED,
    O.DEFER: S.ENDORSED,
}
# What the audit log keeps of each record.
MEETING_FIELDS = ("panel", "date", "chair", "status", "closed_at")
ITEM_FIELDS = ("meeting", "kind", "referral", "placement", "position", "removed_at", "removed_by")
DECISION_FIELDS = (
    "agenda_item", "outcome", "rationale", "conditions", "review_date", "estimated_weekly_cost",
    "out_of_area", "chaired_by", "decided_by", "supersedes",
)
CORRECTABLE_FIELDS = ("outcome", "rationale", "conditions", "review_date")
APPROVAL_FIELDS = (
    "referral", "decision", "status", "is_external", "is_out_of_area", "is_above_threshold",
)


# --- Who may run a meeting -------------------------------------------------------------


def can_chair(*, user, meeting: PanelMeeting) -> bool:
    # Roles, not superuser status: administrators read everything but do not decide.
    if not has_role(user, Role.PANEL_CHAIR):
        return False
    panel = meeting.panel
    return user.pk in (meeting.chair_id, panel.default_chair_id) or panel.members.filter(
        pk=user.pk
    ).exists()


def _require_chair(*, user, meeting: PanelMeeting, action: str) -> None:
    if not can_chair(user=user, meeting=meeting):
        raise ActionNotPermitted(f"Only a chair of {meeting.panel.name} can {action}.")


def _lock_meeting(meeting: PanelMeeting) -> PanelMeeting:
    return PanelMeeting.objects.select_for_update().select_related("panel").get(pk=meeting.pk)


def _require_open(meeting: PanelMeeting) -> None:
    if meeting.status == PanelMeeting.Status.CLOSED:
        raise TransitionNotAllowed(
            "This meeting is closed: its agenda and decisions can no longer change. "
            "Record a correction instead.",
            current=meeting.status,
            allowed=[],
        )


# --- Scheduling and agendas ------------------------------------------------------------


def next_meeting_date(*, panel: Panel, today: datetime.date) -> datetime.date:
    """The panel's weekday, in the coming week (tomorrow at the earliest)."""
    days_ahead = (panel.weekday - today.weekday() - 1) % 7 + 1
    return today + datetime.timedelta(days=days_ahead)


def _next_position(meeting: PanelMeeting) -> int:
    return (meeting.items.aggregate(top=Max("position"))["top"] or 0) + 1


@transaction.atomic
def meeting_schedule_next(*, panel: Panel, today: datetime.date) -> PanelMeeting:
    """Create the panel's next meeting if it does not exist, and fill its agenda: endorsed
    referrals and overdue retrospective reviews (Resource Panel), or the costliest
    placements (high-cost review). Running it again changes nothing."""
    meeting, created = PanelMeeting.objects.get_or_create(
        panel=panel,
        date=next_meeting_date(panel=panel, today=today),
        defaults={"chair": panel.default_chair},
    )
    if created:
        audit.record(audit.SYSTEM, "meeting.schedule", meeting,
                     changes=audit.created(meeting, MEETING_FIELDS))
    meeting = _lock_meeting(meeting)
    if meeting.status == PanelMeeting.Status.CLOSED:
        return meeting
    if panel.kind == Panel.Kind.RESOURCE:
        _list_endorsed_referrals(meeting)
        _list_retrospective_reviews(meeting)
    elif panel.kind == Panel.Kind.HIGH_COST_REVIEW:
        _list_costliest_placements(meeting)
    return meeting


def _child_of_item(item: AgendaItem) -> int:
    """The child an agenda item is about: its referral's, or its placement's."""
    return (item.referral if item.referral_id else item.placement).child_id


def _record_listed(item: AgendaItem, *, reason: str) -> None:
    """The agenda builder (the system, not a person) put `item` on the agenda."""
    audit.record(audit.SYSTEM, "agenda_item.add", item, reason=reason,
                 changes=audit.created(item, ITEM_FIELDS), child=_child_of_item(item))


def _list_endorsed_referrals(meeting: PanelMeeting) -> None:
    position = _next_position(meeting)
    # A referral deferred before the meeting is endorsed again but already on this agenda
    # (with its decision): it waits for the following meeting.
    endorsed = Referral.objects.filter(status=S.ENDORSED).exclude(agenda_items__meeting=meeting)
    for referral in endorsed.order_by("updated_at", "pk"):
        referral_services.referral_mark_listed(
            referral=referral, by=None, reason=f"Listed for {meeting}"
        )
        item = AgendaItem.objects.create(
            meeting=meeting, kind=AgendaItem.Kind.REFERRAL, referral=referral, position=position
        )
        _record_listed(item, reason="Endorsed for panel.")
        position += 1


def _list_retrospective_reviews(meeting: PanelMeeting) -> None:
    """Every emergency that no panel has yet reviewed nor has on an open agenda goes on the
    next meeting, however soon its review is due: the sooner the better."""
    already = AgendaItem.objects.filter(
        kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW, referral__isnull=False
    ).exclude(meeting__status=PanelMeeting.Status.CLOSED, decisions__isnull=True)
    due = (
        Referral.objects.filter(is_emergency=True, retrospective_review_due__isnull=False)
        .exclude(status__in=(S.WITHDRAWN, S.DECLINED))
        .exclude(pk__in=already.values("referral_id"))
        .order_by("retrospective_review_due", "pk")
    )
    position = _next_position(meeting)
    for referral in due:
        item = AgendaItem.objects.create(
            meeting=meeting,
            kind=AgendaItem.Kind.RETROSPECTIVE_REVIEW,
            referral=referral,
            position=position,
        )
        _record_listed(item, reason="An emergency placement awaiting its retrospective review.")
        position += 1


def _list_costliest_placements(meeting: PanelMeeting) -> None:
    if meeting.items.exists():
        return  # the agenda was filled once; the chair may have changed it since
    costliest = placement_selectors.costliest_active_placements_by_net_cost(
        on=meeting.date, limit=settings.HIGH_COST_REVIEW_COUNT
    )
    items = AgendaItem.objects.bulk_create(
        AgendaItem(
            meeting=meeting, kind=AgendaItem.Kind.HIGH_COST_REVIEW, placement=placement,
            position=position,
        )
        for position, placement in enumerate(costliest, start=1)
    )
    for item in items:
        _record_listed(
            item, reason=f"One of the {settings.HIGH_COST_REVIEW_COUNT} costliest placements."
        )


@transaction.atomic
def agenda_item_add(*, meeting: PanelMeeting, referral: Referral, by) -> AgendaItem:
    meeting = _lock_meeting(meeting)
    _require_chair(user=by, meeting=meeting, action="change the agenda")
    _require_open(meeting)
    if AgendaItem.objects.filter(
        meeting=meeting, referral=referral, decisions__isnull=False
    ).exists():
        # Deferred at this meeting: it waits for the next one.
        raise Conflict("This referral has already been decided at this meeting.")
    referral_services.referral_mark_listed(referral=referral, by=by, reason=f"Listed for {meeting}")
    earlier = AgendaItem.objects.filter(meeting=meeting, referral=referral).first()
    before = audit.snapshot(earlier, ITEM_FIELDS) if earlier else {}
    item, _ = AgendaItem.objects.update_or_create(
        meeting=meeting,
        referral=referral,
        # A referral taken off this agenda earlier comes back onto it, at the end.
        defaults={"kind": AgendaItem.Kind.REFERRAL, "position": _next_position(meeting),
                  "removed_at": None, "removed_by": None},
    )
    audit.record(by, "agenda_item.add", item, child=referral.child_id,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, by, reason: str = "") -> None:
    meeting = _lock_meeting(item.meeting)
    _require_chair(user=by, meeting=meeting, action="change the agenda")
    _require_open(meeting)
    item = _lock_item_on_agenda(item)
    if item.decisions.exists():
        raise Conflict("This item has a decision and cannot be taken off the agenda.")
    # A referral withdrawn while listed has nowhere to go back to; its item just goes.
    if item.kind == AgendaItem.Kind.REFERRAL and item.referral.status != S.WITHDRAWN:
        referral_services.referral_unlist(referral=item.referral, by=by, reason=reason)
    # Kept, marked removed, so the agenda builder does not list it here again.
    before = audit.snapshot(item, ("removed_at", "removed_by"))
    item.removed_at, item.removed_by = timezone.now(), by
    item.save(update_fields=["removed_at", "removed_by"])
    audit.record(by, "agenda_item.remove", item, reason=reason, child=_child_of_item(item),
                 changes=audit.diff(before, audit.snapshot(item, before)))


def _lock_item_on_agenda(item: AgendaItem) -> AgendaItem:
    item = (
        AgendaItem.objects.select_for_update(of=("self",))
        .select_related("referral", "placement")
        .get(pk=item.pk)
    )
    if item.removed_at is not None:
        raise Conflict("This item has been taken off the agenda.")
    return item


@transaction.atomic
def agenda_reorder(*, meeting: PanelMeeting, item_ids: list[int], by) -> None:
    meeting = _lock_meeting(meeting)
    _require_chair(user=by, meeting=meeting, action="change the agenda")
    _require_open(meeting)
    order = list(meeting.items.on_agenda().order_by("position", "pk").values_list("pk", flat=True))
    if set(item_ids) != set(order) or len(item_ids) != len(order):
        raise InvalidInput("Give every item on the agenda exactly once.", field="item_ids")
    for position, pk in enumerate(item_ids, start=1):
        AgendaItem.objects.filter(pk=pk).update(position=position)
    if list(item_ids) != order:
        # One event for the meeting: the order is a property of the agenda, not of an item.
        audit.record(by, "agenda.reorder", meeting, changes={"order": [order, list(item_ids)]})


# --- Decisions -------------------------------------------------------------------------


def needs_director(*, outcome: str, out_of_area: bool, estimated_weekly_cost) -> bool:
    if outcome not in (O.APPROVE_IN_HOUSE, O.APPROVE_EXTERNAL):
        return False
    threshold = Decimal(settings.DIRECTOR_APPROVAL_WEEKLY_THRESHOLD)
    above = estimated_weekly_cost is not None and estimated_weekly_cost > threshold
    return outcome == O.APPROVE_EXTERNAL or out_of_area or above


def _validate_decision(*, item: AgendaItem, outcome: str, rationale: str, review_date) -> str:
    if outcome not in OUTCOMES_BY_KIND[item.kind]:
        choices = ", ".join(O(o).label.lower() for o in OUTCOMES_BY_KIND[item.kind])
        raise InvalidInput(f"For this item choose one of: {choices}.", field="outcome")
    rationale = (rationale or "").strip()
    if not rationale:
        raise InvalidInput("Enter the panel's rationale.", field="rationale")
    if item.kind == AgendaItem.Kind.HIGH_COST_REVIEW and review_date is None:
        raise InvalidInput("Enter when the placement will be reviewed again.", field="review_date")
    return rationale


@transaction.atomic
def decision_record(
    *, item: AgendaItem, by, outcome: str, rationale: str, conditions: str = "",
    review_date=None, estimated_weekly_cost=None, out_of_area: bool = False,
) -> Decision:
    meeting = _lock_meeting(item.meeting)
    _require_chair(user=by, meeting=meeting, action="record decisions")
    _require_open(meeting)
    item = _lock_item_on_agenda(item)
    if item.decisions.exists():
        raise Conflict("A decision has already been recorded for this item.")
    rationale = _validate_decision(
        item=item, outcome=outcome, rationale=rationale, review_date=review_date
    )
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                agenda_item=item, outcome=outcome, rationale=rationale,
                conditions=conditions.strip(), review_date=review_date,
                estimated_weekly_cost=estimated_weekly_cost, out_of_area=out_of_area,
                chaired_by=meeting.chair, decided_by=by, decided_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict("A decision has already been recorded for this item.") from None
    audit.record(by, "decision.record", decision, reason=rationale, child=_child_of_item(item),
                 changes=audit.created(decision, DECISION_FIELDS))
    if item.kind == AgendaItem.Kind.REFERRAL:
        _move_referral_after_decision(decision=decision, by=by)
    return decision


def _move_referral_after_decision(*, decision: Decision, by) -> None:
    referral = decision.agenda_item.referral
    reason = f"{decision.get_outcome_display()}: {decision.rationale}"
    director = needs_director(
        outcome=decision.outcome, out_of_area=decision.out_of_area,
        estimated_weekly_cost=decision.estimated_weekly_cost,
    )
    to = S.AWAITING_DIRECTOR if director else REFERRAL_STATUS_AFTER[decision.outcome]
    referral_services.referral_record_panel_outcome(referral=referral, by=by, to=to, reason=reason)
    if director:
        approval = DirectorApproval.objects.create(
            referral=referral,
            decision=decision,
            is_external=decision.outcome == O.APPROVE_EXTERNAL,
            is_out_of_area=decision.out_of_area,
            is_above_threshold=needs_director(
                outcome=O.APPROVE_IN_HOUSE, out_of_area=False,
                estimated_weekly_cost=decision.estimated_weekly_cost,
            ),
            requested_at=timezone.now(),
        )
        audit.record(by, "director_approval.request", approval, reason=_why_director(approval),
                     changes=audit.created(approval, APPROVAL_FIELDS), child=referral.child_id)


def _why_director(approval: DirectorApproval) -> str:
    grounds = [
        label for flag, label in (
            (approval.is_external, "an external placement"),
            (approval.is_out_of_area, "out of area"),
            (approval.is_above_threshold, "above the weekly cost threshold"),
        ) if flag
    ]
    return "Needs the Director: " + ", ".join(grounds) + "."


@transaction.atomic
def decision_correct(*, decision: Decision, by, outcome: str, rationale: str,
                     conditions: str = "", review_date=None) -> Decision:
    """A closed meeting's decision is never edited: the correction is a new record that
    supersedes it. For a referral the outcome cannot change, because the referral has
    already moved on (to sourcing, the Director, back to its team, or closed); the
    correction fixes the rationale, conditions or review date."""
    meeting = _lock_meeting(decision.agenda_item.meeting)
    _require_chair(user=by, meeting=meeting, action="correct decisions")
    if meeting.status != PanelMeeting.Status.CLOSED:
        raise TransitionNotAllowed(
            "Corrections are for closed meetings.", current=meeting.status, allowed=["closed"]
        )
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if Decision.objects.filter(supersedes=decision).exists():
        raise Conflict("This decision has already been corrected; correct the latest one.")
    if decision.agenda_item.kind == AgendaItem.Kind.REFERRAL and outcome != decision.outcome:
        raise InvalidInput(
            "A correction cannot change the outcome for a referral: it has already moved on. "
            "Correct the rationale, conditions or review date, or ask for a new referral.",
            field="outcome",
        )
    rationale = _validate_decision(
        item=decision.agenda_item, outcome=outcome, rationale=rationale, review_date=review_date
    )
    try:
        with transaction.atomic():
            correction = Decision.objects.create(
                agenda_item=decision.agenda_item, outcome=outcome, rationale=rationale,
                conditions=conditions.strip(), review_date=review_date,
                chaired_by=meeting.chair, decided_by=by, decided_at=timezone.now(),
                supersedes=decision,
            )
    except IntegrityError:
        raise Conflict("This decision has already been corrected.") from None
    changes = audit.diff(audit.snapshot(decision, CORRECTABLE_FIELDS),
                         audit.snapshot(correction, CORRECTABLE_FIELDS))
    changes["supersedes"] = [None, decision.pk]
    audit.record(by, "decision.correct", correction, changes=changes, reason=rationale,
                 child=_child_of_item(decision.agenda_item))
    return correction


@transaction.atomic
def meeting_close(*, meeting: PanelMeeting, by) -> PanelMeeting:
    meeting = _lock_meeting(meeting)
    _require_chair(user=by, meeting=meeting, action="close the meeting")
    _require_open(meeting)
    undecided = meeting.items.on_agenda().filter(decisions__isnull=True).count()
    if undecided:
        raise Conflict(
            f"{undecided} agenda item(s) have no decision. Record a decision for each, "
            "or take them off the agenda, before closing."
        )
    before = audit.snapshot(meeting, ("status", "closed_at"))
    meeting.status = PanelMeeting.Status.CLOSED
    meeting.closed_at = timezone.now()
    meeting.save(update_fields=["status", "closed_at"])
    audit.record(by, "meeting.close", meeting,
                 changes=audit.diff(before, audit.snapshot(meeting, before)))
    return meeting


# --- The Director ----------------------------------------------------------------------


def is_director(user) -> bool:
    return has_role(user, Role.DIRECTOR)


@transaction.atomic
def director_decide(*, approval: DirectorApproval, by, approved: bool, reason: str = "") -> DirectorApproval:
    if not is_director(by):
        raise ActionNotPermitted("Only the Director can approve or refuse.")
    approval = DirectorApproval.objects.select_for_update().get(pk=approval.pk)
    if approval.status != DirectorApproval.Status.PENDING:
        raise TransitionNotAllowed(
            f"This approval is already {approval.get_status_display().lower()}.",
            current=approval.status,
            allowed=[],
        )
    reason = (reason or "").strip()
    if not approved and not reason:
        raise InvalidInput("Enter the reason for refusing.", field="reason")
    decided = ("status", "decided_by", "decided_at", "reason")
    before = audit.snapshot(approval, decided)
    approval.status = DirectorApproval.Status.APPROVED if approved else DirectorApproval.Status.REFUSED
    approval.decided_by, approval.decided_at, approval.reason = by, timezone.now(), reason
    approval.save(update_fields=list(decided))
    audit.record(by, "director_approval.decide", approval, reason=reason,
                 child=approval.referral.child_id,
                 changes=audit.diff(before, audit.snapshot(approval, decided)))
    referral_services.referral_record_director_outcome(
        referral=approval.referral, by=by, approved=approved,
        reason=reason or "Approved by the Director",
    )
    return approval


def meetings_schedule_all(*, today: datetime.date) -> list[PanelMeeting]:
    """Every active panel's next meeting, created and filled; safe to run any number of
    times (one transaction per panel, so one panel's failure leaves the others done)."""
    return [
        meeting_schedule_next(panel=panel, today=today)
        for panel in Panel.objects.filter(is_active=True).select_related("default_chair")
    ]
