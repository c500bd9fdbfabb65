#!/usr/bin/env python
"""What captions add to a person's model: the same person's model trained with and without
captions, compared on likeness (bench/gan_quality.py's figures) and on whether a caption steers
the picture.

A benchmark, not a test. The two models are ``bench/gan_quality.py`` runs of one person from the
same prior and budget, one with ``--captions bench/captions`` and one without. Steering is
measured on the one thing every caption in ``bench/captions/<person>.json`` states, written by
eye from each photo: the expression, ``smiling`` or ``not smiling``. The smile figure is the
mouth's width over the outer eye corners' distance (dlib's 68 landmarks 48-54 over 36-45) on
faces at 256 px; real photos give the gap between those captioned smiling and those captioned
not smiling, a model the gap between its samples drawn with the caption "smiling" and with
"not smiling" from the same noise.

    .venv/bin/python bench/caption_value.py Jennifer_Aniston \\
        --captioned data/bench/gan_quality/runs/Jennifer_Aniston--engine-reflect-nocaptionbias-captions--face-64-s2487--900 \\
        --plain data/bench/gan_quality/runs/Jennifer_Aniston--engine-reflect-nocaptionbias--face-64-s2487--900 \\
        --out bench/results/captions/Jennifer_Aniston.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES = 48
PROMPTS = ("smiling", "not smiling")
SIZE = 256


class SmileMeter:
    """Mouth width over outer eye-corner distance from dlib's 68-point landmarks."""

    def __init__(self) -> None:
        import dlib
        import face_recognition_models

        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(
            face_recognition_models.pose_predictor_model_location()
        )

    def __call__(self, image: np.ndarray) -> float | None:
        from PIL import Image

        big = np.asarray(Image.fromarray(image).resize((SIZE, SIZE), Image.Resampling.BICUBIC))
        boxes = self.detector(big, 1)
        if not boxes:
            return None
        box = max(boxes, key=lambda rect: rect.area())
        shape = self.predictor(big, box)
        point = lambda i: np.array([shape.part(i).x, shape.part(i).y], dtype=float)  # noqa: E731
        eyes = np.linalg.norm(point(45) - point(36))
        return float(np.linalg.norm(point(54) - point(48)) / eyes) if eyes > 0 else None


def mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def real_gap(data: Path, meter: SmileMeter) -> dict:
    """The smile figure of the person's own crops, by the expression their caption states."""
    from gan_engine.data import load_faces
    from gan_engine.evaluate import to_uint8

    faces = load_faces(data, 64, "all")
    widths: dict[str, list[float]] = {prompt: [] for prompt in PROMPTS}
    for image, caption in zip(to_uint8(faces.images), faces.captions, strict=True):
        expression = "not smiling" if (caption or "").startswith("not smiling") else "smiling"
        if (width := meter(image)) is not None:
            widths[expression].append(width)
    return summarise(widths)


def model_gap(run: Path, meter: SmileMeter) -> dict:
    """The smile figure of a model's samples drawn with each prompt from the same noise."""
    from gan_engine.evaluate import to_uint8
    from gan_engine.generate import load_model, sample

    model = load_model(run, "cpu")
    widths: dict[str, list[float | None]] = {}
    for prompt in PROMPTS:
        images = to_uint8(sample(model, range(SAMPLES), [prompt] * SAMPLES))
        widths[prompt] = [meter(image) for image in images]
    pairs = [
        (a, b) for a, b in zip(widths["smiling"], widths["not smiling"], strict=True) if a and b
    ]
    summary = summarise({p: [w for w in ws if w is not None] for p, ws in widths.items()})
    summary["pairs"] = len(pairs)
    summary["smiling_wider"] = (
        sum(a > b for a, b in pairs) / len(pairs) if pairs else None
    )  # 0.5: the caption does nothing
    return summary


def summarise(widths: dict[str, list[float]]) -> dict:
    smiling, plain = mean(widths["smiling"]), mean(widths["not smiling"])
    return {
        "faces": {prompt: len(values) for prompt, values in widths.items()},
        "smile_width": {"smiling": smiling, "not smiling": plain},
        "gap": None if smiling is None or plain is None else smiling - plain,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("person")
    parser.add_argument("--captioned", type=Path, required=True, help="run trained with captions")
    parser.add_argument("--plain", type=Path, required=True, help="run trained without")
    parser.add_argument(
        "--data",
        type=Path,
        help="the person's prepared captioned photos "
        "(default: data/bench/gan_quality/data/<person>-captioned)",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench/results/gan_quality")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    data = args.data or ROOT / "data/bench/gan_quality/data" / f"{args.person}-captioned"
    meter = SmileMeter()
    quality = {}
    for name, run in (("captioned", args.captioned), ("plain", args.plain)):
        result = json.loads((args.results / f"{run.name}.json").read_text())
        identity = result["report"]["identity"]
        quality[name] = {
            "identity": identity["identity_match_rate"],
            "distance": identity["mean_distance"],
            "detection": identity["detection_rate"],
            "diversity": identity["diversity_descriptor"],
            "heldout_ssim": result["report"]["heldout_best"]["ssim"],
            "train_ssim": result["report"]["train_best"]["ssim"],
        }
    payload = {
        "person": args.person,
        "real": real_gap(data, meter),
        "captioned": {**quality["captioned"], **model_gap(args.captioned, meter)},
        "plain": {**quality["plain"], **model_gap(args.plain, meter)},
        "command": " ".join(sys.argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
