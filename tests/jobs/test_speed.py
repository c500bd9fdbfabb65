"""Time that tells the truth: the worker measures its own training speed when it starts, the
"Train a model" form's estimate uses it until a training run has finished here (and says what a
server without a graphics card can expect), and a job's "time left" never passes its budget."""

from __future__ import annotations

import json
import re

import pytest

from memorial.consent.models import Scope
from memorial.jobs import estimate, workers
from memorial.jobs import lease as leases
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = "trainer@test-host"
BUDGET = 15 * 60  # seconds: "15 minutes" on the form


def _figure(images_per_second: float, device: str = "cpu", resolution: int = 64) -> dict:
    return {
        "device": device,
        "device_name": "CPU",
        "resolution": resolution,
        "batch": 16,
        "threads": 2,
        "steps": 5,
        "images_per_second": images_per_second,
        "images_per_cpu_second": images_per_second / 2,
        "measured_at": 0.0,
    }


@pytest.fixture
def speeds():
    """Store a worker's speed probe (online, as its heartbeat says); removed afterwards."""
    stored: list[str] = []

    def store(*figures: dict, name: str = WORKER) -> None:
        workers.store_speed(name, list(figures))
        workers.beat(name, ["cpu", "gpu"])
        stored.append(name)

    yield store
    client = leases.client()
    for name in stored:
        client.hdel(workers.SPEED_KEY, name)
        client.hdel(workers.KEY, name)


def _estimate_data(html: str) -> dict:
    found = re.search(
        r'<script id="train-estimate-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "the form carries the estimate's parts for its script"
    return json.loads(found.group(1))


def test_the_speed_probe_measures_the_quick_model_and_stores_the_figure():
    from memorial.jobs import tasks

    try:
        figures = tasks.probe_speed(WORKER, steps=1)
        [stored] = [r for r in workers.speeds() if r["name"] == WORKER]
    finally:
        leases.client().hdel(workers.SPEED_KEY, WORKER)
    assert stored["figures"] == figures
    [figure] = figures
    assert figure["resolution"] == 64 and figure["batch"] == 16  # the Quick model, CPU batch
    assert figure["device"] == "cpu" and figure["steps"] == 1
    assert figure["images_per_second"] > 0


def test_the_estimate_uses_the_workers_measured_speed_until_a_run_has_finished(family, speeds):
    speeds(_figure(16.0))
    guess = estimate.for_memorial(family.memorial)

    quick = guess.presets["quick"]
    assert quick.source == estimate.WORKER and quick.images_per_second == 16.0
    assert quick.training_seconds == 20_000 * 16 / 16.0
    assert guess.total("quick", 15) == BUDGET  # no photos, no queue: the budget ends it
    standard = guess.presets["standard"]  # measured at 64 px only: scaled by the pixel cost
    assert standard.source == estimate.WORKER
    assert standard.images_per_second == round(16.0 / estimate.RESOLUTION_COST[128], 2)
    assert guess.cpu_only

    Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        parameters={"engine": {"resolution": 64, "steps": 100}},
        images_per_second=20.0,
    )
    after = estimate.for_memorial(family.memorial)
    assert after.presets["quick"].source == estimate.RUNS  # a finished run beats the probe
    assert after.presets["quick"].images_per_second == 20.0
    assert after.presets["standard"].source == estimate.WORKER  # none finished at 128 px


def test_a_gpu_worker_is_not_called_cpu_only(family, speeds):
    speeds(_figure(900.0, device="cuda"))
    guess = estimate.for_memorial(family.memorial)
    assert not guess.cpu_only and guess.presets["quick"].images_per_second == 900.0


def test_the_form_says_what_a_server_without_a_gpu_can_expect(family, client_as, speeds):
    approve(family.memorial, Scope.TRAINING)
    client = client_as(family.contributor)
    url = f"/m/{family.memorial.pk}/train/"
    before = client.get(url).content.decode()
    assert "no graphics card" not in before  # nothing measured yet: no claim either way
    assert "not known yet" in before
    assert _estimate_data(before)["presets"]["quick"]["source"] == estimate.DEFAULT

    speeds(_figure(14.6))
    html = client.get(url).content.decode()
    assert (
        "This server has no graphics card: a Quick model trains on about 15 images a second "
        "here; 15 minutes gives a first likeness, longer gives more detail." in html
    )
    data = _estimate_data(html)
    assert data["cpu_only"] is True
    assert data["presets"]["quick"] == {
        "training_seconds": 20_000 * 16 / 14.6,
        "images_per_second": 14.6,
        "measured": True,
        "source": estimate.WORKER,
    }
    assert "about 60 minutes" in html  # the 1-hour budget (the default) ends it, not the steps
    assert data["known"] is True and "not known yet" not in html


def test_time_left_is_the_sooner_of_the_steps_and_the_budget():
    from memorial.jobs.training import time_left

    assert time_left(96 * 3600.0, deadline=1000.0 + BUDGET, now=1000.0) == BUDGET
    assert time_left(60.0, deadline=1000.0 + BUDGET, now=1000.0) == 60.0
    assert time_left(None, deadline=1000.0 + BUDGET, now=1100.0) == BUDGET - 100
    assert time_left(60.0, deadline=1000.0, now=2000.0) == 0.0  # past the deadline


def test_a_running_jobs_time_left_is_capped_by_its_budget(job_worker, broker, family, train_job):
    """Far more steps than the budget allows: the ledger's time left is the budget's."""
    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=10_000_000, checkpoint_every_steps=100_000, sample_every=0)
    Job.objects.filter(pk=job.pk).update(
        parameters={**job.parameters, "time_budget_seconds": BUDGET}
    )
    broker.send("train", job.pk)
    wait_for(
        lambda: fresh(job).state == State.RUNNING and job.step >= 5 and job.eta_seconds,
        "a few steps with a time left",
    )
    assert 0 < job.eta_seconds <= BUDGET, dumps(job)  # steps alone would say about a day
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    wait_for(lambda: fresh(job).state == State.CANCELLED, "the job to stop")


def _python(code: str, **env: str) -> str:
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_worker_sets_sleeping_openmp_threads_before_torch_loads():
    """A worker (``celery -A memorial``) imports the package before its tasks load torch, whose
    OpenMP runtime reads OMP_WAIT_POLICY once, when it loads: spinning idle threads burned the
    CPU a shared 2-core worker needs. An administrator's own value is kept."""
    code = "import os, sys, memorial; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    assert _python(code) == "PASSIVE False"
    assert _python(code, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE False"
