"""Start talking-portrait and film jobs: the rules shared by the pages and the API.

The permission (memorial.policy) is checked by the caller. Here, in this order: consent (a
talking portrait needs "generated videos" and "voice"; a living portrait, which has no
recording, and a film "generated videos", and a film "voice" too when it has a sound track), then the input (checks.py), and only then is anything stored.
The task checks consent again when it starts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from memorial.consent.gate import may_use
from memorial.consent.models import Scope
from memorial.jobs import dispatch
from memorial.jobs.models import QUEUES, Job, Kind, ModelVersion
from memorial.jobs.services import Refused, check_learned, check_not_first_person
from memorial.memorials import gentle
from memorial.memorials.models import Photo
from memorial.videos import checks
from memorial.videos.models import VoiceRecording

FPS_CHOICES = (24, 30)
MAX_FILM_SECONDS = 60
MAX_KEYFRAMES = 12
MAX_CAPTION = 200
TALKING_FPS = 25
TALKING_SIZE = 512
#: A living portrait's length (gan_engine.video.talking.LIVE_SECONDS; web code does not import
#: the engine).
LIVE_SECONDS = 6.0

log = logging.getLogger(__name__)
__all__ = [
    "Refused",
    "delete_recording",
    "start_film",
    "start_live",
    "start_speak",
    "video_scopes",
]


def video_scopes(kind: str, *, with_voice: bool = False) -> list[Scope]:
    scopes = [Scope.GENERATED_VIDEOS]
    if kind == Kind.SPEAK or with_voice:
        scopes.append(Scope.VOICE)
    return scopes


def check_feature(memorial, feature: gentle.AIFeature) -> None:
    """Refused (403, with the reason) when the family switched the feature off."""
    reason = gentle.feature_refusal(memorial, feature)
    if reason:
        raise Refused(reason, 403)


def check_consent(memorial, kind: str, *, with_voice: bool = False) -> None:
    for scope in video_scopes(kind, with_voice=with_voice):
        decision = may_use(memorial, scope)
        if not decision:
            raise Refused(decision.reason, 403)


def _rejected(error: checks.Rejected) -> Refused:
    return Refused(error.message, error.status)


def _stored_recording(memorial, recording_id) -> VoiceRecording:
    recording = VoiceRecording.objects.filter(pk=recording_id, memorial=memorial).first()
    if recording is None:
        raise Refused(_("That voice recording does not exist."), 404)
    return recording


def _save_recording(memorial, user, uploaded, info: checks.Recording) -> VoiceRecording:
    recording = VoiceRecording(
        memorial=memorial,
        uploaded_by=user,
        duration=round(info.duration, 3),
        content_type=info.content_type,
        original_filename=(uploaded.name or "")[:255],
    )
    recording.file.save(f"recording{info.suffix}", uploaded, save=False)
    recording.save()
    return recording


def _recording(memorial, user, uploaded, recording_id, *, required: bool):
    """A checked recording: the upload (stored only after every check passed, see callers) or a
    stored one. Returns (recording or None, info of a new upload or None)."""
    if uploaded is not None:
        try:
            return None, checks.check_recording(uploaded)
        except checks.Rejected as error:
            raise _rejected(error) from None
    if recording_id:
        return _stored_recording(memorial, recording_id), None
    if required:
        raise Refused(_("Choose a voice recording, or one that is already stored."))
    return None, None


def _forget(stored: list) -> None:
    for field in stored:
        try:
            field.storage.delete(field.name)
        except Exception:
            log.warning("could not delete %s", field.name, exc_info=True)


@contextmanager
def _recording_saved(memorial, user, uploaded, info, recording) -> Iterator[VoiceRecording | None]:
    """One transaction for a new recording (when one was uploaded) and the job that uses it; if
    anything inside fails the row is rolled back, so its file must not stay either."""
    stored: list = []
    try:
        with transaction.atomic():
            if info is not None:
                recording = _save_recording(memorial, user, uploaded, info)
                stored.append(recording.file)
            yield recording
    except BaseException:
        _forget(stored)
        raise


def _create(memorial, user, kind: str, parameters: dict[str, Any], total: int) -> Job:
    job = Job.objects.create(
        kind=kind,
        memorial=memorial,
        requested_by=user,
        parameters=parameters,
        queue=QUEUES[Kind(kind)],
        total=total,
    )
    dispatch.send(job)
    return job


def start_speak(
    photo: Photo,
    user,
    *,
    uploaded=None,
    recording_id=None,
    face_index: int = 0,
    seed: int = 0,
) -> Job:
    """Queue a talking portrait of ``photo`` speaking a new or stored recording."""
    memorial = photo.memorial
    check_feature(memorial, gentle.AIFeature.SPEAKING)
    check_consent(memorial, Kind.SPEAK)
    if not 0 <= seed < 2**31:
        raise Refused(_("The seed must be a whole number from 0 to 2147483647."))
    try:
        checks.check_portrait(photo, face_index)
    except checks.Rejected as error:
        raise _rejected(error) from None
    recording, info = _recording(memorial, user, uploaded, recording_id, required=True)
    with _recording_saved(memorial, user, uploaded, info, recording) as recording:
        parameters = {
            "photo": str(photo.pk),
            "recording": str(recording.pk),
            "face_index": face_index,
            "seed": seed,
            "size": TALKING_SIZE,
            "max_seconds": checks.max_seconds(),
        }
        total = max(1, math.ceil(recording.duration * TALKING_FPS))
        return _create(memorial, user, Kind.SPEAK, parameters, total)


def start_live(photo: Photo, user, *, face_index: int = 0, seed: int = 0) -> Job:
    """Queue a living portrait of ``photo``: a few seconds of the person at rest (blinks, a
    glance, a smile), without a recording, so "generated videos" is the only consent it needs."""
    memorial = photo.memorial
    check_feature(memorial, gentle.AIFeature.SPEAKING)
    check_consent(memorial, Kind.FILM)  # generated videos; no voice is used
    if not 0 <= seed < 2**31:
        raise Refused(_("The seed must be a whole number from 0 to 2147483647."))
    try:
        checks.check_portrait(photo, face_index)
    except checks.Rejected as error:
        raise _rejected(error) from None
    parameters = {
        "photo": str(photo.pk),
        "live": True,
        "seconds": LIVE_SECONDS,
        "face_index": face_index,
        "seed": seed,
        "size": TALKING_SIZE,
    }
    total = math.ceil(LIVE_SECONDS * TALKING_FPS)
    return _create(memorial, user, Kind.SPEAK, parameters, total)


def _keyframes(seeds: Sequence[int], captions: Sequence[str]) -> dict[str, list]:
    """One keyframe per caption (the seeds, if any, go with them in order), else per seed."""
    captions = [" ".join(c.split()) for c in captions if c and c.strip()]
    count = max(len(captions), len(seeds))
    if count < 1:
        raise Refused(_("Give at least one seed or one caption."))
    if count > MAX_KEYFRAMES:
        raise Refused(_("Give at most %(n)d seeds or captions.") % {"n": MAX_KEYFRAMES})
    if any(len(c) > MAX_CAPTION for c in captions):
        raise Refused(_("Each caption may be at most %(n)d characters long.") % {"n": MAX_CAPTION})
    if any(not 0 <= s < 2**31 for s in seeds):
        raise Refused(_("The seed must be a whole number from 0 to 2147483647."))
    return {"seeds": [int(s) for s in seeds], "captions": captions}


def _photo_of(memorial, photo_id) -> str | None:
    if not photo_id:
        return None
    photo = Photo.objects.filter(pk=photo_id, memorial=memorial, hidden=False).first()
    if photo is None:
        raise Refused(_("That photo does not exist."), 404)
    return str(photo.pk)


def start_film(
    model: ModelVersion,
    user,
    *,
    seeds: Sequence[int] = (),
    captions: Sequence[str] = (),
    seconds: float = 8.0,
    fps: int = 24,
    uploaded=None,
    recording_id=None,
    start_photo=None,
    end_photo=None,
    confirm_unlearned: bool = False,
) -> Job:
    """Queue a latent-walk film from ``model`` through seeds or captions (a model that has not
    learned the face only with ``confirm_unlearned``: jobs.services.check_learned)."""
    memorial = model.memorial
    with_voice = uploaded is not None or bool(recording_id)
    check_feature(memorial, gentle.AIFeature.FILMS)
    check_consent(memorial, Kind.FILM, with_voice=with_voice)
    check_learned(model, confirm_unlearned)
    check_not_first_person(*captions)
    frames = _keyframes(seeds, captions)
    if fps not in FPS_CHOICES:
        raise Refused(_("Choose 24 or 30 frames per second."))
    if not 1 <= seconds <= MAX_FILM_SECONDS:
        raise Refused(_("A film may last from 1 to %(n)d seconds.") % {"n": MAX_FILM_SECONDS})
    start, end = _photo_of(memorial, start_photo), _photo_of(memorial, end_photo)
    recording, info = _recording(memorial, user, uploaded, recording_id, required=False)
    with _recording_saved(memorial, user, uploaded, info, recording) as recording:
        parameters = {
            "model_version": str(model.pk),
            **frames,
            "seconds": float(seconds),
            "fps": int(fps),
            "recording": str(recording.pk) if recording else None,
            "start_photo": start,
            "end_photo": end,
        }
        total = max(1, math.ceil(seconds * fps))
        return _create(memorial, user, Kind.FILM, parameters, total)


# --- deleting a recording


def recording_impact(recording: VoiceRecording) -> list:
    """The recording and the videos that speak it: what deleting it removes (moderation.items)."""
    from memorial.moderation import items as registry

    return registry.impact(registry.HANDLERS["recording"].find([str(recording.pk)]))


def delete_recording(recording: VoiceRecording) -> list[dict]:
    """Delete a recording, its file and the videos that speak it; returns the refs removed.

    Refused (409) while a video that uses it is still being made: that job would fail, or store
    a video of a voice that is gone. The permission (policy DELETE_RECORDING) is the caller's."""
    from memorial.jobs.models import FINISHED
    from memorial.moderation import deletion

    users = Job.objects.filter(
        memorial_id=recording.memorial_id, parameters__recording=str(recording.pk)
    ).exclude(state__in=FINISHED)
    if users.exists():
        raise Refused(
            _(
                "A video that uses this recording is still being made. Wait until it is "
                "finished, or cancel it, then delete the recording."
            ),
            409,
        )
    outcome = deletion.delete([item.ref() for item in recording_impact(recording)])
    if outcome.errors:
        raise Refused(_("The recording could not be deleted. Please try again."), 503)
    return outcome.removed
