"""The per-process relay (memorial/core/relay.py) with a real daphne and Redis: many sockets of
one job share ONE channel-layer membership per daphne process, each socket gets each message
once, and the process leaves the group when its last socket closes."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis
import websockets
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from memorial.jobs.models import Job, Kind, State
from memorial.jobs.progress import job_group, memorial_group, message
from tests.jobs.conftest import Broker
from tests.jobs.test_access import _cookie
from tests.servers import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


def _members(group: str) -> int:
    """Channels in the group, read from Redis (channels_redis keeps a group as a sorted set)."""
    key = get_channel_layer()._group_key(group)
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        return client.zcard(key)


async def _until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(condition):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_sockets_of_one_process_share_one_membership_and_leave_with_the_last(daphne_server, family):
    job = Job.objects.create(
        kind=Kind.TRAIN, memorial=family.memorial, state=State.RUNNING, total=10, queue="gpu"
    )
    payload = message(job)
    groups = job_group(job.pk), memorial_group(family.memorial.pk)
    base = daphne_server.url.replace("http", "ws")
    headers = {"Cookie": _cookie(family.viewer)}

    async def connect(path: str):
        ws = await websockets.connect(
            base + path, additional_headers=headers, origin=daphne_server.url, open_timeout=20
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert first["job"] == str(job.pk)  # the current state comes first
        return ws

    async def scenario() -> None:
        job_sockets = [await connect(f"/ws/jobs/{job.pk}/") for _ in range(12)]
        list_sockets = [
            await connect(f"/ws/memorials/{family.memorial.pk}/jobs/") for _ in range(3)
        ]
        assert [_members(g) for g in groups] == [1, 1]  # one channel per process and group

        layer = get_channel_layer()
        for step in (1, 2):  # as progress.publish does: the job's group, then the memorial's
            event = {"type": "job.message", "message": {**payload, "step": step}}
            for group in groups:
                await layer.group_send(group, event)
        for ws in job_sockets + list_sockets:  # each message once, in order, no duplicates
            steps = [json.loads(await asyncio.wait_for(ws.recv(), 20))["step"] for _ in (1, 2)]
            assert steps == [1, 2]

        for ws in job_sockets[1:]:
            await ws.close()
        await _until(lambda: _members(groups[1]) == 1, "the memorial group to stay joined")
        assert _members(groups[0]) == 1  # one local socket left: still joined
        await layer.group_send(groups[0], {"type": "job.message", "message": payload})
        assert json.loads(await asyncio.wait_for(job_sockets[0].recv(), 20))["job"] == str(job.pk)

        await job_sockets[0].close()
        await _until(lambda: _members(groups[0]) == 0, "the job group to be left")
        assert _members(groups[1]) == 1
        for ws in list_sockets:
            await ws.close()
        await _until(lambda: _members(groups[1]) == 0, "the memorial group to be left")

    asyncio.run(scenario())


def test_after_redis_forgets_everything_the_relay_joins_again_and_the_socket_stays(
    artifacts_dir, family
):
    """A Redis without persistence restarted: the groups are gone; the relay notices the lost
    connection, adds its channel to the group again, and the open socket gets messages again."""
    broker = Broker(persist=False)
    server = Daphne(artifacts_dir, REDIS_URL=broker.url)
    try:
        job = Job.objects.create(
            kind=Kind.TRAIN, memorial=family.memorial, state=State.RUNNING, total=10, queue="gpu"
        )
        payload, group = message(job), job_group(job.pk)
        layer = RedisChannelLayer(hosts=[broker.url])
        key = layer._group_key(group)
        cookie = _cookie(family.viewer)

        async def scenario() -> None:
            async with websockets.connect(
                server.url.replace("http", "ws") + f"/ws/jobs/{job.pk}/",
                additional_headers={"Cookie": cookie},
                origin=server.url,
                open_timeout=20,
            ) as ws:
                await asyncio.wait_for(ws.recv(), 20)  # the current state
                assert broker.client.zcard(key) == 1
                await asyncio.to_thread(broker.restart)
                assert broker.client.zcard(key) == 0  # Redis forgot the group
                deadline = asyncio.get_running_loop().time() + 40
                step = 0
                while True:  # publish until one arrives (a worker keeps publishing too)
                    step += 1
                    event = {"type": "job.message", "message": {**payload, "step": step}}
                    await layer.group_send(group, event)
                    try:
                        got = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                        break
                    except TimeoutError:
                        assert asyncio.get_running_loop().time() < deadline, "no message again"
                assert got["job"] == str(job.pk) and got["step"] >= 1
                assert broker.client.zcard(key) == 1
            await layer.close_pools()

        asyncio.run(scenario())
    finally:
        server.stop()
        broker.stop()
