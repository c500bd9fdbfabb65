"""The job guarantees with real workers on a private Redis: the consent gate in the task, one
worker per job even when delivered twice, cancel, and resume after a worker killed by SIGKILL."""

from __future__ import annotations

import json
import signal

import psutil
import pytest
from django.core.files.storage import default_storage

from memorial.consent.models import Scope
from memorial.jobs import lease
from memorial.jobs.models import Job, Kind, ModelVersion, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_for_a_memorial_without_consent_ends_blocked(job_worker, broker, train_job):
    job = train_job()  # no consent recorded at all

    broker.send("train", job.pk)

    wait_for(lambda: fresh(job).state == State.BLOCKED, "the job to be blocked")
    assert "No consent for" in job.error and "train" in job.error
    assert job.attempts == 0 and job.started_at is None and not job.checkpoint


def test_a_queued_job_cancelled_never_starts(job_worker, broker, family, train_job, client_as):
    approve(family.memorial, Scope.TRAINING)
    job = train_job()
    response = client_as(family.contributor).post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == State.CANCELLED

    broker.send("train", job.pk)  # a message already in the queue when the cancel came

    wait_for(lambda: fresh(job).deliveries >= 1, "the worker to receive the job")
    assert job.state == State.CANCELLED
    assert job.attempts == 0 and job.started_at is None and job.step == 0


def test_a_running_job_stops_at_a_step_boundary_and_keeps_its_checkpoint(
    job_worker, broker, family, train_job, client_as
):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=5000, checkpoint_every_steps=10, sample_every=0)
    broker.send("train", job.pk)
    wait_for(lambda: fresh(job).state == State.RUNNING and job.checkpoint_step, "a checkpoint")

    response = client_as(family.owner).post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["cancel_requested"] is True

    wait_for(lambda: fresh(job).state == State.CANCELLED, "the job to stop", timeout=60)
    assert 0 < job.step < 5000
    assert job.checkpoint_step == job.step  # the step it stopped at was saved...
    assert default_storage.exists(job.checkpoint)  # ...in the shared storage
    assert f"Cancelled at step {job.step}" in job.message
    assert not ModelVersion.objects.filter(job=job).exists()
    wait_for(lambda: not broker.client.exists(lease.key(job.pk)), "the lease to be released")


def test_a_job_delivered_twice_runs_once(start_worker, own_broker, family, train_job):
    """Two messages for one job reach two pool processes at the same time: the lease lets one
    run; the other waits for the lease and then finds the job finished."""
    approve(family.memorial, Scope.TRAINING)
    worker = start_worker(concurrency=2)
    job = train_job(steps=100, checkpoint_every_steps=50, sample_every=0)

    own_broker.send("train", job.pk)
    own_broker.send("train", job.pk)

    wait_for(lambda: fresh(job).state == State.SUCCEEDED, "the job to finish")
    wait_for(lambda: fresh(job).deliveries >= 3, "the duplicate to be retried and settled")
    assert job.attempts == 1, dumps(job)
    assert job.step == 100
    assert "is running elsewhere" in worker.text()
    assert ModelVersion.objects.filter(job=job).count() == 1


def test_a_worker_killed_mid_training_is_replaced_and_the_job_resumes(
    start_worker, own_broker, family, train_job
):
    """SIGKILL the whole worker (parent and pool process: nothing is acknowledged or cleaned up).
    The message stays unacknowledged in Redis; after the visibility timeout (2 s here, via the
    environment; hours in production) a new worker restores it, waits for the dead worker's lease
    to expire, downloads the newest checkpoint from storage and finishes the run."""
    approve(family.memorial, Scope.TRAINING)
    env = {
        "MEMORIAL_VISIBILITY_TIMEOUT": "2",
        "MEMORIAL_UNACKED_RESTORE_INTERVAL": "1",
        "MEMORIAL_UNACKED_RESTORE_THROTTLE": "1",
    }
    total = 120
    first = start_worker(**env)
    job = train_job(steps=total, checkpoint_every_steps=10, sample_every=0)
    own_broker.send("train", job.pk)
    wait_for(
        lambda: (fresh(job).checkpoint_step or 0) >= 20, "two checkpoints in storage", every=0.01
    )

    first.kill()
    killed_at = fresh(job).checkpoint_step
    assert job.state == State.RUNNING and killed_at < total, dumps(job)

    start_worker(**env)
    wait_for(lambda: fresh(job).state in (State.SUCCEEDED, State.FAILED), "the job to finish")

    assert job.state == State.SUCCEEDED, dumps(job)
    assert job.resumed_from is not None and job.resumed_from >= killed_at
    assert f"Resumed from step {job.resumed_from}." in job.message
    assert job.step == total  # the same number of steps as an uninterrupted run
    assert job.attempts == 2
    model = ModelVersion.objects.get(job=job)
    assert model.step == total and default_storage.exists(model.checkpoint)
    assert json.loads(json.dumps(job.result))["step"] == total
    assert Job.objects.filter(kind=Kind.TRAIN, memorial=family.memorial).count() == 1


def test_a_pool_process_killed_mid_training_is_put_back_and_resumed(
    start_worker, own_broker, family, train_job
):
    """SIGKILL only the pool process running the job (the OOM killer's usual victim). The worker
    sees it lost and, with reject_on_worker_lost, puts the message back at once (the visibility
    timeout stays at its production default, so it plays no part); a fresh pool process resumes."""
    approve(family.memorial, Scope.TRAINING)
    total = 120
    worker = start_worker()
    job = train_job(steps=total, checkpoint_every_steps=10, sample_every=0)
    own_broker.send("train", job.pk)
    wait_for(lambda: (fresh(job).checkpoint_step or 0) >= 20, "a checkpoint", every=0.01)

    [pool] = psutil.Process(worker.process.pid).children()
    pool.send_signal(signal.SIGKILL)
    killed_at = fresh(job).checkpoint_step
    assert job.state == State.RUNNING and killed_at < total, dumps(job)

    wait_for(lambda: fresh(job).state in (State.SUCCEEDED, State.FAILED), "the job to finish")
    assert job.state == State.SUCCEEDED, dumps(job)
    assert job.resumed_from is not None and job.resumed_from >= killed_at
    assert job.step == total and job.attempts == 2
    assert worker.process.poll() is None  # the worker itself lived on
