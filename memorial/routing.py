"""Websocket routes. Every consumer asks memorial.policy before it accepts."""

from __future__ import annotations

from django.urls import path

from memorial.memorials.consumers import MemorialEventsConsumer

websocket_urlpatterns = [
    path("ws/memorials/<uuid:memorial_id>/", MemorialEventsConsumer.as_asgi()),
]
