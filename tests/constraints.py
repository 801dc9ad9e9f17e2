"""Shared by the constraint tests: proof that the database itself refused a write."""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction


@contextmanager
def refused_by(constraint):
    """The write inside must raise IntegrityError, in its own transaction.atomic() so the
    test database stays usable. PostgreSQL names the constraint it enforced, and SQLite
    names a CHECK constraint, so the refusal must come from the one under test."""
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        yield
    message = str(refusal.value)
    if connection.vendor == "postgresql" or message.startswith("CHECK"):
        assert constraint in message, message
