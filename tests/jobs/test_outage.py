"""Jobs started while Redis (the broker) is away: the page answers at once, the rows stay queued
and say so, and the periodic sweep sends them once the broker is back — to a real worker, which
runs each job once however many messages it gets.

The test process's Celery app is pointed at a private Redis of this test (`own_broker`) that the
test stops and starts again, so nothing else in the suite loses its broker."""

from __future__ import annotations

import pytest

from memorial import config
from memorial.consent.models import Scope
from memorial.jobs import dispatch, sweep
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for
from tests.jobs.test_train_form import _captioned_photos

pytestmark = pytest.mark.django_db(transaction=True)


def _use_pools_of(app, broker_url: str) -> None:
    """Point the Celery app at another broker; kombu keeps a pool per app, so drop the old one."""
    app.conf.broker_url = broker_url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def this_process_on(settings):
    """Make this process's Celery app and job leases use a given Redis, until the test ends."""
    from memorial.celery import app
    from memorial.jobs import lease

    before = app.conf.broker_url

    def point(url: str) -> None:
        settings.REDIS_URL = url
        lease.client.cache_clear()
        _use_pools_of(app, config.celery_url(url))

    yield point
    _use_pools_of(app, before)
    lease.client.cache_clear()


def _send_sweep(broker) -> None:
    """Ask the worker on `broker` to run the sweep now (Celery beat sends it every minute)."""
    from memorial.celery import app

    with app.connection_for_write(config.celery_url(broker.url)) as connection:
        app.send_task(
            "memorial.jobs.resend_stale",
            kwargs={"older_than": 0},
            queue="cpu",
            connection=connection,
            ignore_result=True,
        )


def test_training_started_while_the_broker_is_away_is_queued_and_sent_when_it_is_back(
    family, client_as, own_broker, start_worker, this_process_on
):
    approve(family.memorial, Scope.TRAINING)
    _captioned_photos(family, 2)
    this_process_on(own_broker.url)
    own_broker.redis.stop()

    response = client_as(family.contributor).post(
        f"/m/{family.memorial.pk}/train/", {"preset": "quick", "budget": 60}, follow=True
    )
    assert response.status_code == 200
    assert "It will start by itself when the worker can be reached" in response.content.decode()
    train = Job.objects.get(kind=Kind.TRAIN)
    prepare = train.after
    assert prepare.state == State.QUEUED and not prepare.celery_task_id, dumps(prepare)
    assert prepare.message == "Queued. It will start when the worker can be reached."
    assert train.state == State.QUEUED
    assert dispatch.waiting_for_broker(train)

    own_broker.redis.start()  # a fresh, empty Redis on the same socket
    assert sweep.resend_stale(older_than=0) == [str(prepare.pk)]
    fresh(prepare)
    assert prepare.celery_task_id and prepare.message == "Waiting for a worker.", dumps(prepare)
    assert own_broker.client.llen("cpu") == 1
    # Its message waits in the queue now: the next sweep leaves it alone.
    assert sweep.resend_stale(older_than=0) == []
    assert own_broker.client.llen("cpu") == 1

    start_worker()
    wait_for(lambda: fresh(prepare).finished, "a worker to take the preparation")
    assert prepare.deliveries == 1, dumps(prepare)
    # The preparation settled the training that waited for it; nothing is left to send.
    wait_for(lambda: fresh(train).finished, "the training to be settled")
    assert sweep.resend_stale(older_than=0) == []


def test_the_workers_sweep_sends_a_lost_job_and_a_message_sent_again_does_nothing(
    family, train_job, own_broker, start_worker, this_process_on
):
    approve(family.memorial, Scope.TRAINING)
    job = train_job()  # a queued row whose message never reached the broker
    start_worker()
    _send_sweep(own_broker)
    wait_for(lambda: fresh(job).state == State.SUCCEEDED, "the swept job to finish")
    assert job.attempts == 1 and job.deliveries == 1, dumps(job)
    finished_at, message = job.finished_at, job.message

    this_process_on(own_broker.url)
    assert sweep.resend_stale(older_than=0) == []  # finished: never sent again
    own_broker.send("train", job.pk)  # a duplicate all the same
    wait_for(lambda: fresh(job).deliveries == 2, "the duplicate to be delivered")
    assert job.state == State.SUCCEEDED and job.attempts == 1, dumps(job)
    assert job.finished_at == finished_at and job.message == message
