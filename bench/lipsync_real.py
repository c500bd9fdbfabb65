#!/usr/bin/env python
"""Lip sync against real people talking: the primary lip-sync figure of the talking portrait.

For each real clip in ``../shared/data/talk`` (HDTF, 8 s, 512 px, 25 fps, with its own sound),
the clip's first frame is the portrait and the clip's own sound is the recording; the product's
function (:func:`gan_engine.video.talking.speak`) renders the portrait speaking it, with the mouth
model (:mod:`gan_engine.video.mouth`) fitted on the other clips only (these clips are all the
talking truth there is; ``--shipped`` uses the shipped model, fitted on all). On every frame
of both the render and the real clip, dlib's 68 landmarks give the mouth opening (inner-lip gap
over the eye distance, :func:`gan_engine.video.measure.mouth_opening`). Figures per clip:

- ``r``: Pearson correlation of the rendered opening with the person's real opening, frame by
  frame at lag 0 (the render must be on time, not merely similar);
- ``range_ratio``: the rendered opening's 5th-95th percentile range over the real one's
  (1.0: the portrait opens as far as the person did; the target is 0.7-1.3);
- ``loudness_r``: the real opening against the recording's RMS envelope (how far loudness alone
  explains the real mouth: the bar a sound-driven mouth has to beat);
- ``self_r``: the rendered opening against the RMS envelope (the old, self-referential figure).

Why this and not ``self_r``: a render that opens with loudness scores well against its own
input but not against the person, whose mouth opens with vowels and closes on m/b/p whatever
the loudness. The real clips' landmarks are cached (``--cache``) since they never change.
A benchmark, not a test: it prints figures and writes JSON, and asserts nothing.

    .venv/bin/python bench/lipsync_real.py --name baseline
    .venv/bin/python bench/lipsync_real.py --size 512 --name at-512
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan_engine.video import FPS, audio, measure, mouth  # noqa: E402
from gan_engine.video.mouth import MouthModel  # noqa: E402
from gan_engine.video.talking import speak  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results" / "lipsync"
CACHE = Path(tempfile.gettempdir()) / "memorial-lipsync-truth"


def openings(points: np.ndarray) -> np.ndarray:
    """The mouth opening of every frame's landmarks (NaN where no face was found)."""
    return np.array([measure.mouth_opening(p) if np.isfinite(p).all() else np.nan for p in points])


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r over the frames both series have (lag 0)."""
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or a[ok].std() == 0 or b[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def spread(values: np.ndarray) -> float:
    """The 5th-95th percentile range: the usual opening span, robust to a stray detection."""
    values = values[np.isfinite(values)]
    return float(np.percentile(values, 95) - np.percentile(values, 5)) if values.size else 0.0


def real_openings(clip: Path, cache: Path) -> np.ndarray:
    """The person's own mouth opening per frame of the clip (cached by name and size)."""
    cache.mkdir(parents=True, exist_ok=True)
    stored = cache / f"{clip.stem}-{clip.stat().st_size}.npy"
    if stored.is_file():
        return np.load(stored)
    points, _ = measure.track(clip)
    values = openings(points)
    np.save(stored, values)
    return values


def first_frame(clip: Path, target: Path) -> Path:
    frame = next(measure.read_frames(clip))
    Image.fromarray(frame).save(target)
    return target


def held_out_model(clip: Path, clips: list[Path], cache: Path) -> MouthModel:
    """The mouth model fitted on every clip but this one (see ``bench/lipsync_fit.py``)."""
    rest = [other for other in clips if other != clip]
    features = [mouth.band_features(audio.decode(o), audio.SAMPLE_RATE, FPS) for o in rest]
    return mouth.fit(features, [real_openings(other, cache) for other in rest])


def run_clip(clip: Path, size: int, work: Path, cache: Path, model: MouthModel | None) -> dict:
    real = real_openings(clip, cache)
    portrait = first_frame(clip, work / f"{clip.stem}.png")
    out = work / f"{clip.stem}-{size}.mp4"
    speak(portrait, clip, out, size=size, mouth_model=model)
    points, _ = measure.track(out)
    rendered = openings(points)
    energy = audio.features(audio.decode(clip)).energy
    n = min(real.size, rendered.size)
    real, rendered = real[:n], rendered[:n]
    return {
        "clip": clip.stem,
        "frames": int(n),
        "r": round(pearson(rendered, real), 3),
        "range_ratio": round(spread(rendered) / max(spread(real), 1e-9), 3),
        "real_range": round(spread(real), 3),
        "rendered_range": round(spread(rendered), 3),
        "loudness_r": round(pearson(energy, real), 3),
        "self_r": round(pearson(rendered, energy), 3),
        "face_found": round(float(np.isfinite(rendered).mean()), 3),
    }


def summarise(rows: list[dict]) -> dict:
    summary: dict = {"clips": len(rows)}
    for key in ("r", "range_ratio", "loudness_r", "self_r"):
        values = np.array([row[key] for row in rows], dtype=float)
        summary[f"mean_{key}"] = round(float(np.nanmean(values)), 3)
        summary[f"min_{key}"] = round(float(np.nanmin(values)), 3)
        summary[f"max_{key}"] = round(float(np.nanmax(values)), 3)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="render size in px")
    parser.add_argument("--clips", default=str(SHARED / "talk"), help="folder of real clips")
    parser.add_argument("--name", default="run", help="result file: <date>-<name>.json")
    parser.add_argument("--cache", default=str(CACHE), help="landmark cache of the real clips")
    parser.add_argument("--shipped", action="store_true",
                        help="render with the shipped mouth model (fitted on these very clips: "
                        "not a fair figure) instead of one that holds each clip out")  # fmt: skip
    args = parser.parse_args()
    clips = sorted(Path(args.clips).glob("*.mp4"))
    if not clips:
        raise SystemExit(f"needs real talking clips (*.mp4) in {args.clips}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="lipsync-") as work:
        for clip in clips:
            cache = Path(args.cache)
            model = None if args.shipped else held_out_model(clip, clips, cache)
            row = run_clip(clip, args.size, Path(work), cache, model)
            print(json.dumps(row), flush=True)
            rows.append(row)
    summary = summarise(rows)
    print("summary", json.dumps(summary), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    date = datetime.date.today().isoformat()
    target = RESULTS / f"{date}-{args.name}.json"
    command = f"bench/lipsync_real.py --size {args.size} --name {args.name}"
    command += " --shipped" if args.shipped else ""
    record = {"command": command, "size": args.size, "held_out": not args.shipped,
              "rows": rows, "summary": summary}  # fmt: skip
    target.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
