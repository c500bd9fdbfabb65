"""Prometheus metrics of the job queues, read from the ledger, the broker and the worker
heartbeats at scrape time (a custom collector: nothing is counted in the web processes, so every
process answers the same and nothing is lost when one restarts)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from memorial.jobs import workers
from memorial.jobs.models import Job, State

log = logging.getLogger(__name__)
DURATION_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)


def waiting_messages(queue: str) -> int | None:
    """Messages waiting in the broker's queue (the Redis list Celery reads), or None if unknown."""
    from memorial.celery import app

    try:
        with app.connection_for_read() as connection:
            # Not passive: on Redis a declare only reads the list length (a passive one fails
            # for a queue no worker has bound yet, though it may hold messages).
            return connection.default_channel.queue_declare(queue).message_count
    except Exception:
        log.warning("could not read the length of queue %s", queue, exc_info=True)
        return None


def _histogram(values: list[float]) -> tuple[list[tuple[str, float]], float]:
    buckets = [
        (str(float(bound)), float(sum(1 for v in values if v <= bound)))
        for bound in DURATION_BUCKETS
    ]
    buckets.append(("+Inf", float(len(values))))
    return buckets, float(sum(values))


class JobCollector:
    """Queue lengths, jobs per state, job durations, failures and worker heartbeat ages."""

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "memorial_queue_messages", "Messages waiting in the broker queue.", labels=["queue"]
        )
        for queue in settings.CELERY_TASK_QUEUES_NAMES:
            count = waiting_messages(queue)
            if count is not None:
                waiting.add_metric([queue], count)
        yield waiting

        states = GaugeMetricFamily(
            "memorial_jobs",
            "Jobs in the ledger by queue, kind and state.",
            labels=["queue", "kind", "state"],
        )
        for row in Job.objects.values("queue", "kind", "state").annotate(n=Count("pk")):
            states.add_metric([row["queue"], row["kind"], row["state"]], row["n"])
        yield states

        failures = CounterMetricFamily(
            "memorial_job_failures", "Jobs that ended failed, by kind.", labels=["kind"]
        )
        for row in Job.objects.filter(state=State.FAILED).values("kind").annotate(n=Count("pk")):
            failures.add_metric([row["kind"]], row["n"])
        yield failures

        durations = HistogramMetricFamily(
            "memorial_job_duration_seconds",
            "Run time of finished jobs, from start to end, by kind and final state.",
            labels=["kind", "state"],
        )
        groups: dict[tuple[str, str], list[float]] = {}
        finished = Job.objects.filter(started_at__isnull=False, finished_at__isnull=False)
        for kind, state, started, ended in finished.values_list(
            "kind", "state", "started_at", "finished_at"
        ).iterator():
            groups.setdefault((kind, state), []).append((ended - started).total_seconds())
        for (kind, state), values in sorted(groups.items()):
            buckets, total = _histogram(values)
            durations.add_metric([kind, state], buckets, total)
        yield durations

        age = GaugeMetricFamily(
            "memorial_worker_heartbeat_age_seconds",
            "Seconds since each worker's last heartbeat.",
            labels=["worker", "host"],
        )
        online = GaugeMetricFamily(
            "memorial_worker_online", "1 if the worker beat recently, else 0.", labels=["worker"]
        )
        memory = GaugeMetricFamily(
            "memorial_worker_gpu_memory_used_bytes",
            "GPU memory in use, per worker and GPU.",
            labels=["worker", "gpu", "name"],
        )
        utilisation = GaugeMetricFamily(
            "memorial_worker_gpu_utilisation_ratio",
            "GPU utilisation (0 to 1) per worker and GPU, from nvidia-smi utilization.gpu.",
            labels=["worker", "gpu", "name"],
        )
        for record in workers.records():
            age.add_metric([record["name"], record.get("host", "")], round(record["age"], 3))
            online.add_metric([record["name"]], 1.0 if record["online"] else 0.0)
            for index, gpu in enumerate(record.get("gpus", [])):
                memory.add_metric(
                    [record["name"], str(index), gpu.get("name", "")],
                    gpu.get("memory_used_bytes", 0),
                )
                if gpu.get("utilisation") is not None:
                    utilisation.add_metric(
                        [record["name"], str(index), gpu.get("name", "")], gpu["utilisation"]
                    )
        yield age
        yield online
        yield memory
        yield utilisation


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobCollector())
    return generate_latest(registry)
