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
after it. A ridge regression maps those 17 numbers to the opening (17 weights and a bias,
printed by ``bench/lipsync_fit.py``, which fits them on real talking clips and reports only
leave-one-clip-out figures). The output is rescaled to the recording's own range: a frame's
openness is where it lies between the recording's 5th and 95th percentile predictions.
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
    """Frames x 17: relative log mel bands (recording mean removed) and clipped loudness,
    averaged over the co-articulation window."""
    power = spectra(pcm, sample_rate, fps)
    n_fft = 2 * (power.shape[1] - 1)
    bands = np.log10(power @ mel_filters(sample_rate, n_fft).T + 1e-10)
    total = np.log10(power.sum(axis=1) + 1e-10)
    relative = bands - total[:, None]
    relative -= relative.mean(axis=0)
    loudness = np.maximum(total - np.percentile(total, 95), QUIET_BELS)
    raw = np.concatenate([relative, loudness[:, None]], axis=1)
    edge = np.pad(raw, ((BEFORE, AFTER), (0, 0)), mode="edge")
    window = BEFORE + AFTER + 1
    return np.mean([edge[shift : shift + raw.shape[0]] for shift in range(window)], axis=0)


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
    """Per frame in [0, 1]: 0 at the 5th percentile of the recording's predictions over its
    ``voiced`` frames (all frames when not given or too few), 1 at their 95th."""
    model = model or DEFAULT
    prediction = model.predict(band_features(pcm, sample_rate, fps))
    speech = prediction[voiced[: prediction.size]] if voiced is not None else prediction
    if speech.size < 5:
        speech = prediction
    low, high = np.percentile(speech, [5, 95])
    span = max(high - low, 0.5 * model.span, 1e-9)
    middle = (low + high) / 2
    return np.clip((prediction - middle) / span + 0.5, 0.0, 1.0)


def relax(openness: np.ndarray, voice: np.ndarray, fps: int) -> np.ndarray:
    """Where there is no voice the jaw relaxes shut with a time constant of :data:`RELAX_S`
    rather than snapping closed: in a short pause of running speech the mouth stays about where
    the last sound left it (people breathe in through it), in a long silence it rests closed.
    Before the first sound it is closed."""
    keep = float(np.exp(-1.0 / (RELAX_S * fps)))
    out = np.zeros(openness.size)
    level = 0.0
    for frame, (value, voiced) in enumerate(zip(openness, voice, strict=False)):
        level = float(value) if voiced else level * keep
        out[frame] = level
    return out


#: Fitted by ``bench/lipsync_fit.py`` on the six HDTF clips of ``../shared/data/talk`` (16 relative
#: mel bands from 80 Hz to 7 kHz, then loudness). Held out one clip at a time: r 0.32 on average.
DEFAULT = MouthModel(
    mean=(0.00042, 0.00112, 0.00112, 0.00034, -0.00034, 0.00089, -0.00125, -0.00123, -0.00124,
          -0.00228, -0.00127, -0.00160, -0.00325, -0.00284, -0.00254, -0.00372, -1.24190),
    scale=(0.31747, 0.39260, 0.42342, 0.50822, 0.55855, 0.62013, 0.66584, 0.72943, 0.75843,
           0.69016, 0.71921, 0.72246, 0.75288, 0.82319, 0.85341, 0.88293, 0.80325),
    weights=(0.02970, -0.00770, 0.01659, 0.09800, 0.02490, 0.15507, -0.17406, -0.02476, -0.00437,
             0.29331, -0.00264, 0.13401, 0.06220, -0.03292, 0.08081, -0.15166, 0.10156),
    span=1.34793,
)  # fmt: skip
