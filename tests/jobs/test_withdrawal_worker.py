"""Consent withdrawn while a real worker trains, in either order of the worker's last write and
the withdrawal's deletion: every job ends in a final state and the deletion ends complete.

* The worker ends after the withdrawal deleted what it points to (the preparation it followed):
  its blocked state is still written and it finishes the waiting deletion itself.
* The worker is gone (killed) when consent is withdrawn: while its lease lives the job stays
  "remaining"; once the lease is gone "Run the deletion again" ends the job blocked, deletes it
  and the files written after the first run; the redelivered message then finds nothing to do.

The test process reads job leases from the workers' Redis, as the web process does in
production (one Redis for both).
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from memorial.consent import services as consent
from memorial.consent.models import Scope, Withdrawal
from memorial.jobs import files, lease
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import TINY, approve, dumps, fresh, wait_for
from tests.trust.made import stored, under

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def leases_on(settings):
    """Point this process's job leases at a given Redis (the workers' own)."""

    def point(url: str) -> None:
        settings.REDIS_URL = url
        lease.client.cache_clear()

    yield point
    lease.client.cache_clear()


def _prepared_training(family, dataset: str, **engine) -> Job:
    """A finished preparation and the training that follows it (as "Train a model" makes them)."""
    prepare = Job.objects.create(
        kind=Kind.PREPARE,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={"sizes": [TINY["resolution"]]},
        state=State.SUCCEEDED,
        result={"dataset": dataset, "photos": []},
        queue="cpu",
    )
    settings = {**TINY, "steps": 100_000, "checkpoint_every_steps": 10, "sample_every": 0}
    return Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={"engine": {**settings, **engine}},
        after=prepare,
        queue="gpu",
        total=settings["steps"],
    )


def _withdrawal() -> Withdrawal:
    return Withdrawal.objects.get()


def _job_ref(job: Job) -> dict:
    return {"kind": "job", "id": str(job.pk), "memorial": str(job.memorial_id)}


@pytest.mark.parametrize("order", ["deletion_first", "as_it_happens"])
def test_worker_ending_after_the_withdrawal_ends_blocked_and_completes_it(
    order, start_worker, own_broker, leases_on, family, dataset
):
    """``deletion_first``: the withdrawal runs in one transaction, so the worker sees it only once
    the preparation its training follows is deleted (as when a step outlasts the deletion).
    ``as_it_happens``: the page's own order, either side may write first."""
    leases_on(own_broker.url)
    record = approve(family.memorial, Scope.TRAINING)
    train = _prepared_training(family, dataset)
    worker = start_worker()
    own_broker.send("train", train.pk)
    wait_for(lambda: fresh(train).state == State.RUNNING and train.checkpoint_step, "a checkpoint")

    if order == "deletion_first":
        with transaction.atomic():
            withdrawal = consent.withdraw(record.pk, family.memorial, family.owner)
        # The preparation went at once; the training (still running) waited for its worker.
        assert _job_ref(train) in withdrawal.remaining
    else:
        consent.withdraw(record.pk, family.memorial, family.owner)
    assert not Job.objects.filter(pk=train.after_id).exists()

    wait_for(lambda: _withdrawal().complete, "the worker to end and finish the deletion")
    m = family.memorial.pk
    assert not Job.objects.filter(memorial=family.memorial).exists()
    assert not under(stored(m), "memorials", m, "models")
    wait_for(lambda: "succeeded in" in worker.text(), "the task to return")
    assert "'blocked'" in worker.text(), worker.text()  # the task's outcome
    assert "IntegrityError" not in worker.text()


def test_rerun_after_the_worker_is_gone_ends_the_job_and_clears_everything(
    start_worker, own_broker, leases_on, family, dataset, client_as
):
    leases_on(own_broker.url)
    record = approve(family.memorial, Scope.TRAINING)
    train = _prepared_training(family, dataset)
    env = {
        "MEMORIAL_VISIBILITY_TIMEOUT": "2",
        "MEMORIAL_UNACKED_RESTORE_INTERVAL": "1",
        "MEMORIAL_UNACKED_RESTORE_THROTTLE": "1",
    }
    first = start_worker(**env)
    own_broker.send("train", train.pk)
    wait_for(lambda: fresh(train).state == State.RUNNING and train.checkpoint_step, "a checkpoint")
    first.kill()
    # Its lease outlives it for as long as the test says (a worker that is slow, not dead).
    assert own_broker.client.persist(lease.key(train.pk)), dumps(fresh(train))

    consent.withdraw(record.pk, family.memorial, family.owner)
    m = family.memorial.pk
    # A checkpoint the worker uploaded after the withdrawal's first run (between its last
    # check and its upload).
    late = files.prefix(m, train.pk, "checkpoints", "step-99999999.pt")
    default_storage.save(late, ContentFile(b"late checkpoint"))
    url = f"/m/{m}/consent/withdrawals/{_withdrawal().pk}/"
    owner = client_as(family.owner)

    assert owner.post(url).status_code == 302  # "Run the deletion again" while the lease lives
    assert _job_ref(fresh(train)) in _withdrawal().remaining
    assert train.state == State.RUNNING
    page = owner.get(url).content.decode()
    assert "computer&#x27;s work" in page and str(train.pk) not in page

    own_broker.client.delete(lease.key(train.pk))  # the lease expires: no worker holds the job
    assert owner.post(url).status_code == 302
    withdrawal = _withdrawal()
    assert withdrawal.complete, withdrawal.remaining
    assert not Job.objects.filter(memorial=family.memorial).exists()
    assert not under(stored(m), "memorials", m, "models")
    assert "data-complete" in owner.get(url).content.decode()

    # The message the dead worker never acknowledged comes back to a new worker: nothing to do.
    second = start_worker(**env)
    wait_for(lambda: "'no such job'" in second.text(), "the redelivery to find no job")
    assert not under(stored(m), "memorials", m, "models")
    assert _withdrawal().complete
