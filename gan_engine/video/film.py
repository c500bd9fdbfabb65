"""Latent-walk film: a smooth path through K generated keyframes of a person's model, as an MP4.

Why this path: between consecutive keyframes the noise moves by spherical interpolation (it keeps
the norm of a typical noise vector, so middle frames are not washed out) and the caption embedding
linearly, both on a smoothstep time curve so the film slows into every keyframe and leaves it
again without a jolt (the velocity is continuous, zero at the keys). Keyframes are chosen seeds,
or one per caption (the same face in different situations). Frames are generated in batches and
streamed to :func:`~gan_engine.video.output.write_video`, so memory does not grow with the length.
Optional: a music or voice track (trimmed or padded with silence to the film) and a cross-fade
from and to a real photo, aligned the way training crops are so the face lands in place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gan_engine.errors import EngineError
from gan_engine.video.control import watched
from gan_engine.video.output import write_video
from gan_engine.video.stamp import marked_size

if TYPE_CHECKING:
    import torch

    from gan_engine.generate import Model
    from gan_engine.provenance import Provenance
    from gan_engine.text import CaptionEncoder

FPS_CHOICES = (24, 30)
#: The longest film (a latent walk is a short piece; longer would be a job of many minutes).
MAX_SECONDS = 120.0
#: Frames generated per forward pass of the generator.
BATCH = 32
#: Sample rate of the film's sound track (music as well as voice).
AUDIO_RATE = 44_100


class FilmError(EngineError):
    """The film cannot be made as asked (no keyframes, a bad frame rate, too long, bad photo)."""


@dataclass(frozen=True)
class FilmResult:
    path: Path
    frames: int
    seconds: float
    size: tuple[int, int]  # width, height of the written video


@dataclass(frozen=True)
class LatentPath:
    """The latent path: keyframe noise and caption embeddings and the frames they land on."""

    z: torch.Tensor  # K x z_dim
    text: torch.Tensor  # K x 384
    key_frames: tuple[int, ...]
    frames: int


def key_positions(keys: int, frames: int) -> tuple[int, ...]:
    """Frame index of each keyframe: the first on frame 0, the last on the last frame, evenly."""
    if keys == 1:
        return (0,)
    return tuple(round(index * (frames - 1) / (keys - 1)) for index in range(keys))


def ease(t: float) -> float:
    """Smoothstep: zero velocity at both ends, so the film dwells on each keyframe."""
    return t * t * (3.0 - 2.0 * t)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation that returns the keys themselves exactly at t = 0 and t = 1."""
    from gan_engine.generate import slerp as _slerp

    if t <= 0.0:
        return a.clone()
    if t >= 1.0:
        return b.clone()
    return _slerp(a, b, t)


def latent(path: LatentPath, index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The noise and caption embedding of frame ``index``."""
    import torch

    keys = path.key_frames
    if len(keys) == 1:
        return path.z[0], path.text[0]
    segment = min(int(np.searchsorted(keys, index, side="right")) - 1, len(keys) - 2)
    start, end = keys[segment], keys[segment + 1]
    t = ease((index - start) / max(end - start, 1))
    z = slerp(path.z[segment], path.z[segment + 1], t)
    text = torch.lerp(path.text[segment], path.text[segment + 1], t)
    return z, text


def check_request(
    seeds: Sequence[int] | None,
    captions: Sequence[str] | None,
    seconds: float,
    fps: int,
    crossfade_seconds: float,
    fades: int,
    size: int | None,
) -> int:
    """Refuse a film that cannot be made, with the reason; returns the number of frames."""
    if not seeds and not captions:
        raise FilmError("a film needs keyframes: give at least one seed or one caption")
    if fps not in FPS_CHOICES:
        raise FilmError(f"the frame rate must be 24 or 30 frames per second, not {fps}")
    if not 0 < seconds <= MAX_SECONDS:
        raise FilmError(
            f"a film lasts more than 0 and at most {MAX_SECONDS:g} seconds, not {seconds:g}"
        )
    frames = round(seconds * fps)
    keys = max(len(seeds or ()), len(captions or ()))
    if keys > 1 and frames < 2 * keys:
        raise FilmError(f"{keys} keyframes need at least {2 * keys} frames; make the film longer")
    if not 0 <= crossfade_seconds <= MAX_SECONDS:  # also refuses NaN
        raise FilmError(
            f"a cross-fade lasts 0 to {MAX_SECONDS:g} seconds, not {crossfade_seconds:g}"
        )
    if fades * round(crossfade_seconds * fps) > frames:
        raise FilmError("the cross-fades are longer than the film")
    if size is not None and not (16 <= size <= 1024 and size % 2 == 0):
        raise FilmError(
            f"the frame size must be an even number of pixels from 16 to 1024, not {size}"
        )
    return frames


def plan(
    model: Model,
    frames: int,
    seeds: Sequence[int] | None,
    captions: Sequence[str] | None,
    truncation: float,
    encoder: CaptionEncoder | None = None,
) -> LatentPath:
    """The keyframes' noise (``seeds``, default 0) and captions (repeated last when shorter)."""
    import torch

    from gan_engine.generate import encode_captions, seed_noise

    seeds = list(seeds) if seeds else [0]
    texts: list[str | None] = list(captions) if captions else [None]
    keys = max(len(seeds), len(texts))
    z = torch.stack(
        [seed_noise(seeds[min(i, len(seeds) - 1)], model.z_dim, truncation) for i in range(keys)]
    )
    text = encode_captions(model, [texts[min(i, len(texts) - 1)] for i in range(keys)], encoder)
    return LatentPath(
        z=z, text=text.float().cpu(), key_frames=key_positions(keys, frames), frames=frames
    )


def to_frames(images: torch.Tensor, size: int) -> list[np.ndarray]:
    """Generator output (N x 3 x H x W in [-1, 1]) as HxWx3 uint8 RGB frames of ``size`` px."""
    import cv2

    array = ((images.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1)
    frames = []
    for frame in array.cpu().numpy():
        if frame.shape[0] != size:
            shrink = size < frame.shape[0]
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
            frame = cv2.resize(frame, (size, size), interpolation=interpolation)
        frames.append(np.ascontiguousarray(frame))
    return frames


def walk(model: Model, path: LatentPath, size: int, batch: int = 0) -> Iterator[np.ndarray]:
    """The film's generated frames, rendered ``batch`` at a time (only one batch in memory).

    The generator runs in channels-last layout on the CPU for the walk (1.5x faster there,
    BENCHMARKS.md "Video") and is put back in the caller's layout afterwards.
    """
    import torch

    batch = batch or BATCH
    generator = model.generator
    fast = model.device.type == "cpu"
    if fast:
        generator.to(memory_format=torch.channels_last)
    try:
        for start in range(0, path.frames, batch):
            pairs = [latent(path, i) for i in range(start, min(start + batch, path.frames))]
            z = torch.stack([pair[0] for pair in pairs]).to(model.device)
            text = torch.stack([pair[1] for pair in pairs]).to(model.device)
            with (
                torch.inference_mode(),
                torch.autocast("cuda", dtype=torch.bfloat16, enabled=model.device.type == "cuda"),
            ):
                images = generator(z, text)
            yield from to_frames(images, size)
    finally:
        if fast:
            generator.to(memory_format=torch.contiguous_format)


def load_photo(path: str | os.PathLike[str], size: int) -> np.ndarray:
    """A real photo as a ``size`` px frame: the face aligned like a training crop (so it lands
    where the generated face is), or a centre crop when no face is found."""
    from PIL import Image, ImageOps

    from gan_engine.faces import FaceTools

    try:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError) as error:
        raise FilmError(f"the photo {Path(path).name!r} is not a readable image") from error
    image = np.asarray(picture)
    faces = FaceTools().detect(image, describe=False)
    if faces:
        return np.ascontiguousarray(FaceTools().align(image, faces[0], size))
    side = min(picture.size)
    left, top = (picture.width - side) // 2, (picture.height - side) // 2
    square = picture.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.LANCZOS))


def crossfade(
    frames: Iterator[np.ndarray],
    total: int,
    fade: int,
    start: np.ndarray | None,
    end: np.ndarray | None,
) -> Iterator[np.ndarray]:
    """Blend the first ``fade`` frames from ``start`` and the last ``fade`` into ``end``."""
    for index, frame in enumerate(frames):
        weight, photo = 0.0, None
        if start is not None and index < fade:
            weight, photo = 1.0 - ease(index / fade), start
        elif end is not None and index >= total - fade:
            weight, photo = ease((index - (total - fade) + 1) / fade), end
        if photo is not None and weight > 0:
            blended = photo.astype(np.float32) * weight + frame.astype(np.float32) * (1 - weight)
            frame = np.clip(blended.round(), 0, 255).astype(np.uint8)
        yield frame


def sound_track(audio_path: str | os.PathLike[str], frames: int, fps: int) -> np.ndarray:
    """The music or voice, trimmed to the film or padded with silence to its length."""
    from gan_engine.video import audio

    length = frames * AUDIO_RATE // fps
    pcm = audio.decode(audio_path, sample_rate=AUDIO_RATE, max_seconds=frames / fps, trim=True)
    return np.pad(pcm[:length], (0, max(0, length - pcm.size)))


def make_film(
    checkpoint: str | os.PathLike[str] | Model,
    out: str | os.PathLike[str],
    *,
    seeds: Sequence[int] | None = None,
    captions: Sequence[str] | None = None,
    seconds: float = 8.0,
    fps: int = 24,
    audio_path: str | os.PathLike[str] | None = None,
    start_image: str | os.PathLike[str] | None = None,
    end_image: str | os.PathLike[str] | None = None,
    crossfade_seconds: float = 1.0,
    truncation: float = 0.8,
    device: str = "cpu",
    size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    provenance: Provenance | None = None,
    preview: Callable[[np.ndarray], None] | None = None,
    encoder: CaptionEncoder | None = None,
) -> FilmResult:
    """Render a latent-walk film of ``seconds`` at ``fps`` (24 or 30) to the MP4 ``out``.

    Keyframes: one per seed, or one per caption (seed 0, or the seeds in order, the shorter list
    repeating its last entry). ``size`` is the frame side (default: the model's resolution).
    ``progress(done, total)`` after each frame; ``should_cancel()`` before each frame (True raises
    :class:`~gan_engine.errors.Cancelled`, no file is left); ``preview(frame)`` about once a
    second; ``provenance`` marks, watermarks (frames under 256 px are upscaled) and signs the MP4.
    The same arguments give the same frames.
    """
    from gan_engine.generate import Model, load_model

    fades = int(start_image is not None) + int(end_image is not None)
    total = check_request(seeds, captions, seconds, fps, crossfade_seconds, fades, size)
    if not 0 < truncation <= 1:
        raise FilmError(f"truncation must be in (0, 1], not {truncation:g}")
    model = checkpoint if isinstance(checkpoint, Model) else load_model(checkpoint, device)
    side = size or int(model.generator.config.resolution)
    path = plan(model, total, seeds, captions, truncation, encoder)
    start = load_photo(start_image, side) if start_image is not None else None
    end = load_photo(end_image, side) if end_image is not None else None
    track = sound_track(audio_path, total, fps) if audio_path is not None else None
    frames = crossfade(walk(model, path, side), total, round(crossfade_seconds * fps), start, end)
    written = write_video(
        watched(frames, fps=fps, should_cancel=should_cancel, preview=preview),
        out,
        audio=track,
        sample_rate=AUDIO_RATE,
        fps=fps,
        metadata={
            "kind": "film",
            "seeds": ",".join(str(seed) for seed in (seeds or [0])),
            "keyframes": len(path.key_frames),
            "model_step": model.step,
        },
        progress=(lambda done: progress(done, total)) if progress else None,
        provenance=provenance,
    )
    width, height = marked_size(side, side) if provenance is not None else (side, side)
    return FilmResult(path=written, frames=total, seconds=total / fps, size=(width, height))
