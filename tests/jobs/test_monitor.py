"""The staff queue monitor: staff only (page, actions, websocket), a paused queue holds its jobs
back on a real worker until resumed, failed jobs can be retried or cleared, jobs cancelled."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from memorial.consent.models import Scope
from memorial.jobs import monitor
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for
from tests.jobs.test_access import _cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("role", "accepted"), [("anonymous", False), ("owner", False), ("staff", True)]
)
def test_only_staff_follow_the_queues_live(daphne_server, family, role, accepted):
    Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, queue="gpu")
    cookie = _cookie(family.user(role))

    async def attempt():
        try:
            ws = await websockets.connect(
                daphne_server.url.replace("http", "ws") + "/ws/staff/queues/",
                additional_headers={"Cookie": cookie} if cookie else {},
                origin=daphne_server.url,
                open_timeout=20,
            )
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code, None
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        await ws.close()
        return 101, first

    status, first = asyncio.run(attempt())
    assert status == (101 if accepted else 403)
    if accepted:
        gpu = next(q for q in first["queues"] if q["name"] == "gpu")
        assert first["type"] == "queues" and gpu["queued"] == 1 and gpu["paused"] is False


def test_staff_pause_retry_clear_and_cancel_from_the_page(family, client_as):
    approve(family.memorial, Scope.TRAINING)
    staff = client_as(family.staff)
    broken = Job.objects.create(
        kind=Kind.TRAIN, memorial=family.memorial, queue="gpu", state=State.FAILED, error="boom"
    )
    gone = Job.objects.create(
        kind=Kind.TRAIN, memorial=family.memorial, queue="gpu", state=State.FAILED, error="old"
    )
    waiting = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, queue="gpu")
    page = staff.get("/staff/queues/")
    assert page.status_code == 200 and "boom" in page.text
    assert client_as(family.owner).get("/staff/queues/").status_code == 404

    try:
        assert staff.post("/staff/queues/", {"action": "pause", "queue": "gpu"}).status_code == 302
        assert monitor.is_paused("gpu")
        assert (
            staff.post("/staff/queues/", {"action": "clear_failed", "queue": "gpu"}).status_code
            == 302
        )
        assert fresh(gone).dismissed and gone.state == State.FAILED  # kept in the ledger
        Job.objects.filter(pk=broken.pk).update(dismissed=False)
        staff.post("/staff/queues/", {"action": "retry_failed", "queue": "gpu"})
        assert fresh(broken).state in (State.QUEUED, State.RUNNING) or broken.deliveries, dumps(
            broken
        )
        staff.post("/staff/queues/", {"action": "cancel", "job": str(waiting.pk)})
        assert fresh(waiting).state == State.CANCELLED
        assert staff.post("/staff/queues/", {"action": "pause", "queue": "nope"}).status_code == 400
        assert staff.post("/staff/queues/", {"action": "cancel", "job": "x"}).status_code == 400
    finally:
        staff.post("/staff/queues/", {"action": "resume", "queue": "gpu"})
    assert not monitor.is_paused("gpu")


def test_a_paused_queue_holds_its_job_until_resumed(start_worker, own_broker, family, train_job):
    approve(family.memorial, Scope.TRAINING)
    own_broker.client.sadd(monitor.PAUSED_KEY, "gpu")  # the worker's Redis
    start_worker(MEMORIAL_JOB_FAIRNESS_RECHECK_SECONDS="1")
    job = train_job(steps=8, sample_every=0)

    own_broker.send("train", job.pk)
    wait_for(
        lambda: fresh(job).deliveries >= 2 and job.message == monitor.pause_message(),
        "the job to be held back by the pause",
    )
    assert job.state == State.QUEUED and job.started_at is None, dumps(job)

    own_broker.client.srem(monitor.PAUSED_KEY, "gpu")
    wait_for(lambda: fresh(job).state == State.SUCCEEDED, "the job to run after resuming")
