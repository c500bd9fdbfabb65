from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvenanceConfig(AppConfig):
    """The instance's signing authority and the public "Verify a file" page."""

    name = "memorial.provenance"
    label = "provenance"
    verbose_name = _("Provenance")
