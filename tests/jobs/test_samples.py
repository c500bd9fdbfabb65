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


def test_a_finished_job_shows_the_grid_of_the_snapshot_it_keeps(
    start_worker, own_broker, family, train_job, client_as, tmp_path
):
    """The model a family gets is the snapshot that looked most like the person while it trained
    (gan_engine.likeness); the page ends on that snapshot's grid and names its step."""
    from gan_engine.generate import load_model
    from memorial.jobs import files

    approve(family.memorial, Scope.TRAINING)
    job = train_job(steps=12, sample_every=4, keep_best=True, likeness_samples=4)
    start_worker()
    own_broker.send("train", job.pk)
    wait_for(lambda: fresh(job).state in FINISHED, "the training to finish")

    assert job.state == State.SUCCEEDED, dumps(job)
    kept = job.result["kept"]
    assert kept["step"] in (4, 8, 12) and 0 <= kept["percent"] <= 100, dumps(job)
    assert job.result["sample_step"] == kept["step"]
    assert job.sample.name.endswith(f"step-{kept['step']:08d}.png")
    checkpoint = files.download(job.checkpoint, tmp_path / "checkpoint.pt")
    assert load_model(checkpoint, "cpu").step == kept["step"]  # what Generate and Film draw from
    page = client_as(family.viewer).get(job.get_absolute_url()).content.decode()
    assert "Most like the person" in page
    assert f"step {kept['step']} ({kept['percent']}% of its test samples showed the person)" in page
    assert "Samples of the model you get" in page
