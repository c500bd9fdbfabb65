"""Writing to the audit log: `record` is the only way in.

Appends are serialised so the chain stays linear: PostgreSQL takes a
transaction-level advisory lock; SQLite already runs every write transaction
with BEGIN IMMEDIATE (see settings), which allows one writer at a time.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from memorial.audit import chain
from memorial.audit.context import current_actor
from memorial.audit.models import AuditEntry

# pg_advisory_xact_lock key: any constant bigint, the same in every process.
ADVISORY_LOCK_KEY = 0x4D454D_41554454  # "MEM" "AUDT"


def describe_target(target: Any) -> tuple[str, str, Any]:
    """(type, identifier, memorial id) of a model instance, a (type, id) pair, or None."""
    if target is None:
        return "", "", None
    if isinstance(target, tuple):
        kind, ident = target
        return str(kind), str(ident), None
    meta = target._meta
    kind = meta.label_lower
    memorial_id = None
    if meta.label_lower == "memorials.memorial":
        memorial_id = target.pk
    else:
        memorial_id = getattr(target, "memorial_id", None)
    return kind, str(target.pk), memorial_id


def _plain(extra: dict) -> dict:
    """Only JSON values, so the hash computed now equals the hash of what is read back."""
    return json.loads(json.dumps(extra, default=str))


def record(
    actor: Any,
    action: str,
    target: Any = None,
    reason: str = "",
    *,
    memorial: Any = None,
    **extra: Any,
) -> AuditEntry:
    """Append one entry: who (a user or None for the system), what, on what, and why."""
    kind, ident, memorial_id = describe_target(target)
    if memorial is not None:
        memorial_id = memorial if isinstance(memorial, uuid.UUID | str) else memorial.pk
    fields = {
        "actor_id": getattr(actor, "pk", None),
        "actor_email": getattr(actor, "email", "") or "",
        "action": str(action),
        "target_type": kind,
        "target_id": ident,
        "memorial_id": uuid.UUID(str(memorial_id)) if memorial_id else None,
        "reason": reason or "",
        "extra": _plain(extra),
    }
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        fields["prev_hash"] = last or chain.GENESIS
        fields["created_at"] = timezone.now()
        fields["hash"] = chain.digest(**fields)
        entry = AuditEntry(**fields)
        entry.save()
    return entry


def note(action: str, target: Any = None, reason: str = "", **extra: Any) -> AuditEntry:
    """`record` with the person making the current request as the actor."""
    return record(current_actor(), action, target, reason, **extra)
