"""Audit entries: append-only rows, each carrying the hash of the one before it.

Who acted is kept as an id and an e-mail address, not a foreign key, so entries
outlive deleted users (and a cascade could never rewrite them). Targets are kept
as a type and an identifier only: never the content of what was acted on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from memorial.audit.actions import AuditAction


class AppendOnlyError(RuntimeError):
    """The audit log is never changed or shortened through the application."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit entries cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit entries cannot be deleted")

    _raw_delete = delete

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be updated")


class AuditEntry(models.Model):
    created_at = models.DateTimeField(_("when"), db_index=True)
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True, db_index=True)
    actor_email = models.CharField(_("user"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target"), max_length=64, blank=True)
    memorial_id = models.UUIDField(_("memorial"), null=True, blank=True, db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    extra = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"

    def get_action_display(self) -> str:
        labels = dict(AuditAction.choices)
        return str(labels.get(self.action, self.action))

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding or self.pk is not None:
            raise AppendOnlyError("audit entries cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted")
