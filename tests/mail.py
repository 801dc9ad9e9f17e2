"""E-mail backends for tests that need sending to fail."""

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


def refused_and_kept(caplog) -> PendingTask:
    """After a send was refused: the failure is logged with the task's name and the
    error's class only, and the e-mail's task stays in the outbox for the sweep."""
    assert RefusingEmailBackend.attempts >= 1
    assert "Could not queue or run task core.tasks.run_pending_task" in caplog.text
    assert "manager@example" not in caplog.text
    (kept,) = PendingTask.objects.all()
    assert (kept.last_error, kept.failures) == ("ConnectionRefusedError", 0)
    return kept
