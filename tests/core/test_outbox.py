"""core.outbox: a task recorded in the change's transaction, run once it commits, and
swept if it was not; failures counted, transient errors not; a rolled-back change records
nothing. The real Celery tasks, run in-process."""

import io
import logging
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from core import outbox
from core.errors import ActionNotPermitted
from core.models import AuditEvent, PendingTask
from core.outbox import TaskFailed
from core.roles import Role
from core.tasks import TryLater, is_transient, run_pending_task, sweep_pending_tasks
from placements.tasks import send_notification
from providers.tasks import send_provider_emails
from tests.factories import UserFactory
from tests.mail import PICKY, REFUSING


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@example.gov.uk")


def notify(user, subject="Referral 7 awaits your endorsement") -> PendingTask:
    return outbox.enqueue(send_notification, user_ids=[user.pk], subject=subject,
                          path="/referrals/7/")


def test_a_recorded_task_runs_once_its_change_commits_and_leaves_nothing(
    manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            row = notify(manager)
            assert mail.outbox == []  # nothing before the commit

    assert [m.to for m in mail.outbox] == [["manager@example.gov.uk"]]
    assert not PendingTask.objects.filter(pk=row.pk).exists()
    # Its runner, queued twice or racing the sweep, finds nothing left to send.
    assert run_pending_task.delay(pk=row.pk).get() is False
    assert sweep_pending_tasks.delay().get() == 0
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_records_and_sends_nothing(
    manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            notify(manager)
            1 / 0  # noqa: B018

    assert callbacks == []
    assert not PendingTask.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(role_groups):
    user = UserFactory()
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        notify(user)
    assert not PendingTask.objects.exists()


def test_the_sweep_sends_what_was_left_oldest_first(manager):
    """Recorded, and the broker never took the runner (the on-commit publish never ran):
    the sweep does it."""
    first = notify(manager, subject="Referral 1 awaits your endorsement")
    second = notify(manager, subject="Referral 2 awaits your endorsement")

    assert sweep_pending_tasks.delay().get() == 2

    assert [m.subject for m in mail.outbox] == [
        "Referral 1 awaits your endorsement", "Referral 2 awaits your endorsement"]
    assert not PendingTask.objects.filter(pk__in=[first.pk, second.pk]).exists()


def test_a_failing_task_is_counted_and_set_aside_without_holding_up_the_others(
    manager, caplog
):
    """An error that retrying will not mend (here the request does not exist) counts as a
    failure; after MAX_FAILURES the sweep leaves the row for an administrator. A failure
    never stops the rows behind it."""
    caplog.set_level(logging.ERROR)
    broken = outbox.enqueue(send_provider_emails, kind="request", request_id=999_999,
                            service_ids=[1])
    notify(manager)

    assert sweep_pending_tasks.delay().get() == 1  # the good one
    assert len(mail.outbox) == 1
    broken.refresh_from_db()
    assert (broken.failures, broken.last_error) == (1, "DoesNotExist")
    assert broken.last_tried_at is not None
    assert f"Pending task {broken.pk} failed (DoesNotExist)" in caplog.text

    for _ in range(outbox.MAX_FAILURES - 1):
        assert sweep_pending_tasks.delay().get() == 0
    broken.refresh_from_db()
    assert broken.failures == outbox.MAX_FAILURES
    assert outbox.due() == []
    sweep_pending_tasks.delay().get()
    broken.refresh_from_db()
    assert broken.failures == outbox.MAX_FAILURES  # left alone


def test_the_command_runs_what_is_waiting_and_reports_what_was_set_aside(manager):
    notify(manager)
    PendingTask.objects.create(task="providers.tasks.send_provider_emails",
                               kwargs={"kind": "request", "request_id": 999_999},
                               failures=outbox.MAX_FAILURES, last_error="DoesNotExist")
    out = io.StringIO()

    call_command("run_pending_tasks", stdout=out)

    assert len(mail.outbox) == 1
    assert "Ran 1 pending task(s)." in out.getvalue()
    assert f"1 set aside after {outbox.MAX_FAILURES} failures" in out.getvalue()


def test_an_administrator_sends_set_aside_tasks_round_again_from_the_admin(admin_client, manager):
    set_aside = PendingTask.objects.create(
        task="placements.tasks.send_notification", failures=outbox.MAX_FAILURES,
        last_error="SMTPRecipientsRefused",
        kwargs={"user_ids": [manager.pk], "subject": "Referral 9 awaits your endorsement",
                "path": "/referrals/9/"})
    waiting = notify(manager)  # not set aside: nothing to do for it
    url = "/admin/core/pendingtask/"
    listed = admin_client.get(url)
    assert listed.status_code == 200 and listed.context["cl"].result_count == 2

    answer = admin_client.post(url, {"action": "retry",
                                     "_selected_action": [set_aside.pk, waiting.pk]},
                               follow=True)

    assert "1 set-aside task(s) will be tried at the next sweep" in answer.content.decode()
    set_aside.refresh_from_db()
    assert set_aside.failures == 0 and outbox.due() == [set_aside.pk, waiting.pk]
    (event,) = AuditEvent.objects.filter(action="pending_task.retry")
    assert (event.object_id, event.changes) == (
        str(set_aside.pk), {"failures": [outbox.MAX_FAILURES, 0]})
    assert sweep_pending_tasks.delay().get() == 2


def test_only_an_administrator_may_retry_and_others_only_see_nothing(client, manager):
    set_aside = PendingTask.objects.create(task="x", failures=outbox.MAX_FAILURES)
    clerk = UserFactory(roles=[Role.FINANCE_MANAGER], is_staff=True)
    with pytest.raises(ActionNotPermitted):
        outbox.retry(by=clerk, pks=[set_aside.pk])
    client.force_login(clerk)
    assert client.get("/admin/core/pendingtask/").status_code == 403
    set_aside.refresh_from_db()
    assert set_aside.failures == outbox.MAX_FAILURES
    assert not AuditEvent.objects.exists()


def test_a_refused_recipient_is_a_failure_and_holds_up_nobody(settings, manager, caplog):
    """SMTP 550 for one address: sending again would be refused again, so it counts as
    a failure (not an outage that stops the sweep), and the e-mails behind it go."""
    settings.EMAIL_BACKEND = PICKY
    bounced = notify(UserFactory(email="bounce@example.gov.uk"))
    notify(manager)

    assert sweep_pending_tasks.delay().get() == 1

    assert [m.to for m in mail.outbox] == [["manager@example.gov.uk"]]
    bounced.refresh_from_db()
    assert (bounced.failures, bounced.last_error) == (1, "SMTPRecipientsRefused")
    assert "bounce@" not in caplog.text


def test_a_mail_server_saying_later_counts_against_that_email_only(settings, manager):
    """SMTP 451 for one address (greylisting): that e-mail is tried again at the next
    sweep, the ones behind it go now."""
    settings.EMAIL_BACKEND = PICKY
    later = notify(UserFactory(email="later@example.gov.uk"))
    notify(manager)

    assert outbox.sweep() == 1

    assert [m.to for m in mail.outbox] == [["manager@example.gov.uk"]]
    later.refresh_from_db()
    assert (later.failures, later.last_error) == (1, "SMTPRecipientsRefused")
    assert outbox.due() == [later.pk]


def test_an_outage_stops_the_sweep_and_counts_against_nobody(settings, manager, caplog):
    """The mail server unreachable: every e-mail would fail alike, so the sweep stops at
    the first (its task retries with backoff) and no row is counted as failing. What it
    raises names the error's class, never an address."""
    settings.EMAIL_BACKEND = REFUSING
    first, second = notify(manager), notify(manager)

    with pytest.raises(TryLater, match=rf"Pending task {first.pk} failed \(ConnectionRefusedError\)"):
        outbox.sweep()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.failures, first.last_error, second.last_error) == (
        0, "ConnectionRefusedError", "")


def test_an_unknown_task_is_a_failure_of_its_row(manager):
    row = PendingTask.objects.create(task="placements.tasks.no_such_task", kwargs={})
    with pytest.raises(TaskFailed, match="ImportError"):
        outbox.run(row.pk)
    row.refresh_from_db()
    assert (row.failures, row.last_error) == (1, "ImportError")


@pytest.mark.parametrize("error, transient", [
    (ConnectionRefusedError(111, "refused"), True),
    (smtplib.SMTPServerDisconnected("gone"), True),
    (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),  # mend the settings
    (smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")}), False),
    (smtplib.SMTPRecipientsRefused({"a@b": (452, b"full")}), False),
    (smtplib.SMTPSenderRefused(553, b"not ours", "x@y"), False),
    (smtplib.SMTPDataError(554, b"spam"), False),
    (smtplib.SMTPDataError(451, b"later"), False),
    (TryLater("Pending task 1 failed (ConnectionRefusedError)"), True),
    (ValueError("a bug"), False),
])
def test_what_counts_as_transient(error, transient):
    assert is_transient(error) is transient
