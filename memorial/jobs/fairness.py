"""Fair use of the GPUs: at most one running GPU job per memorial and ``JOBS_PER_FAMILY`` per family.

No scheduler of our own: Celery hands out the messages; a GPU task, once it holds its lease,
asks :func:`blocker` (under a per-family Redis lock, so two workers cannot both take the last
slot) whether a running job of the same memorial or family is in the way. If so, it stays
``queued`` with a message and Celery delivers it again after :func:`recheck_in` seconds.

A ``running`` row counts only while its lease lives: a job whose worker died does not hold a
slot (its lease expires; a redelivery takes it over).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from memorial.jobs import lease as leases
from memorial.jobs import texts
from memorial.jobs.models import QUEUES, Job, State

SAME_MEMORIAL = gettext_noop("Waiting for another job of this memorial to finish.")
SAME_FAMILY = gettext_noop("Waiting for another job of this family to finish.")
GPU_KINDS = frozenset(kind for kind, queue in QUEUES.items() if queue == "gpu")


@dataclass(frozen=True)
class Wait:
    """Why a job must wait, and for which running job."""

    reason: str
    running: Job
    msgid: str = ""

    @property
    def code(self) -> texts.Msg:
        """The reason as a message id, translated for each reader (see texts.py)."""
        return texts.t(self.msgid) if self.msgid else texts.text(self.reason)

    def retry_in(self) -> float:
        return recheck_in(self.running)


def recheck_in(running: Job) -> float:
    """Look again when the job in the way should be done, but at least every few seconds."""
    longest = settings.JOB_FAIRNESS_RECHECK_SECONDS
    eta = running.eta_seconds if running.eta_seconds is not None else longest
    return max(1.0, min(eta, longest))


def _live(jobs: list[Job]) -> list[Job]:
    client = leases.client()
    return [job for job in jobs if client.exists(leases.key(job.pk))]


def blocker(job: Job) -> Wait | None:
    """The running GPU job that keeps ``job`` from starting now, or None if it may start."""
    if job.kind not in GPU_KINDS:
        return None
    running = _live(
        list(
            Job.objects.filter(
                state=State.RUNNING,
                kind__in=GPU_KINDS,
                memorial__family_id=job.memorial.family_id,
            )
            .exclude(pk=job.pk)
            .order_by("started_at")
        )
    )
    for other in running:
        if other.memorial_id == job.memorial_id:
            return Wait(_(SAME_MEMORIAL), other, SAME_MEMORIAL)
    if len(running) >= settings.JOBS_PER_FAMILY:
        first = min(running, key=lambda j: j.eta_seconds if j.eta_seconds is not None else 1e12)
        return Wait(_(SAME_FAMILY), first, SAME_FAMILY)
    return None


@contextmanager
def admission(job: Job) -> Iterator[bool]:
    """Hold the family's lock while the caller checks :func:`blocker` and marks the job running.

    Yields False if the lock could not be had in time (the caller re-queues the job)."""
    lock = leases.client().lock(
        f"memorial:jobs:family:{job.memorial.family_id}", timeout=30, blocking_timeout=10
    )
    try:
        acquired = lock.acquire()
    except redis.RedisError:
        acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            with suppress(redis.RedisError):  # expired on its own
                lock.release()


@dataclass(frozen=True)
class Place:
    """Where a queued job stands: 1 = next; ``start`` is None while unknown."""

    position: int
    start: datetime | None


def place(job: Job) -> Place | None:
    """The job's position in its queue (older queued jobs of the same queue, plus one) and an
    estimated start: the moment the ``position``-th running job of the queue should finish,
    from the running jobs' ETAs (each one that finishes frees a worker for the next in line)."""
    if job.state != State.QUEUED or not job.queue:
        return None
    ahead = Job.objects.filter(
        queue=job.queue, state=State.QUEUED, created_at__lt=job.created_at
    ).count()
    wait = _wait(job.queue, ahead, exclude=job.pk)
    start = None if wait is None else timezone.now() + timedelta(seconds=wait)
    return Place(ahead + 1, start)


def _wait(queue: str, ahead: int, exclude=None) -> float | None:
    """Seconds until a worker of ``queue`` is free for the job behind ``ahead`` others."""
    running = Job.objects.filter(queue=queue, state=State.RUNNING).exclude(pk=exclude)
    if not running.exists():
        return 0.0
    etas = sorted(running.filter(eta_seconds__isnull=False).values_list("eta_seconds", flat=True))
    return etas[ahead] if ahead < len(etas) else None


def estimated_wait(queue: str) -> float | None:
    """How long a job queued now would wait (same rule as :func:`place`); None if unknown."""
    ahead = Job.objects.filter(queue=queue, state=State.QUEUED).count()
    return _wait(queue, ahead)
