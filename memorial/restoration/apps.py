from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestorationConfig(AppConfig):
    """Restoring old photos: a job that makes an AI-restored copy beside the original."""

    name = "memorial.restoration"
    label = "restoration"
    verbose_name = _("Photo restoration")

    def ready(self) -> None:
        from memorial.restoration import items  # noqa: F401
