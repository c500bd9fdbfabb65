"""Keep storage in step with the database: files go when their record goes, after commit."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from memorial.memorials.models import Photo

log = logging.getLogger(__name__)


def delete_stored_files(*fields) -> None:
    """Delete files only once the transaction that removed their record has committed."""
    names = [(f.storage, f.name) for f in fields if f and f.name]

    def _delete() -> None:
        for storage, name in names:
            try:
                storage.delete(name)
            except Exception:
                log.exception("could not delete stored file %s", name)

    transaction.on_commit(_delete)


@receiver(post_delete, sender=Photo)
def photo_deleted(sender, instance: Photo, **kwargs) -> None:
    delete_stored_files(instance.image, instance.display, instance.thumbnail)
