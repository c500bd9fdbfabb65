#!/usr/bin/env python
"""Where is a model's grid pattern? Its samples' power spectrum against the real crops'.

A benchmark, not a test: for each checkpoint, 64 samples (seeds 0-63, no caption, as the quality
benchmark samples) in grey, each image's mean removed, and the mean power at every spatial
frequency divided by the same for the real training crops of the data folder given with it. A
clean generator sits near 1 everywhere; a grid pattern is a band well above 1. Printed per
checkpoint: **lines**, the mean ratio at periods of 8 px and less on the spectrum's two axes
(horizontal and vertical lines) divided by the same off the axes (fine texture in general), so
1 means no more lines than the real photos whatever the overall sharpness; then both means and
the strongest excesses with their period in pixels. ``--png`` writes the ratio as a picture (log scale, zero frequency in the middle).

    .venv/bin/python bench/gan_spectrum.py \\
        data/bench/gan_quality/runs/Jennifer_Aniston--engine-ms0.1--none--900/checkpoint.pt \\
        --data data/bench/gan_quality/data/Jennifer_Aniston
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES, TOP = 64, 4
#: Periods at or below this many pixels count as "fine" (the grid pattern is 4-6 px wide).
FINE_PERIOD = 8


def power(images: np.ndarray) -> np.ndarray:
    """Mean power spectrum of grey images (N, H, W), each with its mean removed."""
    images = images - images.mean(axis=(1, 2), keepdims=True)
    return (np.abs(np.fft.fft2(images)) ** 2).mean(axis=0)


def frequencies(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Signed cycles per image along y and x for every cell of an fft2 of ``size``."""
    f = np.fft.fftfreq(size, d=1.0 / size)
    return np.meshgrid(f, f, indexing="ij")


def describe(ratio: np.ndarray) -> str:
    size = ratio.shape[0]
    fy, fx = frequencies(size)
    fine = np.maximum(np.abs(fy), np.abs(fx)) >= size / FINE_PERIOD
    axis = (fy == 0) | (fx == 0)
    upper = (fy > 0) | ((fy == 0) & (fx > 0))  # each frequency once (the spectrum is symmetric)
    order = [i for i in np.argsort(-ratio, axis=None) if upper.flat[i]][:TOP]
    peaks = ", ".join(
        f"{ratio.flat[i]:.1f}x at {int(fy.flat[i]):+d},{int(fx.flat[i]):+d} cycles "
        f"({size / max(abs(fy.flat[i]), abs(fx.flat[i])):.1f} px)"
        for i in order
    )
    on_axes, off_axes = ratio[fine & axis].mean(), ratio[fine & ~axis].mean()
    return (
        f"lines {on_axes / off_axes:.1f} (fine detail on the axes {on_axes:.2f}x, "
        f"off the axes {off_axes:.2f}x the real crops' power); strongest: {peaks}"
    )


def save_png(ratio: np.ndarray, path: Path) -> None:
    from PIL import Image

    shifted = np.log2(np.fft.fftshift(ratio)).clip(-3, 3)  # 1/8x .. 8x
    red = (shifted.clip(0, 3) / 3 * 255).astype(np.uint8)
    blue = (-shifted.clip(-3, 0) / 3 * 255).astype(np.uint8)
    picture = np.stack([red, np.zeros_like(red), blue], axis=-1)
    Image.fromarray(picture).resize((256, 256), Image.NEAREST).save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument(
        "--data",
        nargs="+",
        type=Path,
        required=True,
        help="one prepared data folder per checkpoint",
    )
    parser.add_argument("--png", type=Path, help="folder for one ratio picture per checkpoint")
    args = parser.parse_args()
    if len(args.data) != len(args.checkpoints):
        parser.error("give one --data folder per checkpoint")

    import torch

    from gan_engine.data import load_faces
    from gan_engine.generate import load_model, sample

    torch.set_num_threads(1)
    for index, (checkpoint, folder) in enumerate(zip(args.checkpoints, args.data, strict=True)):
        model = load_model(checkpoint, "cpu")
        fake = torch.stack(sample(model, range(SAMPLES)))
        real = load_faces(folder, fake.shape[-1], "train").images
        ratio = power(fake.mean(dim=1).numpy()) / (power(real.mean(dim=1).numpy()) + 1e-9)
        print(f"{checkpoint} (step {model.step}): {describe(ratio)}")
        if args.png:
            args.png.mkdir(parents=True, exist_ok=True)
            save_png(ratio, args.png / f"spectrum-{index}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
