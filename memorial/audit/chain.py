"""The hash chain: each entry's hash covers its canonical content and the previous hash.

Changing, removing or reordering a row breaks the chain from that row on, which
`verify` (and the `verify_audit_chain` command) reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical(
    *,
    created_at: datetime,
    actor_id: int | None,
    actor_email: str,
    action: str,
    target_type: str,
    target_id: str,
    memorial_id: Any,
    reason: str,
    extra: dict,
    prev_hash: str,
) -> bytes:
    """One byte string per entry, the same whichever database stored it."""
    body = {
        "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "email": actor_email,
        "action": action,
        "target": [target_type, target_id],
        "memorial": str(memorial_id) if memorial_id else None,
        "reason": reason,
        "extra": extra,
        "prev": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(**fields: Any) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


def entry_digest(entry) -> str:
    return digest(
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        actor_email=entry.actor_email,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        memorial_id=entry.memorial_id,
        reason=entry.reason,
        extra=entry.extra,
        prev_hash=entry.prev_hash,
    )


@dataclass(frozen=True)
class Break:
    entry_id: int
    problem: str


def verify(entries) -> tuple[int, Break | None]:
    """Walk entries in id order; the count checked and the first break, if any."""
    previous = GENESIS
    count = 0
    for entry in entries:
        if entry.prev_hash != previous:
            return count, Break(entry.pk, "previous hash does not match the entry before it")
        if entry_digest(entry) != entry.hash:
            return count, Break(entry.pk, "content does not match its hash")
        previous = entry.hash
        count += 1
    return count, None
