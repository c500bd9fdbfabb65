"""Pictures while it learns: a training job stopped by its time budget still shows the sample
grid of the step it stopped at on its page (the engine writes one wherever a run stops)."""

from __future__ import annotations

import re

import pytest

from memorial.consent.models import Scope
from memorial.jobs.models import FINISHED, Job, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_budget_stopped_job_shows_the_grid_of_its_last_step(
    start_worker, own_broker, family, train_job, client_as
):
    approve(family.memorial, Scope.TRAINING)
    # No grid by steps or by time: only the one written where the budget stops the run.
    job = train_job(steps=100_000, sample_every=0, sample_every_seconds=0)
    Job.objects.filter(pk=job.pk).update(parameters={**job.parameters, "time_budget_seconds": 3})
    start_worker()
    own_broker.send("train", job.pk)
    wait_for(lambda: fresh(job).state in FINISHED, "the training to stop at its budget")

    assert job.state == State.SUCCEEDED, dumps(job)
    assert "Stopped at the time budget" in job.message
    assert job.sample and job.result["sample_step"] == job.step, dumps(job)
    page = client_as(family.viewer).get(job.get_absolute_url()).content.decode()
    assert f'src="{job.sample_url()}"'.replace("&", "&amp;") in page
    figure = re.search(r'<figure class="job__sample"[^>]*>', page)
    assert figure and "hidden" not in figure.group(0), figure
    grid = client_as(family.viewer).get(job.sample_url())
    assert grid.status_code == 200 and grid["Content-Type"] == "image/png"
