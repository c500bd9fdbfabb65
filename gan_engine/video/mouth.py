"""How open the mouth is, frame by frame, from the sounds of the recording.

Why this model: a real mouth opens with the vowels and closes on m/b/p whatever the loudness
(a loud "mmm" is closed, a quiet "ah" is open), so loudness alone follows real people poorly
(r 0.10 against six real talking clips, ``bench/lipsync_real.py``). What tells the sounds apart
in any language is the spectral shape: an open jaw raises the first formant and puts the energy
between 500 and 1500 Hz; closed lips (m, b, p) leave a low nasal murmur or a burst; narrow
fricatives (s, f) put it high. The model reads that shape from 16 mel bands, each relative to
the frame's total energy and to the recording's own average (so the microphone and the voice's
timbre cancel), plus the loudness below the recording's loud level. Co-articulation: the mouth
anticipates the next sound, so each frame averages its features over 40 ms before to 120 ms
after it. A phrase's loudness (averaged over half a second either side) is the last feature:
people open wider through a loud, stressed phrase and keep the jaw lower in a short pause inside
one. A ridge regression maps those 18 numbers to the opening (18 weights and a bias, printed by
``bench/lipsync_fit.py``, which fits them on real talking clips and reports only
leave-one-clip-out figures). The output is rescaled to the recording's own range: a frame's
openness is where it lies between the recording's 2nd and 98th percentile predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

BANDS = 16
LOW_HZ, HIGH_HZ = 80.0, 7000.0
#: Loudness below the recording's loud level is clipped at this many bels (-30 dB): deeper
#: silence says nothing more about the mouth.
QUIET_BELS = -3.0
#: Co-articulation window, in video frames before and after the frame.
BEFORE, AFTER = 1, 3
#: The phrase window, in video frames either side (half a second): the loudness of the phrase
#: around a frame, which keeps the jaw lower through a short pause inside loud speech.
PHRASE = 12
#: The percentiles of a recording's predictions that map to closed (0) and fully open (1); the
#: few frames beyond them are clipped (measured, ``bench/lipsync_features.py``: r 0.33 against
#: 0.32 for 5/95, which flattens more of the wide vowels to one opening).
LOW_PERCENTILE, HIGH_PERCENTILE = 2.0, 98.0
#: How fast the jaw relaxes shut in a pause (seconds to fall to 37 %): the jaw's resting reflex
#: is slow next to articulation; a quarter second closes it within a second of silence.
RELAX_S = 0.25


@cache
def mel_filters(sample_rate: int, n_fft: int) -> np.ndarray:
    """A triangular mel filter bank (BANDS x n_fft//2+1) between LOW_HZ and HIGH_HZ."""
    high = min(HIGH_HZ, sample_rate / 2 - 1)

    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 2595 * np.log10(1 + np.asarray(hz) / 700)

    edges = 700 * (10 ** (np.linspace(mel(LOW_HZ), mel(high), BANDS + 2) / 2595) - 1)
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    bank = np.zeros((BANDS, freqs.size))
    for band in range(BANDS):
        low, mid, top = edges[band : band + 3]
        bank[band] = np.clip(
            np.minimum((freqs - low) / (mid - low), (top - freqs) / (top - mid)), 0, None
        )
    return bank


def spectra(pcm: np.ndarray, sample_rate: int, fps: int) -> np.ndarray:
    """Power spectra of one hop-long Hann window centred on each video frame."""
    hop = sample_rate // fps
    frames = max(1, int(np.ceil(pcm.size / hop)))
    n_fft = 1 << int(np.ceil(np.log2(hop)))
    padded = np.pad(pcm.astype(np.float64), (hop // 2, 2 * hop))
    index = (np.arange(frames) * hop)[:, None] + np.arange(hop)[None, :]
    chunks = padded[index + hop // 2] * np.hanning(hop)[None, :]  # starts at t * hop
    return np.abs(np.fft.rfft(chunks, n=n_fft, axis=1)) ** 2


def band_features(pcm: np.ndarray, sample_rate: int, fps: int) -> np.ndarray:
    """Frames x 18: relative log mel bands (recording mean removed) and clipped loudness,
    averaged over the co-articulation window, then the clipped loudness averaged over the
    phrase window."""
    power = spectra(pcm, sample_rate, fps)
    n_fft = 2 * (power.shape[1] - 1)
    bands = np.log10(power @ mel_filters(sample_rate, n_fft).T + 1e-10)
    total = np.log10(power.sum(axis=1) + 1e-10)
    relative = bands - total[:, None]
    relative -= relative.mean(axis=0)
    loudness = np.maximum(total - np.percentile(total, 95), QUIET_BELS)
    raw = np.concatenate([relative, loudness[:, None]], axis=1)
    phrase = window_mean(loudness[:, None], PHRASE, PHRASE)
    return np.concatenate([window_mean(raw, BEFORE, AFTER), phrase], axis=1)


def window_mean(values: np.ndarray, before: int, after: int) -> np.ndarray:
    """Each row averaged with ``before`` rows before and ``after`` rows after it (the edge rows
    repeated past the ends)."""
    edge = np.pad(values, ((before, after), (0, 0)), mode="edge")
    window = before + after + 1
    return np.mean([edge[shift : shift + values.shape[0]] for shift in range(window)], axis=0)


@dataclass(frozen=True)
class MouthModel:
    """A ridge regression from :func:`band_features` to the mouth opening (standardised)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    #: The 5th-95th percentile span of the predictions on the clips it was fitted on: a
    #: recording's own span is never stretched beyond twice as far as that (a long hum is not
    #: turned into chatter).
    span: float = 1.0

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The raw prediction per frame (in standard deviations of a person's opening)."""
        standard = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return standard @ np.asarray(self.weights)


def fit(
    features: Sequence[np.ndarray], openings: Sequence[np.ndarray], alpha: float = 100.0
) -> MouthModel:
    """Fit on clips: each clip's opening is standardised first (a person's own range counts,
    not how wide their mouth is), frames without a measured opening are left out."""
    rows, targets = [], []
    for feats, opening in zip(features, openings, strict=True):
        n = min(len(feats), len(opening))
        feats, opening = feats[:n], opening[:n]
        ok = np.isfinite(opening)
        rows.append(feats[ok])
        targets.append((opening[ok] - opening[ok].mean()) / (opening[ok].std() + 1e-9))
    x, y = np.concatenate(rows), np.concatenate(targets)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    standard = (x - mean) / scale
    weights = np.linalg.solve(standard.T @ standard + alpha * np.eye(x.shape[1]), standard.T @ y)
    low, high = np.percentile(standard @ weights, [5, 95])
    return MouthModel(
        tuple(round(float(v), 5) for v in mean),
        tuple(round(float(v), 5) for v in scale),
        tuple(round(float(v), 5) for v in weights),
        span=round(float(high - low), 5),
    )


def openness(
    pcm: np.ndarray,
    sample_rate: int,
    fps: int,
    model: MouthModel | None = None,
    voiced: np.ndarray | None = None,
) -> np.ndarray:
    """Per frame in [0, 1]: 0 at the 2nd percentile of the recording's predictions over its
    ``voiced`` frames (all frames when not given or too few), 1 at their 98th."""
    model = model or DEFAULT
    prediction = model.predict(band_features(pcm, sample_rate, fps))
    speech = prediction[voiced[: prediction.size]] if voiced is not None else prediction
    if speech.size < 5:
        speech = prediction
    low, high = np.percentile(speech, [LOW_PERCENTILE, HIGH_PERCENTILE])
    span = max(high - low, 0.5 * model.span, 1e-9)
    middle = (low + high) / 2
    return np.clip((prediction - middle) / span + 0.5, 0.0, 1.0)


def rest(openness: np.ndarray, voice: np.ndarray, fps: int) -> np.ndarray:
    """The mouth before the first sound is closed and after the last one relaxes shut (time
    constant :data:`RELAX_S`); in a pause between sounds it does what the model says, which was
    fitted on real pauses: people keep the jaw half open through a short breath inside a phrase
    (``bench/lipsync_features.py``, six real talking clips, each held out of the model: relaxing
    it shut in every pause gave r 0.31 with the real opening, the model's own pauses 0.32)."""
    out = np.asarray(openness, dtype=np.float64).copy()
    voiced = np.flatnonzero(np.asarray(voice[: out.size], dtype=bool))
    if voiced.size == 0:
        return np.zeros(out.size)
    first, last = int(voiced[0]), int(voiced[-1])
    out[:first] = 0.0
    keep = float(np.exp(-1.0 / (RELAX_S * fps)))
    level = out[last]
    for frame in range(last + 1, out.size):
        level *= keep
        out[frame] = min(level, out[frame])
    return out


#: Fitted by ``bench/lipsync_fit.py`` on the six HDTF clips of ``../shared/data/talk`` (16 relative
#: mel bands from 80 Hz to 7 kHz, loudness, the phrase's loudness). Held out one clip at a time:
#: r 0.35 on average.
DEFAULT = MouthModel(
    mean=(0.00042, 0.00112, 0.00112, 0.00034, -0.00034, 0.00089, -0.00125, -0.00123, -0.00124,
          -0.00228, -0.00127, -0.00160, -0.00325, -0.00284, -0.00254, -0.00372,
          -1.24190, -1.24197),
    scale=(0.31747, 0.39260, 0.42342, 0.50822, 0.55855, 0.62013, 0.66584, 0.72943, 0.75843,
          0.69016, 0.71921, 0.72246, 0.75288, 0.82319, 0.85341, 0.88293, 0.80325,
          0.48984),
    weights=(0.03509, -0.02619, -0.00004, 0.10916, 0.02387, 0.14753, -0.16961, -0.02770, 0.01104,
          0.28882, -0.01391, 0.14521, 0.05005, -0.02367, 0.05546, -0.14172, 0.01937,
          0.14043),
    span=1.38424,
)  # fmt: skip
