#!/usr/bin/env python
"""Do a model's samples differ in shape, or only in exposure? Shape similarity, side by side.

A benchmark, not a test: for each checkpoint, ``gan_engine.evaluate.shape_similarity`` of 64
samples (seeds 0-63, no caption, as the quality benchmark samples), and for each prepared data
folder the same figure for its real crops, the ceiling. 1 means one shape repeated whatever the
brightness or tint; real photos of one person score about 0.2.

    .venv/bin/python bench/gan_shape.py data/bench/gan_quality/priors/engine-20-all-3600/checkpoint.pt \\
        --data data/bench/gan_quality/data/corpus-20-all
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES = 64


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="*", type=Path)
    parser.add_argument("--data", nargs="*", type=Path, default=[], help="prepared data folders")
    parser.add_argument("--resolution", type=int, default=64, help="of the data folders' crops")
    args = parser.parse_args()

    import torch

    from gan_engine.data import load_faces
    from gan_engine.evaluate import shape_similarity, to_uint8
    from gan_engine.generate import encode_captions, load_model, render, seed_noise

    torch.set_num_threads(1)
    for checkpoint in args.checkpoints:
        model = load_model(checkpoint, "cpu")
        z = torch.stack([seed_noise(seed, model.z_dim) for seed in range(SAMPLES)])
        images = to_uint8(render(model, z, encode_captions(model, [None] * SAMPLES, None)))
        print(f"{checkpoint}: samples {shape_similarity(images):.2f} (step {model.step})")
    for folder in args.data:
        crops = load_faces(folder, args.resolution, "train").images
        print(f"{folder}: real crops {shape_similarity(to_uint8(crops)):.2f} ({len(crops)} photos)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
