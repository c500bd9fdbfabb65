"""A training's time budget counts over all its attempts: a worker killed mid-run leaves the
seconds it trained on the job, and the attempt that resumes gets only what is left."""

from __future__ import annotations

import pytest

from memorial.consent.models import Scope
from memorial.jobs.models import FINISHED, Job, ModelVersion, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

BUDGET = 15 * 60  # seconds: "15 minutes" on the train form
REDELIVER_SOON = {
    "MEMORIAL_VISIBILITY_TIMEOUT": "2",
    "MEMORIAL_UNACKED_RESTORE_INTERVAL": "1",
    "MEMORIAL_UNACKED_RESTORE_THROTTLE": "1",
}


def test_a_resumed_training_gets_only_what_is_left_of_its_budget(
    start_worker, own_broker, family, train_job
):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=100_000, checkpoint_every_steps=10, sample_every=0)
    Job.objects.filter(pk=job.pk).update(
        parameters={**job.parameters, "time_budget_seconds": BUDGET}
    )
    first = start_worker(**REDELIVER_SOON)
    own_broker.send("train", job.pk)
    wait_for(
        lambda: (fresh(job).checkpoint_step or 0) >= 20 and job.trained_seconds > 0,
        "two checkpoints and the seconds trained",
        every=0.01,
    )
    first.kill()
    killed = fresh(job)
    assert killed.state == State.RUNNING and 0 < killed.trained_seconds < BUDGET, dumps(killed)

    # As if the killed attempt had trained for the whole budget before it died.
    Job.objects.filter(pk=job.pk).update(trained_seconds=BUDGET)
    start_worker(**REDELIVER_SOON)
    wait_for(lambda: fresh(job).state in FINISHED, "the resumed training to end")

    assert job.state == State.SUCCEEDED, dumps(job)  # a model stopped by its budget is usable
    assert job.attempts == 2 and job.resumed_from == killed.checkpoint_step
    assert job.step == job.resumed_from  # not one step past the budget
    assert f"Stopped at the time budget after step {job.step} " in job.message
    assert job.trained_seconds >= BUDGET
    assert ModelVersion.objects.get(job=job).step == job.step
