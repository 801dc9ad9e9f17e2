"""The referral workflow against its transition table: every state × every action, every
role, reasons, the emergency path, atomicity, and who is told what once a change commits.

The expected outcomes are computed from placements.models.ALLOWED_TRANSITIONS, narrowed
by each action's own scope (a team manager endorses only what awaits endorsement; the
Director decides only what awaits the Director), so a change to the table changes the
tests."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core.errors import ActionNotPermitted, InvalidInput, TransitionNotAllowed
from core.roles import Role
from placements.models import (
    ALLOWED_TRANSITIONS,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
)
from placements.services import referrals as services
from tests.factories import ChildFactory, UserFactory, referral_in

S = ReferralStatus
TODAY = datetime.date(2026, 6, 15)


# --- The actions, as the service offers them -----------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    target: str  # the status the action moves a referral to
    actor: Role | None  # a role allowed to do it; None = the scheduled agenda builder
    call: Callable  # (referral, by, reason) -> Referral
    reason: str | None = "Recorded reason"  # what the timeline should say; None = no reason
    only_from: frozenset = field(default=frozenset(S))  # the action's own scope

    def allowed_from(self, status) -> bool:
        return self.target in ALLOWED_TRANSITIONS[status] and status in self.only_from

    def __str__(self):
        return self.name


def _submit(referral, by, reason):
    return services.referral_submit(referral=referral, by=by)


def _endorse(referral, by, reason):
    return services.referral_endorse(referral=referral, by=by, reason=reason)


def _return(referral, by, reason):
    return services.referral_return(referral=referral, by=by, reason=reason)


def _withdraw(referral, by, reason):
    return services.referral_withdraw(referral=referral, by=by, reason=reason)


def _mark_listed(referral, by, reason):
    return services.referral_mark_listed(referral=referral, by=by, reason=reason)


def _unlist(referral, by, reason):
    return services.referral_unlist(referral=referral, by=by, reason=reason)


def _panel_outcome(to):
    def call(referral, by, reason):
        return services.referral_record_panel_outcome(
            referral=referral, by=by, to=to, reason=reason
        )

    return call


def _director(approved):
    def call(referral, by, reason):
        return services.referral_record_director_outcome(
            referral=referral, by=by, approved=approved, reason=reason
        )

    return call


# What a panel decision can make of a listed referral (panels.services maps outcomes here).
PANEL_OUTCOME_STATUSES = (
    S.READY_FOR_SOURCING,  # approved in-house, below the Director's threshold
    S.AWAITING_DIRECTOR,  # approved external, out of area or above the threshold
    S.DECLINED,
    S.RETURNED,  # returned for more work
    S.ENDORSED,  # deferred to the next meeting
)
ONLY_SUBMITTED = frozenset({S.SUBMITTED})
ONLY_LISTED = frozenset({S.LISTED})
ONLY_AWAITING_DIRECTOR = frozenset({S.AWAITING_DIRECTOR})

ACTIONS = [
    Action("submit", S.SUBMITTED, Role.SOCIAL_WORKER, _submit, reason=""),
    Action("endorse", S.ENDORSED, Role.TEAM_MANAGER, _endorse, only_from=ONLY_SUBMITTED),
    Action("return", S.RETURNED, Role.TEAM_MANAGER, _return, only_from=ONLY_SUBMITTED),
    Action("withdraw", S.WITHDRAWN, Role.SOCIAL_WORKER, _withdraw),
    Action("mark listed by the scheduler", S.LISTED, None, _mark_listed),
    Action("mark listed by a chair", S.LISTED, Role.PANEL_CHAIR, _mark_listed),
    Action("unlist", S.ENDORSED, Role.PANEL_CHAIR, _unlist, only_from=ONLY_LISTED),
    *[
        Action(f"panel outcome to {to}", to, Role.PANEL_CHAIR, _panel_outcome(to),
               only_from=ONLY_LISTED)
        for to in PANEL_OUTCOME_STATUSES
    ],
    Action("director approves", S.READY_FOR_SOURCING, Role.DIRECTOR, _director(True),
           only_from=ONLY_AWAITING_DIRECTOR),
    Action("director refuses", S.DECLINED, Role.DIRECTOR, _director(False),
           only_from=ONLY_AWAITING_DIRECTOR),
]
ALLOWED_CASES = [(s, a) for s in S for a in ACTIONS if a.allowed_from(s)]
REFUSED_CASES = [(s, a) for s in S for a in ACTIONS if not a.allowed_from(s)]


def _case_id(value):
    return str(value.value if isinstance(value, S) else value)


def snapshot(referral) -> tuple:
    """Everything a refused action must leave alone, read from the database."""
    row = Referral.objects.get(pk=referral.pk)
    return (row.status, row.updated_at, row.retrospective_review_due,
            ReferralStatusChange.objects.filter(referral=referral).count())


def actor_for(personas, role):
    return None if role is None else personas[role]


@pytest.fixture
def sw(personas):
    return personas[Role.SOCIAL_WORKER]


@pytest.fixture
def other_team_social_worker(south):
    return UserFactory(username="south_social_worker", roles=[Role.SOCIAL_WORKER], team=south)


def north_referral(status, personas, north, **kwargs):
    return referral_in(status, team=north, created_by=personas[Role.SOCIAL_WORKER], **kwargs)


# --- The transition table, exhaustively ---------------------------------------------


def test_every_action_is_allowed_from_some_state_and_refused_from_others():
    """Guards the parametrisation below against going vacuous when the table changes."""
    for action in ACTIONS:
        allowed = [s for s in S if action.allowed_from(s)]
        assert allowed, f"{action} is allowed from no state"
        assert len(allowed) < len(S), f"{action} is allowed from every state"


@pytest.mark.parametrize("status,action", ALLOWED_CASES, ids=_case_id)
def test_allowed_move_changes_status_and_records_who_and_why(personas, north, status, action):
    referral = north_referral(status, personas, north)
    by = actor_for(personas, action.actor)

    action.call(referral, by, action.reason)

    referral.refresh_from_db()
    assert referral.status == action.target
    change = ReferralStatusChange.objects.get(referral=referral)
    assert (change.from_status, change.to_status, change.by) == (status, action.target, by)
    if action.reason is not None:
        assert change.reason == action.reason
    assert change.at is not None


@pytest.mark.parametrize("status,action", REFUSED_CASES, ids=_case_id)
def test_disallowed_move_is_refused_and_changes_nothing(personas, north, status, action):
    referral = north_referral(status, personas, north)
    before = snapshot(referral)

    with pytest.raises(TransitionNotAllowed) as refused:
        action.call(referral, actor_for(personas, action.actor), action.reason or "A reason")

    # The refusal says where the referral is and where it could go (the API answers 409
    # with these).
    assert refused.value.current == status
    assert refused.value.allowed == sorted(ALLOWED_TRANSITIONS[status])
    assert snapshot(referral) == before


@pytest.mark.parametrize("to", [s for s in S if s not in PANEL_OUTCOME_STATUSES], ids=_case_id)
def test_a_panel_cannot_move_a_listed_referral_anywhere_but_a_panel_outcome(personas, north, to):
    referral = north_referral(S.LISTED, personas, north)
    before = snapshot(referral)

    with pytest.raises(TransitionNotAllowed):
        services.referral_record_panel_outcome(
            referral=referral, by=personas[Role.PANEL_CHAIR], to=to, reason="Not a panel outcome"
        )

    assert snapshot(referral) == before


# --- Each action by every role -------------------------------------------------------

OTHER_TEAM_SW = "other team's social worker"
EVERYONE = [*Role, OTHER_TEAM_SW]
# Who may do what (issue 3, DESIGN.md "The people").
PERMITTED = {
    "submit": {Role.SOCIAL_WORKER, Role.TEAM_MANAGER},
    "endorse": {Role.TEAM_MANAGER},
    "return": {Role.TEAM_MANAGER},
    "withdraw": {Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.ADMINISTRATOR},
    "mark listed by a chair": {Role.PANEL_CHAIR},
    "unlist": {Role.PANEL_CHAIR},
    **{f"panel outcome to {to}": {Role.PANEL_CHAIR} for to in PANEL_OUTCOME_STATUSES},
    "director approves": {Role.DIRECTOR},
    "director refuses": {Role.DIRECTOR},
}
ROLE_CASES = [
    (action, who) for action in ACTIONS if action.name in PERMITTED for who in EVERYONE
]


def who_is(who, personas, other_team_social_worker):
    return other_team_social_worker if who == OTHER_TEAM_SW else personas[who]


def _who_id(value):
    return str(value.value if isinstance(value, Role) else value)


def first_allowed_state(action):
    return next(s for s in S if action.allowed_from(s))


@pytest.mark.parametrize("action,who", ROLE_CASES, ids=_who_id)
def test_each_action_by_every_role(personas, north, other_team_social_worker, action, who):
    status = first_allowed_state(action)
    referral = north_referral(status, personas, north)
    before = snapshot(referral)
    by = who_is(who, personas, other_team_social_worker)

    if who in PERMITTED[action.name]:
        action.call(referral, by, "A reason")
        assert Referral.objects.get(pk=referral.pk).status == action.target
    else:
        with pytest.raises(ActionNotPermitted):
            action.call(referral, by, "A reason")
        assert snapshot(referral) == before


def test_every_action_a_person_takes_has_its_permitted_roles():
    people_actions = {action.name for action in ACTIONS if action.actor is not None}
    assert set(PERMITTED) == people_actions


DRAFT_FIELDS = {"placement_type_sought": "U4", "wanted_start_date": TODAY}


@pytest.mark.parametrize("who", EVERYONE, ids=_who_id)
def test_only_the_childs_team_can_start_a_referral(personas, north, other_team_social_worker, who):
    child = ChildFactory(team=north)
    by = who_is(who, personas, other_team_social_worker)

    if who in {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}:
        referral = services.referral_create(child=child, by=by, fields=DRAFT_FIELDS)
        assert referral.status == S.DRAFT
        assert referral.status_changes.get().to_status == S.DRAFT
    else:
        with pytest.raises(ActionNotPermitted):
            services.referral_create(child=child, by=by, fields=DRAFT_FIELDS)
        assert not Referral.objects.exists()


@pytest.mark.parametrize("who", EVERYONE, ids=_who_id)
def test_only_the_childs_team_can_edit_a_draft(personas, north, other_team_social_worker, who):
    referral = north_referral(S.DRAFT, personas, north, needs_summary="Before")
    by = who_is(who, personas, other_team_social_worker)

    if who in {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}:
        services.referral_update(referral=referral, by=by, fields={"needs_summary": "After"})
        assert Referral.objects.get(pk=referral.pk).needs_summary == "After"
    else:
        with pytest.raises(ActionNotPermitted):
            services.referral_update(referral=referral, by=by, fields={"needs_summary": "After"})
        assert Referral.objects.get(pk=referral.pk).needs_summary == "Before"


@pytest.mark.parametrize("status", [s for s in S if s not in services.EDITABLE_STATUSES],
                         ids=_case_id)
def test_only_drafts_and_returned_referrals_can_be_edited(personas, north, status):
    referral = north_referral(status, personas, north, needs_summary="Before")

    with pytest.raises(TransitionNotAllowed):
        services.referral_update(
            referral=referral, by=personas[Role.SOCIAL_WORKER], fields={"needs_summary": "After"}
        )

    assert Referral.objects.get(pk=referral.pk).needs_summary == "Before"


# --- Reasons -------------------------------------------------------------------------


@pytest.mark.parametrize("service,role", [
    (services.referral_return, Role.TEAM_MANAGER),
    (services.referral_withdraw, Role.SOCIAL_WORKER),
], ids=["return", "withdraw"])
@pytest.mark.parametrize("reason", ["", "   \n", None], ids=["empty", "blank", "none"])
def test_return_and_withdraw_need_a_reason(personas, north, service, role, reason):
    referral = north_referral(S.SUBMITTED, personas, north)
    before = snapshot(referral)

    with pytest.raises(InvalidInput) as refused:
        service(referral=referral, by=personas[role], reason=reason)

    assert refused.value.field == "reason"
    assert snapshot(referral) == before


def test_a_reason_is_recorded_without_surrounding_space(personas, north):
    referral = north_referral(S.SUBMITTED, personas, north)
    services.referral_return(referral=referral, by=personas[Role.TEAM_MANAGER],
                             reason="  Add the health assessment.  \n")
    assert referral.status_changes.get().reason == "Add the health assessment."


def test_a_returned_referral_can_be_edited_and_resubmitted(personas, north):
    referral = north_referral(S.SUBMITTED, personas, north)
    services.referral_return(referral=referral, by=personas[Role.TEAM_MANAGER], reason="More")
    services.referral_update(referral=referral, by=personas[Role.SOCIAL_WORKER],
                             fields={"needs_summary": "Fuller"})
    services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER])

    assert list(referral.status_changes.values_list("from_status", "to_status")) == [
        (S.SUBMITTED, S.RETURNED), (S.RETURNED, S.SUBMITTED),
    ]


# --- Emergencies ---------------------------------------------------------------------


def test_an_emergency_goes_straight_to_sourcing_with_two_timeline_rows(personas, north):
    referral = north_referral(S.DRAFT, personas, north, is_emergency=True)
    sw = personas[Role.SOCIAL_WORKER]

    services.referral_submit(referral=referral, by=sw, today=TODAY)

    referral.refresh_from_db()
    assert referral.status == S.READY_FOR_SOURCING
    assert referral.retrospective_review_due == TODAY + datetime.timedelta(days=7)
    changes = list(referral.status_changes.values_list("from_status", "to_status", "by"))
    assert changes == [(S.DRAFT, S.SUBMITTED, sw.pk), (S.SUBMITTED, S.READY_FOR_SOURCING, sw.pk)]
    assert "retrospective panel review due 22 June 2026" in referral.status_changes.last().reason


def test_the_retrospective_review_window_is_configurable(personas, north, settings):
    settings.EMERGENCY_REVIEW_DAYS = 3
    referral = north_referral(S.DRAFT, personas, north, is_emergency=True)

    services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER])

    referral.refresh_from_db()
    assert referral.retrospective_review_due == timezone.localdate() + datetime.timedelta(days=3)


def test_an_ordinary_referral_has_no_retrospective_review(personas, north):
    referral = north_referral(S.DRAFT, personas, north)
    services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER], today=TODAY)
    referral.refresh_from_db()
    assert (referral.status, referral.retrospective_review_due) == (S.SUBMITTED, None)


def test_a_draft_marked_emergency_is_urgent_today(personas, north):
    child = ChildFactory(team=north)
    referral = services.referral_create(
        child=child, by=personas[Role.SOCIAL_WORKER],
        fields={**DRAFT_FIELDS, "is_emergency": True, "urgency": "later"},
    )
    assert referral.urgency == "today"


# --- Atomicity -----------------------------------------------------------------------


class Boom(Exception):
    pass


def fail_after_the_status_update(monkeypatch, referral):
    """Make the timeline insert fail, having first checked that the status row had
    already been updated inside the transaction (so the test proves a rollback)."""
    seen = []

    def create(**kwargs):
        seen.append(Referral.objects.get(pk=referral.pk).status)
        raise Boom("the timeline insert failed")

    monkeypatch.setattr(ReferralStatusChange.objects, "create", create)
    return seen


@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_a_failed_timeline_insert_rolls_the_whole_transition_back(
    personas, north, monkeypatch, action
):
    status = first_allowed_state(action)
    referral = north_referral(status, personas, north)
    before = snapshot(referral)
    seen = fail_after_the_status_update(monkeypatch, referral)

    with pytest.raises(Boom):
        action.call(referral, actor_for(personas, action.actor), "A reason")

    assert seen == [action.target]  # the update had happened...
    monkeypatch.undo()
    assert snapshot(referral) == before  # ...and was rolled back


def test_a_failed_emergency_submission_leaves_a_draft_without_a_review_date(
    personas, north, monkeypatch
):
    referral = north_referral(S.DRAFT, personas, north, is_emergency=True)
    real_create = ReferralStatusChange.objects.create
    calls = []

    def create(**kwargs):  # the second hop's timeline row fails
        calls.append(kwargs["to_status"])
        if kwargs["to_status"] == S.READY_FOR_SOURCING:
            raise Boom("the second timeline insert failed")
        return real_create(**kwargs)

    monkeypatch.setattr(ReferralStatusChange.objects, "create", create)
    with pytest.raises(Boom):
        services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER])
    monkeypatch.undo()

    assert calls == [S.SUBMITTED, S.READY_FOR_SOURCING]
    row = Referral.objects.get(pk=referral.pk)
    assert (row.status, row.retrospective_review_due) == (S.DRAFT, None)
    assert not ReferralStatusChange.objects.filter(referral=referral).exists()


# --- Notifications -------------------------------------------------------------------


@pytest.fixture
def addresses(personas, other_team_social_worker, south):
    """Give everyone an address; a South team manager must never hear about North."""
    south_manager = UserFactory(username="south_team_manager", roles=[Role.TEAM_MANAGER],
                                team=south)
    people = [*personas.values(), other_team_social_worker, south_manager]
    for user in people:
        user.email = f"{user.username}@example.gov.uk"
        user.save(update_fields=["email"])
    return {user.username: user.email for user in people}


def sent_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


# (start, action, who should hear) — the next actor for each state reached.
NOTIFIED = [
    (S.DRAFT, "submit", ["team_manager@example.gov.uk"]),
    (S.SUBMITTED, "endorse", ["panel_chair@example.gov.uk"]),
    (S.SUBMITTED, "return", ["social_worker@example.gov.uk"]),
    (S.SUBMITTED, "withdraw", ["social_worker@example.gov.uk"]),
    (S.LISTED, "panel outcome to awaiting_director", ["director@example.gov.uk"]),
    (S.LISTED, "panel outcome to ready_for_sourcing", ["commissioning_officer@example.gov.uk"]),
    (S.LISTED, "panel outcome to declined", ["social_worker@example.gov.uk"]),
    (S.LISTED, "panel outcome to returned", ["social_worker@example.gov.uk"]),
    (S.AWAITING_DIRECTOR, "director approves", ["commissioning_officer@example.gov.uk"]),
    (S.AWAITING_DIRECTOR, "director refuses", ["social_worker@example.gov.uk"]),
]
ACTIONS_BY_NAME = {action.name: action for action in ACTIONS}


@pytest.mark.parametrize("status,action_name,expected", NOTIFIED, ids=lambda v: str(v))
def test_the_next_actor_is_emailed_once_the_transition_commits(
    personas, north, addresses, django_capture_on_commit_callbacks, status, action_name, expected
):
    action = ACTIONS_BY_NAME[action_name]
    referral = north_referral(status, personas, north)

    with django_capture_on_commit_callbacks(execute=True):
        action.call(referral, actor_for(personas, action.actor), "A reason")
        assert mail.outbox == []  # nothing leaves before the commit

    assert sent_to() == expected
    assert all(f"Referral {referral.pk} " in message.subject for message in mail.outbox)


def test_listing_for_panel_sends_nothing(
    personas, north, addresses, django_capture_on_commit_callbacks
):
    referral = north_referral(S.ENDORSED, personas, north)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_mark_listed(referral=referral, by=None, reason="Listed")
    assert mail.outbox == []


def test_an_emergency_tells_the_commissioners_not_the_team_manager(
    personas, north, addresses, django_capture_on_commit_callbacks
):
    referral = north_referral(S.DRAFT, personas, north, is_emergency=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER])
    assert sent_to() == ["commissioning_officer@example.gov.uk"]


def test_a_rolled_back_transition_sends_nothing(
    personas, north, addresses, django_capture_on_commit_callbacks
):
    referral = north_referral(S.DRAFT, personas, north)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER])
        raise Boom("something later in the same request failed")
    assert callbacks == []
    assert mail.outbox == []
    assert Referral.objects.get(pk=referral.pk).status == S.DRAFT


def test_emails_carry_ids_and_a_link_but_never_the_childs_name(
    personas, north, addresses, django_capture_on_commit_callbacks
):
    child = ChildFactory(team=north, first_name="Zebedee", last_name="Quartermaine")
    referral = referral_in(S.DRAFT, child=child, created_by=personas[Role.SOCIAL_WORKER])

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_submit(referral=referral, by=personas[Role.SOCIAL_WORKER])

    [message] = mail.outbox
    text = f"{message.subject}\n{message.body}"
    assert "Zebedee" not in text and "Quartermaine" not in text
    assert f"Referral {referral.pk}" in message.subject
    assert f"{django_settings.SITE_URL}/referrals/{referral.pk}/" in message.body


def test_people_without_an_address_or_no_longer_active_are_skipped(
    personas, north, addresses, django_capture_on_commit_callbacks
):
    extra = UserFactory(roles=[Role.PANEL_CHAIR], email="")
    gone = UserFactory(roles=[Role.PANEL_CHAIR], email="gone@example.gov.uk", is_active=False)
    referral = north_referral(S.SUBMITTED, personas, north)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_endorse(referral=referral, by=personas[Role.TEAM_MANAGER])
    assert sent_to() == ["panel_chair@example.gov.uk"]
    assert extra.pk and gone.pk


def test_a_superuser_outside_the_team_cannot_endorse(north):
    root = UserFactory(is_superuser=True, is_staff=True, roles=[Role.ADMINISTRATOR])
    referral = referral_in(S.SUBMITTED, team=north)

    with pytest.raises(ActionNotPermitted):
        services.referral_endorse(referral=referral, by=root)
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED


def test_the_referral_answers_cover_every_field_the_author_writes():
    from placements.models import REFERRAL_ANSWERS, Referral

    workflow = {"id", "child", "status", "created_by", "created_at", "updated_at",
                "retrospective_review_due"}
    authored = {f.name for f in Referral._meta.get_fields()
                if f.concrete and not f.many_to_many and f.name not in workflow}
    assert set(REFERRAL_ANSWERS) == authored
