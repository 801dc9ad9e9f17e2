"""The audit log: the one way anything writes core.models.AuditEvent.

Every service that changes data calls `record` inside its transaction, so the change and
its audit row commit or roll back together. Pages and API endpoints that show a child's
record, a referral or a placement call `record_view`.

    before = audit.snapshot(referral, ["status", "summary"])
    ...change referral...
    audit.record(by, "referral.update", referral,
                 changes=audit.diff(before, audit.snapshot(referral, before)),
                 reason=reason)

Actions are "<thing>.<verb>" in lower case ("referral.submit", "placement.cost_change",
"child.view"). Values in `changes` are made JSON-safe: Decimal and dates as strings,
model instances as their primary key.
"""

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core.models import AuditEvent

SYSTEM = None  # the actor of a scheduled task


class AuditOutsideTransaction(RuntimeError):
    """`record` was called outside a transaction: the change and its audit row could
    commit separately."""


def _safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_safe(v) for v in value]
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields' current values, JSON-safe. A foreign key may be named either way
    ("child" or "child_id"); its id is taken."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = _safe(getattr(obj, attname))
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    """{field: [before, after]} for the fields whose value changed; a field only in
    `after` counts as changed from None."""
    changed = {}
    for name, new in after.items():
        old = before.get(name)
        if _safe(old) != _safe(new):
            changed[name] = [_safe(old), _safe(new)]
    return changed


def created(obj: models.Model, fields: Iterable[str]) -> dict[str, list]:
    """The changes of a new record: every named field from None."""
    return diff({}, snapshot(obj, fields))


def child_of(obj: models.Model) -> int | None:
    """The child a record concerns, when it says so directly."""
    if obj._meta.label_lower == "placements.child":
        return obj.pk
    return getattr(obj, "child_id", None)


def record(
    actor,
    action: str,
    obj: models.Model,
    *,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    child: int | models.Model | None = None,
) -> AuditEvent:
    """Append one event, inside the caller's transaction. `child` (a Child or its id)
    names the child the record concerns when `obj` does not carry a child_id."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(f"Audit of {action} must run inside a transaction.")
    if isinstance(child, models.Model):
        child = child.pk
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        child_id=child if child is not None else child_of(obj),
        changes=_safe(dict(changes or {})),
        reason=reason or "",
    )


def record_view(user, obj: models.Model, *, child: int | models.Model | None = None) -> None:
    """Log that `user` looked at a child's record, a referral or a placement."""
    action = f"{obj._meta.model_name}.view"
    with transaction.atomic():
        record(user, action, obj, child=child)
