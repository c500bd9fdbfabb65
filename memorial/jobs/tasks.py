"""The Celery tasks that run jobs on workers: prepare (cpu), train and generate (gpu).

This module and the steps of its training task (training.py) are the web app's only callers of
``gan_engine`` beyond its torch-free parts (and so the only ones that load torch); pages and the
API queue tasks by name (see dispatch.py). The worker imports it at start, so each fresh pool
process (one per task, see CELERY_WORKER_MAX_TASKS_PER_CHILD) is forked with torch loaded.

Every task begins with :func:`memorial.jobs.runner.running`: the ledger row decides whether this
delivery may run (not finished, not cancelled, consent approved, lease free), and every outcome is
written to the ledger in words a person understands.

Limits, each with its reason:

* ``acks_late`` + ``reject_on_worker_lost`` (settings): a killed worker's job is delivered again.
* ``soft_time_limit`` = ``JOB_MAX_SECONDS``: but training stops itself cleanly, with a
  checkpoint, ``training.STOP_MARGIN`` seconds before it, so the soft limit (an exception at an
  arbitrary point) is only a backstop; the hard ``time_limit`` a few minutes later kills a stuck process.
* ``max_retries=None``: a delivery that finds the job leased elsewhere waits for the lease to end
  (the holder may be dead) as many times as it takes; it never runs the job alongside the holder.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext_noop, ngettext_lazy
from redis import RedisError

from gan_engine.checkpoint import CHECKPOINT_NAME
from gan_engine.data import MANIFEST_NAME
from gan_engine.data import prepare as prepare_photos
from gan_engine.errors import DataError, EngineError, OutOfMemory
from gan_engine.generate import generate as generate_images
from gan_engine.generate import load_model
from memorial.jobs import (
    dispatch,
    files,
    outcomes,
    presets,
    retirement,
    runner,
    sweep,
    texts,
    training,
    workers,
)
from memorial.jobs.models import GeneratedImage, Job, ModelVersion, State
from memorial.jobs.texts import nt, t
from memorial.memorials.ingest import UploadRejected, ingest_photo
from memorial.memorials.models import PhotoKind
from memorial.provenance import signing

log = logging.getLogger(__name__)
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
                runner.fail(run, outcomes.failure(run.job, outcomes.out_of_memory_failed(run)))
            except EngineError as error:
                runner.fail(run, outcomes.failure(run.job, outcomes.said(error)))
            except SoftTimeLimitExceeded:
                runner.fail(
                    run,
                    outcomes.failure(
                        run.job, t(gettext_noop("The job ran past the longest time allowed."))
                    ),
                )
            except Exception as error:
                log.exception("job %s failed", job_id)
                runner.fail(
                    run,
                    outcomes.failure(
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
        raise outcomes.JobError(t(gettext_noop("There are no photos to learn from.")))
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
                raise outcomes.JobError(
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


def _train(run: runner.Run) -> str:
    """Train a model: fetch the prepared photos, build the engine's configuration, run it with
    callbacks that report and store, then store the model and queue its evaluation."""
    dataset = training.dataset_of(run.job)
    callbacks = training.Callbacks(run, training.Budget.of(run.job))
    with tempfile.TemporaryDirectory(prefix="memorial-train-") as scratch:
        root = Path(scratch)
        data = training.download_dataset(dataset, root / "data")
        resume, resumed = training.start(run, root / "run")
        config = training.build_config(run.job, data, root / "run", resume)
        result = training.run_engine(config, callbacks)
    return training.settle(callbacks, config, result, resumed, dataset)


# --- generate


def _model_of(job) -> ModelVersion:
    """The trained model a generate or evaluate job names (gone after a takedown, say)."""
    model = ModelVersion.objects.filter(
        pk=job.parameters.get("model_version"), memorial=job.memorial
    ).first()
    if model is None:
        raise outcomes.JobError(t(gettext_noop("The trained model no longer exists.")))
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
        data = training.download_dataset(params["dataset"], root / "data")
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
