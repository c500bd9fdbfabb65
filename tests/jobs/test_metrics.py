"""``/metrics``: the Prometheus text format parses, figures come from the ledger, the broker and
the heartbeats, and only staff or a scraper with the token may read it."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from memorial.jobs import metrics, workers
from memorial.jobs.models import Job, Kind, State

pytestmark = pytest.mark.django_db


def _samples(text: str) -> dict:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _job(family, state, seconds=None, kind=Kind.TRAIN) -> Job:
    now = timezone.now()
    return Job.objects.create(
        kind=kind,
        memorial=family.memorial,
        requested_by=family.owner,
        queue="gpu",
        state=state,
        started_at=now - timedelta(seconds=seconds) if seconds is not None else None,
        finished_at=now if seconds is not None else None,
    )


def test_staff_read_the_figures_in_the_prometheus_text_format(family, client_as):
    _job(family, State.SUCCEEDED, seconds=20)
    _job(family, State.SUCCEEDED, seconds=400)
    _job(family, State.FAILED, seconds=5)
    _job(family, State.QUEUED)
    name = f"test-{uuid.uuid4().hex[:8]}@host"
    workers.beat(name, ["gpu"], now=time.time() - 100)
    try:
        response = client_as(family.staff).get("/metrics")
    finally:
        workers.forget(name)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    got = _samples(response.text)
    gpu = (("kind", "train"), ("queue", "gpu"))
    assert got[("memorial_jobs", (*gpu, ("state", "succeeded")))] == 2
    assert got[("memorial_jobs", (*gpu, ("state", "queued")))] == 1
    assert got[("memorial_job_failures_total", (("kind", "train"),))] == 1
    done = (("kind", "train"), ("state", "succeeded"))
    assert got[("memorial_job_duration_seconds_count", done)] == 2
    assert got[("memorial_job_duration_seconds_bucket", (*done[:1], ("le", "30.0"), done[1]))] == 1
    assert 419 < got[("memorial_job_duration_seconds_sum", done)] < 421
    beat = [v for (n, labels), v in got.items() if n.startswith("memorial_worker_heartbeat_age")]
    assert any(v >= 100 for v in beat)
    assert got[("memorial_worker_online", (("worker", name),))] == 0  # 100 s old: lost
    assert ("memorial_queue_messages", (("queue", "gpu"),)) in got


def test_the_queue_length_is_the_broker_list(settings):
    """Messages sent to a queue no worker reads are counted as waiting."""
    from memorial.celery import app

    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    assert metrics.waiting_messages(queue) == 0
    for _ in range(3):
        app.send_task("memorial.jobs.train", args=[str(uuid.uuid4())], queue=queue)
    assert metrics.waiting_messages(queue) == 3


@pytest.mark.parametrize(
    ("who", "header", "status"),
    [
        ("anonymous", None, 404),
        ("contributor", None, 404),
        ("owner", None, 404),
        ("anonymous", "Bearer s3cret-token", 200),
        ("anonymous", "Bearer wrong", 401),
        ("staff", None, 200),
    ],
)
def test_only_staff_or_the_token_may_read_the_metrics(
    family, client_as, settings, who, header, status
):
    settings.METRICS_TOKEN = "s3cret-token"
    client = client_as(None if who == "anonymous" else getattr(family, who))
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == status
    if status == 200:
        assert "memorial_jobs" in response.text


def test_no_token_configured_means_no_token_is_accepted(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
