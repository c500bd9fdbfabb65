#!/usr/bin/env python
"""Fit the mouth model (:mod:`gan_engine.video.mouth`) on real talking clips.

The six clips of ``../shared/data/talk`` are all the talking truth there is, so every figure
this prints is leave-one-clip-out: fit on the other clips, score the held-out one (Pearson r of
the predicted opening with the person's measured opening, audio only, no rendering). The
product's weights are then fitted on all clips and printed as the ``DEFAULT`` to paste into
``gan_engine/video/mouth.py``. The rendered, end-to-end figure is ``bench/lipsync_real.py``
(which also holds each clip out of the model it renders with).

    .venv/bin/python bench/lipsync_fit.py
"""

from __future__ import annotations

import argparse
import datetime
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default=str(SHARED / "talk"))
    parser.add_argument("--cache", default=str(CACHE))
    args = parser.parse_args()
    clips = sorted(Path(args.clips).glob("*.mp4"))
    if len(clips) < 2:
        raise SystemExit(f"needs at least two real talking clips (*.mp4) in {args.clips}")
    features, openings = clip_data(clips, Path(args.cache))
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
