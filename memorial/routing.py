"""Websocket routes. Every consumer asks memorial.policy before it accepts."""

from __future__ import annotations

from django.urls import path

from memorial.jobs.consumers import JobConsumer, MemorialJobsConsumer, QueueMonitorConsumer
from memorial.memorials.consumers import MemorialEventsConsumer

websocket_urlpatterns = [
    path("ws/memorials/<uuid:memorial_id>/", MemorialEventsConsumer.as_asgi()),
    path("ws/memorials/<uuid:memorial_id>/jobs/", MemorialJobsConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    path("ws/staff/queues/", QueueMonitorConsumer.as_asgi()),
]
