from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The append-only, hash-chained record of who did what."""

    name = "memorial.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from memorial.audit import signals  # noqa: F401
