"""E-mail backends for tests that need sending to fail."""

import smtplib

from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend

from core.models import PendingTask


class RefusingEmailBackend(BaseEmailBackend):
    """Acts as an SMTP server that is down: every send is refused, and counted."""

    attempts = 0

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        type(self).attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")


REFUSING = "tests.mail.RefusingEmailBackend"


class PickyEmailBackend(locmem.EmailBackend):
    """A mail server that refuses some recipients, as SMTP does, and delivers the rest
    to django.core.mail.outbox: "bounce@…" for good (550), "later@…" for now (451).
    Counts its refusals."""

    refusals = 0

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                if address.startswith(("bounce@", "later@")):
                    type(self).refusals += 1
                if address.startswith("bounce@"):
                    raise smtplib.SMTPRecipientsRefused({address: (550, b"No such user")})
                if address.startswith("later@"):
                    raise smtplib.SMTPRecipientsRefused({address: (451, b"Try again later")})
        return super().send_messages(messages)


PICKY = "tests.mail.PickyEmailBackend"


def refused_and_kept(caplog) -> PendingTask:
    """After a send was refused: the failure is logged with the task's name and the
    error's class only, and the e-mail's task stays in the outbox for the sweep."""
    assert RefusingEmailBackend.attempts >= 1
    assert "Could not queue or run task core.tasks.run_pending_task" in caplog.text
    assert "manager@example" not in caplog.text
    (kept,) = PendingTask.objects.all()
    assert (kept.last_error, kept.failures) == ("ConnectionRefusedError", 0)
    return kept
