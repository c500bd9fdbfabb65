"""Grain, noise and JPEG blocks: found and cleaned only where they are (gan_engine.restore.denoise).

Held-out LFW photos (bench/restore_quality.py's ten people) given Gaussian noise (colour, and
grain alike in every channel, as film's is), JPEG compression, or nothing; each is measured and,
when the step finds it needs it, cleaned. Figures: PSNR to the clean photo before and after, and
the share of photos the step cleaned (for clean photos: how often it would touch a photo that
needs nothing).

``--tune`` sweeps the strengths on LFW general photos no network trained on
(bench/restore_validate.py's), where the shipped constants were chosen; never on the held-out
people.

    .venv/bin/python bench/restore_denoise.py --out bench/results/restore/restore_denoise.json
    .venv/bin/python bench/restore_denoise.py --tune
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gan_quality import DEFAULT_LFW  # noqa: E402
from bench.restore_quality import held_out, psnr  # noqa: E402
from bench.restore_validate import validation_photos  # noqa: E402
from gan_engine.restore import denoise  # noqa: E402
from gan_engine.restore.load import load_photo  # noqa: E402
from gan_engine.restore.training import _jpeg  # noqa: E402

GENERAL = DEFAULT_LFW.parent / "lfw-general"


def degradations(seed: int = 1) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    rng = np.random.default_rng(seed)

    def noisy(sigma: float, mono: bool = False) -> Callable[[np.ndarray], np.ndarray]:
        def add(image: np.ndarray) -> np.ndarray:
            shape = image.shape[:2] + ((1,) if mono else (3,))
            return np.clip(image + rng.normal(0, sigma, shape), 0, 1).astype(np.float32)

        return add

    return {
        "clean": lambda image: image,
        "noise_0.02": noisy(0.02),
        "noise_0.04": noisy(0.04),
        "grain_0.03": noisy(0.03, mono=True),
        "jpeg_15": lambda image: _jpeg(image, 15),
        "jpeg_25": lambda image: _jpeg(image, 25),
        "jpeg_40": lambda image: _jpeg(image, 40),
    }


def run(photos: list[np.ndarray]) -> dict:
    report = {}
    for name, hurt in degradations().items():
        before, after, cleaned, seconds = [], [], [], []
        for truth in photos:
            damaged = hurt(truth)
            start = time.process_time()
            measured = denoise.measure(damaged)
            out = denoise.clean(damaged, measured)
            seconds.append(time.process_time() - start)
            cleaned.append(measured.needs_cleaning)
            if name != "clean":
                before.append(psnr(damaged, truth))
            after.append(psnr(out, truth) if name != "clean" else float(out is damaged))
        row = {"cleaned_share": round(float(np.mean(cleaned)), 2)}
        if name == "clean":
            row["left_untouched_share"] = round(float(np.mean(after)), 2)
        else:
            row["psnr_before"] = round(float(np.mean(before)), 2)
            row["psnr_after"] = round(float(np.mean(after)), 2)
        row["cpu_seconds_per_photo"] = round(float(np.mean(seconds)), 3)
        report[name] = row
        print(name, row, flush=True)
    return report


def tune(photos: list[np.ndarray]) -> dict:
    """PSNR after cleaning at several strengths, and what the measures read, per degradation."""
    report = {}
    for name, hurt in degradations().items():
        damaged = [hurt(truth) for truth in photos]
        measured = [denoise.measure(d) for d in damaged]
        row: dict[str, object] = {
            "noise_measured_max": round(max(m.noise for m in measured), 4),
            "blockiness_mean": round(float(np.mean([m.blockiness for m in measured])), 3),
            "blockiness_max": round(max(m.blockiness for m in measured), 3),
        }
        if name != "clean":
            row["psnr_before"] = round(
                float(np.mean([psnr(d, t) for d, t in zip(damaged, photos, strict=True)])), 2
            )
            for h in (3, 5, 8, 12):
                row[f"h_{h}"] = round(
                    float(
                        np.mean(
                            [
                                psnr(denoise.smooth(d, h), t)
                                for d, t in zip(damaged, photos, strict=True)
                            ]
                        )
                    ),
                    2,
                )
            for per_sigma in (0.6, 0.8, 1.0, 1.2, 1.4):
                row[f"per_sigma_{per_sigma}"] = round(
                    float(
                        np.mean(
                            [
                                psnr(denoise.smooth(d, per_sigma * m.noise * 255), t)
                                for d, t, m in zip(damaged, photos, measured, strict=True)
                            ]
                        )
                    ),
                    2,
                )
        report[name] = row
        print(name, row, flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--tune", action="store_true", help="sweep strengths on general photos")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.tune:
        report = tune(validation_photos(GENERAL, 24))
    else:
        report = run([load_photo(p) for p in held_out(args.lfw, args.count)])
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
