"""Websocket consumer for a memorial's live events; access decided by memorial.policy."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from memorial import policy
from memorial.memorials.events import group_name
from memorial.memorials.models import Memorial

CLOSE_FORBIDDEN = 4403


class MemorialEventsConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        memorial_id = self.scope["url_route"]["kwargs"]["memorial_id"]
        if not await self._allowed(memorial_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = group_name(memorial_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _allowed(self, memorial_id: Any) -> bool:
        memorial = Memorial.objects.filter(pk=memorial_id).first()
        return memorial is not None and policy.allows(
            self.scope.get("user"), policy.Action.VIEW_MEMORIAL, memorial
        )

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def memorial_event(self, message: dict[str, Any]) -> None:
        await self.send_json({k: v for k, v in message.items() if k != "type"})
