"""The talking portrait: one portrait + one voice recording → an MP4 of the face speaking.

Pipeline: decode the recording (:mod:`audio`), find the face's 68 landmarks once (:mod:`face`),
crop the head and shoulders to at most ``size`` px, derive per-frame poses (:mod:`motion`),
warp each frame (:mod:`warp`) and stream it to the encoder (:func:`output.write_video`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

from gan_engine.errors import EngineError
from gan_engine.faces import SAME_PERSON_DISTANCE, distance
from gan_engine.provenance.watermark import MIN_SIDE
from gan_engine.video import FPS, audio
from gan_engine.video.control import watched
from gan_engine.video.face import (
    Portrait,
    PortraitError,
    face_tools,
    find_faces,
    landmarks,
    portrait_face,
)
from gan_engine.video.interior import Interior, best_interior
from gan_engine.video.motion import Motion
from gan_engine.video.mouth import MouthModel
from gan_engine.video.output import write_video
from gan_engine.video.stamp import marked_size
from gan_engine.video.warp import MeshWarp

if TYPE_CHECKING:
    from gan_engine.provenance import Provenance

#: The crop around the face box: wide enough for hair, ears and some shoulders.
CROP_FACTOR = 2.6


@dataclass(frozen=True)
class TalkingResult:
    path: Path
    frames: int
    seconds: float
    size: tuple[int, int]  # width, height
    silent: bool  # True: the recording has no voice; the video is a still, blinking portrait
    notice: str
    #: Which of ``mouth_photos`` lent its open mouth (None: the portrait's own or a painted one).
    mouth_photo: int | None = None


def load_portrait(path: str | os.PathLike[str]) -> np.ndarray:
    """The portrait as HxWx3 uint8 RGB, EXIF rotation applied."""
    try:
        with Image.open(path) as picture:
            return np.asarray(ImageOps.exif_transpose(picture).convert("RGB"))
    except (OSError, ValueError) as error:
        raise PortraitError("the portrait is not a readable image") from error


def _widen(low: int, high: int, want: int, limit: int) -> tuple[int, int]:
    """Grow the span [low, high) to ``want`` pixels inside [0, limit), keeping it centred."""
    missing = want - (high - low)
    if missing <= 0:
        return low, high
    low = max(0, low - missing // 2)
    high = min(limit, low + want)
    return max(0, high - want), high


def crop_portrait(
    image: np.ndarray, face: Portrait, size: int, min_side: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Crop around the face (clamped to the photo), scale down to at most ``size`` px and to even
    dimensions; returns the crop and the landmarks in its pixels.

    ``min_side``: where the photo clipped the crop below this many pixels, take more of the photo
    around it (not more resolution): the watermark needs 256 px, and upscaling every frame after
    rendering would soften the video and change the face's scale.
    """
    height, width = image.shape[:2]
    centre = face.points[[0, 16, 8, 27]].mean(0)
    half = CROP_FACTOR * face.size / 2
    left, top = max(0, int(centre[0] - half)), max(0, int(centre[1] - half))
    right, bottom = min(width, int(centre[0] + half)), min(height, int(centre[1] + half))
    want = min(min_side, size)
    if want:  # in photo pixels: the crop is scaled so that its long side is at most ``size``
        long = max(right - left, bottom - top)
        need = int(np.ceil((want + 2) * max(1.0, long / size)))  # +2: rounding to even sizes
        left, right = _widen(left, right, need, width)
        top, bottom = _widen(top, bottom, need, height)
    crop = image[top:bottom, left:right]
    scale = min(1.0, size / max(crop.shape[:2]))
    new_w = max(2, int(crop.shape[1] * scale) // 2 * 2)
    new_h = max(2, int(crop.shape[0] * scale) // 2 * 2)
    points = (face.points - [left, top]) * [new_w / crop.shape[1], new_h / crop.shape[0]]
    resized = Image.fromarray(crop).resize((new_w, new_h), Image.Resampling.LANCZOS)
    return np.asarray(resized), points


def own_mouth(
    portrait: np.ndarray,
    face: Portrait,
    photos: Sequence[np.ndarray],
    target: tuple[np.ndarray, np.ndarray],
) -> Interior | None:
    """The person's own open mouth, from the portrait itself or from ``photos`` (only faces of
    the same person: dlib descriptor distance under :data:`SAME_PERSON_DISTANCE`), colour-matched
    to ``target`` (the cropped portrait and its landmarks); None when none shows it open. Its
    ``source`` is 0 for the portrait, ``1 + i`` for ``photos[i]``."""
    candidates = [(portrait, face.points)]
    owners = [0]
    if photos:
        tools = face_tools()
        own = [f for f in tools.detect(portrait) if f.box == face.box]
        for number, photo in enumerate(photos if own else (), start=1):
            for other in tools.detect(photo):
                if distance(other.descriptor, own[0].descriptor) < SAME_PERSON_DISTANCE:
                    candidates.append((photo, landmarks(photo, other.box)))
                    owners.append(number)
    found = best_interior(candidates, target)
    if found is None:
        return None
    return Interior(texture=found.texture, opening=found.opening, depth=found.depth,
                    source=owners[found.source])  # fmt: skip


class TalkingPortrait:
    """A prepared render: landmarks, mesh and poses; ``frames()`` yields the video frames."""

    def __init__(
        self,
        portrait: np.ndarray,
        pcm: np.ndarray,
        *,
        seed: int = 0,
        size: int = 512,
        face_index: int = 0,
        sample_rate: int = audio.SAMPLE_RATE,
        min_side: int = 0,
        mouth_model: MouthModel | None = None,
        mouth_photos: Sequence[np.ndarray] = (),
        living: bool = False,
    ) -> None:
        face = portrait_face(portrait, face_index)
        self.image, self.points = crop_portrait(portrait, face, size, min_side)
        self.interior = own_mouth(portrait, face, mouth_photos, (self.image, self.points))
        self.pcm = pcm
        self.sample_rate = sample_rate
        self.features = audio.features(pcm, sample_rate=sample_rate, mouth_model=mouth_model)
        self.motion = Motion(self.points, self.features, seed=seed, living=living)
        self.warp = MeshWarp(self.image, self.points, self.motion.centre, self.interior)

    def __len__(self) -> int:
        return len(self.motion)

    def frames(self) -> Iterator[np.ndarray]:
        for pose in self.motion:
            yield self.warp.render(pose)


def readable(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[int, np.ndarray]]:
    """The photos among ``paths`` that open as images, with their places in ``paths`` (a missing
    or broken one is no reason to refuse a render that only borrows a mouth from them)."""
    images = []
    for index, path in enumerate(paths):
        try:
            images.append((index, load_portrait(path)))
        except PortraitError:
            continue
    return images


def list_faces(portrait_path: str | os.PathLike[str]) -> list[dict[str, int]]:
    """Every face in the portrait as a box ``{"x", "y", "w", "h"}`` in image pixels, largest
    first: the order ``speak(face_index=...)`` uses, for a face picker."""
    faces = find_faces(load_portrait(portrait_path))
    return [
        {"x": left, "y": top, "w": right - left, "h": bottom - top}
        for left, top, right, bottom in (face.box for face in faces)
    ]


def speak(
    portrait_path: str | os.PathLike[str],
    audio_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    size: int = 512,
    face_index: int = 0,
    max_seconds: float = audio.DEFAULT_MAX_SECONDS,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    provenance: Provenance | None = None,
    preview: Callable[[np.ndarray], None] | None = None,
    mouth_model: MouthModel | None = None,
    mouth_photos: Sequence[str | os.PathLike[str]] = (),
) -> TalkingResult:
    """Render ``portrait_path`` speaking ``audio_path`` into the MP4 ``out``.

    ``progress(done, total)`` is called after each frame; ``should_cancel()`` is polled before
    each frame and True raises :class:`~gan_engine.errors.Cancelled`; ``preview(frame)`` gets an
    RGB frame about once a second of video; ``provenance`` marks, watermarks and signs the MP4
    (see :func:`~gan_engine.video.output.write_video`); ``mouth_model`` replaces the default
    opening model (:mod:`~gan_engine.video.mouth`) for measuring held-out clips;
    ``mouth_photos``: other photos of the person, the widest open mouth among them (and the
    portrait) fills the opened mouth (:mod:`~gan_engine.video.interior`; unreadable ones and other
    people are skipped). Raises :class:`EngineError` subclasses
    with a person-readable message for unusable input; never leaves a partial file.
    """
    pcm = audio.decode(audio_path, max_seconds=max_seconds)
    lenders = readable(mouth_photos)
    render = TalkingPortrait(load_portrait(portrait_path), pcm, seed=seed, size=size,
                             face_index=face_index, mouth_model=mouth_model,
                             mouth_photos=[image for _, image in lenders],
                             min_side=MIN_SIDE if provenance is not None else 0)  # fmt: skip
    source = render.interior.source if render.interior is not None else 0
    mouth_photo = lenders[source - 1][0] if source else None
    silent = render.features.silent
    notice = "the recording has no audible voice: the portrait only blinks" if silent else ""
    result = _write(render, out, "talking_portrait", seed, progress, should_cancel, provenance,
                    preview, audio=pcm, sample_rate=render.sample_rate)  # fmt: skip
    return dataclasses.replace(result, silent=silent, notice=notice, mouth_photo=mouth_photo)


def _write(
    render: TalkingPortrait,
    out: str | os.PathLike[str],
    kind: str,
    seed: int,
    progress: Callable[[int, int], None] | None,
    should_cancel: Callable[[], bool] | None,
    provenance: Provenance | None,
    preview: Callable[[np.ndarray], None] | None,
    **sound: Any,
) -> TalkingResult:
    """Render every frame into the MP4 ``out`` (the one path of speak and live): cancel checks,
    previews, progress, provenance, and the size the marked video really has."""
    total = len(render)
    path = write_video(
        watched(render.frames(), fps=FPS, should_cancel=should_cancel, preview=preview),
        out,
        metadata={"kind": kind, "seed": seed},
        progress=(lambda done: progress(done, total)) if progress else None,
        provenance=provenance,
        **sound,
    )
    height, width = render.image.shape[:2]
    if provenance is not None:
        width, height = marked_size(width, height)
    return TalkingResult(path=path, frames=total, seconds=total / FPS, size=(width, height),
                         silent=False, notice="")  # fmt: skip


#: A living portrait's length, and the most it may be: a few seconds of a person at rest.
LIVE_SECONDS = 6.0
MAX_LIVE_SECONDS = 15.0


def live(
    portrait_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seconds: float = LIVE_SECONDS,
    seed: int = 0,
    size: int = 512,
    face_index: int = 0,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    provenance: Provenance | None = None,
    preview: Callable[[np.ndarray], None] | None = None,
) -> TalkingResult:
    """A living portrait: ``seconds`` of the person at rest, without a recording (blinks,
    breathing, a slight sway, a glance aside and back, a gentle smile), into the MP4 ``out``,
    silent. The same checks, progress, cancelling and provenance as :func:`speak`."""
    if not 0 < seconds <= MAX_LIVE_SECONDS:
        raise EngineError(f"a living portrait lasts more than 0 and at most {MAX_LIVE_SECONDS:g} s")
    pcm = np.zeros(round(seconds * audio.SAMPLE_RATE), np.float32)
    render = TalkingPortrait(load_portrait(portrait_path), pcm, seed=seed, size=size,
                             face_index=face_index, living=True,
                             min_side=MIN_SIDE if provenance is not None else 0)  # fmt: skip
    return _write(render, out, "living_portrait", seed, progress, should_cancel, provenance,
                  preview)  # fmt: skip
