"""E-mail backends for tests that need sending to fail."""

from django.core.mail.backends.base import BaseEmailBackend


class RefusingEmailBackend(BaseEmailBackend):
    """Acts as an SMTP server that is down: every send is refused, and counted."""

    attempts = 0

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        type(self).attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")


REFUSING = "tests.mail.RefusingEmailBackend"
