"""Delete items everywhere they are stored, and say what is left: shared by takedowns and
consent withdrawal.

Each run deletes what is still present (kind by kind, outputs first, each kind in its own
transaction so one failure does not undo the rest), then deletes the files left in the storage
folders of the items that are gone, and finally lists the storage itself: whatever is still
there is "remaining" and a later run deletes it. Running it again is always safe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from memorial.moderation import items as registry
from memorial.moderation.storage import delete_prefix, stored_keys

log = logging.getLogger(__name__)
FILE = "file"  # the kind of a remaining stored file in `Outcome.remaining`


@dataclass
class Outcome:
    removed: list[dict] = field(default_factory=list)  # refs deleted by this run
    remaining: list[dict] = field(default_factory=list)  # refs (and files) still stored
    errors: list[str] = field(default_factory=list)  # kinds whose deletion raised

    @property
    def complete(self) -> bool:
        return not self.remaining


def _key(ref: dict) -> tuple[str, str]:
    return (ref.get("kind", ""), str(ref.get("id", "")))


def _present(refs: Iterable[dict]) -> list[registry.Item]:
    return registry.resolve_items(f"{r['kind']}:{r['id']}" for r in refs if r.get("kind") != FILE)


def delete(refs: list[dict], *, sweep: Iterable[str] = (), takedown=None) -> Outcome:
    """Delete the items named by `refs` (from `Item.ref()`) and every file under `sweep`."""
    outcome = Outcome()
    before = {_key(i.ref()) for i in _present(refs)}
    for kind, group in registry.in_delete_order(_present(refs)):
        handler = registry.HANDLERS[kind]
        try:
            with transaction.atomic():
                handler.delete(group)
                transaction.on_commit(
                    lambda h=handler, g=group: registry.item_actioned.send(
                        sender=type(h), items=g, takedown=takedown
                    )
                )
        except Exception:
            log.exception("could not delete %d %s item(s)", len(group), kind)
            outcome.errors.append(kind)
    still = {_key(i.ref()) for i in _present(refs)}
    outcome.removed = [r for r in refs if _key(r) in before and _key(r) not in still]
    # Files of items that are gone (a deleted photo's files go after commit; do not wait).
    folders = [p for r in refs if _key(r) not in still for p in registry.stored_under(r)]
    folders.extend(sweep)
    for folder in dict.fromkeys(folders):
        delete_prefix(folder)
    left_files = [k for folder in dict.fromkeys(folders) for k in stored_keys(folder)]
    outcome.remaining = [r for r in refs if _key(r) in still and r.get("kind") != FILE]
    outcome.remaining.extend({"kind": FILE, "id": key} for key in left_files)
    return outcome
