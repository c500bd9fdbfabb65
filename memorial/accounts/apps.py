from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """People, families and invitations."""

    name = "memorial.accounts"
    label = "accounts"
    verbose_name = _("Accounts and families")
