"""Chasing providers that have not answered: providers.services.chasing.invitations_chase
and the Celery task chase_sourcing_invitations (run eagerly, as in production without a
broker)."""

import datetime
import threading

import pytest
from django.db import connection

from core.roles import Role
from providers.models import SourcingInvitation, SourcingRequest
from providers.services import sourcing as market_services
from providers.services.chasing import invitations_chase
from providers.tasks import chase_sourcing_invitations
from tests.sourcing import (  # noqa: F401 (fixtures)
    _service,
    build_market,
    market_fixture,
    officer_fixture,
    sent_request,
)

HOUR = datetime.timedelta(hours=1)
INV = SourcingInvitation.Status


@pytest.fixture
def request_sent(market, officer):
    """Sent 'later' (120 hours to answer) to three services: half-time is 60 hours on."""
    return sent_request(market, by=officer, services=[market.good, market.spot, market.far],
                        max_distance_miles=None)


def chased_ids(result) -> list[int]:
    return sorted(pk for ids in result.chased.values() for pk in ids)


def invitation_ids(request) -> list[int]:
    return sorted(request.invitations.values_list("pk", flat=True))


def test_nobody_is_chased_before_half_the_response_time(request_sent):
    just_before = request_sent.sent_at + 60 * HOUR - datetime.timedelta(seconds=1)

    result = invitations_chase(now=just_before)

    assert result.chased == {} and result.no_response == 0
    assert not request_sent.invitations.filter(chased_at__isnull=False).exists()


def test_at_half_time_every_silent_provider_is_chased(request_sent):
    now = request_sent.sent_at + 60 * HOUR

    result = invitations_chase(now=now)

    assert list(result.chased) == [request_sent.pk]
    assert chased_ids(result) == invitation_ids(request_sent)
    assert result.no_response == 0
    assert set(request_sent.invitations.values_list("chased_at", "status")) == {(now, INV.SENT)}


def test_running_the_chase_twice_chases_each_invitation_once(request_sent):
    first_run = request_sent.sent_at + 61 * HOUR

    first = invitations_chase(now=first_run)
    second = invitations_chase(now=first_run + HOUR)

    assert chased_ids(first) == invitation_ids(request_sent)
    assert second.chased == {}
    assert set(request_sent.invitations.values_list("chased_at", flat=True)) == {first_run}


def test_a_provider_that_answered_is_not_chased(market, officer, request_sent):
    market_services.quote_record(by=officer, request=request_sent, service=market.good,
                                 quoted_weekly_price="800")
    market_services.quote_record_declined(by=officer, request=request_sent, service=market.far,
                                          reason="No carers")

    result = invitations_chase(now=request_sent.sent_at + 61 * HOUR)

    assert chased_ids(result) == [request_sent.invitations.get(service=market.spot).pk]


@pytest.mark.parametrize("after", [120, 121], ids=["at-the-deadline", "after-it"])
def test_after_the_deadline_silence_is_no_response_and_nobody_is_chased(request_sent, after):
    result = invitations_chase(now=request_sent.sent_at + after * HOUR)

    assert result.chased == {} and result.no_response == 3
    assert set(request_sent.invitations.values_list("status", "chased_at")) == {
        (INV.NO_RESPONSE, None)
    }
    # Marked once: a later run finds nothing more to do.
    again = invitations_chase(now=request_sent.sent_at + 130 * HOUR)
    assert again.chased == {} and again.no_response == 0


def test_a_chased_provider_that_stays_silent_becomes_no_response(request_sent):
    invitations_chase(now=request_sent.sent_at + 61 * HOUR)

    result = invitations_chase(now=request_sent.sent_at + 121 * HOUR)

    assert result.no_response == 3
    assert not request_sent.invitations.exclude(status=INV.NO_RESPONSE).exists()


def test_an_answer_recorded_before_the_deadline_is_not_marked_no_response(
    market, officer, request_sent
):
    market_services.quote_record(by=officer, request=request_sent, service=market.good,
                                 quoted_weekly_price="800")

    result = invitations_chase(now=request_sent.sent_at + 121 * HOUR)

    assert result.no_response == 2
    assert request_sent.invitations.get(service=market.good).status == INV.RESPONDED


def test_a_closed_request_is_not_chased(officer, request_sent):
    market_services.sourcing_request_close(by=officer, request=request_sent, reason="Need ended")

    result = invitations_chase(now=request_sent.sent_at + 61 * HOUR)

    assert result.chased == {} and result.no_response == 0


@pytest.mark.parametrize("status", [SourcingRequest.Status.CLOSED,
                                    SourcingRequest.Status.CANCELLED])
def test_invitations_left_waiting_on_a_finished_request_are_left_alone(request_sent, status):
    """Even an invitation still marked as awaiting (say, from an import) is not chased or
    marked once its request is no longer open."""
    SourcingRequest.objects.filter(pk=request_sent.pk).update(status=status)

    chase = invitations_chase(now=request_sent.sent_at + 61 * HOUR)
    expire = invitations_chase(now=request_sent.sent_at + 121 * HOUR)

    assert chase.chased == {} and expire.no_response == 0
    assert set(request_sent.invitations.values_list("status", "chased_at")) == {(INV.SENT, None)}


def test_a_provider_invited_later_is_chased_at_half_its_own_time(market, officer, request_sent):
    late = market_services.invitation_add(
        by=officer, request=request_sent,
        service=_service(market.framework_provider, "Late Carers"),
    )
    # Invited 40 hours after the others: its half-time is 80 hours after they were sent.
    SourcingInvitation.objects.filter(pk=late.pk).update(sent_at=request_sent.sent_at + 40 * HOUR)

    at_70 = invitations_chase(now=request_sent.sent_at + 70 * HOUR)
    at_80 = invitations_chase(now=request_sent.sent_at + 80 * HOUR)

    assert late.pk not in chased_ids(at_70) and len(chased_ids(at_70)) == 3
    assert chased_ids(at_80) == [late.pk]


def test_requests_are_chased_on_their_own_deadlines(market, officer, request_sent):
    urgent = sent_request(market, by=officer, services=[market.good], urgency="today")

    # 3 hours on: past half of the urgent request's 4 hours, far from the other's 60.
    result = invitations_chase(now=urgent.sent_at + 3 * HOUR)

    assert result.chased == {urgent.pk: invitation_ids(urgent)}


# --- The Celery task --------------------------------------------------------------------


def make_half_time_pass(request, *, hours):
    """Move the request back in time so that `hours` of its 120 have gone."""
    shift = datetime.timedelta(hours=hours)
    SourcingRequest.objects.filter(pk=request.pk).update(
        sent_at=request.sent_at - shift, response_deadline=request.response_deadline - shift
    )
    request.invitations.update(sent_at=request.sent_at - shift)


def chase_emails(mailoutbox):
    return [m for m in mailoutbox if m.subject.startswith("Reminder:")]


def test_the_task_emails_one_chase_per_silent_provider_even_when_run_twice(
    market, officer, request_sent, mailoutbox, django_capture_on_commit_callbacks
):
    market_services.quote_record(by=officer, request=request_sent, service=market.far,
                                 quoted_weekly_price="800")
    make_half_time_pass(request_sent, hours=61)

    # Each chase's e-mail is sent once its claim commits (core.outbox).
    with django_capture_on_commit_callbacks(execute=True):
        first = chase_sourcing_invitations.delay().get()
        second = chase_sourcing_invitations.delay().get()

    assert first == {"chased": 2, "no_response": 0}
    assert second == {"chased": 0, "no_response": 0}
    chases = chase_emails(mailoutbox)
    assert sorted(m.to[0] for m in chases) == ["offers@framework.example",
                                                "offers@spot.example"]
    assert all(m.subject.startswith(f"Reminder: placement request {request_sent.reference}")
               for m in chases)
    bodies = {m.to[0]: m.body for m in chases}
    assert "for Good Carers" in bodies["offers@framework.example"]
    assert "for Spot Carers" in bodies["offers@spot.example"]


def test_the_task_marks_no_response_after_the_deadline_and_emails_nobody(
    request_sent, mailoutbox
):
    make_half_time_pass(request_sent, hours=121)

    assert chase_sourcing_invitations.delay().get() == {"chased": 0, "no_response": 3}
    assert mailoutbox == []


def test_the_task_before_half_time_does_nothing(request_sent, mailoutbox):
    make_half_time_pass(request_sent, hours=10)

    assert chase_sourcing_invitations.delay().get() == {"chased": 0, "no_response": 0}
    assert mailoutbox == []


# --- Two runs at once (PostgreSQL) ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_chases_at_once_chase_each_invitation_once(role_groups, personas):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: a true race needs PostgreSQL")
    market = build_market()
    officer = personas[Role.COMMISSIONING_OFFICER]
    extra = [_service(market.framework_provider, f"Carers {n}") for n in range(12)]
    request = sent_request(market, by=officer, services=[market.good, market.spot, *extra])
    now = request.sent_at + 61 * HOUR
    both_ready = threading.Barrier(2, timeout=10)
    results = []

    def chase():
        try:
            both_ready.wait()
            results.append(invitations_chase(now=now))
        except Exception as error:  # anything else fails the assertions below
            results.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=chase) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2 and all(not isinstance(r, str) for r in results), results
    claimed = [pk for result in results for pk in chased_ids(result)]
    assert sorted(claimed) == invitation_ids(request)  # each exactly once
    assert not request.invitations.filter(chased_at__isnull=True).exists()
