"""The progress publisher thread (memorial/jobs/publisher.py) behind the Reporter: the caller only
hands over copies, and still no state is skipped or reordered, forced updates are in the ledger
when update() returns, the final state comes after all progress (real database and Redis), a
failing publish or save does not stop the thread, and its database connections are closed."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections

from memorial.jobs import progress, runner
from memorial.jobs.models import Job, Kind, State
from memorial.jobs.publisher import Publisher

pytestmark = pytest.mark.django_db(transaction=True)


def copy(n: int, state: str = "running") -> SimpleNamespace:
    return SimpleNamespace(pk="job", n=n, state=state)


def test_a_busy_publisher_sends_the_newest_copy_of_each_state_in_order():
    entered, release = threading.Event(), threading.Event()
    saved, sent = [], []

    def save(job, fields):
        saved.append((job.n, sorted(fields)))
        if job.n == 1:
            entered.set()
            assert release.wait(30)

    publisher = Publisher(save, lambda job: sent.append((job.n, job.state)), "test-publisher")
    publisher.hand(copy(1), {"step"})
    assert entered.wait(30)  # the thread is busy with the first copy
    publisher.hand(copy(2), {"step"})
    publisher.hand(copy(3), {"message"})
    publisher.hand(copy(4, "succeeded"), {"state"})
    last = publisher.hand(copy(5, "succeeded"), {"result"})
    release.set()
    publisher.wait(last)
    publisher.close()
    assert sent == [(1, "running"), (3, "running"), (5, "succeeded")]
    assert saved[1:] == [(3, ["message", "step"]), (5, ["result", "state"])]


def test_errors_are_logged_the_thread_goes_on_and_a_waiting_caller_sees_a_failed_save(caplog):
    sent = []

    def save(job, fields):
        if job.n == 2:
            raise RuntimeError("database went away")

    def send(job):
        if job.n == 1:
            raise ConnectionError("Redis restarting")
        sent.append(job.n)

    publisher = Publisher(save, send, "test-publisher")
    publisher.wait(publisher.hand(copy(1), {"step"}))
    with pytest.raises(RuntimeError, match="database went away"):
        publisher.wait(publisher.hand(copy(2, "other"), {"step"}))
    publisher.wait(publisher.hand(copy(3), {"step"}))
    publisher.close()
    assert sent == [3]
    assert "could not publish progress" in caplog.text
    assert "could not save progress" in caplog.text


def test_reporter_writes_through_publishes_in_order_and_finishes_last(family, monkeypatch):
    job = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, queue="gpu")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(progress.job_group(job.pk), channel)
    threads = []
    save = progress._save

    def recording_save(copy, fields):
        threads.append(connections["default"])
        save(copy, fields)

    monkeypatch.setattr(progress, "_save", recording_save)

    reporter = progress.Reporter(job, interval=3600)
    reporter.update(force=True, state=State.RUNNING, total=40)
    assert Job.objects.get(pk=job.pk).state == State.RUNNING  # in the ledger on return
    for step in range(1, 41):
        reporter.update(step=step)  # throttled: only set on the job
        if step % 10 == 0:
            reporter.update(force=True, checkpoint=f"step-{step}.pt", checkpoint_step=step)
            assert Job.objects.get(pk=job.pk).checkpoint == f"step-{step}.pt"
    runner.finish(job, State.SUCCEEDED, message="Finished.")

    row = Job.objects.get(pk=job.pk)
    assert (row.state, row.step, row.checkpoint_step) == (State.SUCCEEDED, 40, 40)

    async def drain() -> list[dict]:  # one event loop for all receives (channels_redis buffers)
        out = []
        while not out or out[-1]["state"] != State.SUCCEEDED:
            out.append((await asyncio.wait_for(layer.receive(channel), 30))["message"])
        return out

    received = async_to_sync(drain)()
    assert [m["state"] for m in received[:1]] == [State.RUNNING]
    steps = [m["step"] for m in received if m["state"] == State.RUNNING]
    assert steps == [0, 10, 20, 30, 40]  # each forced update, in order (none was coalesced)
    assert received[-1]["step"] == 40 and len(received) == 6  # the final state last
    assert threads and all(c is not connections["default"] for c in threads)
    assert all(c.connection is None for c in threads)  # closed when the thread ended
