"""Live progress: versioned JSON messages about jobs, published through the Redis channel layer.

Two groups: one per job (the job page) and one per memorial (its job list). The worker publishes
through :class:`Reporter`, which writes the ledger and sends at most one message per
``JOB_PROGRESS_INTERVAL`` seconds per job, but always on a state change or a new sample grid,
from a background thread (publisher.py) so that the training loop does not wait for either.
A client that connects first gets :func:`message` for the current ledger row (see consumers).
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from memorial.jobs import texts
from memorial.jobs.fairness import place
from memorial.jobs.models import Job, Kind, State
from memorial.jobs.publisher import WAIT_SECONDS, Publisher

log = logging.getLogger(__name__)
VERSION = 1


def job_group(job_id: Any) -> str:
    return f"job-{job_id}"


def memorial_group(memorial_id: Any) -> str:
    return f"memorial-jobs-{memorial_id}"


def message(job: Job) -> dict[str, Any]:
    """The one shape of a job's progress, for websockets and the API alike."""
    where = place(job)
    return {
        "v": VERSION,
        "type": "job.progress",
        "job": str(job.pk),
        "memorial": str(job.memorial_id),
        "kind": job.kind,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "step": job.step,
        "total": job.total,
        "percent": round(job.percent, 2),
        "eta_seconds": None if job.eta_seconds is None else round(job.eta_seconds, 1),
        "losses": job.losses,
        "images_per_second": None
        if job.images_per_second is None
        else round(job.images_per_second, 2),
        "message": job.shown_message,
        "error": job.shown_error,
        "message_code": job.message_code or None,
        "error_code": job.error_code or None,
        "sample_url": job.sample_url(),
        "cancel_requested": job.cancel_requested,
        "resumed_from": job.resumed_from,
        "attempts": job.attempts,
        "url": job.get_absolute_url(),
        "result": job.result,
        "queue_position": where.position if where else None,
        "estimated_start": where.start.isoformat() if where and where.start else None,
        "estimated_start_seconds": max(0.0, round((where.start - timezone.now()).total_seconds()))
        if where and where.start
        else None,
        "photos": _photos(job),
    }


def _photos(job: Job) -> list[dict[str, Any]]:
    """A generation job's finished photos so far, so the page can show each as it arrives."""
    if job.kind != Kind.GENERATE:
        return []
    return [
        {
            "id": str(image.photo_id),
            "url": image.photo.get_absolute_url(),
            "src": image.photo.media_url(),
            "caption": image.caption,
            "seed": image.seed,
        }
        for image in job.images.select_related("photo").filter(photo__hidden=False)
    ]


def localize(payload: dict[str, Any], language: str) -> dict[str, Any]:
    """A message as one reader sees it: state label, message and error in ``language``, rendered
    from the codes the worker sent (the worker itself writes English)."""
    out = dict(payload)
    with translation.override(language):
        out["state_label"] = str(State(payload["state"]).label)
        for name in texts.FIELDS:
            code = payload.get(f"{name}_code")
            if code:
                out[name] = texts.shown(payload.get(name) or "", code)
    return out


def language_of(scope: dict[str, Any]) -> str:
    """The language a websocket client asked for: the language cookie, else Accept-Language
    (as Django's LocaleMiddleware decides for pages), else the site's."""
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    candidates = [cookie] if cookie else []
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            candidates += [code for code, _q in parse_accept_lang_header(value.decode("latin-1"))]
    for code in candidates:
        if code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def publish(job: Job) -> None:
    """Best effort: a job must never fail because a browser cannot be told."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload = {"type": "job.message", "message": message(job)}
    groups = (job_group(job.pk), memorial_group(job.memorial_id))
    try:
        async_to_sync(_send)(layer, groups, payload)  # one hand-over to an event loop, not two
    except Exception:
        log.warning("could not publish progress of job %s", job.pk, exc_info=True)


async def _send(layer: Any, groups: tuple[str, ...], payload: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, payload)


class Reporter:
    """Writes progress to the ledger and publishes it, throttled per job, off the caller's thread.

    Why: the ledger save and the publish (~10–25 ms) on the training thread cost ~3 % of CPU
    training throughput. :meth:`update` sets the fields on the caller's job at once (the caller
    reads them back) and, when the throttle allows, hands a copy to this run's
    :class:`~memorial.jobs.publisher.Publisher`, which saves and publishes it, coalescing when
    busy. Guarantees kept:

    * ``force=True`` and a state change return once the ledger has them (not the publish):
      callers rely on it (a new checkpoint's key is saved before the old file is deleted;
      fairness counts the running row while it holds the family's lock).
    * :func:`settle` (called by ``runner.finish`` before it writes a final state) and
      :meth:`close` (when the run ends) wait until everything handed over is saved and
      published, so nothing of the run comes after its final state (bounded wait).
    * Inside a transaction the reporter writes on the caller's thread: another connection would
      not see the caller's uncommitted rows and could wait for its locks.
    """

    def __init__(self, job: Job, interval: float | None = None) -> None:
        self.job = job
        self.interval = settings.JOB_PROGRESS_INTERVAL if interval is None else interval
        self._last = 0.0
        self._pending: set[str] = set()
        self._publisher: Publisher | None = None
        job._reporter = self  # for settle(job)

    def update(self, force: bool = False, **fields: Any) -> None:
        """Set fields on the job; save and publish now if forced or the interval has passed.

        ``message``/``error`` may be texts messages (stored as English plus code, see texts.py)."""
        fields = texts.ledger_fields(fields)
        for name, value in fields.items():
            setattr(self.job, name, value)
        self._pending.update(fields)
        now = time.monotonic()
        urgent = force or "state" in fields
        if urgent or now - self._last >= self.interval:
            self.flush(wait=urgent)

    def flush(self, wait: bool = True) -> None:
        """Hand the pending fields to the publisher; with ``wait``, return once they are saved."""
        self.job.heartbeat_at = timezone.now()
        fields = self._pending | {"heartbeat_at", "updated_at"}
        self._pending.clear()
        self._last = time.monotonic()
        if transaction.get_connection().in_atomic_block:
            self.close()  # what was handed over first stays first
            _save(self.job, fields)
            publish(self.job)
            return
        if self._publisher is None:
            self._publisher = Publisher(_save, publish, name=f"progress-{self.job.pk}")
        generation = self._publisher.hand(_snapshot(self.job), fields)
        if wait:
            self._publisher.wait(generation)

    def close(self, timeout: float = WAIT_SECONDS) -> None:
        """Save and publish everything handed over, then end the publisher thread."""
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close(timeout)

    def cancel_requested(self) -> bool:
        """Read the flag from the ledger (a person sets it from the page or the API)."""
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()


def settle(job: Job) -> None:
    """Before a final state is written: everything the job's Reporter handed over is saved and
    published first (bounded wait), so none of it overwrites or follows the final state."""
    reporter = job.__dict__.get("_reporter")
    if reporter is not None:
        reporter.close()


def _save(job: Job, fields: set[str]) -> None:
    job.save(update_fields=sorted(fields))


def _snapshot(job: Job) -> Job:
    """A copy of the job for the publisher thread, sharing nothing the caller may change next
    (a FieldFile is bound to its instance; JSON values may be changed in place)."""
    names, values = [], []
    for model_field in job._meta.concrete_fields:
        value = getattr(job, model_field.attname)
        if isinstance(value, FieldFile):
            value = value.name
        elif isinstance(value, dict | list):
            value = copy.deepcopy(value)
        names.append(model_field.attname)
        values.append(value)
    return Job.from_db(job._state.db, names, values)
