"""Websocket consumer for a memorial's live events; access decided by memorial.policy."""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from memorial import policy
from memorial.core.relay import RelayedConsumer
from memorial.memorials.events import group_name
from memorial.memorials.models import Memorial

CLOSE_FORBIDDEN = 4403


class MemorialEventsConsumer(RelayedConsumer, AsyncJsonWebsocketConsumer):
    """Events come through this process's relay (memorial/core/relay.py), one text per event."""

    group: str | None = None

    async def connect(self) -> None:
        memorial_id = self.scope["url_route"]["kwargs"]["memorial_id"]
        if not await self._allowed(memorial_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = group_name(memorial_id)
        await self.relay_subscribe(self.group)
        await self.accept()
        await self.relay_live()

    @database_sync_to_async
    def _allowed(self, memorial_id: Any) -> bool:
        memorial = Memorial.objects.filter(pk=memorial_id).first()
        return memorial is not None and policy.allows(
            self.scope.get("user"), policy.Action.VIEW_MEMORIAL, memorial
        )

    async def disconnect(self, code: int) -> None:
        self.relay_unsubscribe()

    def frame_key(self) -> None:
        return None  # every reader gets the same text

    def frame(self, message: dict[str, Any]) -> str | None:
        if message.get("type") != "memorial.event":
            return None
        return json.dumps({k: v for k, v in message.items() if k != "type"})  # as send_json does
