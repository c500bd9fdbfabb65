"""Evidence files go with their consent record, whatever path deleted it."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from memorial.consent.models import ConsentRecord
from memorial.memorials.signals import delete_stored_files


@receiver(post_delete, sender=ConsentRecord)
def consent_record_deleted(sender, instance: ConsentRecord, **kwargs) -> None:
    delete_stored_files(instance.evidence)
