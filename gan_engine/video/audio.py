"""Decode a voice recording and turn it into per-video-frame mouth features.

Why these features: the mouth's opening follows the loudness of speech (RMS energy), and the
spectral shape tells the vowel families apart well enough for a portrait — rounded vowels (o, u)
put their energy low (low centroid, high low/high band ratio), spread vowels (i, e) carry more
high-frequency energy (high centroid and roll-off), and silence or stops close the lips.
Decoding uses the ffmpeg binary bundled in ``imageio-ffmpeg`` so no system ffmpeg is needed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import numpy as np

from gan_engine.errors import EngineError
from gan_engine.video import FPS, mouth
from gan_engine.video.mouth import MouthModel

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 60.0
#: Frames quieter than this many dB below the recording's loud level count as silence.
SILENCE_DB = 30.0


class AudioError(EngineError):
    """The recording cannot be used (not audio, empty, or longer than the limit)."""


def ffmpeg_exe() -> str:
    """The bundled ffmpeg binary (imageio-ffmpeg), located without a system install."""
    try:
        import imageio_ffmpeg
    except ImportError as error:  # pragma: no cover - install problem
        raise EngineError("imageio-ffmpeg is not installed: pip install imageio-ffmpeg") from error
    return imageio_ffmpeg.get_ffmpeg_exe()


def decode(
    path: str | os.PathLike[str],
    *,
    sample_rate: int = SAMPLE_RATE,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    trim: bool = False,
) -> np.ndarray:
    """Mono float32 PCM in [-1, 1] at ``sample_rate`` from any format ffmpeg reads.

    Any sample rate or channel count is resampled/down-mixed by ffmpeg. A recording longer than
    ``max_seconds`` is refused with the limit stated (a silent cut would surprise the family),
    unless ``trim`` asks for the first ``max_seconds`` (a film's music track).
    """
    if not os.path.isfile(path):
        raise AudioError(f"the recording {os.fspath(path)!r} does not exist")
    command = [
        ffmpeg_exe(), "-nostdin", "-v", "error", "-i", os.fspath(path),
        "-t", f"{max_seconds + (0.0 if trim else 1.0):.3f}", "-vn", "-ac", "1", "-ar", str(sample_rate),
        "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise AudioError("the file is not a readable audio recording")
    pcm = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)
    if pcm.size < sample_rate // FPS:
        raise AudioError("the recording is empty")
    if not trim and pcm.size > max_seconds * sample_rate + sample_rate // FPS:
        raise AudioError(f"the recording is longer than the limit of {max_seconds:g} seconds")
    return np.clip(pcm, -1.0, 1.0)


@dataclass(frozen=True)
class Features:
    """Per-video-frame features, all arrays of length ``frames``.

    ``energy`` is the raw RMS envelope (for measuring lip sync); ``loudness`` in [0, 1] is the
    gated, normalised, attack/release-smoothed speech level; ``openness`` in [0, 1] is the jaw's
    drive, from the sounds (:mod:`gan_engine.video.mouth`), closed before the first sound and
    relaxing shut after the last;
    ``rounding``/``spread`` in [0, 1] come from the spectral shape.
    """

    energy: np.ndarray
    loudness: np.ndarray
    openness: np.ndarray
    rounding: np.ndarray
    spread: np.ndarray
    centroid: np.ndarray
    rolloff: np.ndarray
    band_ratio: np.ndarray

    @property
    def frames(self) -> int:
        return int(self.energy.size)

    @property
    def silent(self) -> bool:
        """True when no frame is loud enough to move the mouth."""
        return bool(self.loudness.max(initial=0.0) < 0.05)


def smooth(values: np.ndarray, attack: float = 0.75, release: float = 0.45) -> np.ndarray:
    """One-pole follower: rises with ``attack`` and falls with ``release`` (fraction per frame).

    A fast attack keeps the mouth on time for syllable onsets; a slower release stops it from
    chattering shut between phonemes without lagging more than a frame on pauses.
    """
    out = np.empty_like(values, dtype=np.float64)
    level = 0.0
    for index, value in enumerate(values):
        rate = attack if value > level else release
        level += rate * (value - level)
        out[index] = level
    return out


def features(
    pcm: np.ndarray,
    *,
    sample_rate: int = SAMPLE_RATE,
    fps: int = FPS,
    mouth_model: MouthModel | None = None,
) -> Features:
    """The mouth features of each video frame (frame ``t`` covers ``[t/fps, (t+1)/fps)``).

    ``mouth_model``: the opening model to use instead of :data:`mouth.DEFAULT` (the lip-sync
    bench holds each real clip out of the model it is scored with)."""
    hop = sample_rate // fps
    frames = max(1, int(np.ceil(pcm.size / hop)))
    window = 2 * hop
    padded = np.pad(pcm.astype(np.float64), (window // 4, window + hop))
    starts = np.arange(frames) * hop
    index = starts[:, None] + np.arange(window)[None, :]
    chunks = padded[index] * np.hanning(window)[None, :]
    rms = np.sqrt(np.mean(chunks**2, axis=1)) * np.sqrt(8 / 3)  # Hann power correction
    spectrum = np.abs(np.fft.rfft(chunks, axis=1)) ** 2
    freqs = np.fft.rfftfreq(window, 1 / sample_rate)
    total = spectrum.sum(axis=1) + 1e-12
    centroid = (spectrum * freqs[None, :]).sum(axis=1) / total
    cumulative = np.cumsum(spectrum, axis=1) / total[:, None]
    rolloff = freqs[np.minimum((cumulative < 0.85).sum(axis=1), freqs.size - 1)]
    low = spectrum[:, (freqs >= 100) & (freqs < 1000)].sum(axis=1)
    high = spectrum[:, (freqs >= 1000) & (freqs < 5000)].sum(axis=1)
    band_ratio = np.log10((low + 1e-12) / (high + 1e-12))

    db = 20 * np.log10(rms + 1e-9)
    loud_level = np.percentile(db, 95) if frames else -90.0
    floor = max(loud_level - SILENCE_DB, -60.0)
    # Nearly linear in amplitude (the jaw follows the envelope), gated at the silence floor.
    loud_rms = 10 ** (loud_level / 20)
    drive = np.clip(rms / max(loud_rms, 1e-9), 0.0, 1.0) ** 0.8 * (db > floor)
    if loud_level < -55.0:  # digital silence or a hum far below speech: keep the mouth shut
        drive[:] = 0.0
    loudness = np.clip(smooth(drive), 0.0, 1.0)
    voiced = loudness > 0.05
    # Rounded vowels: energy low in the spectrum; spread vowels: strong upper formants.
    rounding = np.clip((band_ratio - 1.0) / 1.5, 0.0, 1.0) * voiced
    spread = np.clip((centroid - 1200.0) / 1500.0, 0.0, 1.0) * voiced
    # The sounds shape the mouth; where there is no voice at all it rests closed.
    voice = loudness > 0.05
    shapes = mouth.openness(pcm, sample_rate, fps, mouth_model, voiced=voice)[:frames]
    openness = mouth.rest(shapes, voice, fps)
    return Features(
        energy=rms,
        loudness=loudness,
        openness=openness,
        rounding=np.clip(smooth(rounding, 0.5, 0.4), 0, 1),
        spread=np.clip(smooth(spread, 0.5, 0.4), 0, 1),
        centroid=centroid,
        rolloff=rolloff,
        band_ratio=band_ratio,
    )
