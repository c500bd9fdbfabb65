"""Websockets for live job progress: one job, or all jobs of a memorial.

Only people the policy lets see the memorial's jobs may subscribe (asked before accepting; the
origin is checked by the ASGI stack). A client that connects, or reconnects, first receives the
current state from the ledger, then every message the workers publish.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from memorial import policy
from memorial.core.relay import RelayedConsumer
from memorial.jobs.models import FINISHED, Job
from memorial.jobs.progress import job_group, language_of, localize, memorial_group, message
from memorial.memorials.models import Memorial

CLOSE_FORBIDDEN = 4403


class _JobsConsumer(RelayedConsumer, AsyncJsonWebsocketConsumer):
    """Group messages come through this process's relay (memorial/core/relay.py): one Redis
    message per daphne process per event, made into text once per language."""

    group: str | None = None
    language: str = "en"

    async def connect(self) -> None:
        found = await self._subscribe()
        if found is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group, snapshot = found
        self.language = language_of(self.scope)
        await self.relay_subscribe(self.group)
        await self.accept()
        for item in snapshot:
            await self.send_json(localize(item, self.language))
        await self.relay_live()

    async def disconnect(self, code: int) -> None:
        self.relay_unsubscribe()

    def frame_key(self) -> str:
        return self.language

    def frame(self, event: dict[str, Any]) -> str | None:
        """Workers publish English plus message codes; each reader gets their own language."""
        if event.get("type") != "job.message":
            return None
        return json.dumps(localize(event["message"], self.language))  # as send_json does

    @database_sync_to_async
    def _subscribe(self) -> tuple[str, list[dict]] | None:
        raise NotImplementedError


class JobConsumer(_JobsConsumer):
    @database_sync_to_async
    def _subscribe(self):
        job = (
            Job.objects.select_related("memorial")
            .filter(pk=self.scope["url_route"]["kwargs"]["job_id"])
            .first()
        )
        if job is None or not policy.allows(self.scope.get("user"), policy.Action.VIEW_JOBS, job):
            return None
        return job_group(job.pk), [message(job)]


class MemorialJobsConsumer(_JobsConsumer):
    @database_sync_to_async
    def _subscribe(self):
        memorial = Memorial.objects.filter(
            pk=self.scope["url_route"]["kwargs"]["memorial_id"]
        ).first()
        if memorial is None or not policy.allows(
            self.scope.get("user"), policy.Action.VIEW_JOBS, memorial
        ):
            return None
        active = Job.objects.filter(memorial=memorial).exclude(state__in=FINISHED)[:50]
        return memorial_group(memorial.pk), [message(job) for job in active]


class QueueMonitorConsumer(AsyncJsonWebsocketConsumer):
    """``ws/staff/queues/``: staff only; a snapshot of the queues and workers on connect and every
    ``INTERVAL`` seconds (read from the ledger, the broker and the heartbeats, like the page)."""

    INTERVAL = 2.0

    async def connect(self) -> None:
        allowed = await database_sync_to_async(policy.allows)(
            self.scope.get("user"), policy.Action.MONITOR_QUEUES
        )
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        self.language = language_of(self.scope)
        self._loop = asyncio.ensure_future(self._push())

    def _snapshot(self) -> dict[str, Any]:
        """In the reader's language (labels, and workers' error messages, see texts.py)."""
        from memorial.jobs.monitor import snapshot

        with translation.override(self.language):
            return snapshot()

    async def _push(self) -> None:
        while True:
            await self.send_json(await database_sync_to_async(self._snapshot)())
            await asyncio.sleep(self.INTERVAL)

    async def disconnect(self, code: int) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None:
            loop.cancel()
