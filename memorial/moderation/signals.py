"""A takedown that waited for a job to stop purges again when the job ends."""

from __future__ import annotations

from django.dispatch import receiver

from memorial.jobs.retirement import job_ended
from memorial.moderation import services


@receiver(job_ended)
def job_ended_takedowns_go_on(sender, job, **kwargs) -> None:
    services.purge_waiting_for(job)
