"""Start, cancel and retry jobs: the rules shared by the pages and the API.

The permission (memorial.policy) is checked by the caller; the consent gate is checked here,
before anything is queued, and again by the task when it starts.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from memorial.audit.actions import AuditAction
from memorial.audit.services import record as audit
from memorial.consent.gate import may_use
from memorial.consent.models import Scope
from memorial.jobs import dispatch, evaluation, presets, progress, texts
from memorial.jobs.models import QUEUES, Job, Kind, ModelVersion, State

CANCELLED_BEFORE_START = gettext_noop("Cancelled before it started.")
#: Which consent each kind of job needs.
SCOPES = {
    Kind.PREPARE: Scope.TRAINING,
    Kind.TRAIN: Scope.TRAINING,
    Kind.GENERATE: Scope.GENERATED_PHOTOS,
    Kind.EVALUATE: Scope.TRAINING,  # measures the model against the person's own photos
    # Videos; a talking portrait also needs VOICE (memorial.videos checks it in view, API, task).
    Kind.SPEAK: Scope.GENERATED_VIDEOS,
    Kind.FILM: Scope.GENERATED_VIDEOS,
}


class Refused(Exception):
    """Why a job cannot be started, cancelled or retried, written for a person, with a status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def check_feature(memorial, kind: str) -> None:
    """The family may switch AI features off for the memorial, whatever consent covers
    (memorials/gentle.py): refused with 403 and the reason."""
    from memorial.memorials import gentle

    if kind == Kind.TRAIN:
        reason = gentle.training_refusal(memorial)
    elif kind == Kind.GENERATE:
        reason = gentle.feature_refusal(memorial, gentle.AIFeature.GENERATION)
    else:
        reason = ""
    if reason:
        raise Refused(reason, 403)


def check_not_first_person(*texts: str) -> None:
    """The caption becomes the AI-made item's caption: it may not speak as the person."""
    from memorial.memorials import gentle

    for text in texts:
        if problem := gentle.first_person_problem(text):
            raise Refused(problem)


def check_consent(memorial, kind: str) -> None:
    scope = SCOPES.get(Kind(kind))
    if scope is None:  # restoring a photo alone needs no consent record
        return
    decision = may_use(memorial, scope)
    if not decision:
        raise Refused(decision.reason, 403)


def check_prior(name: str, resolution: int) -> None:
    """Refuse a prior that is not installed, or that was made for pictures of another size."""
    if not name:
        return
    prior = presets.installed_priors().get(name)
    if prior is None:
        raise Refused(_("This prior is not installed."))
    if prior.problem:
        raise Refused(
            _("The face prior “%(name)s” cannot be used: %(why)s.")
            % {"name": name, "why": prior.problem}
        )
    if prior.resolution is not None and prior.resolution != resolution:
        raise Refused(
            _(
                "The face prior “%(name)s” is for %(size)d px pictures; this quality makes "
                "%(wanted)d px pictures. Choose the recommended prior or “None”."
            )
            % {"name": name, "size": prior.resolution, "wanted": resolution}
        )


def start_training(
    memorial, user, preset: str, budget_minutes: int, engine=None, prior: str = presets.AUTO
) -> Job:
    """Queue photo preparation and, after it, training. Returns the training job.

    ``prior``: the name of an installed general face prior to start from (presets.priors),
    ``presets.AUTO`` for the one made for this quality's size (none installed: from scratch), or
    "" / ``presets.NONE`` for none."""
    check_feature(memorial, Kind.TRAIN)
    check_consent(memorial, Kind.TRAIN)
    if preset not in presets.PRESETS:
        raise Refused(_("Choose a quality."))
    resolution = presets.engine_values(preset, engine)["resolution"]
    prior = presets.chosen_prior(prior, resolution)
    check_prior(prior, resolution)
    params = presets.train_parameters(preset, budget_minutes, engine, prior=prior)
    if not memorial.photos.filter(kind="uploaded", hidden=False).exists():
        raise Refused(
            _("Add photos first: the model learns the face from the family's photos."), 409
        )
    with transaction.atomic():
        prepare = Job.objects.create(
            kind=Kind.PREPARE,
            memorial=memorial,
            requested_by=user,
            parameters={"sizes": [params["engine"]["resolution"]]},
            queue=QUEUES[Kind.PREPARE],
            total=0,
        )
        train = Job.objects.create(
            kind=Kind.TRAIN,
            memorial=memorial,
            requested_by=user,
            parameters=params,
            after=prepare,
            queue=QUEUES[Kind.TRAIN],
            total=params["engine"]["steps"],
            **texts.ledger_fields(
                {"message": texts.t(gettext_noop("Waiting for the photos to be prepared."))}
            ),
        )
        dispatch.send(prepare)
        audit(
            user,
            AuditAction.JOB_STARTED,
            train,
            kind=Kind.TRAIN,
            preset=preset,
            budget_minutes=int(budget_minutes),
            prior=prior,
            prepare_job=str(prepare.pk),
        )
    return train


def check_learned(model: ModelVersion, confirmed: bool) -> None:
    """A model whose evaluation says it has not learned the face (evaluation.verdict) makes
    pictures only when the person confirmed they want them anyway: they would not look like the
    person, and a family should not be surprised by that."""
    if not confirmed and evaluation.verdict(model) is not None:
        raise Refused(
            _(
                "This model has not learned the face of %(name)s yet, so its pictures will "
                "probably not look like them. Tick the box to confirm that you want them anyway."
            )
            % {"name": model.memorial.name}
        )


def continue_training(model: ModelVersion, user, budget_minutes: int) -> Job:
    """Queue a training job that resumes exactly from ``model``'s checkpoint, on the photos it
    learned from, with a new time budget; the model itself stays as it is (the new job makes a
    new one). Checked like any training: consent here, the permission by the caller."""
    check_feature(model.memorial, Kind.TRAIN)
    check_consent(model.memorial, Kind.TRAIN)
    if int(budget_minutes) not in presets.BUDGETS:
        raise Refused(_("Choose a time budget."))
    source = model.job
    dataset = source.parameters.get("dataset") or (
        source.after.result.get("dataset") if source.after else None
    )
    if not dataset or not model.checkpoint:
        raise Refused(
            _("This model cannot be continued: its photos or its checkpoint are gone."), 409
        )
    engine = dict(source.parameters.get("engine") or {})
    # Room for the whole budget: the steps are an upper bound, the time budget ends it.
    engine["steps"] = model.step + int(engine.get("steps") or model.step or 1)
    params = {
        **{k: v for k, v in source.parameters.items() if k in ("preset", "evaluation")},
        "time_budget_seconds": int(budget_minutes) * 60,
        "engine": engine,
        "dataset": dataset,
        "continue_from": {
            "model_version": str(model.pk),
            "checkpoint": model.checkpoint,
            "step": model.step,
            "trained_seconds": evaluation.trained_seconds(model),
        },
    }
    with transaction.atomic():
        job = Job.objects.create(
            kind=Kind.TRAIN,
            memorial=model.memorial,
            requested_by=user,
            parameters=params,
            queue=QUEUES[Kind.TRAIN],
            total=engine["steps"],
            step=model.step,
            **texts.ledger_fields(
                {
                    "message": texts.t(
                        gettext_noop("Waiting to continue from step %(step)d."), step=model.step
                    )
                }
            ),
        )
        dispatch.send(job)
        audit(
            user,
            AuditAction.JOB_STARTED,
            job,
            kind=Kind.TRAIN,
            continue_from=str(model.pk),
            step=model.step,
            budget_minutes=int(budget_minutes),
        )
    return job


def start_generation(
    model: ModelVersion,
    user,
    caption: str,
    count: int,
    seed: int,
    *,
    confirm_unlearned: bool = False,
) -> Job:
    check_feature(model.memorial, Kind.GENERATE)
    check_consent(model.memorial, Kind.GENERATE)
    check_learned(model, confirm_unlearned)
    check_not_first_person(caption)
    if not 1 <= count <= presets.MAX_GENERATE:
        raise Refused(_("Choose between 1 and %(max)d photos.") % {"max": presets.MAX_GENERATE})
    if not 0 <= seed < 2**31:
        raise Refused(_("The seed must be a whole number from 0 to 2147483647."))
    with transaction.atomic():
        job = Job.objects.create(
            kind=Kind.GENERATE,
            memorial=model.memorial,
            requested_by=user,
            parameters={
                "model_version": str(model.pk),
                "caption": caption.strip()[:1000],
                "count": count,
                "seed": seed,
            },
            queue=QUEUES[Kind.GENERATE],
            total=count,
        )
        dispatch.send(job)
        audit(
            user,
            AuditAction.JOB_STARTED,
            job,
            kind=Kind.GENERATE,
            model_version=str(model.pk),
            count=count,
            seed=seed,
        )
    return job


def create_job(memorial, user, kind: str, parameters: dict, *, after: Job | None = None) -> Job:
    """A job with explicit parameters (tests, staff tools); consent is checked as everywhere."""
    check_consent(memorial, kind)
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            memorial=memorial,
            requested_by=user,
            parameters=parameters,
            after=after,
            queue=QUEUES[Kind(kind)],
            total=int(parameters.get("engine", {}).get("steps", parameters.get("count", 0)) or 0),
        )
        if after is None or after.state == State.SUCCEEDED:
            dispatch.send(job)
    return job


def cancel(job: Job, by=None) -> Job:
    """A queued job is cancelled at once (it will never start); a running one is asked to stop at
    its next step. Cancelling a finished job changes nothing (safe to repeat).

    ``by``: who asked (a user; None for the system), written to the audit log when it changed
    something."""
    now = timezone.now()
    before_start = texts.ledger_fields({"message": texts.t(CANCELLED_BEFORE_START)})
    stopped = Job.objects.filter(pk=job.pk, state=State.QUEUED).update(
        state=State.CANCELLED, cancel_requested=True, finished_at=now, **before_start
    )
    if stopped:
        dispatch.revoke(job)
        # Its followers (training after preparation) cannot run either.
        Job.objects.filter(after=job, state=State.QUEUED).update(
            state=State.CANCELLED, cancel_requested=True, finished_at=now, **before_start
        )
    else:
        stopping = Job.objects.filter(pk=job.pk, state=State.RUNNING, cancel_requested=False)
        stopped = stopping.update(
            cancel_requested=True,
            **texts.ledger_fields({"message": texts.t(gettext_noop("Stopping at the next step…"))}),
        )
    job.refresh_from_db()
    if stopped:
        audit(by, AuditAction.JOB_CANCELLED, job, kind=job.kind, state=job.state, step=job.step)
    progress.publish(job)
    for follower in job.followers.filter(state=State.CANCELLED):
        progress.publish(follower)
    return job


def retry(job: Job, by=None) -> Job:
    """Queue a failed or cancelled job again; training continues from its last checkpoint."""
    if not job.retryable:
        raise Refused(_("Only a failed or cancelled job can be retried."), 409)
    check_consent(job.memorial, job.kind)
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, state__in=[State.FAILED, State.CANCELLED]).update(
            state=State.QUEUED,
            cancel_requested=False,
            finished_at=None,
            **texts.ledger_fields(
                {
                    "error": "",
                    "message": texts.t(
                        gettext_noop("Waiting to continue from step %(step)d."),
                        step=job.checkpoint_step,
                    )
                    if job.checkpoint_step
                    else texts.t(gettext_noop("Waiting for a worker.")),
                }
            ),
        )
        if not updated:
            raise Refused(_("Only a failed or cancelled job can be retried."), 409)
        job.refresh_from_db()
        audit(by, AuditAction.JOB_STARTED, job, kind=job.kind, retry=True, step=job.checkpoint_step)
        after = job.after
        if after is None or after.state == State.SUCCEEDED:
            dispatch.send(job)
        elif after.retryable:  # its preparation must run again first, then starts it
            retry(after, by)
    progress.publish(job)
    return job
