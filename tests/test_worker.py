"""Celery through the real Redis broker: a worker answers on both queues, each task runs once."""

from __future__ import annotations

import io
import re
import socket
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command

from memorial.celery import app
from memorial.core.tasks import ping

DEADLINE = 60  # seconds; a worker that has not answered by then is not working


def test_ping_round_trips_through_the_broker(celery_worker):
    result = ping.delay()

    hostname = result.get(timeout=DEADLINE)

    assert result.successful()
    assert hostname == f"celery@{socket.gethostname()}"


def test_a_task_routed_to_the_gpu_queue_is_consumed_by_the_embedded_worker(celery_worker):
    """The embedded run has one worker: it must consume `gpu` as well as `cpu`."""
    result = ping.apply_async(queue="gpu")

    assert result.get(timeout=DEADLINE) == f"celery@{socket.gethostname()}"


def isolated_database() -> tuple[str, str]:
    """Redis and broker URLs for database 15 of the test Redis, which no worker reads."""
    parts = urlsplit(settings.REDIS_URL)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db=15", f"redis+socket://{parts.path}?virtual_host=15"
    url = urlunsplit((parts.scheme, parts.netloc, "/15", "", ""))
    return url, url


def queue_lengths_after_sending(queue: str | None) -> dict[str, int]:
    """Send one ping to `queue` (None: the default) where no worker reads, and count what
    landed in each queue."""
    redis_url, broker_url = isolated_database()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        with app.connection_for_write(broker_url) as connection:
            for declared in app.amqp.queues.values():  # as a worker on both queues does
                declared(connection.default_channel).declare()
            ping.apply_async(connection=connection, **({"queue": queue} if queue else {}))
        return {name: client.llen(name) for name in ("cpu", "gpu")}
    finally:
        client.flushdb()
        client.close()


def test_a_gpu_task_is_queued_only_for_gpu_workers():
    """A task for the GPU must never also land in the CPU queue (and so run twice)."""
    assert queue_lengths_after_sending("gpu") == {"cpu": 0, "gpu": 1}


def test_a_cpu_task_is_queued_only_for_cpu_workers():
    assert queue_lengths_after_sending("cpu") == {"cpu": 1, "gpu": 0}


def test_a_task_without_a_queue_goes_to_the_cpu_queue_only():
    assert queue_lengths_after_sending(None) == {"cpu": 1, "gpu": 0}


@pytest.mark.django_db
def test_check_services_names_the_service_that_does_not_answer():
    """No worker consumes queue `nobody`: the table says so, the rest is ok, the exit fails."""
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"Not answering: worker \(nobody\)\."):
        call_command("check_services", "--queue", "nobody", "--timeout", "2", stdout=out)

    table = out.getvalue()
    for service in ("database", "redis", "channel layer"):
        assert re.search(rf"^{service}\s+ok\b", table, re.MULTILINE), table
    assert re.search(
        r"^worker \(nobody\)\s+FAILED .*no worker consuming queue 'nobody' answered within 2 s",
        table,
        re.MULTILINE,
    ), table
