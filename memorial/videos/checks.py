"""Refuse unusable input before anything is stored: the recording is decoded and the portrait's
faces are found here, in the web process, so a bad file gets a clear answer at once.

Only ``gan_engine.video.audio`` (numpy + the bundled ffmpeg binary), ``gan_engine.video.speech``
(numpy) and ``gan_engine.video.face`` (dlib) are imported, lazily: neither imports torch.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

#: Accepted recordings, by file name ending (the decoder decides whether it really is audio).
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
}


class Rejected(Exception):
    """Unusable input, with a sentence for a person and the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def max_seconds() -> float:
    """The longest recording accepted (60 s by default)."""
    return float(getattr(settings, "VIDEO_MAX_SECONDS", 60.0))


@dataclass(frozen=True)
class Recording:
    duration: float
    content_type: str
    suffix: str


def _too_long() -> str:
    return _("The recording is longer than the limit of %(seconds)s seconds.") % {
        "seconds": f"{max_seconds():g}"
    }


def check_recording(uploaded: Any) -> Recording:
    """Decode the upload completely (as the worker will); refuse what cannot be used."""
    from gan_engine.video import audio

    if uploaded is None:
        raise Rejected(_("Choose a voice recording, or one that is already stored."))
    if not uploaded.size:
        raise Rejected(_("The recording is empty."))
    if uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise Rejected(
            _("The recording is larger than the limit of %(limit)s.")
            % {"limit": filesizeformat(settings.UPLOAD_MAX_BYTES)},
            413,
        )
    suffix = PurePosixPath(uploaded.name or "").suffix.lower()
    if suffix not in AUDIO_TYPES:
        raise Rejected(_("Choose a recording in WAV, MP3, M4A/AAC, OGG/Opus or FLAC format."), 415)
    with tempfile.TemporaryDirectory(prefix="memorial-voice-") as folder:
        path = Path(folder) / f"recording{suffix}"
        with path.open("wb") as handle:
            for chunk in uploaded.chunks():
                handle.write(chunk)
        try:
            pcm = audio.decode(path, max_seconds=max_seconds())
        except audio.AudioError as error:
            words = str(error)
            if "longer" in words:
                raise Rejected(_too_long()) from None
            if "empty" in words:
                raise Rejected(_("The recording is empty: it has no sound in it.")) from None
            raise Rejected(
                _("This file is not an audio recording that can be read."), 415
            ) from None
        finally:
            uploaded.seek(0)
    check_speech(pcm)
    return Recording(pcm.size / audio.SAMPLE_RATE, AUDIO_TYPES[suffix], suffix)


def check_speech(pcm) -> None:
    """Refuse a recording in which nobody speaks (silence, noise or music): the portrait moves
    its mouth to the sounds of speech, so a song or a hum would give a face mouthing nonsense."""
    from gan_engine.video import speech

    verdict = speech.judge(pcm).verdict
    if verdict == speech.Verdict.SILENCE:
        raise Rejected(
            _(
                "The recording is silent: no voice can be heard in it. Choose a recording of "
                "the person speaking."
            )
        )
    if verdict != speech.Verdict.SPEECH:
        raise Rejected(
            _(
                "This recording sounds like music or noise, not like someone speaking. Choose a "
                "recording of the person's own voice."
            )
        )


@dataclass(frozen=True)
class Face:
    """A face in a portrait, as the face picker shows it (largest first)."""

    index: int
    box: tuple[int, int, int, int]  # left, top, right, bottom
    size: int
    turn: float
    where: str  # "left", "centre" or "right" of the picture
    covered: bool = False  # a hand, a mask or a scarf over the mouth

    @property
    def problem(self) -> str:
        """Why this face cannot be brought to life, in plain words ("" when it can)."""
        from gan_engine.video.face import MAX_TURN, MIN_FACE

        if self.size < MIN_FACE:
            return _(
                "The face is too small to bring to life well: it is %(size)d pixels across, and "
                "at least %(min)d are needed. Choose a photo in which the face is larger."
            ) % {"size": self.size, "min": MIN_FACE}
        if self.turn > MAX_TURN:
            return _(
                "The face is turned away (a profile view). Choose a photo that shows the face "
                "from the front."
            )
        if self.covered:
            return _(
                "The mouth is hidden (by a hand, a mask or a scarf, for example), and only a face "
                "whose mouth can be seen can be brought to life. Choose a photo that shows the "
                "mouth."
            )
        return ""

    @property
    def usable(self) -> bool:
        return not self.problem


def _find(photo) -> list[dict[str, Any]]:
    import numpy as np
    from PIL import Image, ImageOps

    from gan_engine.video.face import find_faces, mouth_covered, turn

    field = photo.display if photo.display else photo.image
    with tempfile.TemporaryDirectory(prefix="memorial-portrait-") as folder:
        path = Path(folder) / "portrait"
        with field.storage.open(field.name, "rb") as source, path.open("wb") as target:
            target.write(source.read())
        try:
            with Image.open(path) as picture:
                image = np.asarray(ImageOps.exif_transpose(picture).convert("RGB"))
        except (OSError, ValueError):
            return []
    width = image.shape[1]
    found = []
    for face in find_faces(image):
        left, right = face.box[0], face.box[2]
        centre = (left + right) / 2 / max(width, 1)
        where = "left" if centre < 0.4 else "right" if centre > 0.6 else "centre"
        found.append(
            {
                "box": list(face.box),
                "size": face.size,
                "turn": turn(face.points),
                "where": where,
                "covered": mouth_covered(image, face.points),
            }
        )
    return found


def faces_of(photo) -> list[Face]:
    """The photo's faces (cached: detection takes a moment and the photo never changes)."""
    key = f"videos:faces:v2:{photo.pk}:{photo.sha256}"
    found = cache.get(key)
    if found is None:
        found = _find(photo)
        cache.set(key, found, 24 * 3600)
    return [
        Face(i, tuple(f["box"]), int(f["size"]), float(f["turn"]), f["where"], f["covered"])
        for i, f in enumerate(found)
    ]


def check_portrait(photo, face_index: int) -> Face:
    """The face to animate, or the reason this photo cannot speak."""
    faces = faces_of(photo)
    if not faces:
        raise Rejected(
            _(
                "No face was found in this photo. Choose a portrait where the face is clearly seen, "
                "from the front, with nothing over the mouth."
            )
        )
    if not 0 <= face_index < len(faces):
        raise Rejected(_("This photo shows %(n)d faces; choose one of them.") % {"n": len(faces)})
    face = faces[face_index]
    if face.problem:
        raise Rejected(face.problem)
    return face
