"""Send a job to its queue by task name: web processes never import the task modules (and so
never import torch); only the worker does."""

from __future__ import annotations

import logging

from django.db import transaction

from memorial.celery import app
from memorial.jobs.models import QUEUES, Job

log = logging.getLogger(__name__)
TASKS = {
    "prepare": "memorial.jobs.prepare",
    "train": "memorial.jobs.train",
    "generate": "memorial.jobs.generate",
    "evaluate": "memorial.jobs.evaluate",
    "speak": "memorial.videos.speak",
    "film": "memorial.videos.film",
}


def send(job: Job) -> None:
    """Queue the job's task once the transaction that created it has committed (a worker must
    find the ledger row)."""
    queue = QUEUES[job.kind]

    def _send() -> None:
        result = app.send_task(TASKS[job.kind], args=[str(job.pk)], queue=queue)
        Job.objects.filter(pk=job.pk).update(celery_task_id=result.id, queue=queue)

    transaction.on_commit(_send)


def revoke(job: Job) -> None:
    """Best effort: the worker re-checks the ledger anyway, so a missed revoke does no harm."""
    if job.celery_task_id:
        try:
            app.control.revoke(job.celery_task_id)
        except Exception:  # the broker being away must not stop a cancel
            log.warning("could not revoke task %s", job.celery_task_id, exc_info=True)
