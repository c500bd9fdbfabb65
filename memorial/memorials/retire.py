"""Retiring a memorial: archive it (read-only), or delete it after a cooling-off period.

A deletion request sets ``delete_after``; until then the owner can cancel it. The periodic
task (``memorial.memorials.tasks.purge_due``) then removes everything of the memorial: its
generated items through the takedown item registry, its rows by cascade, and every file
under its storage prefix. Each step can be repeated, so a retried task finishes the work.
The audit log keeps identifiers and counts, never names or captions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from memorial.audit.actions import AuditAction
from memorial.audit.services import record
from memorial.memorials.models import Memorial

log = logging.getLogger(__name__)


class RetireError(ValueError):
    """A request that cannot be done in the memorial's current state; the message says why."""


def storage_prefix(memorial_id) -> str:
    """Where every file of a memorial is stored (photos, consent, models, videos, voice)."""
    return f"memorials/{memorial_id}/"


def _locked(memorial: Memorial) -> Memorial:
    return Memorial.objects.select_for_update().get(pk=memorial.pk)


def _refresh(memorial: Memorial, locked: Memorial) -> Memorial:
    for field in (
        "archived_at",
        "delete_after",
        "deletion_requested_at",
        "deletion_requested_by_id",
    ):
        setattr(memorial, field, getattr(locked, field))
    return memorial


def set_archived(memorial: Memorial, user, archived: bool) -> Memorial:
    """Archive (read-only) or unarchive; repeating either changes nothing."""
    with transaction.atomic():
        locked = _locked(memorial)
        if locked.is_archived != archived:
            locked.archived_at = timezone.now() if archived else None
            locked.save(update_fields=["archived_at", "updated_at"])
            action = AuditAction.MEMORIAL_ARCHIVED if archived else AuditAction.MEMORIAL_UNARCHIVED
            record(user, action, locked)
    return _refresh(memorial, locked)


def request_deletion(memorial: Memorial, user, confirm_name: str | None = None) -> Memorial:
    """Schedule the deletion `MEMORIAL_DELETION_COOLING_OFF_DAYS` from now.

    `confirm_name`, when given (the page asks for it), must be the memorial's name.
    Queued and running jobs of the memorial are cancelled: nothing new is made of it.
    """
    if (
        confirm_name is not None
        and " ".join(confirm_name.split()).casefold() != " ".join(memorial.name.split()).casefold()
    ):
        raise RetireError(_("Please type the memorial's name exactly as it is shown."))
    with transaction.atomic():
        locked = _locked(memorial)
        if locked.deletion_pending:
            raise RetireError(_("The deletion of this memorial has already been requested."))
        now = timezone.now()
        locked.deletion_requested_at = now
        locked.deletion_requested_by = user if getattr(user, "pk", None) else None
        locked.delete_after = now + timedelta(days=settings.MEMORIAL_DELETION_COOLING_OFF_DAYS)
        locked.save(
            update_fields=[
                "deletion_requested_at",
                "deletion_requested_by",
                "delete_after",
                "updated_at",
            ]
        )
        record(
            user,
            AuditAction.MEMORIAL_DELETION_REQUESTED,
            locked,
            delete_after=locked.delete_after.isoformat(),
        )
        transaction.on_commit(lambda: _cancel_jobs(locked.pk))
    return _refresh(memorial, locked)


def cancel_deletion(memorial: Memorial, user, *, missing_ok: bool = False) -> Memorial:
    """Undo a deletion request; with `missing_ok`, having none to undo is not an error."""
    with transaction.atomic():
        locked = _locked(memorial)
        if not locked.deletion_pending:
            if missing_ok:
                return _refresh(memorial, locked)
            raise RetireError(_("No deletion of this memorial is waiting."))
        locked.deletion_requested_at = None
        locked.deletion_requested_by = None
        locked.delete_after = None
        locked.save(
            update_fields=[
                "deletion_requested_at",
                "deletion_requested_by",
                "delete_after",
                "updated_at",
            ]
        )
        record(user, AuditAction.MEMORIAL_DELETION_CANCELLED, locked)
    return _refresh(memorial, locked)


def _cancel_jobs(memorial_id) -> None:
    from memorial.jobs import services as jobs
    from memorial.jobs.models import Job, State

    for job in Job.objects.filter(memorial_id=memorial_id, state__in=[State.QUEUED, State.RUNNING]):
        try:
            jobs.cancel(job)
        except Exception:  # the purge removes it in any case; never fail the request for it
            log.exception("could not cancel job %s of memorial %s", job.pk, memorial_id)


def due(now=None) -> list[uuid.UUID]:
    """Memorials whose cooling-off period is over."""
    now = now or timezone.now()
    return list(
        Memorial.objects.filter(delete_after__isnull=False, delete_after__lte=now)
        .order_by("delete_after", "pk")
        .values_list("pk", flat=True)
    )


def stored_files(prefix: str) -> list[str]:
    """Every file under `prefix` in the default storage (local folder or S3), recursively."""
    found: list[str] = []
    pending = [prefix.rstrip("/")]
    while pending:
        folder = pending.pop()
        try:
            dirs, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        found.extend(f"{folder}/{name}" for name in files)
        pending.extend(f"{folder}/{name}" for name in dirs)
    return sorted(found)


def delete_files(prefix: str) -> int:
    """Delete every file under `prefix` (and, on a local disk, the emptied folders)."""
    names = stored_files(prefix)
    for name in names:
        default_storage.delete(name)
    _remove_empty_folders(prefix)
    return len(names)


def _remove_empty_folders(prefix: str) -> None:
    try:
        root = default_storage.path(prefix.rstrip("/"))
    except NotImplementedError:  # object stores have no folders
        return
    if not os.path.isdir(root):
        return
    for folder, _dirs, _files in os.walk(root, topdown=False):
        # Not empty (a file appeared meanwhile): the next run takes it.
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _delete_generated(memorial_id) -> int:
    """Generated and derived items first, through their own handlers (videos, models, …)."""
    from memorial.moderation import items as registry

    generated_of = getattr(registry, "generated_of", None)
    if generated_of is None:
        return 0
    found = generated_of(memorial_id)
    for kind, group in registry.by_kind(found).items():
        handler = registry.HANDLERS.get(kind)
        if handler is not None:
            handler.delete(group)
    return len(found)


def purge(memorial_id) -> dict[str, int]:
    """Delete everything of one memorial for good. Safe to run again after a failure."""
    prefix = storage_prefix(memorial_id)
    counts = {"files": 0, "items": 0, "rows": 0}
    memorial = Memorial.objects.filter(pk=memorial_id).first()
    if memorial is not None:
        if not memorial.deletion_pending or memorial.delete_after > timezone.now():
            return counts  # cancelled (or postponed) meanwhile: nothing to do
        try:
            with transaction.atomic():
                counts["items"] = _delete_generated(memorial_id)
        except Exception:
            # The cascade below and the storage sweep still remove it all; log, go on.
            log.exception("item handlers failed for memorial %s; deleting by cascade", memorial_id)
        counts["files"] += delete_files(prefix)
        with transaction.atomic():
            locked = Memorial.objects.select_for_update().filter(pk=memorial_id).first()
            if locked is not None:
                counts["rows"] = locked.delete()[0]
                record(
                    None,
                    AuditAction.MEMORIAL_PURGED,
                    ("memorials.memorial", str(memorial_id)),
                    memorial=memorial_id,
                    files=counts["files"],
                    rows=counts["rows"],
                )
    # Anything written meanwhile, or left by an earlier attempt that stopped half-way.
    counts["files"] += delete_files(prefix)
    return counts


def purge_due(now=None) -> list[str]:
    """Run `purge` for every memorial whose time has come; one failure does not stop the rest."""
    done = []
    for memorial_id in due(now):
        try:
            purge(memorial_id)
        except Exception:
            log.exception("deleting memorial %s failed; the next run tries again", memorial_id)
            continue
        done.append(str(memorial_id))
    sweep_leftovers(now)
    return done


def sweep_leftovers(now=None, days: int = 7) -> int:
    """Files of recently purged memorials that an interrupted run left behind."""
    from memorial.audit.models import AuditEntry

    since = (now or timezone.now()) - timedelta(days=days)
    purged = AuditEntry.objects.filter(
        action=AuditAction.MEMORIAL_PURGED, created_at__gte=since
    ).values_list("target_id", flat=True)
    removed = 0
    for memorial_id in set(purged):
        if not Memorial.objects.filter(pk=memorial_id).exists():
            removed += delete_files(storage_prefix(memorial_id))
    return removed
