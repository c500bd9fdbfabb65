"""Jobs whose results must not be kept: consent withdrawn, or retired by a takedown/withdrawal.

A task asks :func:`refusal_to_store` before it stores any file (a checkpoint, a sample grid, a
data set, a generated photo), so a job that is still running when consent is withdrawn stops at
its next step and writes nothing afterwards. No torch here (the web side retires jobs too).

A deletion waits for a retired job that is still running (the worker writes to its row) and the
job's end runs that deletion again (:func:`settle`, called by ``runner.finish``). When the worker
is gone instead (killed, its lease expired), the deletion ends the job itself
(:func:`end_if_abandoned`), so running the deletion again always finishes it.

Jobs sit below consent and moderation: this module calls neither. A withdrawal or a takedown
retires jobs (:func:`retire`), and each listens to :data:`job_ended` to run again once a job it
waited for has stopped (memorial/consent/signals.py, memorial/moderation/signals.py).
"""

from __future__ import annotations

import logging

import redis
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_noop

from memorial.consent.gate import may_use
from memorial.jobs import lease as leases
from memorial.jobs import services, texts
from memorial.jobs.models import FINISHED, Job, State
from memorial.jobs.progress import publish
from memorial.jobs.services import SCOPES

log = logging.getLogger(__name__)
RETIRED = gettext_noop("This job was stopped because what it used or made has been removed.")
#: Sent by :func:`settle` after a job ended (``job=``): the deletions waiting for it run again.
job_ended = Signal()


def retire(job: Job) -> None:
    """Mark a job so it stores nothing more, and ask it to stop (a queued one never starts)."""
    parameters = {**(job.parameters or {}), "retired": True}
    Job.objects.filter(pk=job.pk).update(parameters=parameters)
    job.parameters = parameters
    if job.state in (State.QUEUED, State.RUNNING):
        services.cancel(job)


def refusal_to_store(job: Job) -> texts.Msg | None:
    """Why this job must store nothing more, or None when it may."""
    scope = SCOPES.get(job.kind)
    decision = may_use(job.memorial, scope) if scope is not None else None
    if decision is not None and not decision:
        return texts.refusal(decision)
    parameters = Job.objects.filter(pk=job.pk).values_list("parameters", flat=True).first()
    if parameters is None or (parameters or {}).get("retired"):
        return texts.t(RETIRED)
    return None


def end_if_abandoned(job: Job) -> bool:
    """End a retired job blocked when no worker runs it; True when the job is finished now.

    Why: a job whose worker died stays "running" until a redelivery of its message, which may
    come hours later or never; a deletion waiting for it would wait as long. Its lease says
    whether a worker holds it: while this holds the lease, no worker can start it either."""
    if job.state in FINISHED:
        return True
    try:
        held = leases.acquire(job.pk)
    except redis.RedisError:
        log.warning("could not tell whether job %s still runs", job.pk, exc_info=True)
        return False
    if held is None:
        return False  # a worker runs it: it ends blocked and runs the deletion again itself
    try:
        reason = refusal_to_store(job) or texts.t(RETIRED)
        now = timezone.now()
        Job.objects.filter(pk=job.pk).exclude(state__in=FINISHED).update(
            state=State.BLOCKED,
            finished_at=now,
            updated_at=now,
            eta_seconds=None,
            **texts.ledger_fields({"error": reason, "message": reason}),
        )
    finally:
        held.release()
    job.refresh_from_db()
    publish(job)
    return job.state in FINISHED


def active(memorial_id) -> list[Job]:
    """The memorial's queued and running jobs: those a withdrawal retires."""
    return list(
        Job.objects.filter(memorial_id=memorial_id, state__in=[State.QUEUED, State.RUNNING])
    )


def waits_for(refs: list[dict] | None, job: Job) -> bool:
    """Whether a deletion's item references (its "remaining") name ``job``."""
    mine = str(job.pk)
    return any(r.get("kind") == "job" and str(r.get("id")) == mine for r in refs or [])


def settle(job: Job) -> None:
    """After a job ended (``runner.finish``): the deletions that found it still running and kept
    its row as "remaining" (a withdrawal, a takedown) run again, through :data:`job_ended`."""
    job_ended.send(sender=Job, job=job)
