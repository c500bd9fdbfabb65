from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing: health checks, API error shape, the embedded launcher."""

    name = "memorial.core"
    label = "core"
