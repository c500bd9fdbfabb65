"""Redis restarted for real during a training job: the worker and daphne reconnect, the job
finishes, and progress messages reach the browser's websocket again.

Redis runs with its append-only file (as a production broker must): the queued and unacknowledged
messages and the job's lease survive the restart."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from memorial.consent.models import Scope
from memorial.jobs.models import State
from tests.jobs.conftest import Broker, Worker, approve, dumps, fresh, wait_for
from tests.jobs.test_access import _cookie
from tests.servers import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def persistent_broker():
    b = Broker(persist=True)
    yield b
    b.stop()


def test_a_job_survives_a_redis_restart_and_progress_resumes(
    persistent_broker, artifacts_dir, family, train_job
):
    approve(family.memorial, Scope.TRAINING)
    broker = persistent_broker
    worker = Worker(broker, artifacts_dir)
    server = Daphne(artifacts_dir, REDIS_URL=broker.url)
    try:
        # Long enough to restart Redis mid-run; the time budget ends it as a success.
        job = train_job(steps=1_000_000, checkpoint_every_steps=200, sample_every=0)
        job.parameters["time_budget_seconds"] = 25
        job.save()
        broker.send("train", job.pk)
        wait_for(lambda: fresh(job).state == State.RUNNING and job.step > 0, "the job to run")

        headers = {"Cookie": _cookie(family.owner)}

        async def follow() -> tuple[int, int, int]:
            """Read on; if daphne closes the socket, reconnect as the page's script does."""
            url = server.url.replace("http", "ws") + f"/ws/jobs/{job.pk}/"
            connections, restarted_at = 0, None
            deadline = asyncio.get_running_loop().time() + 90
            while True:
                try:
                    async with websockets.connect(
                        url, additional_headers=headers, origin=server.url, open_timeout=20
                    ) as ws:
                        connections += 1
                        while True:
                            m = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                            if restarted_at is None:
                                await asyncio.to_thread(broker.restart)
                                restarted_at = (await asyncio.to_thread(fresh, job)).step
                            elif m["state"] == "running" and m["step"] > restarted_at:
                                return restarted_at, m["step"], connections
                except (OSError, websockets.exceptions.WebSocketException):
                    if asyncio.get_running_loop().time() > deadline:
                        raise
                    await asyncio.sleep(0.5)  # the page's reconnect delay

        restarted_at, live_step, connections = asyncio.run(follow())
        assert live_step > restarted_at
        print(f"progress resumed at step {live_step} after {connections} connection(s)")

        wait_for(lambda: fresh(job).state == State.SUCCEEDED, "the job to finish")
        assert job.attempts == 1, dumps(job)  # it kept running; nobody started it again
        assert "Stopped at the time budget" in job.message
    finally:
        worker.stop()
        server.stop()
