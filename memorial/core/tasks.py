"""Tasks that belong to the platform itself rather than to one app."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="memorial.core.ping", ignore_result=False)
def ping(self) -> str:
    """Answer with the name of the worker that ran it, and touch nothing else.

    Health checks send it to a queue and wait for the answer: a reply proves that the
    broker, a worker consuming that queue and the result store all work.
    """
    return str(self.request.hostname)
