#!/usr/bin/env python
"""How a real face moves when its mouth opens, against the talking portrait's motion model.

The talking portrait moves the 68 landmarks by a rule (:mod:`gan_engine.video.motion`): for a jaw
drop of ``d`` the lower lip and chin move down by ``d``, the jaw outline by set weights, the
mouth corners by 0.45 ``d``, the inner upper lip up by 0.08 ``d``. This benchmark asks real
people how far each landmark moves for each unit the inner lips part.

For each real clip in ``../shared/data/talk`` (HDTF, 8 s, 25 fps): dlib's 68 landmarks on every
frame; the skull's motion removed by mapping stable points onto the clip's first frame
(``--align affine``: the nose and eye corners, which also removes a nod's vertical
foreshortening; ``similarity``: the nose bridge and eye corners); positions in eye distances
along the face's own axes (across, down); per frame the inner-lip gap ``g``. A landmark's
displacement is fitted as ``slope * g + offset`` (its own offset per clip: where the landmark
sits with closed lips), left and right averaged as mirror images. Scored leave-one-clip-out: the
slopes fitted on five clips predict the sixth clip's landmarks from its real gap, and the error
(root mean square, eye distances, over the jaw outline, the lips and both) is set beside the
motion model's rule for the same gap and beside not moving. The slopes fitted on all six are
printed beside the rule's.

    .venv/bin/python bench/talk_motion.py --align affine --out bench/results/lipsync/talk_motion-affine.json

A benchmark, not a test: it prints figures and writes JSON, and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan_engine.video import measure  # noqa: E402
from gan_engine.video import motion as motion_rule  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CACHE = Path(tempfile.gettempdir()) / "memorial-talk-landmarks"
#: Points that move with the skull, not the jaw or lips: the nose and the eye corners.
_STABLE = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45]
#: The nose bridge and the eye corners: for the similarity alignment.
BRIDGE = [27, 28, 29, 30, 36, 39, 42, 45]
#: The lower face: jaw outline below the ears, and the lips.
JAW = list(range(3, 14))
LIPS = list(range(48, 68))
LOWER = JAW + LIPS
#: Each landmark's mirror image across the face's midline (dlib's 68-point layout).
MIRROR = np.array(
    [16 - i for i in range(17)]
    + [26 - (i - 17) for i in range(17, 27)]
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60, 67, 66, 65]
)


def landmarks(clip: Path) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    stored = CACHE / f"{clip.stem}-{clip.stat().st_size}.npy"
    if stored.is_file():
        return np.load(stored)
    points, _ = measure.track(clip)
    np.save(stored, points)
    return points


def affine(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x2 affine map taking ``source`` points onto ``target`` (least squares). A nodding
    head foreshortens the face vertically, which a similarity leaves in the mouth's motion and
    an affine map removes (with the nose's own small motion in speech as noise)."""
    rows = np.column_stack([source, np.ones(len(source))])
    solution, *_ = np.linalg.lstsq(rows, target, rcond=None)
    return solution


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x2 map of scale, rotation and shift taking ``source`` onto ``target``."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    a, b = source - mu_s, target - mu_t
    u, s, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1.0, d]) @ vt
    scale = (s * [1.0, d]).sum() / (a**2).sum()
    linear = scale * rotation
    return np.vstack([linear, mu_t - mu_s @ linear])


def face_frame(points: np.ndarray, align: str = "affine") -> tuple[np.ndarray, np.ndarray]:
    """Every frame's landmarks in eye distances on the first frame's axes (the skull's motion removed),
    and the inner-lip gap per frame; frames without a face dropped."""
    ok = np.isfinite(points).all(axis=(1, 2))
    points = points[ok]
    reference = points[0]
    aligned = []
    for frame in points:
        if align == "affine":
            mapping = affine(frame[_STABLE], reference[_STABLE])
        else:
            mapping = similarity(frame[BRIDGE], reference[BRIDGE])
        aligned.append(np.column_stack([frame, np.ones(68)]) @ mapping)
    aligned = np.array(aligned)
    left, right = reference[36:42].mean(0), reference[42:48].mean(0)
    unit = float(np.linalg.norm(right - left))
    across = (right - left) / unit
    down = np.array([-across[1], across[0]])
    local = np.stack([(aligned - reference) @ across, (aligned - reference) @ down], -1) / unit
    gap = (local[:, [67, 66, 65], 1] - local[:, [61, 62, 63], 1]).mean(1)
    reference_gap = ((reference[[67, 66, 65]] - reference[[61, 62, 63]]) @ down).mean() / unit
    return local, gap + reference_gap


def fit(clips: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """68x2 slopes (eye distances of displacement per eye distance of gap), one offset per clip
    and landmark: one least-squares solve for every landmark and axis at once."""
    rows, values = [], []
    for number, (local, gap) in enumerate(clips):
        offsets = np.zeros((gap.size, len(clips)))
        offsets[:, number] = 1
        rows.append(np.column_stack([gap, offsets]))
        values.append(local.reshape(len(gap), -1))
    solution, *_ = np.linalg.lstsq(np.vstack(rows), np.vstack(values), rcond=None)
    return symmetric(solution[0].reshape(68, 2))


def symmetric(slopes: np.ndarray) -> np.ndarray:
    """The mean of the slopes and their mirror image: a face opens its mouth symmetrically, so
    what differs between the left and right is measurement noise."""
    mirrored = slopes[MIRROR] * np.array([-1.0, 1.0])
    return (slopes + mirrored) / 2


def rule_slopes() -> np.ndarray:
    """The motion model's rule as slopes: landmark displacement per unit of inner-lip gap."""
    drop = np.zeros(68)
    for index, weight in motion_rule._JAW.items():
        drop[index] = weight
    drop[motion_rule._LOWER_LIP] = 1.0
    drop[motion_rule._UPPER_INNER] = -0.08
    drop[motion_rule._CORNERS] = 0.45
    gap_per_drop = 1.0 + 0.08  # the lower inner lip moves by the drop, the upper up by 0.08 of it
    return np.stack([np.zeros(68), drop / gap_per_drop], 1)


def error(
    local: np.ndarray, gap: np.ndarray, slopes: np.ndarray, points: list[int] = LOWER
) -> float:
    """RMS error over ``points`` predicting each frame from the gap (the clip's own offset:
    the mean residual, as a closed-mouth photo gives it)."""
    predicted = gap[:, None, None] * slopes[None]
    residual = local - predicted
    residual = residual - residual.mean(0, keepdims=True)
    return float(np.sqrt((residual[:, points] ** 2).sum(-1).mean()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talk", type=Path, default=SHARED / "talk")
    parser.add_argument(
        "--align",
        choices=("affine", "similarity"),
        default="affine",
        help="how the skull's motion is removed (see affine())",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    names = sorted(p for p in args.talk.glob("*.mp4"))
    clips = [face_frame(landmarks(path), args.align) for path in names]
    rule = rule_slopes()
    report: dict[str, object] = {"align": args.align, "clips": {}}
    for held, path in enumerate(names):
        others = [c for number, c in enumerate(clips) if number != held]
        fitted = fit(others)
        local, gap = clips[held]
        figures: dict[str, float] = {
            "frames": int(gap.size),
            "gap_range": round(float(np.percentile(gap, 95) - np.percentile(gap, 5)), 3),
        }
        for region, points in (("lower", LOWER), ("lips", LIPS), ("jaw", JAW)):
            for name, slopes in (("still", np.zeros((68, 2))), ("rule", rule), ("fitted", fitted)):
                figures[f"{region}_{name}"] = round(error(local, gap, slopes, points), 4)
        report["clips"][path.stem] = figures
        print(path.stem, figures)
    keys = next(iter(report["clips"].values())).keys()
    for key in keys:
        if key != "frames":
            report[f"mean_{key}"] = round(
                float(np.mean([c[key] for c in report["clips"].values()])), 4
            )
    slopes = fit(clips)
    report["slopes_all_clips"] = np.round(slopes, 3).tolist()
    report["rule_slopes"] = np.round(rule, 3).tolist()
    print({k: v for k, v in report.items() if k.startswith("mean")})
    for point in [4, 6, 8, 10, 12, 48, 50, 51, 54, 57, 58, 61, 62, 66, 67]:
        print(point, "fitted", np.round(slopes[point], 2), "rule", np.round(rule[point], 2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
