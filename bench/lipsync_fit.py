#!/usr/bin/env python
"""Fit the mouth model (:mod:`gan_engine.video.mouth`) on real talking clips.

The six clips of ``../shared/data/talk`` are all the talking truth there is, so every figure
this prints is leave-one-clip-out: fit on the other clips, score the held-out one (Pearson r of
the predicted opening with the person's measured opening, audio only, no rendering). The
product's weights are then fitted on all clips and printed as the ``DEFAULT`` to paste into
``gan_engine/video/mouth.py``. The rendered, end-to-end figure is ``bench/lipsync_real.py``
(which also holds each clip out of the model it renders with).

``--curve`` asks what more talking truth would give: the held-out r with 1 to 5 training clips
(every held-out clip, every subset of the others), and the r on the clips a model was fitted on
(all six, its ceiling on them), for the product's 18 features and for the same features read at
five windows from 320 ms before to 320 ms after each frame (90 features: the longer
co-articulation a richer model would read).

    .venv/bin/python bench/lipsync_fit.py
    .venv/bin/python bench/lipsync_fit.py --curve   # -> bench/results/lipsync/<date>-curve.json
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from lipsync_real import CACHE, RESULTS, SHARED, pearson, real_openings  # noqa: E402

from gan_engine.video import FPS, audio, mouth  # noqa: E402


def clip_data(clips: list[Path], cache: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each clip's mouth features and the person's measured opening."""
    features, openings = [], []
    for clip in clips:
        features.append(mouth.band_features(audio.decode(clip), audio.SAMPLE_RATE, FPS))
        openings.append(real_openings(clip, cache))
    return features, openings


def held_out(
    features: list[np.ndarray], openings: list[np.ndarray], index: int
) -> mouth.MouthModel:
    """The model fitted on every clip but ``index``."""
    rest = [i for i in range(len(features)) if i != index]
    return mouth.fit([features[i] for i in rest], [openings[i] for i in rest])


#: The context windows of the richer model, in video frames relative to the frame (25 fps).
CONTEXT = ((-8, -5), (-4, -2), (-1, 1), (2, 4), (5, 8))


def with_context(features: np.ndarray) -> np.ndarray:
    """The features averaged over each of :data:`CONTEXT`'s windows, side by side."""
    reach = max(abs(edge) for window in CONTEXT for edge in window)
    padded = np.pad(features, ((reach, reach), (0, 0)), mode="edge")
    frames = features.shape[0]
    return np.concatenate(
        [
            np.mean([padded[reach + k : reach + k + frames] for k in range(a, b + 1)], axis=0)
            for a, b in CONTEXT
        ],
        axis=1,
    )


def learning_curve(features: list[np.ndarray], openings: list[np.ndarray]) -> dict:
    """Mean held-out r for each number of training clips, and the r on the fitted clips."""
    count = len(features)
    curve = {}
    for size in range(1, count):
        scores = []
        for index in range(count):
            others = [i for i in range(count) if i != index]
            for subset in itertools.combinations(others, size):
                model = mouth.fit([features[i] for i in subset], [openings[i] for i in subset])
                scores.append(pearson(model.predict(features[index]), openings[index]))
        curve[str(size)] = round(float(np.mean(scores)), 3)
    model = mouth.fit(features, openings)
    fitted = [pearson(model.predict(f), o) for f, o in zip(features, openings, strict=True)]
    return {
        "features": int(features[0].shape[1]),
        "held_out_r_by_training_clips": curve,
        "r_on_fitted_clips": round(float(np.mean(fitted)), 3),
    }


def curve_main(features: list[np.ndarray], openings: list[np.ndarray]) -> None:
    record = {
        "command": "bench/lipsync_fit.py --curve",
        "product": learning_curve(features, openings),
        "context": learning_curve([with_context(f) for f in features], openings),
    }
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{datetime.date.today().isoformat()}-curve.json"
    target.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {target.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default=str(SHARED / "talk"))
    parser.add_argument("--cache", default=str(CACHE))
    parser.add_argument(
        "--curve", action="store_true", help="the learning curve over training clips, and stop"
    )
    args = parser.parse_args()
    clips = sorted(Path(args.clips).glob("*.mp4"))
    if len(clips) < 2:
        raise SystemExit(f"needs at least two real talking clips (*.mp4) in {args.clips}")
    features, openings = clip_data(clips, Path(args.cache))
    if args.curve:
        curve_main(features, openings)
        return
    rows = []
    for index, clip in enumerate(clips):
        model = held_out(features, openings, index)
        predicted = model.predict(features[index])
        row = {"clip": clip.stem, "held_out_r": round(pearson(predicted, openings[index]), 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    values = [row["held_out_r"] for row in rows]
    summary = {"mean_held_out_r": round(float(np.mean(values)), 3), "min_held_out_r": min(values)}
    print("summary", json.dumps(summary))
    model = mouth.fit(features, openings)
    print("DEFAULT = MouthModel(")
    for name in ("mean", "scale", "weights"):
        print(f"    {name}=({', '.join(f'{value:.5f}' for value in getattr(model, name))}),")
    print(f"    span={model.span:.5f},\n)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{datetime.date.today().isoformat()}-fit.json"
    record = {"command": "bench/lipsync_fit.py", "rows": rows, "summary": summary,
              "model": {"mean": model.mean, "scale": model.scale, "weights": model.weights,
                        "span": model.span}}  # fmt: skip
    target.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
