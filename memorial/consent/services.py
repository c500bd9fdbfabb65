"""Withdrawing consent, and the deletion it sets off.

When a withdrawal leaves a use (scope) no longer covered by any approved record, the memorial's
queued and running jobs are cancelled at once and retired (a running one stops at its next step
and stores nothing more), then everything generated or derived — trained models, checkpoints,
prepared data sets, sample grids, evaluation reports, generated photos and videos, through the
item registry so every app's handler takes part — is deleted from the database and the storage.
Uploaded photos stay unless the owner asks for them to go too; voice recordings go when the
voice is no longer covered (they are kept only under that consent).

The :class:`~memorial.consent.models.Withdrawal` row records what was planned, what went and
what is still stored; :func:`run` can be called again until nothing remains.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from memorial.audit.actions import AuditAction
from memorial.audit.services import record as audit
from memorial.consent.gate import may_use
from memorial.consent.models import ConsentRecord, Scope, Status, Withdrawal
from memorial.jobs import retirement
from memorial.jobs.models import Job
from memorial.moderation import deletion
from memorial.moderation import items as registry

WITHDRAWABLE = frozenset({Status.PENDING, Status.APPROVED})


class WithdrawalError(ValueError):
    """A withdrawal that does not fit the record's state; the message is shown as it is."""


def scopes_lost(record: ConsentRecord) -> list[str]:
    """The record's uses that no other approved record covers: what withdrawing it ends."""
    others = ConsentRecord.objects.filter(
        memorial_id=record.memorial_id, status=Status.APPROVED
    ).exclude(pk=record.pk)
    return [s for s in record.scopes if not any(o.covers(s) for o in others)]


def plan(record: ConsentRecord, include_uploads: bool) -> list[registry.Item]:
    """What withdrawing `record` would delete (shown before the owner confirms): everything
    made, and the uploads kept only under a lost use (voice recordings when voice goes)."""
    lost = scopes_lost(record)
    found = registry.generated_of(record.memorial_id) if lost else []
    found = registry.impact(found + registry.kept_under_consent(record.memorial_id, lost))
    if include_uploads:
        found = registry.impact(registry.uploads_of(record.memorial_id) + found)
    return found


def active_jobs(memorial_id) -> list[Job]:
    """The memorial's queued and running jobs: those a withdrawal stops at once."""
    return retirement.active(memorial_id)


def withdraw(record_id, memorial, user, *, include_uploads: bool = False) -> Withdrawal:
    """Withdraw the record, stop the memorial's jobs and delete what was made; see the module."""
    with transaction.atomic():
        record = ConsentRecord.objects.select_for_update().get(pk=record_id, memorial=memorial)
        if record.status not in WITHDRAWABLE:
            raise WithdrawalError(_("Only pending or approved consent can be withdrawn."))
        lost = scopes_lost(record)
        record.status = Status.WITHDRAWN
        record.status_changed_at = timezone.now()
        record.save(update_fields=["status", "status_changed_at"])  # audited (audit.signals)
        withdrawal = Withdrawal.objects.create(
            memorial=memorial,
            record=record,
            requested_by=user,
            include_uploads=include_uploads,
            lost_scopes=lost,
        )
    # Committed: from now on no task of this memorial starts or stores anything for these uses.
    cancelled = []
    if lost:
        for job in active_jobs(memorial.pk):
            retirement.retire(job)
            cancelled.append(str(job.pk))
    planned = (
        [item.ref() for item in plan(record, include_uploads)] if lost or include_uploads else []
    )
    Withdrawal.objects.filter(pk=withdrawal.pk).update(planned=planned, cancelled_jobs=cancelled)
    withdrawal.planned, withdrawal.cancelled_jobs = planned, cancelled
    audit(
        user,
        AuditAction.WITHDRAWAL_STARTED,
        withdrawal,
        memorial=memorial.pk,
        record=str(record.pk),
        scopes=lost,
        include_uploads=include_uploads,
        cancelled_jobs=cancelled,
        planned=_counts(planned),
    )
    return run(withdrawal, user)


def _counts(refs: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ref in refs:
        counts[ref["kind"]] = counts.get(ref["kind"], 0) + 1
    return counts


def generated_folders(memorial_id) -> list[str]:
    return [f"memorials/{memorial_id}/models", f"memorials/{memorial_id}/videos"]


def consent_folders(memorial_id, scopes: list[str]) -> list[str]:
    """Folders of uploads kept only under a use (voice recordings), for the uses in `scopes`."""
    return [f"memorials/{memorial_id}/voice"] if Scope.VOICE in scopes else []


def run(withdrawal: Withdrawal, user) -> Withdrawal:
    """Delete what the withdrawal planned and what is still left; safe to call again."""
    refs = list(withdrawal.planned)
    known = {(r["kind"], str(r["id"])) for r in refs}
    still_lost = [s for s in withdrawal.lost_scopes if not _allowed(withdrawal.memorial, s)]
    still_withdrawn = bool(still_lost) and len(still_lost) == len(withdrawal.lost_scopes)
    late = registry.generated_of(withdrawal.memorial_id) if still_withdrawn else []
    # Anything made meanwhile by a job that had not stopped yet, or recorded meanwhile.
    for item in late + registry.kept_under_consent(withdrawal.memorial_id, still_lost):
        if (item.kind, item.id) not in known:
            refs.append(item.ref())
            known.add((item.kind, item.id))
    # Folders that hold only generated or derived files (models, data sets, reports, videos),
    # and those of uploads kept only under a use still withdrawn (voice recordings).
    sweep = generated_folders(withdrawal.memorial_id) if still_withdrawn else []
    sweep += consent_folders(withdrawal.memorial_id, still_lost)
    outcome = deletion.delete(refs, sweep=sweep)
    removed = {(r["kind"], str(r["id"])) for r in withdrawal.removed}
    withdrawal.removed = withdrawal.removed + [
        r for r in outcome.removed if (r["kind"], str(r["id"])) not in removed
    ]
    withdrawal.planned = refs
    withdrawal.remaining = outcome.remaining
    withdrawal.runs += 1
    withdrawal.finished_at = timezone.now()
    withdrawal.save(update_fields=["planned", "removed", "remaining", "runs", "finished_at"])
    audit(
        user,
        AuditAction.WITHDRAWAL_FINISHED,
        withdrawal,
        memorial=withdrawal.memorial_id,
        run=withdrawal.runs,
        removed=_counts(outcome.removed),
        remaining=[{"kind": r["kind"], "id": str(r["id"])} for r in outcome.remaining],
        errors=outcome.errors,
    )
    return withdrawal


def run_waiting_for(job: Job) -> None:
    """Run again each withdrawal that found ``job`` still running (kept as "remaining"): the
    job has ended now, so its row can go (called when a job ends, see consent/signals.py)."""
    for withdrawal in Withdrawal.objects.filter(memorial_id=job.memorial_id).exclude(remaining=[]):
        if retirement.waits_for(withdrawal.remaining, job):
            run(withdrawal, None)


def _allowed(memorial, scope: str) -> bool:
    return bool(may_use(memorial, Scope(scope)))
