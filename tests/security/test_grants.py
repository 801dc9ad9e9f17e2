"""The README's PostgreSQL grants (docs/postgresql/app-role.sql), run for real: the
application role may read and write the data and add audit events, never change or remove
one, even past the application's own refusal."""

import uuid
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from core import audit
from core.models import AuditEvent
from core.roles import Role
from tests.factories import ChildFactory

GRANTS = Path(__file__).resolve().parents[2] / "docs" / "postgresql" / "app-role.sql"

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL roles and grants"
)


@pytest.fixture
def app_role(db):
    """The grants file applied to this test database, under a throwaway role name
    (roles are cluster-wide; the test's transaction rolls the role back)."""
    name = f"placements_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        sql = (
            GRANTS.read_text()
            .replace("placements_app", name)
            .replace("placements_owner", owner)
            .replace("DATABASE placements", f'DATABASE "{database}"')
        )
        statements = [
            s for s in (part.strip() for part in _without_comments(sql).split(";")) if s
        ]
        for statement in statements:
            cursor.execute(statement, params=None)
    return name


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def _as(role: str, sql: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(sql, params)
        return cursor.rowcount


def test_the_application_role_adds_audit_events_but_cannot_rewrite_them(app_role, personas):
    child = ChildFactory()
    with transaction.atomic():
        event = audit.record(personas[Role.SOCIAL_WORKER], "child.test", child)
    inserted = _as(
        app_role,
        "INSERT INTO core_auditevent (at, action, object_type, object_id, changes, reason)"
        " VALUES (now(), 'child.view', 'placements.child', %s, '{}', '')",
        [str(child.pk)],
    )
    assert inserted == 1
    for sql in (
        "UPDATE core_auditevent SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="permission denied"):
            _as(app_role, sql, [event.pk])
    with pytest.raises(DatabaseError, match="permission denied"):
        _as(app_role, "TRUNCATE core_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


def test_the_application_role_still_reads_and_writes_the_data(app_role):
    child = ChildFactory()
    assert _as(app_role, "UPDATE placements_child SET first_name = first_name WHERE id = %s",
               [child.pk]) == 1
    assert _as(app_role, "SELECT 1 FROM placements_child WHERE id = %s", [child.pk]) == 1
