"""The staff queue monitor: what each queue and worker is doing, and the staff's levers.

Pausing a queue is a flag in Redis that tasks honour (runner.py): a task of a paused queue stays
``queued`` and Celery delivers it again later. Chosen over ``app.control.cancel_consumer``
because the flag is durable: it also holds for workers that start or restart after the pause
(a control broadcast only reaches the workers online at that moment), and a running job is never
interrupted by it. Resuming clears the flag; waiting jobs start at their next delivery.
"""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.utils.translation import gettext_noop

from memorial.jobs import lease as leases
from memorial.jobs import metrics, services, texts, workers
from memorial.jobs.models import QUEUES, Job, State

PAUSED_KEY = "memorial:queues:paused"


def queues() -> tuple[str, ...]:
    return tuple(settings.CELERY_TASK_QUEUES_NAMES)


def is_paused(queue: str) -> bool:
    try:
        return bool(leases.client().sismember(PAUSED_KEY, queue))
    except redis.RedisError:  # unknown: let the job run rather than stall every queue
        return False


def paused_queues() -> set[str]:
    try:
        return {q.decode() for q in leases.client().smembers(PAUSED_KEY)}
    except redis.RedisError:
        return set()


def pause(queue: str) -> None:
    leases.client().sadd(PAUSED_KEY, queue)


def resume(queue: str) -> None:
    leases.client().srem(PAUSED_KEY, queue)


#: What a job of a paused queue says while it waits (translated when shown, see texts.py).
PAUSED = texts.t(gettext_noop("Waiting: staff have paused this queue for a moment."))


def pause_message() -> str:
    """The English a paused job's ledger row carries."""
    return texts.english(PAUSED)


def failed(queue: str):
    return Job.objects.filter(queue=queue, state=State.FAILED, dismissed=False)


def retry_failed(queue: str, by=None) -> int:
    """Queue every failed job of the queue again (from its last checkpoint); returns how many."""
    done = 0
    for job in failed(queue):
        try:
            services.retry(job, by)
            done += 1
        except services.Refused:  # e.g. consent withdrawn since: it stays failed
            continue
    return done


def clear_failed(queue: str) -> int:
    """Take the failed jobs off the monitor's list; the ledger keeps them."""
    return failed(queue).update(dismissed=True)


def snapshot() -> dict[str, Any]:
    """Everything the monitor page shows, as JSON (the page and the websocket send this)."""
    paused = paused_queues()
    rows = []
    for queue in queues():
        ledger = Job.objects.filter(queue=queue)
        rows.append(
            {
                "name": queue,
                "waiting": metrics.waiting_messages(queue),
                "queued": ledger.filter(state=State.QUEUED).count(),
                "running": ledger.filter(state=State.RUNNING).count(),
                "failed": failed(queue).count(),
                "paused": queue in paused,
            }
        )
    running = {
        job.worker: job
        for job in Job.objects.filter(state=State.RUNNING).select_related("memorial")
    }
    found = []
    for record in workers.records():
        job = running.get(record["name"])
        found.append(
            {
                "name": record["name"],
                "host": record.get("host", ""),
                "online": record["online"],
                "age": round(record["age"], 1),
                "queues": record.get("queues", []),
                "gpus": record.get("gpus", []),
                "job": None
                if job is None
                else {
                    "id": str(job.pk),
                    "kind": job.kind,
                    "kind_label": str(job.get_kind_display()),
                    "percent": round(job.percent, 1),
                    "url": job.get_absolute_url(),
                },
            }
        )
    failures = [
        {
            "id": str(job.pk),
            "queue": job.queue,
            "kind_label": str(job.get_kind_display()),
            "error": job.shown_error,
            "url": job.get_absolute_url(),
        }
        for job in Job.objects.filter(state=State.FAILED, dismissed=False)[:20]
    ]
    active = [
        {
            "id": str(job.pk),
            "queue": job.queue or QUEUES.get(job.kind, ""),
            "state": job.state,
            "state_label": str(job.get_state_display()),
            "kind_label": str(job.get_kind_display()),
            "url": job.get_absolute_url(),
            "cancellable": job.cancellable,
        }
        for job in Job.objects.filter(state__in=[State.QUEUED, State.RUNNING])[:50]
    ]
    return {
        "v": 1,
        "type": "queues",
        "queues": rows,
        "workers": found,
        "failed": failures,
        "active": active,
    }
