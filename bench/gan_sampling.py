#!/usr/bin/env python
"""Which generator weights and batch-norm statistics should sampling use? Evaluation only.

A benchmark, not a test: for one trained run (for example a ``bench/gan_quality.py`` run folder)
it runs ``gan_engine.evaluate`` (64 samples, seed 0, as the quality benchmark does) with

* ``ema``: the EMA generator with the running batch-norm statistics it was saved with (what
  ``generate`` and the product use),
* ``standing``: the same weights with batch-norm statistics recomputed over fresh samples
  (BigGAN's "standing statistics"),
* ``raw``: the raw, non-averaged generator,

and prints the figures side by side. No retraining: the question is only how to sample.

    .venv/bin/python bench/gan_sampling.py data/bench/gan_quality/runs/Vladimir_Putin--engine--none--900 \\
        data/bench/gan_quality/data/Vladimir_Putin
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = ("ema", "standing", "raw")


def figures(report: dict[str, Any]) -> dict[str, float | None]:
    identity = report["identity"]
    return {
        "identity": identity["identity_match_rate"],
        "distance": identity["mean_distance"],
        "detection": identity["detection_rate"],
        "held-out SSIM": report["heldout_best"]["ssim"],
        "train SSIM": report["train_best"]["ssim"],
        "diversity": identity["diversity_descriptor"],
        "pairwise SSIM": report["diversity_ssim"],
    }


def standing_statistics(model: Any, batches: int, seed: int) -> None:
    """Recompute every batch norm's statistics as a plain average over ``batches`` x 16 samples."""
    import torch

    norms = [m for m in model.generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average
        norm.train()
    noise = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(batches):
            z = torch.randn(16, model.z_dim, generator=noise)
            model.generator(z, torch.zeros(16, 384))  # no caption, as LFW has none
    model.generator.eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder or checkpoint")
    parser.add_argument("data", type=Path, help="the person's prepared data folder")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--batches", type=int, default=32, help="batches for standing statistics")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from gan_engine.checkpoint import load_checkpoint
    from gan_engine.evaluate import evaluate
    from gan_engine.generate import load_model

    torch.set_num_threads(args.threads)
    rows = {}
    for variant in [v for v in args.variants.split(",") if v]:
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
        model = load_model(args.run, "cpu")
        if variant == "standing":
            standing_statistics(model, args.batches, seed=1234)
        elif variant == "raw":
            state = load_checkpoint(model.checkpoint, map_location="cpu")
            model.generator.load_state_dict(state["G"])
        rows[variant] = figures(evaluate(model, args.data, samples=64, seed=0, device="cpu"))
        print(variant, {k: None if v is None else round(v, 3) for k, v in rows[variant].items()})
    names = list(next(iter(rows.values())))
    print("| sampling | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for variant, values in rows.items():
        cells = ["—" if values[n] is None else f"{values[n]:.2f}" for n in names]
        print(f"| {variant} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
