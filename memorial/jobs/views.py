"""Pages for jobs and trained models. Every page reads the job ledger; access via memorial.policy."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import FileField
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from memorial.consent.gate import may_use
from memorial.consent.models import Scope
from memorial.core.private_media import serve_private
from memorial.jobs import dispatch, estimate, evaluation, services
from memorial.jobs.forms import ContinueForm, GenerateForm, TrainForm
from memorial.jobs.models import FINISHED, Job, Kind, ModelVersion, State
from memorial.jobs.progress import message
from memorial.memorials.gentle import (
    AIFeature,
    feature_enabled,
    not_chosen_yet,
    seeing_refusal,
    training_refusal,
)
from memorial.memorials.models import Memorial
from memorial.policy import Action, allows, require

#: Jobs that make a video: shown under "Videos", in words, without training's figures.
VIDEO_KINDS = (Kind.SPEAK, Kind.FILM)


def _memorial(request: HttpRequest, memorial_id: Any, action: Action) -> Memorial:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, action, memorial)
    return memorial


def _say_queued(request: HttpRequest, job: Job, sent: str = "") -> None:
    """Tell the person the job is queued; when its message could not reach the broker (Redis
    away), say that it starts once the worker can be reached rather than failing the page."""
    if dispatch.waiting_for_broker(job):
        messages.warning(
            request,
            _(
                "The job is queued. It will start by itself when the worker can be reached; "
                "there is nothing more to do."
            ),
        )
    elif sent:
        messages.success(request, sent)


def _job(request: HttpRequest, memorial_id: Any, job_id: Any, action: Action) -> Job:
    job = get_object_or_404(
        Job.objects.select_related("memorial"), pk=job_id, memorial_id=memorial_id
    )
    require(request.user, action, job)
    return job


@login_required
def job_list(request: HttpRequest, memorial_id) -> HttpResponse:
    memorial = _memorial(request, memorial_id, Action.VIEW_JOBS)
    # Talking portraits and films are listed under Videos, where their results are.
    jobs = list(memorial.jobs.exclude(kind__in=VIDEO_KINDS).select_related("requested_by")[:100])
    return render(
        request,
        "jobs/job_list.html",
        {
            "memorial": memorial,
            "jobs": jobs,
            "active": [j for j in jobs if j.state not in FINISHED],
            "models": memorial.model_versions.select_related("job"),
            "can_train": allows(request.user, Action.START_GENERATION, memorial)
            and not training_refusal(memorial),
            "training_consent": may_use(memorial, Scope.TRAINING),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def train(request: HttpRequest, memorial_id) -> HttpResponse:
    """The "Train a model" form; refused (with the gate's reason) without approved consent."""
    memorial = _memorial(request, memorial_id, Action.START_GENERATION)
    consent = may_use(memorial, Scope.TRAINING)
    form = TrainForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_training(
                memorial,
                request.user,
                form.cleaned_data["preset"],
                form.cleaned_data["budget"],
                prior=form.cleaned_data.get("prior") or "",
            )
        except services.Refused as refused:
            form.add_error(None, refused.message)
            status = refused.status
        else:
            _say_queued(request, job, _("Training has been queued."))
            return redirect(job)
    elif request.method == "POST":
        status = 400
    guess = estimate.for_memorial(memorial)
    preset = form["preset"].value() or "quick"
    budget = form["budget"].value() or 60
    try:
        total = guess.total(preset, int(budget))
    except (KeyError, ValueError):
        total = guess.total("quick", 60)
    context = {
        "memorial": memorial,
        "form": form,
        "consent": consent,
        "estimate": guess,
        "estimate_data": guess.as_data(),
        "estimate_total_minutes": max(1, round(total / 60)),
        **caption_counts(memorial),
    }
    return render(request, "jobs/train.html", context, status=status)


def caption_counts(memorial: Memorial) -> dict[str, int]:
    """How many family photos the model learns from, and how many of them have a caption."""
    photos = memorial.photos.filter(kind="uploaded", hidden=False)
    return {
        "photo_count": photos.count(),
        "captioned_count": photos.exclude(caption__regex=r"^\s*$").count(),
    }


@login_required
def job_detail(request: HttpRequest, memorial_id, job_id) -> HttpResponse:
    job = _job(request, memorial_id, job_id, Action.VIEW_JOBS)
    model = ModelVersion.objects.filter(job=job).first()
    return render(
        request,
        "jobs/job_detail.html",
        {
            "memorial": job.memorial,
            "job": job,
            "snapshot": message(job),
            "model": model,
            "can_cancel": allows(request.user, Action.CANCEL_JOB, job),
            "can_retry": allows(request.user, Action.START_GENERATION, job),
            "is_video": job.kind in VIDEO_KINDS,
            "first_choice": not_chosen_yet(request.user, job.memorial),
            "photos": [g.photo for g in job.images.select_related("photo")]
            if job.kind == Kind.GENERATE
            else [],
        },
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, memorial_id, job_id) -> HttpResponse:
    job = _job(request, memorial_id, job_id, Action.CANCEL_JOB)
    services.cancel(job, request.user)
    return redirect(job)


@login_required
@require_POST
def job_retry(request: HttpRequest, memorial_id, job_id) -> HttpResponse:
    job = _job(request, memorial_id, job_id, Action.START_GENERATION)
    try:
        services.retry(job, request.user)
    except services.Refused as refused:
        messages.error(request, refused.message)
    else:
        _say_queued(request, job, _("The job has been queued again."))
    return redirect(job)


def _require_ai_photos(request: HttpRequest, target: Any) -> None:
    """Sample grids and evaluation pictures are AI-made: not for a member who chose only real
    photos (memorials/gentle.py)."""
    if not allows(request.user, Action.VIEW_AI_PHOTOS, target):
        raise PermissionDenied(seeing_refusal("photo"))


@login_required
def job_sample(request: HttpRequest, job_id) -> HttpResponse:
    """The newest sample grid of a training job, after the policy check (never a public URL)."""
    job = get_object_or_404(Job.objects.select_related("memorial"), pk=job_id)
    require(request.user, Action.VIEW_JOBS, job)
    _require_ai_photos(request, job)
    return serve_private(
        job.sample, content_type="image/png", download_name=f"samples-{job.pk}.png"
    )


@login_required
@require_http_methods(["GET", "POST"])
def model_detail(request: HttpRequest, memorial_id, model_id) -> HttpResponse:
    """A trained model: its figures, the photos it made, and the "Generate" form."""
    model = get_object_or_404(
        ModelVersion.objects.select_related("memorial", "job"), pk=model_id, memorial_id=memorial_id
    )
    require(request.user, Action.VIEW_JOBS, model)
    if request.method == "POST":
        require(request.user, Action.START_GENERATION, model)
    form = GenerateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.start_generation(
                model,
                request.user,
                data["caption"],
                data["count"],
                data["seed"],
                confirm_unlearned=data["confirm_unlearned"],
            )
        except services.Refused as refused:
            form.add_error(None, refused.message)
            status = refused.status
        else:
            _say_queued(request, job)
            return redirect(job)
    elif request.method == "POST":
        status = 400
    report_job = evaluation.latest(model)
    report = (
        report_job.result.get("report")
        if report_job is not None and report_job.state == State.SUCCEEDED
        else None
    )
    verdict = evaluation.verdict(model, report) if report else None
    images = (
        model.images.select_related("photo")
        .filter(photo__hidden=False)
        .order_by("-created_at")[:48]
    )
    return render(
        request,
        "jobs/model_detail.html",
        {
            "memorial": model.memorial,
            "model": model,
            "form": form,
            "images": images,
            "first_choice": not_chosen_yet(request.user, model.memorial),
            # A feature the family switched off disappears from the page (memorials/gentle.py).
            "can_generate": allows(request.user, Action.START_GENERATION, model)
            and feature_enabled(model.memorial, AIFeature.GENERATION),
            "consent": may_use(model.memorial, Scope.GENERATED_PHOTOS),
            "report_job": report_job,
            "report": report,
            "verdict": verdict,
            "continue_form": ContinueForm(),
            "training_consent": may_use(model.memorial, Scope.TRAINING),
            "figures": evaluation.figures(report) if report else [],
            "in_words": evaluation.in_words(report) if report else [],
            "pictures": [
                (role, alt)
                for role, alt in evaluation.PICTURES.items()
                if role in (report_job.result.get("files") or {})
            ]
            if report
            else [],
        },
        status=status,
    )


@login_required
@require_POST
def model_continue(request: HttpRequest, memorial_id, model_id) -> HttpResponse:
    """The "Continue training" button: a new training job that resumes from this model's
    checkpoint with the time the person chose; permission as for training, consent checked by the
    service."""
    model = get_object_or_404(
        ModelVersion.objects.select_related("memorial", "job"), pk=model_id, memorial_id=memorial_id
    )
    require(request.user, Action.START_GENERATION, model)
    form = ContinueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how much more time to train."))
        return redirect(model)
    try:
        job = services.continue_training(model, request.user, form.cleaned_data["budget"])
    except services.Refused as refused:
        messages.error(request, refused.message)
        return redirect(model)
    _say_queued(request, job, _("Training continues from where this model stopped."))
    return redirect(job)


@login_required
def evaluation_picture(request: HttpRequest, memorial_id, model_id, role: str) -> HttpResponse:
    """A picture of a model's evaluation report, after the policy check (never a public URL)."""
    model = get_object_or_404(
        ModelVersion.objects.select_related("memorial"), pk=model_id, memorial_id=memorial_id
    )
    require(request.user, Action.VIEW_JOBS, model)
    _require_ai_photos(request, model)
    key = evaluation.picture_key(model, role)
    if not key:
        raise Http404
    return serve_private(
        FieldFile(None, FileField(), key),
        content_type="image/png",
        download_name=f"evaluation-{role}-{model.pk}.png",
    )
