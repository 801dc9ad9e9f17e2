"""Every change to a referral's state. Each public function checks the actor's
permission, enforces ALLOWED_TRANSITIONS on a locked row, writes the timeline row and the
audit event and tells whoever acts next, all in one transaction. Pages and the API call
these.

Audit actions: referral.create / .update (the answers), and one event per status change
(written by _move, the one place a status changes), named by the caller: referral.submit,
.endorse, .return, .withdraw, .mark_listed, .unlist, .panel_outcome, .director_outcome,
and the sourcing ones in placements.services.sourcing."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import audit
from core.errors import ActionNotPermitted, InvalidInput, TransitionNotAllowed
from core.roles import Role, has_role
from placements.access import referrals_visible_to
from placements.models import (
    ALLOWED_TRANSITIONS,
    REFERRAL_ANSWERS,
    Child,
    Referral,
    ReferralRisk,
    ReferralSourcingRequest,
    ReferralStatus,
    ReferralStatusChange,
)
from placements.notifications import notify_next_actors
from providers.reference import Urgency
from providers.services import sourcing as market

S = ReferralStatus
EDITABLE_STATUSES = frozenset({S.DRAFT, S.RETURNED})
# Where a panel decision can send a listed referral: approved (perhaps via the Director),
# declined, returned for more work, or deferred (endorsed again).
PANEL_OUTCOME_STATUSES = frozenset(
    {S.READY_FOR_SOURCING, S.AWAITING_DIRECTOR, S.DECLINED, S.RETURNED, S.ENDORSED}
)


# --- Permission helpers --------------------------------------------------------------


def _require_team_role(*, by, child: Child, roles: tuple[Role, ...], action: str) -> None:
    in_team = by.team_id is not None and by.team_id == child.team_id
    # Roles, not superuser status: an administrator's account reads everything but acts
    # only in the roles it holds.
    if not (has_role(by, *roles) and in_team):
        raise ActionNotPermitted(f"Only the child's team can {action} this referral.")


def _require_role(*, by, roles: tuple[Role, ...], action: str) -> None:
    if not has_role(by, *roles):
        names = " or ".join(role.label.lower() for role in roles)
        raise ActionNotPermitted(f"Only a {names} can {action} a referral.")


# --- The one place a status changes -----------------------------------------------------


def _lock(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().select_related("child").get(pk=referral.pk)


def _move(
    referral: Referral, *, to: str, by, action: str, reason: str = "", notify: bool = True,
    changes: dict | None = None,
) -> Referral:
    """Move a locked referral to `to` if the table allows it, and record who, when, why:
    the timeline row and the audit event `action` (its changes: the status, and whatever
    else the caller changed with it, in `changes`). `notify=False` for a hop that nobody
    acts on (an emergency passing through 'submitted' must not ask the team manager to
    endorse it)."""
    if to not in ALLOWED_TRANSITIONS[referral.status]:
        allowed = sorted(ALLOWED_TRANSITIONS[referral.status])
        raise TransitionNotAllowed(
            f"A referral that is '{referral.get_status_display()}' cannot become "
            f"'{S(to).label}'.",
            current=referral.status,
            allowed=allowed,
        )
    from_status = referral.status
    referral.status = to
    referral.save(update_fields=["status", "retrospective_review_due", "updated_at"])
    ReferralStatusChange.objects.create(
        referral=referral, from_status=from_status, to_status=to, by=by,
        at=timezone.now(), reason=reason,
    )
    audit.record(
        by, action, referral, changes={"status": [from_status, to], **(changes or {})},
        reason=reason,
    )
    if notify:
        notify_next_actors(referral=referral, status=to)
    return referral


def _require_status(referral: Referral, statuses: frozenset[str], message: str) -> None:
    """Refuse a move the table allows in general but this action does not (e.g. the
    Director cannot send a merely submitted referral to sourcing)."""
    if referral.status not in statuses:
        raise TransitionNotAllowed(
            message, current=referral.status, allowed=sorted(ALLOWED_TRANSITIONS[referral.status])
        )


def _require_reason(reason: str, *, action: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(f"Enter a reason to {action} the referral.", field="reason")
    return reason


# --- Drafting ---------------------------------------------------------------------------

# The answers a referral's author may set; status and dates belong to the workflow.
REFERRAL_FIELDS = frozenset(REFERRAL_ANSWERS)
# Free text about the child and where they might live. The audit log says that it changed
# and whether it is filled in, never what it says: the referral holds the words behind
# its access rules, and the log would otherwise copy special-category data into a table
# that is never pruned. Structured answers (codes, dates, yes/no) are recorded as they are.
FREE_TEXT_ANSWERS = frozenset({
    "preferred_location", "needs_summary", "communication_and_language_needs",
    "home_adaptations", "cultural_needs", "can_live_alongside", "pets", "additional_support",
})
FILLED_IN = "(text)"


def _answers(referral: Referral) -> dict:
    """The referral's answers as the audit compares them: siblings as child IDs, risks as
    {code: details}."""
    values = audit.snapshot(referral, REFERRAL_ANSWERS)
    values["siblings"] = sorted(referral.siblings.values_list("pk", flat=True))
    values["risks"] = dict(sorted(referral.risks.values_list("risk", "details")))
    return values


def _hide_text(name: str, value):
    if name == "risks" and value is not None:
        return {risk: FILLED_IN if details else "" for risk, details in value.items()}
    if name in FREE_TEXT_ANSWERS and value:
        return FILLED_IN
    return value


def _answer_changes(before: dict, after: dict) -> dict:
    """{answer: [before, after]} for the answers that changed, free text hidden (so a
    changed summary shows as ["(text)", "(text)"]: changed, words withheld)."""
    return {
        name: [_hide_text(name, old), _hide_text(name, new)]
        for name, (old, new) in audit.diff(before, after).items()
    }


def _apply_fields(referral: Referral, *, fields: dict, siblings, risks) -> None:
    unknown = set(fields) - REFERRAL_FIELDS
    if unknown:
        raise InvalidInput(f"Unknown referral fields: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(referral, name, value)
    if referral.is_emergency:
        referral.urgency = Urgency.TODAY
    referral.save()
    if siblings is not None:
        if any(sibling.pk == referral.child_id for sibling in siblings):
            raise InvalidInput("A child cannot be their own sibling.", field="siblings")
        referral.siblings.set(siblings)
    if risks is not None:
        referral.risks.all().delete()
        ReferralRisk.objects.bulk_create(
            ReferralRisk(referral=referral, risk=risk, details=details)
            for risk, details in risks.items()
        )


@transaction.atomic
def referral_create(*, child: Child, by, fields: dict, siblings=None, risks=None) -> Referral:
    """Start a draft referral. `risks` maps Risk codes to details."""
    _require_team_role(
        by=by, child=child, roles=(Role.SOCIAL_WORKER, Role.TEAM_MANAGER), action="create"
    )
    referral = Referral(child=child, created_by=by)
    _apply_fields(referral, fields=fields, siblings=siblings, risks=risks)
    ReferralStatusChange.objects.create(
        referral=referral, from_status="", to_status=S.DRAFT, by=by, at=timezone.now(),
        reason="Referral started",
    )
    # A new record's meaningful fields: the answers given (unanswered ones left out).
    answers = {
        name: change for name, change in _answer_changes({}, _answers(referral)).items()
        if change[1] not in ("", [], {})
    }
    audit.record(by, "referral.create", referral, changes={"status": [None, S.DRAFT], **answers})
    return referral


@transaction.atomic
def referral_update(*, referral: Referral, by, fields: dict, siblings=None, risks=None) -> Referral:
    referral = _lock(referral)
    _require_team_role(
        by=by, child=referral.child, roles=(Role.SOCIAL_WORKER, Role.TEAM_MANAGER), action="edit"
    )
    if referral.status not in EDITABLE_STATUSES:
        raise TransitionNotAllowed(
            f"A referral that is '{referral.get_status_display()}' cannot be edited.",
            current=referral.status,
            allowed=sorted(ALLOWED_TRANSITIONS[referral.status]),
        )
    before = _answers(referral)
    _apply_fields(referral, fields=fields, siblings=siblings, risks=risks)
    audit.record(
        by, "referral.update", referral, changes=_answer_changes(before, _answers(referral))
    )
    return referral


# --- Transitions ------------------------------------------------------------------------


@transaction.atomic
def referral_submit(*, referral: Referral, by, today: datetime.date | None = None) -> Referral:
    """Send for endorsement; an emergency goes straight to sourcing and is booked for a
    retrospective panel review."""
    referral = _lock(referral)
    _require_team_role(
        by=by, child=referral.child, roles=(Role.SOCIAL_WORKER, Role.TEAM_MANAGER), action="submit"
    )
    referral = _move(
        referral, to=S.SUBMITTED, by=by, action="referral.submit", notify=not referral.is_emergency
    )
    if referral.is_emergency:
        today = today or timezone.localdate()
        referral.retrospective_review_due = today + datetime.timedelta(
            days=settings.EMERGENCY_REVIEW_DAYS
        )
        referral = _move(
            referral,
            to=S.READY_FOR_SOURCING,
            by=by,
            action="referral.submit",
            changes={"retrospective_review_due": [None, referral.retrospective_review_due]},
            reason="Emergency: straight to sourcing; retrospective panel review due "
            f"{referral.retrospective_review_due:%d %B %Y}.",
        )
    return referral


@transaction.atomic
def referral_endorse(*, referral: Referral, by, reason: str = "") -> Referral:
    referral = _lock(referral)
    _require_team_role(by=by, child=referral.child, roles=(Role.TEAM_MANAGER,), action="endorse")
    # The table also lets a listed referral become endorsed again, but that is the panel
    # deferring it or the chair unlisting it, not the team manager.
    _require_status(
        referral, {S.SUBMITTED}, "Only a referral awaiting endorsement can be endorsed."
    )
    return _move(referral, to=S.ENDORSED, by=by, action="referral.endorse", reason=reason.strip())


@transaction.atomic
def referral_return(*, referral: Referral, by, reason: str) -> Referral:
    """The team manager sends a submitted referral back to the social worker."""
    reason = _require_reason(reason, action="return")
    referral = _lock(referral)
    _require_team_role(by=by, child=referral.child, roles=(Role.TEAM_MANAGER,), action="return")
    # Panel returns go through referral_record_panel_outcome.
    _require_status(
        referral, {S.SUBMITTED},
        "Only a referral awaiting endorsement can be returned by its team manager.",
    )
    return _move(referral, to=S.RETURNED, by=by, action="referral.return", reason=reason)


@transaction.atomic
def referral_withdraw(*, referral: Referral, by, reason: str) -> Referral:
    reason = _require_reason(reason, action="withdraw")
    referral = _lock(referral)
    if not has_role(by, Role.ADMINISTRATOR):
        _require_team_role(
            by=by, child=referral.child, roles=(Role.SOCIAL_WORKER, Role.TEAM_MANAGER),
            action="withdraw",
        )
    _abandon_open_sourcing(referral, by=by, reason=reason)
    return _move(referral, to=S.WITHDRAWN, by=by, action="referral.withdraw", reason=reason)


def _abandon_open_sourcing(referral: Referral, *, by, reason: str) -> None:
    """A withdrawn referral's open sourcing request closes with it, so providers stop being
    chased and asked, and hear that the need has gone."""
    open_links = ReferralSourcingRequest.objects.filter(
        referral=referral, sourcing_request__status__in=market.OPEN_REQUEST_STATUSES
    ).select_related("sourcing_request")
    for link in open_links:
        market.sourcing_request_abandon(
            request=link.sourcing_request, reason=f"The referral was withdrawn: {reason}", by=by
        )


# --- Moves made by panels and the Director (called from panels.services) ---------------


@transaction.atomic
def referral_mark_listed(*, referral: Referral, by=None, reason: str = "") -> Referral:
    """Listed on a meeting's agenda; `by` is None when the scheduled agenda builder did it."""
    referral = _lock(referral)
    if by is not None:
        _require_role(by=by, roles=(Role.PANEL_CHAIR,), action="list")
    return _move(referral, to=S.LISTED, by=by, action="referral.mark_listed", reason=reason)


@transaction.atomic
def referral_unlist(*, referral: Referral, by, reason: str = "") -> Referral:
    referral = _lock(referral)
    _require_role(by=by, roles=(Role.PANEL_CHAIR,), action="take off the agenda")
    _require_status(referral, {S.LISTED}, "Only a listed referral can be taken off an agenda.")
    return _move(referral, to=S.ENDORSED, by=by, action="referral.unlist",
                 reason=reason or "Taken off the agenda")


@transaction.atomic
def referral_record_panel_outcome(*, referral: Referral, by, to: str, reason: str) -> Referral:
    referral = _lock(referral)
    _require_role(by=by, roles=(Role.PANEL_CHAIR,), action="decide")
    _require_status(referral, {S.LISTED}, "Only a referral listed for panel can be decided.")
    if to not in PANEL_OUTCOME_STATUSES:
        # A listed referral may also be withdrawn, but only by its team, with a reason.
        raise TransitionNotAllowed(
            f"'{S(to).label}' is not something a panel can decide.",
            current=referral.status,
            allowed=sorted(ALLOWED_TRANSITIONS[referral.status] & PANEL_OUTCOME_STATUSES),
        )
    return _move(referral, to=to, by=by, action="referral.panel_outcome", reason=reason)


@transaction.atomic
def referral_record_director_outcome(*, referral: Referral, by, approved: bool, reason: str) -> Referral:
    referral = _lock(referral)
    _require_role(by=by, roles=(Role.DIRECTOR,), action="approve or refuse")
    _require_status(
        referral, {S.AWAITING_DIRECTOR}, "Only a referral awaiting the Director can be decided."
    )
    to = S.READY_FOR_SOURCING if approved else S.DECLINED
    return _move(referral, to=to, by=by, action="referral.director_outcome", reason=reason)


def referral_for(*, user, pk: int) -> Referral:
    """The referral if the user may see it (Referral.DoesNotExist otherwise → 404)."""
    return referrals_visible_to(user).select_related("child", "child__team").get(pk=pk)
