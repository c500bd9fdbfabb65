"""The Celery tasks that run jobs on workers: prepare (cpu), train and generate (gpu).

This is the only module of the web app that imports ``gan_engine`` (and so torch); pages and the
API queue tasks by name (see dispatch.py). The worker imports it at start, so each fresh pool
process (one per task, see CELERY_WORKER_MAX_TASKS_PER_CHILD) is forked with torch loaded.

Every task begins with :func:`memorial.jobs.runner.running`: the ledger row decides whether this
delivery may run (not finished, not cancelled, consent approved, lease free), and every outcome is
written to the ledger in words a person understands.

Limits, each with its reason:

* ``acks_late`` + ``reject_on_worker_lost`` (settings): a killed worker's job is delivered again.
* ``soft_time_limit`` = ``JOB_MAX_SECONDS``: but training stops itself cleanly, with a
  checkpoint, ``STOP_MARGIN`` seconds before it, so the soft limit (an exception at an arbitrary
  point) is only a backstop; the hard ``time_limit`` a few minutes later kills a stuck process.
* ``max_retries=None``: a delivery that finds the job leased elsewhere waits for the lease to end
  (the holder may be dead) as many times as it takes; it never runs the job alongside the holder.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gan_engine.checkpoint import CHECKPOINT_NAME
from gan_engine.data import MANIFEST_NAME
from gan_engine.data import prepare as prepare_photos
from gan_engine.errors import DataError, EngineError
from gan_engine.generate import generate as generate_images
from gan_engine.generate import load_model
from gan_engine.train import Progress, TrainConfig
from gan_engine.train import train as train_model
from memorial.jobs import dispatch, files, runner, workers
from memorial.jobs.models import GeneratedImage, Job, Kind, ModelVersion, State
from memorial.memorials.ingest import UploadRejected, ingest_photo
from memorial.memorials.models import PhotoKind
from memorial.provenance import signing

log = logging.getLogger(__name__)
STOP_MARGIN = 300  # seconds before the soft limit at which training checkpoints and stops
LIMITS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.JOB_MAX_SECONDS,
    "time_limit": settings.JOB_MAX_SECONDS + 600,
    "max_retries": None,
}
#: Reasons from gan_engine.data.prepare, for people.
SKIP_REASONS = {
    "unreadable": _("could not be read"),
    "no_face": _("no face found"),
    "face_too_small": _("face too small"),
    "not_target_person": _("another person"),
    "duplicate": _("duplicate"),
}


_heartbeat: dict = {}


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    """Tell the queue monitor and the metrics this worker is alive (see workers.py)."""
    name = getattr(sender, "hostname", None) or "worker"
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    _heartbeat[name] = workers.start(name, queues)


@worker_shutdown.connect
def _stop_heartbeat(**_kwargs) -> None:
    for name, stop in list(_heartbeat.items()):
        stop.set()
        try:
            workers.forget(name)  # a clean stop is not a lost worker
        except Exception:
            log.warning("could not remove the heartbeat of %s", name, exc_info=True)


def _run(task, job_id: str, body) -> str:
    try:
        with runner.running(job_id, task.request.hostname) as run:
            try:
                return body(run)
            except EngineError as error:
                runner.fail(run, _failure(run.job, str(error)))
            except SoftTimeLimitExceeded:
                runner.fail(run, _failure(run.job, _("The job ran past the longest time allowed.")))
            except Exception as error:
                log.exception("job %s failed", job_id)
                runner.fail(
                    run,
                    _failure(
                        run.job,
                        _("Something went wrong on the worker (%(error)s).")
                        % {"error": type(error).__name__},
                    ),
                )
            _after(run.job)
            return "failed"
    except runner.Skip as skip:
        if skip.retry_in is not None:
            raise task.retry(countdown=skip.retry_in) from None
        _after(Job.objects.filter(pk=job_id).first())
        return skip.outcome


def _failure(job: Job, error: str) -> str:
    if job.kind == Kind.TRAIN and job.checkpoint_step:
        return (
            error + " " + _("It can be retried from step %(step)d.") % {"step": job.checkpoint_step}
        )
    return error


def _after(job: Job | None) -> None:
    """Start or settle the jobs waiting for this one (training waits for preparation)."""
    if job is None or not job.finished:
        return
    for follower in job.followers.filter(state=State.QUEUED):
        if job.state == State.SUCCEEDED:
            dispatch.send(follower)
        else:
            state = State.BLOCKED if job.state == State.BLOCKED else State.FAILED
            if job.state == State.CANCELLED:
                state = State.CANCELLED
            reason = _("The photos could not be prepared: %(error)s") % {
                "error": job.error or job.get_state_display()
            }
            runner.finish(follower, state, error=reason, message=reason)


# --- prepare


@shared_task(bind=True, name="memorial.jobs.prepare", **LIMITS)
def prepare(self, job_id: str) -> str:
    return _run(self, job_id, _prepare)


def _skip_summary(manifest: dict) -> str:
    counts: dict[str, int] = {}
    for item in manifest.get("skipped", []):
        counts[item["reason"]] = counts.get(item["reason"], 0) + 1
    return "; ".join(
        f"{SKIP_REASONS.get(reason, reason)}: {n}" for reason, n in sorted(counts.items())
    )


def _prepare(run: runner.Run) -> str:
    job, reporter = run.job, run.reporter
    memorial = job.memorial
    photos = [
        p
        for p in memorial.photos.filter(kind=PhotoKind.UPLOADED, hidden=False)
        if p.ready_for_training
    ]
    if not photos:
        raise DataError(_("There are no captioned photos to learn from."))
    sizes = job.parameters.get("sizes") or [64]
    reporter.update(force=True, total=len(photos), message=_("Finding the face in each photo."))
    with tempfile.TemporaryDirectory(prefix="memorial-prepare-") as scratch:
        root = Path(scratch)
        pairs = []
        for photo in photos:
            field = photo.display if photo.display else photo.image
            path = root / "photos" / f"{photo.pk}{Path(field.name).suffix or '.jpg'}"
            files.download(field.name, path)
            pairs.append((path, photo.caption))
        out = root / "data"

        def on_progress(index: int, total: int, _text: str) -> None:
            reporter.update(step=index, total=total, percent=100 * index / max(total, 1))

        try:
            manifest = prepare_photos(pairs, out, sizes=sizes, progress=on_progress)
        except DataError as error:
            written = out / MANIFEST_NAME
            if written.is_file():
                summary = _skip_summary(json.loads(written.read_text()))
                raise DataError(
                    _("None of the %(n)d photos shows a usable face (%(reasons)s).")
                    % {"n": len(pairs), "reasons": summary}
                ) from error
            raise
        # Sources are scratch paths: record the photo ids instead.
        for item in manifest["entries"] + manifest["skipped"]:
            item["source"] = Path(item["source"]).stem
        (out / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
        key = files.prefix(memorial.pk, "datasets", job.pk)
        for entry in manifest["entries"]:
            for relative in entry["crops"].values():
                stored = files.upload(out / relative, f"{key}/{relative}")
                if stored != f"{key}/{relative}":  # a retry found an earlier copy: keep one
                    files.delete(stored)
        files.delete(f"{key}/{MANIFEST_NAME}")  # the manifest is written last, once complete
        files.upload(out / MANIFEST_NAME, f"{key}/{MANIFEST_NAME}")
    counts = manifest["counts"]
    message = (
        ngettext(
            "%(used)d of %(photos)d photo can be used.",
            "%(used)d of %(photos)d photos can be used.",
            counts["photos"],
        )
        % counts
    )
    if counts["skipped"]:
        message += " " + _("Left out: %(reasons)s.") % {"reasons": _skip_summary(manifest)}
    runner.succeed(
        run,
        step=len(photos),
        percent=100.0,
        message=message,
        result={
            "dataset": key,
            "counts": counts,
            "skipped": [{"photo": s["source"], "reason": s["reason"]} for s in manifest["skipped"]],
        },
    )
    _after(job)
    return "succeeded"


# --- train


@shared_task(bind=True, name="memorial.jobs.train", **LIMITS)
def train(self, job_id: str) -> str:
    return _run(self, job_id, _train)


def _download_dataset(key: str, target: Path) -> Path:
    files.download(f"{key}/{MANIFEST_NAME}", target / MANIFEST_NAME)
    manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
    for entry in manifest["entries"]:
        for relative in entry["crops"].values():
            files.download(f"{key}/{relative}", target / relative)
    return target


def _engine_config(engine: dict, data: Path, out: Path, resume: bool) -> TrainConfig:
    values = dict(engine)
    values.setdefault("checkpoint_every_seconds", 300.0)
    if "inject_nan_steps" in values:
        values["inject_nan_steps"] = tuple(values["inject_nan_steps"])
    return TrainConfig(data=str(data), out=str(out), resume=resume, **values)


def _train(run: runner.Run) -> str:
    job, reporter = run.job, run.reporter
    params = job.parameters
    engine = dict(params.get("engine", {}))
    dataset = params.get("dataset") or (job.after.result.get("dataset") if job.after else None)
    if not dataset:
        raise DataError(_("The photos have not been prepared for training."))
    started = time.monotonic()
    budget = params.get("time_budget_seconds") or math.inf
    deadline = started + min(budget, settings.JOB_MAX_SECONDS - STOP_MARGIN)
    stop = {"why": None, "next_check": 0.0}

    def should_cancel() -> bool:
        now = time.monotonic()
        if now >= deadline:
            stop["why"] = "budget" if budget < settings.JOB_MAX_SECONDS - STOP_MARGIN else "limit"
        elif run.lease.lost.is_set():
            stop["why"] = "lost"
        elif now >= stop["next_check"]:
            stop["next_check"] = now + 0.25
            if reporter.cancel_requested():
                stop["why"] = "cancel"
        return stop["why"] is not None

    def store_checkpoint(step: int, path: str) -> None:
        key = files.upload(
            Path(path), files.prefix(job.memorial_id, job.pk, "checkpoints", f"step-{step:08d}.pt")
        )
        old = job.checkpoint
        reporter.update(force=True, checkpoint=key, checkpoint_step=step)
        if old and old != key:
            files.delete(old)

    def store_sample(path: Path, step: int) -> None:
        old = job.sample.name
        key = files.upload(path, files.prefix(job.memorial_id, job.pk, "samples", path.name))
        job.sample.name = key
        reporter.update(force=True, sample=key, result={**job.result, "sample_step": step})
        if old and old != key:
            files.delete(old)

    def on_progress(p: Progress) -> None:
        if p.event == "step":
            reporter.update(
                step=p.step,
                total=p.total,
                percent=100.0 * p.step / max(p.total, 1),
                eta_seconds=p.eta_seconds,
                losses={k: round(v, 4) for k, v in p.losses.items()},
                images_per_second=p.images_per_second,
            )
        elif p.event == "sample" and p.path:
            store_sample(Path(p.path), p.step)
        elif p.event in ("checkpoint", "cancelled", "done") and p.path:
            store_checkpoint(p.step, p.path)
        elif p.event in ("rollback", "batch_reduced") and p.message:
            reporter.update(force=True, message=p.message)

    with tempfile.TemporaryDirectory(prefix="memorial-train-") as scratch:
        root = Path(scratch)
        data = _download_dataset(dataset, root / "data")
        out = root / "run"
        resume = bool(job.checkpoint) and default_storage.exists(job.checkpoint)
        resumed = ""
        if resume:
            files.download(job.checkpoint, out / CHECKPOINT_NAME)
            resumed = _("Resumed from step %(step)d.") % {"step": job.checkpoint_step}
            reporter.update(force=True, resumed_from=job.checkpoint_step, message=resumed)
        else:
            reporter.update(force=True, message=_("Training started."))
        config = _engine_config(engine, data, out, resume)
        reporter.update(force=True, total=config.steps)
        result = train_model(config, progress=on_progress, should_cancel=should_cancel)
        samples = sorted((out / "samples").glob("step-*.png"))
        if samples and Path(job.sample.name).name != samples[-1].name:
            store_sample(samples[-1], result.step)
    if stop["why"] == "lost":
        return "lease lost"  # another worker owns the job now; leave the ledger to it
    if result.status == "cancelled" and stop["why"] == "cancel":
        runner.cancelled(
            run,
            _("Cancelled at step %(step)d; the last checkpoint is kept.") % {"step": result.step},
        )
        return "cancelled"
    if result.status == "cancelled" and stop["why"] == "limit":
        runner.fail(run, _failure(job, _("The job reached the longest time allowed for one run.")))
        return "failed"
    model, _created = ModelVersion.objects.update_or_create(
        job=job,
        defaults={
            "memorial": job.memorial,
            "checkpoint": job.checkpoint,
            "resolution": config.resolution,
            "step": result.step,
        },
    )
    if result.status == "cancelled":  # the time budget ended it: the model is usable
        message = _("Stopped at the time budget after step %(step)d of %(total)d.") % {
            "step": result.step,
            "total": config.steps,
        }
    else:
        message = _("Finished after %(step)d steps.") % {"step": result.step}
    if resumed:
        message += " " + resumed
    runner.succeed(
        run,
        message=message,
        step=result.step,
        percent=100.0 * result.step / max(config.steps, 1),
        result={
            **job.result,
            "model_version": str(model.pk),
            "step": result.step,
            "notes": result.notes,
        },
    )
    return "succeeded"


# --- generate


@shared_task(bind=True, name="memorial.jobs.generate", **LIMITS)
def generate(self, job_id: str) -> str:
    return _run(self, job_id, _generate)


def _generate(run: runner.Run) -> str:
    job, reporter = run.job, run.reporter
    params = job.parameters
    model = ModelVersion.objects.filter(
        pk=params.get("model_version"), memorial=job.memorial
    ).first()
    if model is None:
        raise EngineError(_("The trained model no longer exists."))
    caption = params.get("caption") or ""
    seeds = [int(params.get("seed", 0)) + i for i in range(int(params.get("count", 1)))]
    done = set(GeneratedImage.objects.filter(job=job).values_list("seed", flat=True))
    reporter.update(force=True, total=len(seeds), step=len(done), message=_("Generating photos."))
    with tempfile.TemporaryDirectory(prefix="memorial-generate-") as scratch:
        root = Path(scratch)
        checkpoint = files.download(model.checkpoint, root / "model" / CHECKPOINT_NAME)
        loaded = load_model(checkpoint, device=params.get("device", "auto"))
        for seed in seeds:
            if seed in done:
                continue  # a retry: this one is already in the gallery
            if run.should_stop():
                runner.cancelled(run, _("Cancelled after %(n)d photos.") % {"n": len(done)})
                return "cancelled"
            provenance = signing.for_generated(
                memorial=job.memorial,
                model_version=str(model.pk),
                item_id=f"{job.pk}/{seed}",
                mark=signing.mark_corner(params.get("mark", signing.DEFAULT_MARK)),
            )
            [path] = generate_images(
                loaded, root / "out", caption=caption or None, seeds=[seed], provenance=provenance
            )
            with path.open("rb") as handle:
                upload = File(handle, name=f"generated-{seed}.png")
                try:
                    photo = ingest_photo(
                        memorial=job.memorial,
                        uploaded=upload,
                        user=job.requested_by,
                        attested=True,
                        caption=caption,
                        kind=PhotoKind.GENERATED,
                    )
                except UploadRejected as rejected:
                    if rejected.existing is None:
                        raise EngineError(rejected.message) from None
                    photo = rejected.existing  # the same image already stored: link it
            GeneratedImage.objects.get_or_create(
                photo=photo,
                defaults={"model_version": model, "job": job, "caption": caption, "seed": seed},
            )
            done.add(seed)
            reporter.update(force=True, step=len(done), percent=100.0 * len(done) / len(seeds))
    runner.succeed(
        run,
        message=ngettext("%(n)d photo generated.", "%(n)d photos generated.", len(done))
        % {"n": len(done)},
        result={
            "photos": [
                str(p)
                for p in GeneratedImage.objects.filter(job=job).values_list("photo_id", flat=True)
            ]
        },
    )
    return "succeeded"
