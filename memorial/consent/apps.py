from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    """Consent records and the one gate every generative feature asks."""

    name = "memorial.consent"
    label = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        from memorial.consent import signals  # noqa: F401
