#!/usr/bin/env python
"""Which part of the engine makes its samples one shape? Short runs with one part changed.

A benchmark, not a test. Each variant trains the default 64 px engine on one prepared data folder
for ``--steps`` steps (batch 16, seed 0, one thread) with one training option changed, and every
``--every`` steps prints the shape similarity (``gan_engine.evaluate.shape_similarity``) of 64
samples (seeds 0-63, no caption) from the generator itself and from its EMA copy. Real photos of
one person score about 0.2; a generator that draws one face in many exposures, 0.8-0.9. The
figure climbs within the first few hundred steps, so short runs are enough to compare variants
(the full budget is ``bench/gan_quality.py``'s job).

    .venv/bin/python bench/gan_ablation.py data/bench/gan_quality/data/Serena_Williams base noada
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES = 64

#: Variant name -> the TrainConfig fields it changes. ``nobias``: no bias in G's caption
#: projection, so that without a caption the 4x4 seed gets no constant input and every layout has
#: to come from the noise. ``nosn`` changes the code instead: D without spectral normalisation.
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "noada": {"ada": False, "aug_p": 0.0},
    "norecon": {"recon_weight": 0.0},
    "ttur": {"lr_g": 1e-4, "lr_d": 4e-4},
    "gslow": {"lr_g": 1e-4},
    "dfast": {"lr_d": 4e-4},
    "nsgan": {"loss": "nsgan"},
    "nosn": {},
    "nobias": {"caption_bias": False},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a prepared data folder (bench/gan_quality.py's)")
    parser.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "bench" / "gan_ablation")
    args = parser.parse_args()

    import torch

    from gan_engine import networks
    from gan_engine.evaluate import shape_similarity, to_uint8
    from gan_engine.generate import Model, sample
    from gan_engine.train import TrainConfig, Trainer

    torch.set_num_threads(1)

    def shape(generator: networks.Generator, trainer: Trainer) -> float:
        # A copy in eval mode (the running batch-norm statistics), drawn as generate draws.
        model = Model(
            copy.deepcopy(generator).eval(),
            trainer.config.to_dict(),
            trainer.step,
            torch.device("cpu"),
            Path(trainer.config.out),
        )
        return shape_similarity(to_uint8(sample(model, range(SAMPLES))))

    for name in args.variants:
        config = TrainConfig(
            data=str(args.data),
            out=str(args.work / name),
            threads=1,
            batch=16,
            seed=0,
            steps=args.steps,
            **VARIANTS[name],
        )
        spectral_norm = networks.spectral_norm
        if name == "nosn":
            networks.spectral_norm = lambda module: module
        try:
            trainer = Trainer(config)
        finally:
            networks.spectral_norm = spectral_norm
        start, figures = time.process_time(), []
        while trainer.step < args.steps:
            trainer.train_step()
            if trainer.step % args.every == 0:
                figures.append(
                    f"{trainer.step}: G {shape(trainer.G, trainer):.2f} "
                    f"EMA {shape(trainer.G_ema, trainer):.2f}"
                )
        spent = time.process_time() - start
        print(
            f"{name} ({spent:.0f} CPU-s, augmentation p {trainer.ada.p:.2f}): "
            + "; ".join(figures),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
