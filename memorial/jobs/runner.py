"""What every job task does around its work: re-check the ledger, the consent gate and the
lease, mark the job running, and record how it ended. No torch here (see tasks.py)."""

from __future__ import annotations

import logging
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext_noop

from memorial.consent.gate import may_use
from memorial.jobs import fairness, monitor, retirement, texts
from memorial.jobs import lease as leases
from memorial.jobs.models import FINISHED, Job, State
from memorial.jobs.progress import Reporter, publish, settle
from memorial.jobs.services import SCOPES

log = logging.getLogger(__name__)
CANCELLED_BEFORE_START = gettext_noop("Cancelled before it started.")


class Skip(Exception):
    """This delivery must not run the job; ``outcome`` says why (returned as the task result)."""

    def __init__(self, outcome: str, retry_in: float | None = None) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.retry_in = retry_in


@dataclass
class Run:
    job: Job
    reporter: Reporter
    lease: leases.Lease

    def should_stop(self) -> bool:
        return self.lease.lost.is_set() or self.reporter.cancel_requested()


def finish(job: Job, state: str, **fields: Any) -> bool:
    """Record how a job ended; ``message``/``error`` may be texts messages (see texts.py).

    Written and published here, after the progress the job's Reporter handed over (settle).
    A consent withdrawal or a takedown may have deleted rows while the job ran, or ended the job
    itself once its worker was gone: the write names only the worker's own columns (never a
    relation, which may point at a deleted row), touches only a row that is still there and not
    yet finished, and returns whether it wrote. Afterwards a deletion that was waiting for this
    job to stop finishes (retirement.settle)."""
    settle(job)
    for name, value in texts.ledger_fields(fields).items():
        setattr(job, name, value)
    job.state = state
    job.finished_at = timezone.now()
    job.eta_seconds = None if state != State.SUCCEEDED else 0.0
    job.updated_at = job.finished_at
    values = {name: _column_value(job, name) for name in _worker_fields(job)}
    written = bool(Job.objects.filter(pk=job.pk).exclude(state__in=FINISHED).update(**values))
    if not written:
        log.info("job %s was deleted or ended meanwhile; %s not written", job.pk, state)
        return False
    publish(job)
    retirement.settle(job)
    return True


#: Ledger fields that others change while a job runs, each with a single-column update: every
#: delivery counts itself, a person asks to cancel, a withdrawal retires the job (parameters),
#: staff dismiss it. A worker's whole-row save must not put back its stale copy of them.
NOT_THE_WORKERS = frozenset({"id", "deliveries", "cancel_requested", "parameters", "dismissed"})


def _worker_fields(job: Job) -> list[str]:
    """The columns a worker writes: never a relation (memorial, requester, the job it followed),
    which the worker does not change and which a deletion may have set to null meanwhile."""
    return [
        f.name
        for f in job._meta.concrete_fields
        if f.name not in NOT_THE_WORKERS and not f.primary_key and not f.is_relation
    ]


def _column_value(job: Job, name: str) -> Any:
    value = getattr(job, name)
    return value.name if isinstance(value, FieldFile) else value


@contextmanager
def running(job_id: str, hostname: str | None = None):
    """Yield a :class:`Run` for a job this delivery may run, else raise :class:`Skip`."""
    updated = Job.objects.filter(pk=job_id).update(deliveries=F("deliveries") + 1)
    if not updated:
        raise Skip("no such job")  # deleted with its memorial; nothing to do
    job = Job.objects.select_related("memorial").filter(pk=job_id).first()
    if job is None:
        raise Skip("no such job")
    if job.state in FINISHED:
        raise Skip(f"already {job.state}")
    if job.cancel_requested and job.state == State.QUEUED:
        finish(job, State.CANCELLED, message=texts.t(CANCELLED_BEFORE_START))
        raise Skip("cancelled before it started")
    scope = SCOPES.get(job.kind)  # restoring a photo alone needs no consent record
    decision = may_use(job.memorial, scope) if scope is not None else None
    if decision is not None and not decision:
        reason = texts.refusal(decision)
        finish(job, State.BLOCKED, error=reason, message=reason)
        raise Skip("blocked: " + decision.reason)
    lease = leases.acquire(job.pk)
    if lease is None:
        # Another worker runs it now. Do not drop this delivery: if that worker dies, its lease
        # expires and this delivery, retried after the lease's lifetime, takes the job over.
        wait = leases.remaining_seconds(job.pk) or 1.0
        log.info(
            "job %s is running elsewhere (%s); checking again in %.1fs",
            job.pk,
            leases.holder(job.pk),
            wait,
        )
        raise Skip("lease held by another worker", retry_in=wait + 0.5)
    reporter = None
    try:
        try:
            job.refresh_from_db()
        except Job.DoesNotExist:
            raise Skip("no such job") from None  # deleted (a withdrawal) since the first look
        if job.state in FINISHED:  # finished between our check and the lease
            raise Skip(f"already {job.state}")
        reporter = Reporter(job)
        if monitor.is_paused(job.queue):
            if job.message != texts.english(monitor.PAUSED):
                reporter.update(force=True, message=monitor.PAUSED)
            raise Skip("queue paused", retry_in=settings.JOB_FAIRNESS_RECHECK_SECONDS)
        with fairness.admission(job) as admitted:
            wait = fairness.blocker(job) if admitted else None
            if not admitted or wait is not None:
                # Stay queued; Celery brings this delivery back (no scheduler of our own).
                if wait is not None and job.message != texts.english(wait.code):
                    reporter.update(force=True, message=wait.code)
                raise Skip("waiting for a GPU slot", retry_in=wait.retry_in() if wait else 1.0)
            reporter.update(
                force=True,
                state=State.RUNNING,
                started_at=job.started_at or timezone.now(),
                worker=hostname or socket.gethostname(),
                attempts=job.attempts + 1,
                error="",
            )
        run = Run(job, reporter, lease)
        yield run
    finally:
        if reporter is not None:
            reporter.close()  # its progress is out before the lease goes
        lease.release()


def succeed(run: Run, **fields: Any) -> None:
    finish(run.job, State.SUCCEEDED, **fields)


def cancelled(run: Run, message: texts.Msg | str) -> None:
    finish(run.job, State.CANCELLED, message=message)


def fail(run: Run, error: texts.Msg | str) -> None:
    finish(run.job, State.FAILED, error=error, message=error)


def fail_job(job_id: str, error: texts.Msg | str) -> None:
    job = Job.objects.filter(pk=job_id).first()
    if job is not None and job.state not in FINISHED:
        finish(job, State.FAILED, error=error, message=error)
