"""Periodic work for memorials: deleting those whose cooling-off period is over.

Celery beat sends ``memorial.memorials.purge_due`` every hour (memorial/celery.py). Each
deletion can be repeated, so a task delivered twice, or retried after a crash, only finishes
what an earlier run started.
"""

from __future__ import annotations

from celery import shared_task

from memorial.memorials import retire


@shared_task(name="memorial.memorials.purge_due", ignore_result=True)
def purge_due() -> list[str]:
    """Delete every memorial whose deletion date has passed; returns their ids."""
    return retire.purge_due()
