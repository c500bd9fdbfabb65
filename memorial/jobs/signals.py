"""Keep storage tidy: a deleted job or model takes its files with it (after the commit)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from memorial.jobs import files
from memorial.jobs.models import Job


@receiver(post_delete, sender=Job)
def delete_job_files(sender, instance: Job, **kwargs) -> None:
    keys = [instance.checkpoint, instance.sample.name if instance.sample else ""]
    transaction.on_commit(lambda: [files.delete(key) for key in keys if key])
