"""The audit events of the market's sourcing services and the chase: every request,
invitation and quote change is recorded with its actor (none for the chase), what changed
and why, and names the child the request is for (found through placements' link, which
providers never import); a refused action writes none. (The directory's events are in
test_audit_catalogue.py.)"""

import datetime

import pytest

from core.errors import ActionNotPermitted, InvalidInput, TransitionNotAllowed
from core.models import AuditEvent
from core.roles import Role
from placements.models import ReferralSourcingRequest
from placements.services import referrals as referral_services
from placements.services import sourcing as placement_sourcing
from providers.models import NegotiationStep, Quote, SourcingInvitation, SourcingRequest
from providers.services import sourcing as services
from providers.services.chasing import invitations_chase
from providers.tasks import chase_sourcing_invitations
from tests.sourcing import (  # noqa: F401 (fixtures)
    market_fixture,
    market_request,
    officer_fixture,
    ready_referral,
)

R = SourcingRequest.Status
HOUR = datetime.timedelta(hours=1)
SPOT_REASON = "No framework home matched."


@pytest.fixture
def referral(north):
    return ready_referral(team=north)


@pytest.fixture
def draft(officer, referral):
    """A draft request for the referral's child, linked as sourcing_start links it."""
    request = market_request(by=officer)
    ReferralSourcingRequest.objects.create(referral=referral, sourcing_request=request)
    return request


@pytest.fixture
def sent(market, officer, draft):
    """Sent to the good framework home and the spot home (off framework)."""
    return services.sourcing_request_send(
        by=officer, request=draft, service_ids=[market.good.pk, market.spot.pk],
        off_framework_reasons={market.spot.pk: SPOT_REASON},
    )


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def event(action, obj):
    return AuditEvent.objects.get(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    )


def invitation(request, service):
    return request.invitations.get(service=service)


def offer(officer, request, service, price="900"):
    return services.quote_record(by=officer, request=request, service=service,
                                 quoted_weekly_price=price)


# --- Requests and invitations -------------------------------------------------------------


def test_a_request_started_for_a_referral_names_the_child(market, officer, referral):
    request = placement_sourcing.sourcing_start(by=officer, referral=referral)

    created = event("sourcing_request.create", request)
    assert (created.actor, created.child_id) == (officer, referral.child_id)
    assert created.changes["reference"] == [None, request.reference]
    assert created.changes["status"] == [None, "draft"]
    assert created.changes["placement_type"] == [None, "U4"]


def test_a_request_with_no_referral_names_no_child(market, officer):
    request = services.sourcing_request_create(by=officer, fields={
        "placement_type": "U4", "age_years": 12, "sex": "F", "area": "LS6",
        "urgency": "later", "wanted_start_date": market.today,
    })
    assert event("sourcing_request.create", request).child_id is None


def test_sending_records_the_request_and_each_invitation(market, officer, referral, sent):
    send, *invited = events()

    assert (send.action, send.object_id, send.actor) == (
        "sourcing_request.send", str(sent.pk), officer
    )
    assert send.changes["status"] == ["draft", "sent"]
    assert send.changes["response_deadline"] == [None, sent.response_deadline.isoformat()]
    good, spot = invitation(sent, market.good), invitation(sent, market.spot)
    assert [(e.action, e.object_id, e.reason) for e in invited] == [
        ("invitation.add", str(good.pk), ""), ("invitation.add", str(spot.pk), SPOT_REASON),
    ]
    assert invited[1].changes["on_framework"] == [None, False]
    assert {e.child_id for e in events()} == {referral.child_id}


def test_a_provider_invited_after_the_deadline_extends_it(market, officer, referral, sent):
    SourcingRequest.objects.filter(pk=sent.pk).update(
        response_deadline=sent.response_deadline - 200 * HOUR
    )
    old_deadline = SourcingRequest.objects.get(pk=sent.pk).response_deadline
    first = len(events())

    added = services.invitation_add(by=officer, request=sent, service=market.far,
                                    off_framework_reason="")

    invited, extended = events()[first:]
    assert (invited.action, invited.object_id) == ("invitation.add", str(added.pk))
    assert (extended.action, extended.object_id) == ("sourcing_request.extend", str(sent.pk))
    assert extended.changes["response_deadline"][0] == old_deadline.isoformat()
    assert {invited.child_id, extended.child_id} == {referral.child_id}


# --- Answers, negotiation, setting aside ----------------------------------------------------


def test_recording_an_offer_records_the_quote_and_the_answered_invitation(
    market, officer, referral, sent
):
    first = len(events())

    quote = offer(officer, sent, market.good, price="875.5")

    recorded, answered = events()[first:]
    assert (recorded.action, recorded.object_id, recorded.actor, recorded.child_id) == (
        "quote.record", str(quote.pk), officer, referral.child_id
    )
    assert recorded.changes["quoted_weekly_price"] == [None, "875.50"]
    assert recorded.changes["status"] == [None, "offered"]
    assert (answered.action, answered.changes) == (
        "invitation.respond", {"status": ["sent", "responded"]}
    )
    assert answered.object_id == str(invitation(sent, market.good).pk)


def test_a_provider_declining_is_recorded_with_its_reason(market, officer, referral, sent):
    quote = services.quote_record_declined(by=officer, request=sent, service=market.spot,
                                           reason="No carers free")

    declined = event("quote.record_declined", quote)
    assert (declined.reason, declined.child_id) == ("No carers free", referral.child_id)
    assert declined.changes["status"] == [None, "provider_declined"]


def test_each_negotiation_step_is_an_event_on_the_quote(market, officer, referral, sent):
    quote = offer(officer, sent, market.good, price="900")

    counter = services.quote_negotiate(
        by=officer, quote=quote, kind=NegotiationStep.Kind.COUNTER_OFFER, weekly_price="820",
        note="Asked for the framework price",
    )
    services.quote_negotiate(by=officer, quote=quote, kind=NegotiationStep.Kind.AGREED,
                                    weekly_price="850")

    countered, agreed = events(action="quote.negotiate")
    assert countered.object_id == agreed.object_id == str(quote.pk)
    assert countered.reason == "Asked for the framework price"
    assert countered.changes == {
        "status": ["offered", "negotiating"], "negotiation_step": [None, counter.pk],
        "step_kind": [None, "counter_offer"], "step_weekly_price": [None, "820.00"],
    }
    assert agreed.changes["agreed_weekly_price"] == [None, "850.00"]
    assert agreed.changes["agreed_by"] == [None, officer.pk]
    assert agreed.changes["negotiated_saving"][0] is None
    assert agreed.changes["step_kind"] == [None, "agreed"]
    assert agreed.child_id == referral.child_id


@pytest.mark.parametrize("service_call,action,status", [
    (services.quote_decline, "quote.decline", "declined"),
    (services.quote_withdraw, "quote.withdraw", "withdrawn"),
])
def test_setting_an_offer_aside_is_recorded_with_its_reason(
    market, officer, sent, service_call, action, status
):
    quote = offer(officer, sent, market.good)

    service_call(by=officer, quote=quote, reason="Too dear")

    set_aside = event(action, quote)
    assert (set_aside.actor, set_aside.reason) == (officer, "Too dear")
    assert set_aside.changes == {"status": ["offered", status],
                                 "decline_reason": ["", "Too dear"]}


# --- Accepting and closing ----------------------------------------------------------------


def test_accepting_records_every_row_the_close_changes(market, officer, referral, sent):
    chosen = offer(officer, sent, market.good, price="850")
    other = services.invitation_add(by=officer, request=sent, service=market.far,
                                    off_framework_reason="")
    services.quote_record(by=officer, request=sent, service=market.spot,
                          quoted_weekly_price="990")
    other_quote = Quote.objects.get(sourcing_request=sent, service=market.spot)
    first = len(events())

    services.quote_accept(by=officer, quote=chosen)

    accepted, declined, silent, closed = events()[first:]
    assert (accepted.action, accepted.object_id) == ("quote.accept", str(chosen.pk))
    assert accepted.changes["status"] == ["offered", "accepted"]
    assert accepted.changes["agreed_weekly_price"] == [None, "850.00"]
    assert (declined.action, declined.object_id, declined.reason) == (
        "quote.decline", str(other_quote.pk), "Another offer was chosen."
    )
    assert declined.changes["status"] == ["offered", "declined"]
    assert (silent.action, silent.object_id, silent.changes) == (
        "invitation.no_response", str(other.pk), {"status": ["sent", "no_response"]}
    )
    assert (closed.action, closed.object_id) == ("sourcing_request.close", str(sent.pk))
    assert closed.changes["status"] == ["sent", "closed"]
    assert closed.reason == "Placed with Good Carers (Framework Fostering)."
    assert {e.actor for e in events()[first:]} == {officer}
    assert {e.child_id for e in events()[first:]} == {referral.child_id}


def test_closing_a_draft_cancels_it_and_closing_a_sent_request_closes_it(
    market, officer, draft
):
    other = market_request(by=officer)
    services.sourcing_request_send(by=officer, request=other, service_ids=[market.good.pk])

    services.sourcing_request_close(by=officer, request=draft, reason="Need ended")
    services.sourcing_request_close(by=officer, request=other, reason="Nothing suitable")

    cancelled = event("sourcing_request.cancel", draft)
    assert (cancelled.reason, cancelled.changes["status"]) == ("Need ended", ["draft", "cancelled"])
    assert cancelled.changes["outcome_note"] == ["", "Need ended"]
    closed = event("sourcing_request.close", other)
    assert (closed.reason, closed.changes["status"]) == ("Nothing suitable", ["sent", "closed"])
    assert event("invitation.no_response", other.invitations.get()).actor == officer


def test_withdrawing_the_referral_audits_the_abandoned_request_as_the_worker(
    personas, referral, sent
):
    worker = personas[Role.SOCIAL_WORKER]
    referral.status = "sourcing"
    referral.save(update_fields=["status"])

    referral_services.referral_withdraw(referral=referral, by=worker, reason="Went home")

    closed = event("sourcing_request.close", sent)
    assert (closed.actor, closed.child_id) == (worker, referral.child_id)
    assert closed.reason == "The referral was withdrawn: Went home"


# --- The chase (the system) ---------------------------------------------------------------


def test_each_chase_and_each_no_response_is_a_system_event(market, officer, referral, sent):
    offer(officer, sent, market.good)
    spot = invitation(sent, market.spot)
    first = len(events())

    invitations_chase(now=sent.sent_at + 61 * HOUR)
    invitations_chase(now=sent.sent_at + 62 * HOUR)  # nothing more to chase
    invitations_chase(now=sent.sent_at + 121 * HOUR)
    invitations_chase(now=sent.sent_at + 122 * HOUR)  # nothing more to mark

    chased, expired = events()[first:]
    assert (chased.action, chased.object_id, chased.actor, chased.child_id) == (
        "invitation.chase", str(spot.pk), None, referral.child_id
    )
    assert chased.changes == {"chased_at": [None, (sent.sent_at + 61 * HOUR).isoformat()]}
    assert (expired.action, expired.object_id, expired.actor, expired.child_id) == (
        "invitation.no_response", str(spot.pk), None, referral.child_id
    )
    assert expired.changes == {"status": ["sent", "no_response"]}
    assert expired.reason == "No answer by the response deadline."


def test_the_chase_task_writes_the_same_events(officer, sent):
    SourcingRequest.objects.filter(pk=sent.pk).update(
        sent_at=sent.sent_at - 61 * HOUR, response_deadline=sent.response_deadline - 61 * HOUR
    )
    sent.invitations.update(sent_at=sent.sent_at - 61 * HOUR)

    assert chase_sourcing_invitations.delay().get()["chased"] == 2

    chases = events(action="invitation.chase")
    assert sorted(e.object_id for e in chases) == sorted(
        str(pk) for pk in sent.invitations.values_list("pk", flat=True)
    )
    assert {e.actor for e in chases} == {None}


# --- Refused actions write nothing ----------------------------------------------------------
# Each attempt sets the scene, then returns the refused call.


def _record_as_social_worker(ctx):
    return lambda: services.quote_record(
        by=ctx["personas"][Role.SOCIAL_WORKER], request=ctx["sent"], service=ctx["market"].good,
        quoted_weekly_price="900",
    )


def _record_for_an_uninvited_service(ctx):
    return lambda: offer(ctx["officer"], ctx["sent"], ctx["market"].far)


def _negotiate_above_the_quote(ctx):
    quote = offer(ctx["officer"], ctx["sent"], ctx["market"].good, price="900")
    return lambda: services.quote_negotiate(
        by=ctx["officer"], quote=quote, kind=NegotiationStep.Kind.AGREED, weekly_price="950"
    )


def _accept_a_declined_quote(ctx):
    quote = offer(ctx["officer"], ctx["sent"], ctx["market"].good)
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.DECLINED)
    return lambda: services.quote_accept(by=ctx["officer"], quote=quote)


def _decline_without_reason(ctx):
    quote = offer(ctx["officer"], ctx["sent"], ctx["market"].good)
    return lambda: services.quote_decline(by=ctx["officer"], quote=quote, reason=" ")


def _send_twice(ctx):
    return lambda: services.sourcing_request_send(
        by=ctx["officer"], request=ctx["sent"], service_ids=[ctx["market"].good.pk]
    )


def _close_a_closed_request(ctx):
    SourcingRequest.objects.filter(pk=ctx["sent"].pk).update(status=R.CLOSED)
    return lambda: services.sourcing_request_close(
        by=ctx["officer"], request=ctx["sent"], reason="Again"
    )


REFUSED = [
    (_record_as_social_worker, ActionNotPermitted),
    (_record_for_an_uninvited_service, InvalidInput),
    (_negotiate_above_the_quote, InvalidInput),
    (_accept_a_declined_quote, TransitionNotAllowed),
    (_decline_without_reason, InvalidInput),
    (_send_twice, TransitionNotAllowed),
    (_close_a_closed_request, TransitionNotAllowed),
]


@pytest.mark.parametrize("attempt,error", REFUSED, ids=[a.__name__[1:] for a, _ in REFUSED])
def test_a_refused_action_writes_no_event(market, officer, personas, sent, attempt, error):
    refused_call = attempt({"market": market, "officer": officer, "personas": personas,
                            "sent": sent})
    before = AuditEvent.objects.count()

    with pytest.raises(error):
        refused_call()

    assert AuditEvent.objects.count() == before


def test_a_chase_with_nothing_due_writes_no_event(sent):
    first = len(events())
    invitations_chase(now=sent.sent_at + HOUR)
    assert len(events()) == first


def test_an_invitation_has_no_child_without_a_referral(market, officer):
    request = market_request(by=officer)
    services.sourcing_request_send(by=officer, request=request, service_ids=[market.good.pk])
    assert {e.child_id for e in events()} == {None}
    assert SourcingInvitation.objects.filter(sourcing_request=request).exists()
