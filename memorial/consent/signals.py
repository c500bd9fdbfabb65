"""Evidence files go with their consent record, whatever path deleted it; a withdrawal that
waited for a job to stop runs again when it ends."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from memorial.consent import services
from memorial.consent.models import ConsentRecord
from memorial.jobs.retirement import job_ended
from memorial.memorials.signals import delete_stored_files


@receiver(post_delete, sender=ConsentRecord)
def consent_record_deleted(sender, instance: ConsentRecord, **kwargs) -> None:
    delete_stored_files(instance.evidence)


@receiver(job_ended)
def job_ended_withdrawals_go_on(sender, job, **kwargs) -> None:
    services.run_waiting_for(job)
