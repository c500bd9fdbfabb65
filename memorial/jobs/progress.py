"""Live progress: versioned JSON messages about jobs, published through the Redis channel layer.

Two groups: one per job (the job page) and one per memorial (its job list). The worker publishes
through :class:`Reporter`, which writes the ledger and sends at most one message per
``JOB_PROGRESS_INTERVAL`` seconds per job, but always on a state change or a new sample grid.
A client that connects first gets :func:`message` for the current ledger row (see consumers).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from memorial.jobs import texts
from memorial.jobs.fairness import place
from memorial.jobs.models import Job, Kind, State

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
    try:
        send = async_to_sync(layer.group_send)
        send(job_group(job.pk), payload)
        send(memorial_group(job.memorial_id), payload)
    except Exception:
        log.warning("could not publish progress of job %s", job.pk, exc_info=True)


class Reporter:
    """Writes progress to the ledger and publishes it, throttled per job."""

    def __init__(self, job: Job, interval: float | None = None) -> None:
        self.job = job
        self.interval = settings.JOB_PROGRESS_INTERVAL if interval is None else interval
        self._last = 0.0
        self._pending: set[str] = set()

    def update(self, force: bool = False, **fields: Any) -> None:
        """Set fields on the job; save and publish now if forced or the interval has passed.

        ``message``/``error`` may be texts messages (stored as English plus code, see texts.py)."""
        fields = texts.ledger_fields(fields)
        for name, value in fields.items():
            setattr(self.job, name, value)
        self._pending.update(fields)
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self.flush()

    def flush(self) -> None:
        self.job.heartbeat_at = timezone.now()
        fields = self._pending | {"heartbeat_at", "updated_at"}
        self.job.save(update_fields=sorted(fields))
        self._pending.clear()
        self._last = time.monotonic()
        publish(self.job)

    def cancel_requested(self) -> bool:
        """Read the flag from the ledger (a person sets it from the page or the API)."""
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()
