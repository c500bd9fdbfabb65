#!/usr/bin/env python
"""Faded prints (gan_engine.restore.levels): is a fade found, and does taking it out bring the
photo back nearer the truth, without touching photos that are not faded?

Fading as modelled here: the contrast scaled by ``c`` toward the paper's lightness (0.65), so the
blacks lift and the whites dim (``c`` 0.85, 0.72, 0.6), optionally toned sepia after. Figures:
the share of photos found faded, and PSNR against the true photo before and after the step
(for photos not faded: how many were changed at all), RGB and for the lightness alone.

    .venv/bin/python bench/restore_levels.py --out bench/results/restore/restore_levels.json
    .venv/bin/python bench/restore_levels.py --tune --out bench/results/restore/restore_levels_tune.json

The default run uses restore_quality.held_out's people (no restoration network trained on them);
``--tune`` uses every 30th photo of LFW's general corpus (300), on which BLACK_LIFTED was chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gan_quality import DEFAULT_LFW  # noqa: E402
from bench.restore_by_eye import SEPIA  # noqa: E402
from bench.restore_quality import held_out, psnr  # noqa: E402
from gan_engine.restore import levels  # noqa: E402
from gan_engine.restore.load import load_photo  # noqa: E402

PAPER = 0.65
CONTRASTS = (1.0, 0.85, 0.72, 0.6)


def luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114], np.float32)


def faded(image: np.ndarray, contrast: float, sepia: bool) -> np.ndarray:
    out = contrast * image + (1 - contrast) * PAPER
    if sepia:
        out = luma(out)[..., None] * SEPIA
    return np.clip(out, 0, 1).astype(np.float32)


def measure(photos: list[Path]) -> dict:
    """Per fade: photos found faded, PSNR before and after (RGB, and the lightness alone, which
    is what the colouriser keeps of a black-and-white or sepia photo)."""
    results: dict[str, dict] = {}
    truths = [load_photo(p) for p in photos]
    for sepia in (False, True):
        for contrast in CONTRASTS:
            name = f"{'sepia ' if sepia else ''}contrast {contrast:g}"
            found, before, after, darks, luma_gain = 0, [], [], [], []
            for truth in truths:
                # A sepia photo's truth is the same photo toned, unfaded: the fade is what's measured.
                reference = faded(truth, 1.0, sepia)
                given = faded(truth, contrast, sepia)
                fade = levels.measure(given)
                darks.append(fade.dark)
                found += fade.faded
                restored = levels.stretch(given, fade)
                before.append(psnr(given, reference))
                after.append(psnr(restored, reference))
                luma_gain.append(
                    psnr(luma(restored), luma(reference)) - psnr(luma(given), luma(reference))
                )
            results[name] = {
                "photos": len(truths),
                "found_faded": found,
                "dark_median": round(float(np.median(darks)), 3),
                "changed": int(sum(b != a for b, a in zip(before, after, strict=True))),
                "psnr_gain_db": round(float(np.mean(np.subtract(after, before))), 2),
                "worst_gain_db": round(float(np.min(np.subtract(after, before))), 2),
                "lightness_psnr_gain_db": round(float(np.mean(luma_gain)), 2),
            }
            print(name, json.dumps(results[name]), flush=True)
    return results


def tune(general: Path) -> dict:
    photos = sorted(general.glob("*/*.jpg"))[::30][:300]
    darks = {c: [] for c in CONTRASTS}
    for path in photos:
        truth = load_photo(path)
        for contrast in CONTRASTS:
            darks[contrast].append(levels.measure(faded(truth, contrast, False)).dark)
    out = {}
    for contrast, values in darks.items():
        values = np.array(values)
        out[f"contrast {contrast:g}"] = {
            "photos": len(values),
            "dark_percentiles_5_50_95": np.percentile(values, [5, 50, 95]).round(3).tolist(),
            "share_found_faded": round(float(np.mean(values > levels.BLACK_LIFTED)), 3),
        }
        print(contrast, json.dumps(out[f"contrast {contrast:g}"]), flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--general", type=Path, default=DEFAULT_LFW.parent / "lfw-general")
    parser.add_argument("--count", type=int, default=10, help="held-out photos")
    parser.add_argument(
        "--tune", action="store_true", help="the general photos the threshold was chosen on"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = tune(args.general) if args.tune else measure(held_out(args.lfw, args.count))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
