"""Publish memorial events (a photo arrived, a caption changed) to open browser tabs."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
EVENT_VERSION = 1


def group_name(memorial_id: Any) -> str:
    return f"memorial-{memorial_id}"


def publish(memorial_id: Any, event_type: str, **data: Any) -> None:
    """Best effort: a family's upload must never fail because a browser tab can't be told."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "memorial.event", "v": EVENT_VERSION, "event": event_type, **data}
    try:
        async_to_sync(layer.group_send)(group_name(memorial_id), message)
    except Exception:  # the channel layer is optional for correctness
        log.warning("could not publish %s for memorial %s", event_type, memorial_id, exc_info=True)
