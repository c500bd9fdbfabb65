#!/usr/bin/env python
"""What the mouth model reads and how its output is shaped, measured audio only.

Every figure is leave-one-clip-out over the real talking clips of ``../shared/data/talk`` (fit
on the others, Pearson r of the prediction with the held-out person's measured opening), as in
``bench/lipsync_fit.py``. It compares the product's features (:func:`mouth.band_features`)
with the same without the phrase loudness, with LPC log-area ratios added, and MFCCs with
deltas; ridge against gradient boosting and kernel ridge; and the shaping of the output (the
percentiles a recording's predictions are spread between, relaxing shut in every pause or only
after the last sound). A benchmark, not a test: it prints and writes JSON.

    .venv/bin/python bench/lipsync_features.py     # -> bench/results/lipsync/<date>-features.json
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.fft import dct
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.kernel_ridge import KernelRidge

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from lipsync_fit import clip_data  # noqa: E402
from lipsync_real import CACHE, RESULTS, SHARED, pearson  # noqa: E402

from gan_engine.video import FPS, audio, mouth  # noqa: E402


def log_area_ratios(pcm: np.ndarray, order: int = 14) -> np.ndarray:
    """Per frame, the vocal tract's log-area ratios from LPC (Levinson) on a 40 ms window."""
    hop, size = audio.SAMPLE_RATE // FPS, 640
    emphasised = np.append(pcm[0], pcm[1:] - 0.97 * pcm[:-1]).astype(np.float64)
    frames = int(np.ceil(pcm.size / hop))
    padded = np.pad(emphasised, (size, size))
    starts = np.arange(frames) * hop + size + hop // 2 - size // 2
    rows = []
    for chunk in padded[starts[:, None] + np.arange(size)[None, :]] * np.hamming(size):
        r = np.correlate(chunk, chunk, "full")[size - 1 : size + order]
        if r[0] <= 1e-9:
            rows.append(np.zeros(order))
            continue
        a, error, ks = np.zeros(order + 1), r[0] * 1.0001, []
        a[0] = 1.0
        for i in range(1, order + 1):
            k = -(r[i] + a[1:i] @ r[i - 1 : 0 : -1]) / error
            a[1:i] = a[1:i] + k * a[i - 1 : 0 : -1]
            a[i], error = k, error * (1 - k * k)
            ks.append(k)
        ks = np.clip(np.array(ks), -0.999, 0.999)
        rows.append(np.log((1 - ks) / (1 + ks)))
    values = np.array(rows)
    return mouth.window_mean(values - values.mean(axis=0), mouth.BEFORE, mouth.AFTER)


def mfcc_with_deltas(pcm: np.ndarray) -> np.ndarray:
    power = mouth.spectra(pcm, audio.SAMPLE_RATE, FPS)
    bands = np.log10(
        power @ mouth.mel_filters(audio.SAMPLE_RATE, 2 * (power.shape[1] - 1)).T + 1e-10
    )
    cepstra = dct(bands, type=2, axis=1, norm="ortho")[:, :13]
    cepstra -= cepstra.mean(axis=0)
    edge = np.pad(cepstra, ((2, 2), (0, 0)), mode="edge")
    deltas = (edge[3:-1] - edge[1:-3] + 2 * (edge[4:] - edge[:-4])) / 10
    window = [mouth.window_mean(x, mouth.BEFORE, mouth.AFTER) for x in (cepstra, deltas)]
    return np.concatenate(window, axis=1)


def held_out(
    features: list[np.ndarray],
    openings: list[np.ndarray],
    make: Callable | None,
    shape: Callable | None = None,
    pcm: list[np.ndarray] | None = None,
) -> list[float]:
    """Leave-one-clip-out r; ``make`` builds a scikit-learn regressor (None: the product's
    ridge); ``shape(prediction, pcm)`` post-processes a prediction as the product would."""
    scores = []
    for index in range(len(features)):
        rest = [i for i in range(len(features)) if i != index]
        if make is None:
            model = mouth.fit([features[i] for i in rest], [openings[i] for i in rest])
            prediction = model.predict(features[index])
        else:
            x = np.concatenate([features[i] for i in rest])
            y = np.concatenate([(openings[i] - np.nanmean(openings[i])) / np.nanstd(openings[i])
                                for i in rest])  # fmt: skip
            mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
            fitted = make().fit((x - mean) / scale, y)
            prediction = fitted.predict((features[index] - mean) / scale)
        if shape is not None:
            prediction = shape(prediction, pcm[index])
        scores.append(round(pearson(prediction, openings[index]), 3))
    return scores


def shaped(low: float, high: float, relax_every_pause: bool) -> Callable:
    def apply(prediction: np.ndarray, pcm: np.ndarray) -> np.ndarray:
        voice = audio.features(pcm).loudness > 0.05
        a, b = np.percentile(prediction[voice], [low, high])
        value = np.clip((prediction - a) / (b - a), 0.0, 1.0)
        if relax_every_pause:
            keep, level, out = float(np.exp(-1.0 / (mouth.RELAX_S * FPS))), 0.0, value.copy()
            for frame, voiced in enumerate(voice[: value.size]):
                level = value[frame] if voiced else level * keep
                out[frame] = level
            return out
        return mouth.rest(value, voice, FPS)

    return apply


def main() -> None:
    clips = sorted((SHARED / "talk").glob("*.mp4"))
    if len(clips) < 2:
        raise SystemExit(f"needs real talking clips (*.mp4) in {SHARED / 'talk'}")
    product, openings = clip_data(clips, CACHE)
    pcm = [audio.decode(clip) for clip in clips]
    without_phrase = [f[:, :-1] for f in product]
    lar = [np.c_[f, log_area_ratios(p)] for f, p in zip(product, pcm, strict=True)]
    mfcc = [np.c_[mfcc_with_deltas(p), f[:, -2:]] for f, p in zip(product, pcm, strict=True)]
    runs = {
        "ridge, bands and loudness (no phrase loudness)": held_out(without_phrase, openings, None),
        "ridge, the product's features": held_out(product, openings, None),
        "ridge, + LPC log-area ratios": held_out(lar, openings, None),
        "ridge, MFCC + deltas + loudness": held_out(mfcc, openings, None),
        "gradient boosting, product's features": held_out(product, openings, lambda: HistGradientBoostingRegressor(
            max_depth=3, learning_rate=0.05, max_iter=100, min_samples_leaf=40)),
        "kernel ridge (RBF), product's features": held_out(
            product, openings, lambda: KernelRidge(alpha=10, kernel="rbf", gamma=0.005)),
        "shaped 5-95 %, relaxed in every pause (before)": held_out(
            product, openings, None, shaped(5, 95, True), pcm),
        "shaped 5-95 %, the model in pauses": held_out(product, openings, None, shaped(5, 95, False), pcm),
        "shaped 2-98 %, the model in pauses (product)": held_out(
            product, openings, None, shaped(2, 98, False), pcm),
    }  # fmt: skip
    rows = []
    for name, scores in runs.items():
        row = {"variant": name, "per_clip": scores, "mean_r": round(float(np.mean(scores)), 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{datetime.date.today().isoformat()}-features.json"
    record = {
        "command": "bench/lipsync_features.py",
        "clips": [c.stem for c in clips],
        "rows": rows,
    }
    target.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
