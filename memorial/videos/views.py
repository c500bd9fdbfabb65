"""Pages for videos: "Make it speak" on a photo, "Make a film" on a trained model, the videos of
a memorial and one video with its player. Access via memorial.policy; consent via services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from memorial.consent.gate import may_use
from memorial.jobs.evaluation import verdict
from memorial.jobs.models import Kind, ModelVersion, State
from memorial.memorials import gentle
from memorial.memorials.models import Memorial, Photo
from memorial.policy import Action, allows, require
from memorial.videos import checks, services
from memorial.videos.forms import FilmForm, LiveForm, SpeakForm
from memorial.videos.models import VoiceRecording


def _memorial(request: HttpRequest, memorial_id: Any, action: Action) -> Memorial:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, action, memorial)
    return memorial


def _require_feature(memorial: Memorial, feature: gentle.AIFeature) -> None:
    """A feature the family switched off: its page answers 403 with the reason."""
    if reason := gentle.feature_refusal(memorial, feature):
        raise PermissionDenied(reason)


def _consent(memorial: Memorial, kind: str, with_voice: bool = False) -> list:
    """The refusals (empty when allowed) for the page's notice."""
    decisions = [may_use(memorial, s) for s in services.video_scopes(kind, with_voice=with_voice)]
    return [d for d in decisions if not d]


def _start_live(request: HttpRequest, photo: Photo, form: LiveForm):
    """Start a living portrait from the bound ``form``: (the job, 200) or (None, the status)."""
    if not form.is_valid():
        return None, 400
    try:
        job = services.start_live(
            photo,
            request.user,
            face_index=form.cleaned_data["face"],
            seed=form.cleaned_data["seed"],
        )
    except services.Refused as refused:
        form.add_error(None, refused.message)
        return None, refused.status
    messages.success(request, _("The living portrait is being made."))
    return job, 200


@login_required
@require_http_methods(["GET", "POST"])
def speak(request: HttpRequest, memorial_id, photo_id) -> HttpResponse:
    """ "Make it speak": a photo plus a new or stored voice recording → a talking-portrait job;
    "Bring it to life" on the same page: the photo alone → a living-portrait job."""
    memorial = _memorial(request, memorial_id, Action.START_GENERATION)
    _require_feature(memorial, gentle.AIFeature.SPEAKING)
    photo = get_object_or_404(Photo, pk=photo_id, memorial=memorial, hidden=False)
    refusals = _consent(memorial, Kind.SPEAK)
    faces = checks.faces_of(photo)
    recordings = memorial.voice_recordings.all()[:50]
    living = request.method == "POST" and "live-live" in request.POST
    form = SpeakForm(
        None if living else (request.POST or None),
        None if living else (request.FILES or None),
        recordings=recordings,
        faces=faces,
    )
    live_form = LiveForm(request.POST if living else None, faces=faces)
    status = 200
    if living:
        job, status = _start_live(request, photo, live_form)
        if job is not None:
            return redirect(job)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.start_speak(
                photo,
                request.user,
                uploaded=data.get("audio"),
                recording_id=data.get("recording") or None,
                face_index=data["face"],
                seed=data["seed"],
            )
        except services.Refused as refused:
            form.add_error(None, refused.message)
            status = refused.status
        else:
            messages.success(request, _("The talking portrait is being made."))
            return redirect(job)
    elif request.method == "POST":
        status = 400
    context = {
        "memorial": memorial,
        "photo": photo,
        "form": form,
        "live_form": live_form,
        "live_refusals": _consent(memorial, Kind.FILM),
        "faces": faces,
        "usable_faces": [f for f in faces if f.usable],
        "face_problem": faces[0].problem if len(faces) == 1 else "",
        "refusals": refusals,
        "max_seconds": f"{checks.max_seconds():g}",
    }
    return render(request, "videos/speak.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def film(request: HttpRequest, memorial_id, model_id) -> HttpResponse:
    """ "Make a film": a latent walk through seeds or captions of a trained model."""
    memorial = _memorial(request, memorial_id, Action.START_GENERATION)
    _require_feature(memorial, gentle.AIFeature.FILMS)
    model = get_object_or_404(ModelVersion, pk=model_id, memorial=memorial)
    photos = memorial.photos.filter(hidden=False, kind="uploaded")[:100]
    form = FilmForm(
        request.POST or None,
        request.FILES or None,
        recordings=memorial.voice_recordings.all()[:50],
        photos=photos,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.start_film(
                model,
                request.user,
                seeds=data["seeds"],
                captions=data["captions"],
                seconds=data["seconds"],
                fps=data["fps"],
                uploaded=data.get("audio"),
                recording_id=data.get("recording") or None,
                start_photo=data.get("start_photo") or None,
                end_photo=data.get("end_photo") or None,
                confirm_unlearned=data["confirm_unlearned"],
            )
        except services.Refused as refused:
            form.add_error(None, refused.message)
            status = refused.status
        else:
            messages.success(request, _("The film is being made."))
            return redirect(job)
    elif request.method == "POST":
        status = 400
    context = {
        "memorial": memorial,
        "model": model,
        "form": form,
        "refusals": _consent(memorial, Kind.FILM),
        "verdict": verdict(model),
    }
    return render(request, "videos/film.html", context, status=status)


def visible_videos(memorial: Memorial):
    return memorial.videos.filter(hidden=False).select_related("source_photo", "source_model")


@login_required
def video_list(request: HttpRequest, memorial_id) -> HttpResponse:
    """The memorial's videos, and the voice recordings stored for them (each with a Delete
    button for those the policy lets delete it)."""
    memorial = _memorial(request, memorial_id, Action.VIEW_PHOTOS)
    recordings = list(memorial.voice_recordings.select_related("uploaded_by")[:100])
    for recording in recordings:
        recording.can_delete = allows(request.user, Action.DELETE_RECORDING, recording)
    viewing = gentle.viewing(request.user, memorial)
    videos = visible_videos(memorial)[:100] if viewing.videos else []
    return render(
        request,
        "videos/video_list.html",
        {
            "memorial": memorial,
            "videos": videos,
            "recordings": recordings,
            "viewing": viewing,
            # Jobs show preview frames of the portrait being made: AI-made pictures too.
            "video_jobs": video_jobs(memorial) if viewing.videos else [],
        },
    )


def video_jobs(memorial: Memorial) -> list[Any]:
    """Talking portraits and films not (yet) in the list above: being made, or not made."""
    return list(
        memorial.jobs.filter(kind__in=(Kind.SPEAK, Kind.FILM))
        .exclude(state=State.SUCCEEDED)
        .order_by("-created_at")[:20]
    )


@login_required
@require_http_methods(["GET", "POST"])
def recording_delete(request: HttpRequest, memorial_id, recording_id) -> HttpResponse:
    """GET: what deleting the recording removes (it and the videos that speak it), to confirm.
    POST: delete them."""
    memorial = _memorial(request, memorial_id, Action.VIEW_PHOTOS)
    recording = get_object_or_404(VoiceRecording, pk=recording_id, memorial=memorial)
    require(request.user, Action.DELETE_RECORDING, recording)
    status = 200
    if request.method == "POST":
        try:
            services.delete_recording(recording)
        except services.Refused as refused:
            messages.error(request, refused.message)
            status = refused.status
        else:
            messages.success(request, _("The voice recording has been deleted."))
            return redirect("videos:list", memorial_id=memorial.pk)
    videos = [i for i in services.recording_impact(recording) if i.kind == "video"]
    context = {"memorial": memorial, "recording": recording, "videos": videos}
    return render(request, "videos/recording_confirm_delete.html", context, status=status)


@login_required
def video_detail(request: HttpRequest, memorial_id, video_id) -> HttpResponse:
    memorial = _memorial(request, memorial_id, Action.VIEW_PHOTOS)
    video = get_object_or_404(visible_videos(memorial), pk=video_id)
    if not allows(request.user, Action.VIEW_AI_VIDEOS, video):
        raise PermissionDenied(gentle.seeing_refusal("video"))
    return render(
        request,
        "videos/video_detail.html",
        {
            "memorial": memorial,
            "video": video,
            "can_make": allows(request.user, Action.START_GENERATION, memorial),
        },
    )
