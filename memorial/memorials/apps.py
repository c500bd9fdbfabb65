from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MemorialsConfig(AppConfig):
    """Memorials, their members, photos, captions and galleries."""

    name = "memorial.memorials"
    label = "memorials"
    verbose_name = _("Memorials and photos")

    def ready(self) -> None:
        from memorial.memorials import signals  # noqa: F401
