"""The training task's steps (``tasks.train``), each a short function: which prepared photos
(:func:`dataset_of`, :func:`download_dataset`), where the run starts (:func:`start`), the
engine's configuration (:func:`build_config`), the run with callbacks that report and store
(:class:`Callbacks`, :func:`run_engine`), and what it leaves (:func:`settle`: the model, the
ledger and the evaluation it queues).

Imported by the tasks only: it calls gan_engine, and so loads torch, which web code never does.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext_noop

from gan_engine.checkpoint import CHECKPOINT_NAME
from gan_engine.data import MANIFEST_NAME
from gan_engine.likeness import Likeness
from gan_engine.prior import PriorError, adopt_architecture, is_prior_folder
from gan_engine.prior import verify as verify_prior
from gan_engine.train import Progress, TrainConfig, TrainResult, sample_name
from gan_engine.train import train as train_model
from memorial.jobs import files, presets, retirement, runner, services, texts
from memorial.jobs.models import Job, Kind, ModelVersion, State
from memorial.jobs.outcomes import JobError, failure, out_of_memory_note
from memorial.jobs.texts import t

log = logging.getLogger(__name__)
STOP_MARGIN = 300  # seconds before the soft limit at which training checkpoints and stops


# ----- the photos -------------------------------------------------------------------------------
def dataset_of(job: Job) -> str:
    """The storage key of the prepared photos: the job's own, else its preparation job's."""
    params = job.parameters
    dataset = params.get("dataset") or (job.after.result.get("dataset") if job.after else None)
    if not dataset:
        raise JobError(t(gettext_noop("The photos have not been prepared for training.")))
    return dataset


def download_dataset(key: str, target: Path) -> Path:
    """A prepared data set from the storage into ``target`` (manifest and crops)."""
    files.download(f"{key}/{MANIFEST_NAME}", target / MANIFEST_NAME)
    manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
    for entry in manifest["entries"]:
        for relative in entry["crops"].values():
            files.download(f"{key}/{relative}", target / relative)
    return target


# ----- where the run starts ---------------------------------------------------------------------
def resume_point(job: Job) -> tuple[str, int | None] | None:
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


def start(run: runner.Run, out: Path) -> tuple[bool, texts.Msg | None]:
    """Put the checkpoint to resume from (if any) into ``out`` and say how the run starts.
    Returns whether it resumes and the "Resumed from" sentence for its last message."""
    point = resume_point(run.job)
    if point is None:
        run.reporter.update(force=True, message=t(gettext_noop("Training started.")))
        return False, None
    files.download(point[0], out / CHECKPOINT_NAME)
    resumed = t(gettext_noop("Resumed from step %(step)d."), step=point[1])
    run.reporter.update(force=True, resumed_from=point[1], message=resumed)
    return True, resumed


# ----- the engine's configuration ---------------------------------------------------------------
def engine_config(engine: dict, data: Path, out: Path, resume: bool) -> TrainConfig:
    """The job's recorded engine settings as a TrainConfig (checkpoints every 5 minutes unless
    the job says otherwise, so that a lost worker costs little)."""
    values = dict(engine)
    values.setdefault("checkpoint_every_seconds", 300.0)
    for fault in ("inject_nan_steps", "inject_oom_steps"):
        if fault in values:
            values[fault] = tuple(values[fault])
    return TrainConfig(data=str(data), out=str(out), resume=resume, **values)


def start_from_prior(config: TrainConfig, name: str, path: Path) -> TrainConfig:
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


def build_config(job: Job, data: Path, out: Path, resume: bool) -> TrainConfig:
    """The run's configuration: the job's engine settings, started from its prior unless it
    resumes (a resumed run already holds the prior's weights)."""
    params = job.parameters
    config = engine_config(dict(params.get("engine", {})), data, out, resume)
    if not params.get("prior") or resume:
        return config
    prior = presets.prior_path(params["prior"])
    if prior is None:
        raise JobError(
            t(
                gettext_noop("The prior “%(name)s” is not installed on this worker."),
                name=params["prior"],
            )
        )
    return start_from_prior(config, params["prior"], prior)


# ----- the run, with its callbacks --------------------------------------------------------------
def time_left(steps_eta: float | None, deadline: float, now: float) -> float:
    """Seconds until training stops: the sooner of the steps left (at the current speed) and the
    time budget left (``deadline`` on the ``now`` clock), since whichever comes first ends it."""
    budget = max(0.0, deadline - now)
    return budget if steps_eta is None else min(steps_eta, budget)


@dataclass(frozen=True)
class Budget:
    """When this run must stop. The job's time budget counts over every attempt (a killed
    worker's job resumes with what is left); one run also stops ``STOP_MARGIN`` seconds before
    the task's soft time limit, with a checkpoint."""

    started: float
    trained_before: float
    budget_left: float
    run_limit: float

    @classmethod
    def of(cls, job: Job) -> Budget:
        trained_before = job.trained_seconds or 0.0
        wanted = job.parameters.get("time_budget_seconds") or math.inf
        return cls(
            started=time.monotonic(),
            trained_before=trained_before,
            budget_left=max(0.0, wanted - trained_before),
            run_limit=settings.JOB_MAX_SECONDS - STOP_MARGIN,
        )

    @property
    def deadline(self) -> float:
        return self.started + min(self.budget_left, self.run_limit)

    def trained_seconds(self) -> float:
        return self.trained_before + (time.monotonic() - self.started)


class Callbacks:
    """What the engine calls during the run: ``should_cancel`` between steps, ``on_progress``
    after each step and event. Remembers why the run stopped early (``why``: budget, limit, lost,
    cancel, refused) and a refusal to store (``refused``)."""

    def __init__(self, run: runner.Run, budget: Budget) -> None:
        self.run, self.job, self.reporter = run, run.job, run.reporter
        self.budget = budget
        self.why: str | None = None
        self.refused: texts.Msg | None = None
        self.next_check = 0.0

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now >= self.budget.deadline:
            self.why = "budget" if self.budget.budget_left < self.budget.run_limit else "limit"
        elif self.run.lease.lost.is_set():
            self.why = "lost"
        elif now >= self.next_check:
            self.next_check = now + 0.25
            if self.reporter.cancel_requested():
                self.why = "cancel"
        return self.why is not None

    def may_store(self) -> bool:
        """Nothing is stored once consent is withdrawn or the job was retired (retirement.py)."""
        self.refused = retirement.refusal_to_store(self.job)
        if self.refused and self.why in (None, "cancel"):
            self.why = "refused"
        return not self.refused

    def store_checkpoint(self, step: int, path: str) -> None:
        if not self.may_store():
            return
        job = self.job
        key = files.upload(
            Path(path), files.prefix(job.memorial_id, job.pk, "checkpoints", f"step-{step:08d}.pt")
        )
        old = job.checkpoint
        self.reporter.update(
            force=True,
            checkpoint=key,
            checkpoint_step=step,
            trained_seconds=self.budget.trained_seconds(),
        )
        if old and old != key:
            files.delete(old)

    def store_sample(self, path: Path, step: int, kept: Likeness | None = None) -> None:
        """Show the grid ``path`` of ``step`` on the job page; ``kept``: the snapshot that has
        looked most like the person so far (the one the model will keep), for the details."""
        if not self.may_store():
            return
        job = self.job
        old = job.sample.name
        key = files.upload(path, files.prefix(job.memorial_id, job.pk, "samples", path.name))
        job.sample.name = key
        result = {**job.result, "sample_step": step}
        if kept is not None:
            result["kept"] = {"step": kept.step, "percent": round(100 * kept.match_rate)}
        self.reporter.update(force=True, sample=key, result=result)
        if old and old != key:
            files.delete(old)

    def on_progress(self, p: Progress) -> None:
        if p.event == "step":
            self._on_step(p)
        elif p.event == "sample" and p.path:
            self.store_sample(Path(p.path), p.step, p.kept)
        elif p.event in ("checkpoint", "cancelled", "done") and p.path:
            self.store_checkpoint(p.step, p.path)
        elif p.event == "batch_reduced":
            self._on_batch_reduced(p)
        elif p.event == "rollback" and p.message:
            self.reporter.update(
                force=True,
                message=t(
                    gettext_noop(
                        "Training went unstable (%(why)s); went back to the last checkpoint."
                    ),
                    why=p.message,
                ),
            )

    def _on_step(self, p: Progress) -> None:
        oom = self.job.result.get("oom")
        if oom and not oom.get("succeeded"):  # a step at the smaller batch went through
            result = {**self.job.result, "oom": {**oom, "succeeded": True}}
            self.reporter.update(force=True, result=result, message=out_of_memory_note(result))
        self.reporter.update(
            step=p.step,
            total=p.total,
            percent=100.0 * p.step / max(p.total, 1),
            eta_seconds=time_left(p.eta_seconds, self.budget.deadline, time.monotonic()),
            losses={k: round(v, 4) for k, v in p.losses.items()},
            images_per_second=p.images_per_second,
            trained_seconds=self.budget.trained_seconds(),
        )

    def _on_batch_reduced(self, p: Progress) -> None:
        before = self.job.result.get("oom") or {"from": p.previous_batch or p.batch * 2}
        result = {**self.job.result, "oom": {"from": before["from"], "to": p.batch}}
        self.reporter.update(force=True, result=result, message=out_of_memory_note(result))


def run_engine(config: TrainConfig, callbacks: Callbacks) -> TrainResult:
    """Train as ``config`` says, reporting and storing through ``callbacks``; the last sample
    grid is stored even when the run stopped between two grids' uploads."""
    callbacks.reporter.update(force=True, total=config.steps)
    result = train_model(
        config, progress=callbacks.on_progress, should_cancel=callbacks.should_cancel
    )
    job = callbacks.job
    job.trained_seconds = callbacks.budget.trained_seconds()  # written with the final state
    folder = Path(config.out) / "samples"
    samples = sorted(folder.glob("step-*.png"))
    shown, step = (samples[-1] if samples else None), result.step
    # The page ends on the pictures of the model the family gets: the kept snapshot's grid
    # (when this run drew it; a continued model may keep one from an earlier run).
    kept = result.kept
    if kept is not None and (folder / sample_name(kept.step)).is_file():
        shown, step = folder / sample_name(kept.step), kept.step
    if shown is not None and Path(job.sample.name).name != shown.name:
        callbacks.store_sample(shown, step, kept)
    return result


# ----- what the run leaves ----------------------------------------------------------------------
def settle(
    callbacks: Callbacks,
    config: TrainConfig,
    result: TrainResult,
    resumed: texts.Msg | None,
    dataset: str,
) -> str:
    """Write how the run ended to the ledger and return the task's outcome: stopped early
    (lease lost, refused, cancelled, out of time), or a model stored and its evaluation queued."""
    if (outcome := _stopped_early(callbacks, result)) is not None:
        return outcome
    model = store_model(callbacks.job, config, result)
    # Queued before the ledger says "Finished": it is ahead of whatever a person starts next.
    queue_evaluation(callbacks.job, model, dataset)
    _succeed(callbacks.run, model, config, result, resumed)
    return "succeeded"


def _stopped_early(callbacks: Callbacks, result: TrainResult) -> str | None:
    run, job, why = callbacks.run, callbacks.job, callbacks.why
    if why == "lost":
        return "lease lost"  # another worker owns the job now; leave the ledger to it
    if why in ("cancel", "refused") and callbacks.may_store() is False:
        refusal = callbacks.refused  # consent withdrawn or retired: it ends blocked, keeps nothing
        runner.finish(job, State.BLOCKED, error=refusal, message=refusal)
        return "blocked"
    if result.status == "cancelled" and why == "cancel":
        runner.cancelled(
            run,
            texts.join(
                t(
                    gettext_noop("Cancelled at step %(step)d; the last checkpoint is kept."),
                    step=result.step,
                ),
                out_of_memory_note(job.result),
            ),
        )
        return "cancelled"
    if result.status == "cancelled" and why == "limit":
        runner.fail(
            run,
            failure(job, t(gettext_noop("The job reached the longest time allowed for one run."))),
        )
        return "failed"
    return None


def store_model(job: Job, config: TrainConfig, result: TrainResult) -> ModelVersion:
    """The job's model version: its last checkpoint, resolution and step."""
    model, _created = ModelVersion.objects.update_or_create(
        job=job,
        defaults={
            "memorial": job.memorial,
            "checkpoint": job.checkpoint,
            "resolution": config.resolution,
            "step": result.step,
        },
    )
    return model


def queue_evaluation(job: Job, model: ModelVersion, dataset: str) -> None:
    """After training, measure the model on the held-out photos (queue ``cpu``); jobs that did
    not ask for it (``parameters["evaluation"]``, set by the "Train a model" form) skip it."""
    wanted = job.parameters.get("evaluation")
    if not wanted:
        return
    try:
        services.create_job(
            job.memorial,
            job.requested_by,
            Kind.EVALUATE,
            {"model_version": str(model.pk), "dataset": dataset, **wanted},
        )
    except services.Refused as refused:  # consent changed meanwhile: no report, the model stays
        log.info("no evaluation of model %s: %s", model.pk, refused.message)


def _succeed(
    run: runner.Run,
    model: ModelVersion,
    config: TrainConfig,
    result: TrainResult,
    resumed: texts.Msg | None,
) -> None:
    job = run.job
    if result.status == "cancelled":  # the time budget ended it: the model is usable
        message = t(
            gettext_noop("Stopped at the time budget after step %(step)d of %(total)d."),
            step=result.step,
            total=config.steps,
        )
    else:
        message = t(gettext_noop("Finished after %(step)d steps."), step=result.step)
    runner.succeed(
        run,
        message=texts.join(message, resumed, out_of_memory_note(job.result)),
        step=result.step,
        percent=100.0 * result.step / max(config.steps, 1),
        result={
            **job.result,
            "model_version": str(model.pk),
            "step": result.step,
            "notes": result.notes,
        },
    )
