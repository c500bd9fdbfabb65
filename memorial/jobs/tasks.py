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

import dataclasses
import json
import logging
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext_noop, ngettext_lazy
from redis import RedisError

from gan_engine.checkpoint import CHECKPOINT_NAME
from gan_engine.data import MANIFEST_NAME
from gan_engine.data import prepare as prepare_photos
from gan_engine.errors import DataError, EngineError, OutOfMemory
from gan_engine.generate import generate as generate_images
from gan_engine.generate import load_model
from gan_engine.prior import PriorError, adopt_architecture, is_prior_folder
from gan_engine.prior import verify as verify_prior
from gan_engine.train import Progress, TrainConfig
from gan_engine.train import train as train_model
from memorial.jobs import dispatch, files, presets, retirement, runner, sweep, texts, workers
from memorial.jobs.models import GeneratedImage, Job, Kind, ModelVersion, State
from memorial.jobs.texts import nt, t
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
    "unreadable": gettext_noop("could not be read"),
    "no_face": gettext_noop("no face found"),
    "face_too_small": gettext_noop("face too small"),
    "not_target_person": gettext_noop("another person"),
    "duplicate": gettext_noop("duplicate"),
}


class JobError(DataError):
    """An expected failure whose words are a texts message (translated for each reader)."""

    def __init__(self, msg: texts.Msg) -> None:
        super().__init__(texts.english(msg))
        self.msg = msg


def _said(error: EngineError) -> texts.Msg:
    """An engine error for the ledger: our own messages stay translatable, the engine's English
    (it knows no Django) is shown as it is."""
    return getattr(error, "msg", None) or texts.text(str(error))


#: Plural pairs (ngettext_lazy only marks them for makemessages; texts.nt renders them).
USABLE = (
    "%(used)d of %(photos)d photo can be used.",
    "%(used)d of %(photos)d photos can be used.",
)
GENERATED = ("%(n)d photo generated.", "%(n)d photos generated.")
# Spelled out again so that makemessages (which reads literals, not tuples) finds them.
ngettext_lazy(
    "%(used)d of %(photos)d photo can be used.", "%(used)d of %(photos)d photos can be used."
)
ngettext_lazy("%(n)d photo generated.", "%(n)d photos generated.")

_heartbeat: dict = {}


@worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    """Tell the queue monitor and the metrics this worker is alive (see workers.py)."""
    name = getattr(sender, "hostname", None) or "worker"
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    _heartbeat[name] = workers.start(name, queues)


#: The resolution the speed probe times: the Quick preset's, the one a first training uses;
#: the estimate scales it to the others (estimate.RESOLUTION_COST).
PROBE_RESOLUTION = 64
PROBE_TIMEOUT_SECONDS = 600


def probe_speed(name: str, steps: int | None = None, resolution: int = PROBE_RESOLUTION) -> list:
    """Time a few training steps of the Quick model on this worker's device and store the
    images per second where the web's estimate reads them (workers.store_speed).

    The steps run in a child process (``python -m gan_engine.speed``): a CUDA context made in
    the worker's main process would break the pool processes it forks (see workers.py). The
    device, batch and threads are the ones a training job here gets (JOB_ENGINE_OVERRIDES)."""
    steps = settings.WORKER_SPEED_PROBE_STEPS if steps is None else steps
    engine = presets.engine_values("quick")
    command = [sys.executable, "-m", "gan_engine.speed", "--resolutions", str(resolution)]
    command += ["--steps", str(steps), "--device", str(engine.get("device") or "auto")]
    for option in ("batch", "threads"):
        if engine.get(option):
            command += [f"--{option}", str(engine[option])]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    workers.store_speed(name, figures)
    return figures


@worker_ready.connect
def _start_speed_probe(sender=None, **_kwargs) -> None:
    """On a worker that trains (queue ``gpu``), measure its speed in the background."""
    queues = sender.app.amqp.queues.consume_from if sender is not None else {}
    if settings.WORKER_SPEED_PROBE_STEPS < 1 or "gpu" not in queues:
        return
    name = getattr(sender, "hostname", None) or "worker"

    def run() -> None:
        try:
            figures = probe_speed(name)
            log.info("training speed of %s: %s", name, figures)
        except (OSError, subprocess.SubprocessError, ValueError, IndexError, RedisError):
            log.warning("could not measure the training speed of %s", name, exc_info=True)

    threading.Thread(target=run, name="memorial-speed-probe", daemon=True).start()


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
            except OutOfMemory:
                runner.fail(run, _failure(run.job, _out_of_memory_failed(run)))
            except EngineError as error:
                runner.fail(run, _failure(run.job, _said(error)))
            except SoftTimeLimitExceeded:
                runner.fail(
                    run,
                    _failure(
                        run.job, t(gettext_noop("The job ran past the longest time allowed."))
                    ),
                )
            except Exception as error:
                log.exception("job %s failed", job_id)
                runner.fail(
                    run,
                    _failure(
                        run.job,
                        t(
                            gettext_noop("Something went wrong on the worker (%(error)s)."),
                            error=type(error).__name__,
                        ),
                    ),
                )
            _after(run.job)
            return "failed"
    except runner.Skip as skip:
        if skip.retry_in is not None:
            raise task.retry(countdown=skip.retry_in) from None
        _after(Job.objects.filter(pk=job_id).first())
        return skip.outcome


def _failure(job: Job, error: texts.Msg) -> texts.Msg:
    if job.kind == Kind.TRAIN and job.checkpoint_step:
        return texts.join(
            error,
            t(gettext_noop("It can be retried from step %(step)d."), step=job.checkpoint_step),
        )
    return error


def _out_of_memory_failed(run: runner.Run) -> texts.Msg:
    """Even batch size 1 did not fit: say where it started and what a person can do."""
    first = run.job.result.get("oom", {}).get("from")
    if first:
        return t(
            gettext_noop(
                "Ran out of GPU memory at batch %(batch)d and still at batch 1; choose a lower "
                "quality or a worker with more GPU memory."
            ),
            batch=first,
        )
    return t(
        gettext_noop(
            "Ran out of GPU memory even at batch 1; choose a lower quality or a worker with "
            "more GPU memory."
        )
    )


def _out_of_memory_note(result: dict) -> texts.Msg | None:
    """The ledger's sentence about smaller batches after running out of GPU memory."""
    oom = result.get("oom")
    if not oom:
        return None
    if oom.get("succeeded"):
        return t(
            gettext_noop(
                "Ran out of GPU memory at batch %(from)d; retried at %(to)d and succeeded."
            ),
            **{"from": oom["from"], "to": oom["to"]},
        )
    return t(
        gettext_noop("Ran out of GPU memory at batch %(from)d; retrying at %(to)d."),
        **{"from": oom["from"], "to": oom["to"]},
    )


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
            cause = (
                job.error_code
                if job.error_code and job.error_code.get("en") == job.error
                else texts.text(job.error)
                if job.error
                else texts.label(State(job.state).label)
            )
            reason = t(gettext_noop("The photos could not be prepared: %(error)s"), error=cause)
            runner.finish(follower, state, error=reason, message=reason)


@shared_task(name="memorial.jobs.resend_stale", ignore_result=True)
def resend_stale(older_than: float | None = None) -> list[str]:
    """Celery beat's sweep: send again the queued jobs no message stands for (sweep.py)."""
    return sweep.resend_stale(older_than)


# --- prepare


@shared_task(bind=True, name="memorial.jobs.prepare", **LIMITS)
def prepare(self, job_id: str) -> str:
    return _run(self, job_id, _prepare)


def _skip_summary(manifest: dict) -> str:
    counts: dict[str, int] = {}
    for item in manifest.get("skipped", []):
        counts[item["reason"]] = counts.get(item["reason"], 0) + 1
    return texts.join(
        *(
            t(gettext_noop("%(reason)s: %(n)d"), reason=t(SKIP_REASONS[reason]), n=n)
            if reason in SKIP_REASONS
            else texts.text(f"{reason}: {n}")
            for reason, n in sorted(counts.items())
        ),
        sep="; ",
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
        raise JobError(t(gettext_noop("There are no photos to learn from.")))
    sizes = job.parameters.get("sizes") or [64]
    reporter.update(
        force=True, total=len(photos), message=t(gettext_noop("Finding the face in each photo."))
    )
    with tempfile.TemporaryDirectory(prefix="memorial-prepare-") as scratch:
        root = Path(scratch)
        pairs = []
        for photo in photos:
            field = photo.display if photo.display else photo.image
            path = root / "photos" / f"{photo.pk}{Path(field.name).suffix or '.jpg'}"
            files.download(field.name, path)
            pairs.append((path, photo.caption.strip() or None))  # None: the empty caption
        out = root / "data"

        def on_progress(index: int, total: int, _text: str) -> None:
            reporter.update(step=index, total=total, percent=100 * index / max(total, 1))

        try:
            manifest = prepare_photos(pairs, out, sizes=sizes, progress=on_progress)
        except DataError as error:
            written = out / MANIFEST_NAME
            if written.is_file():
                summary = _skip_summary(json.loads(written.read_text()))
                raise JobError(
                    t(
                        gettext_noop("None of the %(n)d photos shows a usable face (%(reasons)s)."),
                        n=len(pairs),
                        reasons=summary,
                    )
                ) from error
            raise
        # Sources are scratch paths: record the photo ids instead.
        for item in manifest["entries"] + manifest["skipped"]:
            item["source"] = Path(item["source"]).stem
        (out / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
        refusal = retirement.refusal_to_store(job)
        if refusal:  # consent withdrawn (or the job retired) while it ran: store nothing
            runner.finish(job, State.BLOCKED, error=refusal, message=refusal)
            _after(job)
            return "blocked"
        key = files.prefix(memorial.pk, "datasets", job.pk)
        for entry in manifest["entries"]:
            for relative in entry["crops"].values():
                stored = files.upload(out / relative, f"{key}/{relative}")
                if stored != f"{key}/{relative}":  # a retry found an earlier copy: keep one
                    files.delete(stored)
        files.delete(f"{key}/{MANIFEST_NAME}")  # the manifest is written last, once complete
        files.upload(out / MANIFEST_NAME, f"{key}/{MANIFEST_NAME}")
    counts = manifest["counts"]
    message = nt(
        *USABLE,
        counts["photos"],
        used=counts["used"],
        photos=counts["photos"],
    )
    if counts["skipped"]:
        message = texts.join(
            message, t(gettext_noop("Left out: %(reasons)s."), reasons=_skip_summary(manifest))
        )
    runner.succeed(
        run,
        step=len(photos),
        percent=100.0,
        message=message,
        result={
            "dataset": key,
            # Which photos the data set holds: a takedown of one retires what was trained on it.
            "photos": [entry["source"] for entry in manifest["entries"]],
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


def _start_from_prior(config: TrainConfig, name: str, path: Path) -> TrainConfig:
    """``config`` started from the installed prior ``name`` at ``path``. An exported prior (its
    folder holds prior.json) is verified first (model card, size, checksum, resolution) and
    defines the networks: its architecture fields replace the job's (the person asked for a
    model started from it, not for a mismatch error). A bad prior fails the job with the file
    named and what to do; the prior's files are left as they are."""
    if not is_prior_folder(path):
        return dataclasses.replace(config, init=str(path))  # a pretraining run's checkpoint
    try:
        verify_prior(path, resolution=config.resolution)
        return adopt_architecture(config, path)
    except PriorError as error:
        raise JobError(
            t(
                gettext_noop(
                    "The face prior “%(name)s” cannot be used: %(why)s. Start the training again "
                    "with “None: learn from these photos alone”, or ask the administrator to "
                    "reinstall Memorial or put back the file."
                ),
                name=name,
                why=str(error),
            )
        ) from error


def _download_dataset(key: str, target: Path) -> Path:
    files.download(f"{key}/{MANIFEST_NAME}", target / MANIFEST_NAME)
    manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
    for entry in manifest["entries"]:
        for relative in entry["crops"].values():
            files.download(f"{key}/{relative}", target / relative)
    return target


def time_left(steps_eta: float | None, deadline: float, now: float) -> float:
    """Seconds until training stops: the sooner of the steps left (at the current speed) and the
    time budget left (``deadline`` on the ``now`` clock), since whichever comes first ends it."""
    budget = max(0.0, deadline - now)
    return budget if steps_eta is None else min(steps_eta, budget)


def _engine_config(engine: dict, data: Path, out: Path, resume: bool) -> TrainConfig:
    values = dict(engine)
    values.setdefault("checkpoint_every_seconds", 300.0)
    for fault in ("inject_nan_steps", "inject_oom_steps"):
        if fault in values:
            values[fault] = tuple(values[fault])
    return TrainConfig(data=str(data), out=str(out), resume=resume, **values)


def _resume_point(job: Job) -> tuple[str, int | None] | None:
    """The checkpoint (storage key, step) a training resumes from: its own last one (a retried or
    redelivered job), else the model it continues ("Continue training"), else None (a fresh run).
    A continued model whose checkpoint is gone is an error, never a silent fresh start."""
    if job.checkpoint and default_storage.exists(job.checkpoint):
        return job.checkpoint, job.checkpoint_step
    source = job.parameters.get("continue_from")
    if not source:
        return None
    if not default_storage.exists(source.get("checkpoint") or ""):
        raise JobError(t(gettext_noop("The model this training continues no longer exists.")))
    return source["checkpoint"], source.get("step")


def _train(run: runner.Run) -> str:
    job, reporter = run.job, run.reporter
    params = job.parameters
    engine = dict(params.get("engine", {}))
    dataset = params.get("dataset") or (job.after.result.get("dataset") if job.after else None)
    if not dataset:
        raise JobError(t(gettext_noop("The photos have not been prepared for training.")))
    started = time.monotonic()
    # The time budget counts over every attempt (a killed worker's job resumes with what is left).
    trained_before = job.trained_seconds or 0.0
    budget_left = max(0.0, (params.get("time_budget_seconds") or math.inf) - trained_before)
    run_limit = settings.JOB_MAX_SECONDS - STOP_MARGIN
    deadline = started + min(budget_left, run_limit)
    stop = {"why": None, "next_check": 0.0}

    def trained_seconds() -> float:
        return trained_before + (time.monotonic() - started)

    def should_cancel() -> bool:
        now = time.monotonic()
        if now >= deadline:
            stop["why"] = "budget" if budget_left < run_limit else "limit"
        elif run.lease.lost.is_set():
            stop["why"] = "lost"
        elif now >= stop["next_check"]:
            stop["next_check"] = now + 0.25
            if reporter.cancel_requested():
                stop["why"] = "cancel"
        return stop["why"] is not None

    def may_store() -> bool:
        """Nothing is stored once consent is withdrawn or the job was retired (retirement.py)."""
        stop["refused"] = retirement.refusal_to_store(job)
        if stop["refused"] and stop["why"] in (None, "cancel"):
            stop["why"] = "refused"
        return not stop["refused"]

    def store_checkpoint(step: int, path: str) -> None:
        if not may_store():
            return
        key = files.upload(
            Path(path), files.prefix(job.memorial_id, job.pk, "checkpoints", f"step-{step:08d}.pt")
        )
        old = job.checkpoint
        reporter.update(
            force=True, checkpoint=key, checkpoint_step=step, trained_seconds=trained_seconds()
        )
        if old and old != key:
            files.delete(old)

    def store_sample(path: Path, step: int) -> None:
        if not may_store():
            return
        old = job.sample.name
        key = files.upload(path, files.prefix(job.memorial_id, job.pk, "samples", path.name))
        job.sample.name = key
        reporter.update(force=True, sample=key, result={**job.result, "sample_step": step})
        if old and old != key:
            files.delete(old)

    def on_progress(p: Progress) -> None:
        if p.event == "step":
            oom = job.result.get("oom")
            if oom and not oom.get("succeeded"):  # a step at the smaller batch went through
                result = {**job.result, "oom": {**oom, "succeeded": True}}
                reporter.update(force=True, result=result, message=_out_of_memory_note(result))
            reporter.update(
                step=p.step,
                total=p.total,
                percent=100.0 * p.step / max(p.total, 1),
                eta_seconds=time_left(p.eta_seconds, deadline, time.monotonic()),
                losses={k: round(v, 4) for k, v in p.losses.items()},
                images_per_second=p.images_per_second,
                trained_seconds=trained_seconds(),
            )
        elif p.event == "sample" and p.path:
            store_sample(Path(p.path), p.step)
        elif p.event in ("checkpoint", "cancelled", "done") and p.path:
            store_checkpoint(p.step, p.path)
        elif p.event == "batch_reduced":
            before = job.result.get("oom") or {"from": p.previous_batch or p.batch * 2}
            result = {**job.result, "oom": {"from": before["from"], "to": p.batch}}
            reporter.update(force=True, result=result, message=_out_of_memory_note(result))
        elif p.event == "rollback" and p.message:
            reporter.update(
                force=True,
                message=t(
                    gettext_noop(
                        "Training went unstable (%(why)s); went back to the last checkpoint."
                    ),
                    why=p.message,
                ),
            )

    with tempfile.TemporaryDirectory(prefix="memorial-train-") as scratch:
        root = Path(scratch)
        data = _download_dataset(dataset, root / "data")
        out = root / "run"
        point = _resume_point(job)
        resume, resumed = point is not None, None
        if point is not None:
            files.download(point[0], out / CHECKPOINT_NAME)
            resumed = t(gettext_noop("Resumed from step %(step)d."), step=point[1])
            reporter.update(force=True, resumed_from=point[1], message=resumed)
        else:
            reporter.update(force=True, message=t(gettext_noop("Training started.")))
        config = _engine_config(engine, data, out, resume)
        if params.get("prior") and not resume:  # a resumed run already holds the prior's weights
            prior = presets.prior_path(params["prior"])
            if prior is None:
                raise JobError(
                    t(
                        gettext_noop("The prior “%(name)s” is not installed on this worker."),
                        name=params["prior"],
                    )
                )
            config = _start_from_prior(config, params["prior"], prior)
        reporter.update(force=True, total=config.steps)
        result = train_model(config, progress=on_progress, should_cancel=should_cancel)
        job.trained_seconds = trained_seconds()  # written with the job's final state
        samples = sorted((out / "samples").glob("step-*.png"))
        if samples and Path(job.sample.name).name != samples[-1].name:
            store_sample(samples[-1], result.step)
    if stop["why"] == "lost":
        return "lease lost"  # another worker owns the job now; leave the ledger to it
    if stop["why"] in ("cancel", "refused") and may_store() is False:
        refusal = stop["refused"]  # consent withdrawn or retired: it ends blocked, keeps nothing
        runner.finish(job, State.BLOCKED, error=refusal, message=refusal)
        return "blocked"
    if result.status == "cancelled" and stop["why"] == "cancel":
        runner.cancelled(
            run,
            texts.join(
                t(
                    gettext_noop("Cancelled at step %(step)d; the last checkpoint is kept."),
                    step=result.step,
                ),
                _out_of_memory_note(job.result),
            ),
        )
        return "cancelled"
    if result.status == "cancelled" and stop["why"] == "limit":
        runner.fail(
            run,
            _failure(job, t(gettext_noop("The job reached the longest time allowed for one run."))),
        )
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
        message = t(
            gettext_noop("Stopped at the time budget after step %(step)d of %(total)d."),
            step=result.step,
            total=config.steps,
        )
    else:
        message = t(gettext_noop("Finished after %(step)d steps."), step=result.step)
    message = texts.join(message, resumed, _out_of_memory_note(job.result))
    # Queued before the ledger says "Finished": it is ahead of whatever a person starts next.
    _queue_evaluation(job, model, dataset)
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


def _model_of(job) -> ModelVersion:
    """The trained model a generate or evaluate job names (gone after a takedown, say)."""
    model = ModelVersion.objects.filter(
        pk=job.parameters.get("model_version"), memorial=job.memorial
    ).first()
    if model is None:
        raise JobError(t(gettext_noop("The trained model no longer exists.")))
    return model


@shared_task(bind=True, name="memorial.jobs.generate", **LIMITS)
def generate(self, job_id: str) -> str:
    return _run(self, job_id, _generate)


def _generate(run: runner.Run) -> str:
    job, reporter = run.job, run.reporter
    params = job.parameters
    model = _model_of(job)
    caption = params.get("caption") or ""
    seeds = [int(params.get("seed", 0)) + i for i in range(int(params.get("count", 1)))]
    done = set(GeneratedImage.objects.filter(job=job).values_list("seed", flat=True))
    reporter.update(
        force=True,
        total=len(seeds),
        step=len(done),
        message=t(gettext_noop("Generating photos.")),
    )
    with tempfile.TemporaryDirectory(prefix="memorial-generate-") as scratch:
        root = Path(scratch)
        checkpoint = files.download(model.checkpoint, root / "model" / CHECKPOINT_NAME)
        loaded = load_model(checkpoint, device=params.get("device", "auto"))
        for seed in seeds:
            if seed in done:
                continue  # a retry: this one is already in the gallery
            refusal = retirement.refusal_to_store(job)
            if refusal:  # consent withdrawn or the model retired: store nothing more
                runner.finish(job, State.BLOCKED, error=refusal, message=refusal)
                return "blocked"
            if run.should_stop():
                runner.cancelled(run, t(gettext_noop("Cancelled after %(n)d photos."), n=len(done)))
                return "cancelled"
            provenance = signing.for_generated(
                memorial=job.memorial,
                model_version=str(model.pk),
                item_id=f"{job.pk}/{seed}",
                mark=signing.mark_corner(params.get("mark", signing.memorial_mark(job.memorial))),
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
                        raise EngineError(str(rejected.message)) from None
                    photo = rejected.existing  # the same image already stored: link it
            GeneratedImage.objects.get_or_create(
                photo=photo,
                defaults={"model_version": model, "job": job, "caption": caption, "seed": seed},
            )
            done.add(seed)
            reporter.update(force=True, step=len(done), percent=100.0 * len(done) / len(seeds))
    runner.succeed(
        run,
        message=nt(*GENERATED, len(done)),
        result={
            "photos": [
                str(p)
                for p in GeneratedImage.objects.filter(job=job).values_list("photo_id", flat=True)
            ]
        },
    )
    return "succeeded"


# --- evaluate


def _queue_evaluation(job: Job, model: ModelVersion, dataset: str) -> None:
    """After training, measure the model on the held-out photos (queue ``cpu``); jobs that did
    not ask for it (``parameters["evaluation"]``, set by the "Train a model" form) skip it."""
    wanted = job.parameters.get("evaluation")
    if not wanted:
        return
    from memorial.jobs import services

    try:
        services.create_job(
            job.memorial,
            job.requested_by,
            Kind.EVALUATE,
            {"model_version": str(model.pk), "dataset": dataset, **wanted},
        )
    except services.Refused as refused:  # consent changed meanwhile: no report, the model stays
        log.info("no evaluation of model %s: %s", model.pk, refused.message)


@shared_task(bind=True, name="memorial.jobs.evaluate", **LIMITS)
def evaluate(self, job_id: str) -> str:
    return _run(self, job_id, _evaluate)


def _evaluate(run: runner.Run) -> str:
    from gan_engine.evaluate import evaluate as evaluate_model

    job, reporter = run.job, run.reporter
    params = job.parameters
    model = _model_of(job)
    reporter.update(
        force=True,
        total=1,
        message=t(gettext_noop("Measuring the model against photos it has not seen.")),
    )
    with tempfile.TemporaryDirectory(prefix="memorial-evaluate-") as scratch:
        root = Path(scratch)
        data = _download_dataset(params["dataset"], root / "data")
        checkpoint = files.download(model.checkpoint, root / "model" / CHECKPOINT_NAME)
        report = evaluate_model(
            checkpoint,
            data,
            samples=int(params.get("samples", 64)),
            seed=int(params.get("seed", 0)),
            device=params.get("device", "cpu"),
            out=root / "report.json",
            pictures=root / "pictures",
        )
        refusal = retirement.refusal_to_store(job)
        if refusal:  # consent withdrawn or the model retired meanwhile: store nothing
            runner.finish(job, State.BLOCKED, error=refusal, message=refusal)
            return "blocked"
        # Under the model's folder (its training job's), one sub-folder per evaluation.
        key = files.prefix(job.memorial_id, model.job_id, "evaluation", job.pk)
        stored = {"json": files.upload(root / "report.json", f"{key}/report.json")}
        for role, name in report.get("pictures", {}).items():
            stored[role] = files.upload(root / "pictures" / name, f"{key}/{name}")
    report.pop("checkpoint", None)  # a scratch path, meaningless later
    runner.succeed(
        run,
        step=1,
        percent=100.0,
        message=t(gettext_noop("The evaluation report is ready.")),
        result={"model_version": str(model.pk), "report": report, "files": stored},
    )
    return "succeeded"
