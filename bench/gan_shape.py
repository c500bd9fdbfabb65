#!/usr/bin/env python
"""Do a model's samples differ in shape, or only in exposure? Shape similarity, side by side.

A benchmark, not a test: for each checkpoint, ``gan_engine.evaluate.shape_similarity`` of 64
samples (seeds 0-63, no caption, as the quality benchmark samples), and for each prepared data
folder the same figure for its real crops, the ceiling. 1 means one shape repeated whatever the
brightness or tint; real photos of one person score about 0.2. With ``--paths``, also the
figure when the noise varies only in the 4x4 seed (the norms see one fixed noise) and only in the
norms (one fixed seed), with the spread of the samples' mean brightness in grey levels: where a
trained generator puts its noise. With ``--raw``, also the figure for the raw generator (the
checkpoint's ``G``, not its EMA copy): whether the collapse is G's own or the average's.

    .venv/bin/python bench/gan_shape.py data/bench/gan_quality/priors/engine-20-all-3600/checkpoint.pt \\
        --data data/bench/gan_quality/data/corpus-20-all
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
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
    parser.add_argument("--paths", action="store_true", help="also vary the noise per path")
    parser.add_argument("--raw", action="store_true", help="also the raw (non-EMA) generator")
    args = parser.parse_args()

    import torch

    from gan_engine.checkpoint import load_checkpoint
    from gan_engine.data import load_faces
    from gan_engine.evaluate import shape_similarity, to_uint8
    from gan_engine.generate import encode_captions, load_model, noise, render

    def brightness_spread(images) -> float:
        return float(images.astype(float).mean(axis=(1, 2, 3)).std())

    torch.set_num_threads(1)
    for checkpoint in args.checkpoints:
        model = load_model(checkpoint, "cpu")
        z = noise(model, range(SAMPLES))
        text = encode_captions(model, [None] * SAMPLES, None)
        images = to_uint8(render(model, z, text))
        line = f"{checkpoint}: samples {shape_similarity(images):.2f} (step {model.step})"
        if args.paths:
            one = z[:1].expand_as(z)
            with torch.no_grad():
                for name, seed_z, norm_z in (("seed only", z, one), ("norms only", one, z)):
                    part = to_uint8(model.generator(seed_z, text, norm_z=norm_z))
                    line += (
                        f"; {name} {shape_similarity(part):.2f}"
                        f" (brightness spread {brightness_spread(part):.1f})"
                    )
        if args.raw:
            raw = copy.deepcopy(model.generator)
            raw.load_state_dict(load_checkpoint(model.checkpoint, map_location="cpu")["G"])
            raw_images = to_uint8(render(dataclasses.replace(model, generator=raw), z, text))
            line += f"; raw G {shape_similarity(raw_images):.2f}"
        print(line)
    for folder in args.data:
        crops = load_faces(folder, args.resolution, "train").images
        print(f"{folder}: real crops {shape_similarity(to_uint8(crops)):.2f} ({len(crops)} photos)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
