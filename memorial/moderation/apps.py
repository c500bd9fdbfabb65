from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    """Staff work: consent review and takedown requests."""

    name = "memorial.moderation"
    label = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from memorial.moderation import items, signals  # noqa: F401  (the photo handler, receivers)
