"""Send a job to its queue by task name: web processes never import the task modules (and so
never import torch); only the worker does.

The ledger row comes first, the message after its transaction commits (a worker must find the
row). If the broker cannot be reached then, the row stays ``queued`` and says so; the periodic
sweep (``sweep.py``) sends it once the broker is back. A page never waits long for an absent
broker: results of job tasks are never read (the ledger is the record), so publishing does not
subscribe to the result store, and the broker's connection and publish retries are short
(settings: ``CELERY_BROKER_TRANSPORT_OPTIONS``, ``CELERY_TASK_PUBLISH_RETRY_POLICY``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from memorial.celery import app
from memorial.jobs import texts
from memorial.jobs.models import QUEUES, Job, State

log = logging.getLogger(__name__)
TASKS = {
    "prepare": "memorial.jobs.prepare",
    "train": "memorial.jobs.train",
    "generate": "memorial.jobs.generate",
    "evaluate": "memorial.jobs.evaluate",
    "speak": "memorial.videos.speak",
    "film": "memorial.videos.film",
    "restore": "memorial.restoration.restore",
}
#: The ledger's message for a job whose message could not be handed to the broker yet.
NOT_SENT = gettext_noop("Queued. It will start when the worker can be reached.")
WAITING = gettext_noop("Waiting for a worker.")


def send(job: Job) -> None:
    """Queue the job's task once the transaction that created it has committed."""
    job_id, kind = job.pk, job.kind
    transaction.on_commit(lambda: deliver(job_id, kind))


def deliver(job_id: object, kind: str) -> bool:
    """Hand the job's message to the broker now; False when it could not be reached (the ledger
    then says the job will start when the worker can be reached, and the sweep sends it)."""
    queue = QUEUES[kind]
    try:
        result = app.send_task(TASKS[kind], args=[str(job_id)], queue=queue, ignore_result=True)
    except Exception:  # the broker away (kombu OperationalError, redis errors, …)
        log.warning("job %s: the broker could not be reached; queued for the sweep", job_id)
        _say(job_id, NOT_SENT, unless=NOT_SENT)
        return False
    Job.objects.filter(pk=job_id).update(
        celery_task_id=result.id, queue=queue, updated_at=timezone.now()
    )
    _say(job_id, WAITING, only_after=NOT_SENT)
    return True


def _say(job_id: object, msgid: str, *, unless: str = "", only_after: str = "") -> None:
    """Set a queued job's message (not over one it already shows, or only over a given one)."""
    rows = Job.objects.filter(pk=job_id, state=State.QUEUED)
    if unless:
        rows = rows.exclude(message=texts.english(texts.t(unless)))
    if only_after:
        rows = rows.filter(message=texts.english(texts.t(only_after)))
    rows.update(updated_at=timezone.now(), **texts.ledger_fields({"message": texts.t(msgid)}))


def waiting_for_broker(job: Job) -> bool:
    """Whether the job, or the job it waits for (training waits for its preparation), is queued
    without its message having reached the broker: pages then say it starts later."""
    ids = [job.pk, job.after_id] if job.after_id else [job.pk]
    return Job.objects.filter(
        pk__in=ids, state=State.QUEUED, message=texts.english(texts.t(NOT_SENT))
    ).exists()


def revoke(job: Job) -> None:
    """Best effort: the worker re-checks the ledger anyway, so a missed revoke does no harm."""
    if job.celery_task_id:
        try:
            app.control.revoke(job.celery_task_id)
        except Exception:  # the broker being away must not stop a cancel
            log.warning("could not revoke task %s", job.celery_task_id, exc_info=True)
