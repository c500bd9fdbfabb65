"""Send again the queued jobs that no message in the broker stands for.

A job row is written first and its message sent after the commit (dispatch.py); if the broker
could not be reached then, or a message was lost later (a Redis restarted without its
append-only file, a worker's retry that could not be published), the row would wait forever.
Celery beat runs :func:`resend_stale` every minute (memorial/celery.py): a ``queued`` job that
may start (nothing it waits for, or that finished well), untouched for
``JOB_RESEND_AFTER_SECONDS``, whose task id is neither waiting in a queue nor delivered and
unacknowledged, and whose lease nobody holds, is sent again.

Sending again is always safe: every delivery first asks the ledger (runner.running), so a message
for a job that is running waits for its lease and then finds it finished, and one for a finished
job does nothing. At worst (a worker taking the message between our look at the queue and at
the lease) the job gets one message too many, which does nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from memorial.celery import app
from memorial.jobs import dispatch
from memorial.jobs import lease as leases
from memorial.jobs.models import QUEUES, Job, State

log = logging.getLogger(__name__)


def stale(older_than: float) -> QuerySet[Job]:
    """Queued jobs that may start and have not changed for ``older_than`` seconds."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    return Job.objects.filter(
        Q(after__isnull=True) | Q(after__state=State.SUCCEEDED),
        state=State.QUEUED,
        cancel_requested=False,
        updated_at__lte=cutoff,
    ).order_by("created_at")


def _task_id(raw: bytes | str) -> str:
    """The task id in one of kombu's stored messages (protocol 2 keeps it in the headers)."""
    try:
        message = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(message, list):  # an unacknowledged delivery: [message, exchange, key]
        message = message[0] if message else {}
    if not isinstance(message, dict):
        return ""
    headers = message.get("headers") or {}
    return str(headers.get("id") or "")


def task_ids_in_broker() -> set[str]:
    """Ids of the tasks waiting in the job queues or delivered and not yet acknowledged.

    Reads kombu's Redis layout: a list per queue and priority, and the ``unacked`` hash that
    holds what workers took (a job waiting for its turn, ``retry(countdown=…)``, is there)."""
    found: set[str] = set()
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        names = {
            channel._q_for_pri(queue, priority)
            for queue in set(QUEUES.values())
            for priority in channel.priority_steps
        }
        with channel.conn_or_acquire() as client:
            for name in sorted(names):
                found.update(_task_id(raw) for raw in client.lrange(name, 0, -1))
            found.update(_task_id(raw) for raw in client.hvals(channel.unacked_key))
    found.discard("")
    return found


def resend_stale(older_than: float | None = None) -> list[str]:
    """Send again each stale queued job no message stands for; returns the ids sent."""
    older_than = settings.JOB_RESEND_AFTER_SECONDS if older_than is None else older_than
    jobs = list(stale(older_than))
    if not jobs:
        return []
    in_broker = task_ids_in_broker()
    sent = []
    for job in jobs:
        if job.celery_task_id and job.celery_task_id in in_broker:
            continue
        if leases.holder(job.pk):  # a worker has it right now
            continue
        if dispatch.deliver(job.pk, job.kind):
            log.info("job %s had no message in the broker; sent it again", job.pk)
            sent.append(str(job.pk))
    return sent
