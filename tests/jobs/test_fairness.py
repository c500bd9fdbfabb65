"""Fairness: one running GPU job per memorial, ``JOBS_PER_FAMILY`` per family; a waiting job
stays queued with a message, its page shows its place in the queue and an estimated start."""

from __future__ import annotations

import pytest

from memorial.consent.models import Scope
from memorial.jobs import fairness, lease, workers
from memorial.jobs.models import Job, Kind, State
from memorial.memorials.models import Memorial
from tests.jobs.conftest import approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _job(memorial, user, state=State.QUEUED, **fields) -> Job:
    return Job.objects.create(
        kind=Kind.TRAIN, memorial=memorial, requested_by=user, queue="gpu", state=state, **fields
    )


def test_a_second_training_of_one_memorial_waits_for_the_first(
    start_worker, own_broker, family, train_job, client_as
):
    """Two pool processes, two training jobs of one memorial: only one runs at a time; the other
    stays queued with a message, is delivered again, and starts after the first has finished."""
    approve(family.memorial, Scope.TRAINING)
    start_worker(concurrency=2, MEMORIAL_JOB_FAIRNESS_RECHECK_SECONDS="1")
    first = train_job(steps=150, checkpoint_every_steps=150, sample_every=0)
    second = train_job(steps=20, checkpoint_every_steps=20, sample_every=0)

    own_broker.send("train", first.pk)
    wait_for(lambda: fresh(first).state == State.RUNNING, "the first job to run")
    own_broker.send("train", second.pk)

    waiting = wait_for(
        lambda: fresh(second).deliveries >= 1 and "Waiting for another job" in second.message,
        "the second job to be told to wait",
    )
    assert waiting and second.state == State.QUEUED and second.started_at is None, dumps(second)
    if fresh(first).state == State.RUNNING:  # its page shows the queue while it waits
        page = client_as(family.contributor).get(second.get_absolute_url())
        assert page.status_code == 200
        assert "Place in the queue" in page.text
        assert page.context["snapshot"]["queue_position"] == 1

    wait_for(lambda: fresh(second).state == State.SUCCEEDED, "the second job to finish")
    fresh(first)
    assert first.state == State.SUCCEEDED, dumps(first)
    assert second.started_at >= first.finished_at, (first.finished_at, second.started_at)
    assert second.deliveries >= 2 and second.attempts == 1
    # The worker beats for the queue monitor and the metrics (in its own Redis).
    [record] = own_broker.client.hvals(workers.KEY)
    assert b'"queues": ["cpu", "gpu"]' in record


def test_the_family_limit_counts_only_jobs_whose_lease_lives(family, settings):
    settings.JOBS_PER_FAMILY = 1
    sister = Memorial.objects.create(family=family.memorial.family, name="Great-aunt May")
    running = _job(sister, family.owner, state=State.RUNNING, eta_seconds=42.0)
    waiting = _job(family.memorial, family.owner)
    other_family = _job(family.other_memorial, family.outsider)

    assert fairness.blocker(waiting) is None  # "running" without a lease: its worker is gone

    held = lease.acquire(running.pk, seconds=30)
    try:
        wait = fairness.blocker(waiting)
        assert wait is not None and wait.running == running
        assert "this family" in wait.reason
        assert wait.retry_in() == 30.0  # its ETA (42 s), capped by the recheck interval
        assert fairness.blocker(other_family) is None  # another family is not held back
        settings.JOBS_PER_FAMILY = 2
        assert fairness.blocker(waiting) is None
        same = _job(sister, family.owner)
        assert "this memorial" in fairness.blocker(same).reason
    finally:
        held.release()


def test_the_queue_position_and_estimated_start(family):
    older = _job(family.other_memorial, family.outsider)
    job = _job(family.memorial, family.owner)
    assert fairness.place(job).position == 2
    assert fairness.place(older).position == 1
    assert fairness.place(job).start is not None  # nothing running: it starts as soon as it can

    _job(family.other_memorial, family.outsider, state=State.RUNNING, eta_seconds=None)
    assert fairness.place(older).start is None  # a running job without an ETA: not known yet

    _job(family.other_memorial, family.outsider, state=State.RUNNING, eta_seconds=60.0)
    assert fairness.place(older).start is not None
    assert fairness.place(job).start is None  # only one running job has an ETA
    Job.objects.filter(pk=older.pk).update(state=State.CANCELLED)
    assert fairness.place(fresh(job)).position == 1
    assert fairness.place(fresh(older)) is None
