"""Is a recording someone speaking? Silence, noise and music are told apart from speech before
any rendering, so a family that uploads a song gets a clear answer instead of a portrait that
mouths along to a drum.

Why these features (numpy only, language-independent, a few milliseconds per second of sound):

- **level**: digital silence or a hum far below any voice has no loud part at all;
- **spectral flatness**: noise (hiss, wind, rain) spreads its energy evenly over the spectrum,
  while a voice piles it into harmonics and formants;
- **pitch steadiness**: a sung or played note holds one pitch for many 10 ms steps, whereas a
  speaking voice glides all the time (intonation, stress, co-articulation), in every language —
  tonal ones included, whose tones are contours, not held notes;
- **rhythmic regularity**: a beat repeats with a fixed period, so the loudness envelope's
  autocorrelation has a strong peak at the beat; syllables come at irregular intervals.

Thresholds are set with room to spare on real speech (see BENCHMARKS.md, "Speech or music").
A recording too short to judge a feature is given the benefit of the doubt on that feature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np

from gan_engine.video.audio import SAMPLE_RATE

HOP_SECONDS = 0.010
WINDOW_SECONDS = 0.025
#: Below this loudest level (dBFS, 95th percentile of 10 ms frames) a recording is silent.
SILENT_DB = -50.0
#: Frames this far below the loudest level are pauses and take no part in the judgement.
ACTIVE_RANGE_DB = 35.0
#: A frame is voiced when its normalised autocorrelation peaks this high at a pitch of 60-400 Hz.
VOICED_PEAK = 0.45
#: Mean spectral flatness of the sounding frames above which the recording is noise (speech
#: stays under 0.1, white noise is about 0.56).
NOISE_FLATNESS = 0.3
#: A pitch that moves less than this (natural log, 0.5 %) in 10 ms is held.
STEADY_STEP = 0.005
#: Fraction of voiced 10 ms steps whose pitch moves less than ``STEADY_STEP`` above which the pitch is held
#: like a note (speech: 0.18-0.65; tones, chords, tuned drums: 0.97-1.0).
STEADY_PITCH = 0.8
#: Envelope autocorrelation at a beat period (0.15-1.5 s) above which the sound is a rhythm
#: (speech: 0.13-0.69; a pulse train or a melody of even notes: 0.9 and more).
RHYTHM = 0.8
#: Share of sounding frames with a pitch below which a recording of at least
#: ``MIN_RHYTHM_SECONDS`` is noise however its spectrum slopes (speech: 0.21 and more).
MIN_VOICED = 0.1
#: Standard deviation of the 10 ms level (dB, pauses raised to the floor) below which the
#: sound is held like a chord or a drone (speech rises and falls by syllable: see BENCHMARKS.md).
SUSTAINED_DB = 3.0
#: Voiced step pairs needed before pitch steadiness is judged (0.2 s of voice).
MIN_PITCH_PAIRS = 20
#: Seconds of sound needed before rhythm is judged (fewer than four beats otherwise).
MIN_RHYTHM_SECONDS = 2.0


class Verdict(StrEnum):
    SPEECH = "speech"
    SILENCE = "silence"
    NOISE = "noise"
    MUSIC = "music"


@dataclass(frozen=True)
class Judgement:
    """The verdict and the figures it rests on (for the bench and for tuning)."""

    verdict: Verdict
    loudest_db: float
    flatness: float
    voiced: float
    steady_pitch: float
    rhythm: float
    level_spread: float

    def as_dict(self) -> dict[str, float | str]:
        return {key: (round(v, 3) if isinstance(v, float) else str(v))
                for key, v in asdict(self).items()}  # fmt: skip


def _frames(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    hop, window = int(sample_rate * HOP_SECONDS), int(sample_rate * WINDOW_SECONDS)
    count = max(1, (pcm.size - window) // hop + 1)
    padded = np.pad(pcm.astype(np.float64), (0, max(0, window - pcm.size)))
    index = np.arange(count)[:, None] * hop + np.arange(window)[None, :]
    return padded[index]


def _pitch(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: autocorrelation peak height, pitch (Hz) and spectral flatness."""
    window = frames.shape[1]
    centred = (frames - frames.mean(axis=1, keepdims=True)) * np.hanning(window)
    size = 1 << int(np.ceil(np.log2(2 * window)))
    power = np.abs(np.fft.rfft(centred, size, axis=1)) ** 2 + 1e-12
    correlation = np.fft.irfft(power, axis=1)[:, :window]
    correlation /= correlation[:, :1] + 1e-12
    shortest, longest = sample_rate // 400, sample_rate // 60
    lag = correlation[:, shortest:longest].argmax(axis=1) + shortest
    peak = correlation[np.arange(frames.shape[0]), lag]
    # A peak at the longest lag is a rumble still falling, not a period.
    peak[lag >= longest - 1] = 0.0
    flatness = np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)
    return peak, sample_rate / lag, flatness


def _rhythm(level: np.ndarray, hop_seconds: float) -> float:
    """The highest envelope autocorrelation at a lag of 0.15-1.5 s (a beat's period)."""
    envelope = level - level.mean()
    spectrum = np.fft.rfft(envelope, 2 * envelope.size)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2)[: envelope.size]
    if correlation[0] <= 1e-12:
        return 0.0
    correlation /= correlation[0]
    first, last = int(0.15 / hop_seconds), int(1.5 / hop_seconds)
    return float(correlation[first : min(last, envelope.size)].max(initial=0.0))


def judge(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Judgement:
    """Speech, silence, noise or music, from mono PCM in [-1, 1].

    Noise is a flat spectrum; music a held pitch, a beat or a held level (a chord, a drone,
    rumble); a long recording with almost no pitch anywhere is noise too."""
    frames = _frames(pcm, sample_rate)
    db = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    loudest = float(np.percentile(db, 95))
    if loudest < SILENT_DB:
        return Judgement(Verdict.SILENCE, loudest, 0.0, 0.0, 0.0, 0.0, 0.0)
    floor = loudest - ACTIVE_RANGE_DB
    active = db > floor
    peak, pitch, flat = _pitch(frames, sample_rate)
    voiced = (peak > VOICED_PEAK) & active
    flatness = float(flat[active].mean())
    voiced_share = float(voiced[active].mean())
    pairs = voiced[1:] & voiced[:-1]
    moves = np.abs(np.log(pitch[1:] / pitch[:-1]))[pairs]
    steady = float((moves < STEADY_STEP).mean()) if moves.size >= MIN_PITCH_PAIRS else 0.0
    seconds = pcm.size / sample_rate
    level = np.maximum(db, floor)
    spread = float(level.std())
    rhythm = _rhythm(level, HOP_SECONDS) if seconds >= MIN_RHYTHM_SECONDS else 0.0
    if flatness > NOISE_FLATNESS:
        verdict = Verdict.NOISE
    elif steady > STEADY_PITCH or rhythm > RHYTHM or spread < SUSTAINED_DB:
        verdict = Verdict.MUSIC
    elif seconds >= MIN_RHYTHM_SECONDS and voiced_share < MIN_VOICED:
        verdict = Verdict.NOISE
    else:
        verdict = Verdict.SPEECH
    return Judgement(verdict, loudest, flatness, voiced_share, steady, rhythm, spread)
