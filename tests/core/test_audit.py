"""The audit log itself: append-only, JSON-safe changes, written inside the caller's
transaction, and searchable by administrators."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction

from core import audit
from core.models import AuditEvent
from core.roles import Role
from tests.factories import ChildFactory, UserFactory


@pytest.fixture
def child(db):
    return ChildFactory()


def _event(actor, child):
    with transaction.atomic():
        return audit.record(
            actor, "child.test", child,
            changes={"amount": [Decimal("1.50"), Decimal("2.00")]}, reason="Because.",
        )


def test_record_names_actor_action_object_child_and_changes(personas, child):
    actor = personas[Role.SOCIAL_WORKER]
    event = _event(actor, child)
    event.refresh_from_db()
    assert (event.actor, event.action, event.object_type, event.object_id, event.child_id) == (
        actor, "child.test", "placements.child", str(child.pk), child.pk
    )
    assert event.changes == {"amount": ["1.50", "2.00"]}
    assert event.reason == "Because."
    assert event.at is not None


def test_record_outside_a_transaction_is_refused(personas, child, django_db_blocker):
    # pytest-django wraps each test in a transaction; leave it to see the guard.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(audit.AuditOutsideTransaction):
            audit.record(personas[Role.SOCIAL_WORKER], "child.test", child)
    finally:
        connection.in_atomic_block = saved


def test_diff_keeps_only_changed_fields_json_safe():
    before = {"a": Decimal("1.00"), "b": datetime.date(2026, 4, 1), "c": "same"}
    after = {"a": Decimal("1.10"), "b": datetime.date(2026, 4, 1), "c": "same", "d": 3}
    assert audit.diff(before, after) == {"a": ["1.00", "1.10"], "d": [None, 3]}


def test_snapshot_takes_foreign_key_ids(child):
    assert audit.snapshot(child, ["team"]) == {"team": child.team_id}


def test_the_application_cannot_change_or_delete_an_event(personas, child):
    event = _event(personas[Role.SOCIAL_WORKER], child)
    event.reason = "Rewritten."
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="Rewritten.")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.reason == "Because."


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
@pytest.mark.parametrize("sql", [
    "UPDATE core_auditevent SET reason = 'x' WHERE id = %s",
    "DELETE FROM core_auditevent WHERE id = %s",
])
def test_postgresql_refuses_update_and_delete_even_in_raw_sql(personas, child, sql):
    from django.db import DatabaseError

    event = _event(personas[Role.SOCIAL_WORKER], child)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, reason="Because.").exists()


@pytest.fixture
def admin_client(client, db):
    admin = UserFactory(username="chris", roles=[Role.ADMINISTRATOR], is_staff=True)
    client.force_login(admin)
    return client


def test_administrators_search_the_log_by_child_user_action_and_date(admin_client, personas):
    first, second = ChildFactory(), ChildFactory()
    worker = personas[Role.SOCIAL_WORKER]
    _event(worker, first)
    _event(personas[Role.TEAM_MANAGER], second)
    url = "/admin/core/auditevent/"
    page = admin_client.get(url, {"q": str(first.pk)})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert admin_client.get(url, {"q": worker.username}).context["cl"].result_count == 1
    assert admin_client.get(url, {"action": "child.test"}).context["cl"].result_count == 2
    today = datetime.date.today()
    by_day = admin_client.get(
        url, {"at__year": today.year, "at__month": today.month, "at__day": today.day}
    )
    assert by_day.status_code == 200


def test_staff_without_the_administrator_role_cannot_read_the_log(client, db):
    client.force_login(UserFactory(username="clerk", roles=[Role.FINANCE_MANAGER], is_staff=True))
    assert client.get("/admin/core/auditevent/").status_code == 403


def test_the_admin_offers_no_add_change_or_delete(admin_client, personas, child):
    event = _event(personas[Role.SOCIAL_WORKER], child)
    assert admin_client.get("/admin/core/auditevent/add/").status_code == 403
    assert admin_client.post(f"/admin/core/auditevent/{event.pk}/delete/").status_code == 403
    page = admin_client.post(f"/admin/core/auditevent/{event.pk}/change/", {"reason": "x"})
    assert page.status_code in (200, 403)
    event.refresh_from_db()
    assert event.reason == "Because."
