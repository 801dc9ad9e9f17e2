"""Redis down (broker and cache at a closed port): e-mails to staff and providers are not
lost. A referral submitted on its page, a sourcing request sent and the chase of silent
providers all commit, quickly; each e-mail's task stays in the outbox (core.outbox), and
the sweep, run once a worker is back, sends every one of them exactly once.

Transactional tests: the changes really commit, so the on-commit publish really runs and
really fails against the closed port."""

import logging
import threading
import time

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from core.models import PendingTask
from core.roles import Role
from core.tasks import sweep_pending_tasks
from placements.models import Referral, ReferralStatus
from providers.tasks import chase_sourcing_invitations
from tests.factories import UserFactory, referral_in
from tests.sourcing import build_market, sent_request

pytestmark = pytest.mark.django_db(transaction=True)
S = ReferralStatus
QUICK_SECONDS = 3  # as in test_redis_down: well above a refused publish


def sweep() -> int:
    """As beat runs it on a worker that is back: the real task, in-process."""
    return sweep_pending_tasks.apply().get()


def test_a_submitted_referrals_email_waits_for_the_worker_and_is_sent_once(
    client, role_groups, north, redis_down, caplog
):
    caplog.set_level(logging.WARNING)
    worker = UserFactory(roles=[Role.SOCIAL_WORKER], team=north)
    UserFactory(roles=[Role.TEAM_MANAGER], team=north, email="manager@example.gov.uk")
    referral = referral_in(S.DRAFT, team=north, created_by=worker)
    client.force_login(worker)

    started = time.perf_counter()
    response = client.post(reverse("referral-check", args=[referral.pk]))
    seconds = time.perf_counter() - started

    assert response.status_code == 302 and seconds < QUICK_SECONDS
    assert Referral.objects.get(pk=referral.pk).status == S.SUBMITTED
    assert mail.outbox == []
    (kept,) = PendingTask.objects.all()
    assert kept.task == "placements.tasks.send_notification"
    assert "Could not queue or run task core.tasks.run_pending_task" in caplog.text
    for personal in (referral.child.last_name, referral.child.local_child_id, "manager@"):
        assert personal not in caplog.text

    assert sweep() == 1
    assert [m.to for m in mail.outbox] == [["manager@example.gov.uk"]]
    assert sweep() == 0
    assert len(mail.outbox) == 1 and not PendingTask.objects.exists()


def test_a_sent_sourcing_requests_emails_wait_for_the_worker(role_groups, personas, redis_down):
    market = build_market()
    officer = personas[Role.COMMISSIONING_OFFICER]

    request = sent_request(market, by=officer, services=[market.good, market.spot])

    assert request.status == "sent" and mail.outbox == []
    # One e-mail per service, each its own row.
    assert PendingTask.objects.filter(task="providers.tasks.send_provider_emails").count() == 2
    assert sweep() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["offers@framework.example",
                                                    "offers@spot.example"]
    assert all(request.reference in m.subject for m in mail.outbox)
    assert sweep() == 0 and len(mail.outbox) == 2


def test_chases_claimed_with_the_broker_down_are_each_emailed_once(
    role_groups, personas, redis_down
):
    market = build_market()
    officer = personas[Role.COMMISSIONING_OFFICER]
    request = sent_request(market, by=officer, services=[market.good, market.spot])
    sweep()
    mail.outbox = []
    # Half the response time has gone.
    shift = (request.response_deadline - request.sent_at) / 2
    type(request).objects.filter(pk=request.pk).update(
        sent_at=request.sent_at - shift, response_deadline=request.response_deadline - shift)
    request.invitations.update(sent_at=request.sent_at - shift)

    assert chase_sourcing_invitations.apply().get() == {"chased": 2, "no_response": 0}
    assert chase_sourcing_invitations.apply().get() == {"chased": 0, "no_response": 0}

    assert mail.outbox == []
    assert PendingTask.objects.count() == 2  # one per chased invitation
    assert sweep() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["offers@framework.example",
                                                    "offers@spot.example"]
    assert all(m.subject.startswith("Reminder:") for m in mail.outbox)
    assert sweep() == 0 and len(mail.outbox) == 2


def test_the_sweep_skips_a_task_that_a_worker_is_running(role_groups, redis_down):
    """A worker holds the row (it is sending the e-mail): the sweep passes it by rather
    than send it a second time, and runs it only if the worker's run fails."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks to skip")
    from core import outbox
    from placements.tasks import send_notification

    manager = UserFactory(email="manager@example.gov.uk")
    with transaction.atomic():
        row = outbox.enqueue(send_notification, user_ids=[manager.pk],
                             subject="Referral 3 awaits your endorsement", path="/referrals/3/")
    holding, release = threading.Event(), threading.Event()

    def worker_mid_send():
        try:
            with transaction.atomic():
                PendingTask.objects.select_for_update().get(pk=row.pk)
                holding.set()
                release.wait(10)
                raise ConnectionRefusedError  # its send fails: the row stays
        except ConnectionRefusedError:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=worker_mid_send)
    thread.start()
    assert holding.wait(10)
    try:
        assert sweep() == 0
        assert mail.outbox == []
    finally:
        release.set()
        thread.join(10)

    assert sweep() == 1
    assert [m.subject for m in mail.outbox] == ["Referral 3 awaits your endorsement"]
