from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    """Training, generation and preparation jobs: the ledger, the Celery tasks, live progress."""

    name = "memorial.jobs"
    label = "jobs"
    verbose_name = _("Jobs and models")

    def ready(self) -> None:
        from memorial.jobs import items, signals  # noqa: F401
