#!/usr/bin/env python
"""A general face prior's own quality: are its samples faces, and do they vary as real faces do?

For a prior (an exported folder, a run folder or a checkpoint) and the corpus it learnt from:
64 samples (seeds 0-63, no caption, the EMA generator, as every benchmark draws) against 64
corpus crops drawn with a fixed seed. Figures, each beside the real crops' own:

* ``detection``: share of samples in which dlib finds a face (real crops: ~1.0);
* ``descriptor_diversity``: mean pairwise dlib descriptor distance (people differ: ~0.6-0.7);
* ``shape_similarity``: mean pairwise correlation of 16 px grey thumbnails (1 = one pose for
  every noise; real crops of many people ~0.2);
* ``kid_descriptors``: kernel inception distance computed on dlib descriptors between samples
  and crops (0 = the same distribution of faces);
* ``nearest_corpus_ssim``: for each sample, its SSIM to the most similar of ``--corpus-check``
  corpus crops, against the same figure for held-back real crops (a copy would score ~1).

Writes the JSON (``--out``) and a sample grid beside it.

    .venv/bin/python bench/prior_quality.py gan_engine/weights/face-64 --data /path/to/corpus \\
        --out bench/results/prior/2026-12-03-face-64.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES = 64


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="prior folder, run folder or checkpoint")
    parser.add_argument("--data", type=Path, required=True, help="the prepared corpus")
    parser.add_argument("--corpus-check", type=int, default=1000, help="crops for nearest SSIM")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import numpy as np
    import torch

    from gan_engine.data import load_crop, load_manifest
    from gan_engine.evaluate import kid, pairwise_mean, shape_similarity, ssim, to_uint8
    from gan_engine.faces import FaceTools
    from gan_engine.generate import load_model, sample
    from gan_engine.outputs import grid

    torch.set_num_threads(args.threads)
    started = time.process_time()
    model = load_model(args.model, device="cpu")
    resolution = int(model.config["resolution"])
    samples = to_uint8(sample(model, range(SAMPLES)))

    entries = load_manifest(args.data)["entries"]
    rng = random.Random(0)
    picked = rng.sample(entries, min(len(entries), SAMPLES + args.corpus_check + SAMPLES))
    reals = np.stack([load_crop(args.data, e, resolution) for e in picked[:SAMPLES]])
    bank = np.stack(
        [load_crop(args.data, e, resolution) for e in picked[SAMPLES : SAMPLES + args.corpus_check]]
    )
    held = np.stack([load_crop(args.data, e, resolution) for e in picked[-SAMPLES:]])

    tools = FaceTools()

    def faces(images: np.ndarray) -> dict:
        found = [d for d in (tools.describe_crop(i) for i in images) if d is not None]
        return {
            "detection": len(found) / len(images),
            "descriptor_diversity": pairwise_mean(found, lambda a, b: float(np.linalg.norm(a - b))),
            "shape_similarity": shape_similarity(images),
            "_descriptors": np.array(found, dtype=np.float64).reshape(-1, 128),
        }

    def nearest_ssim(images: np.ndarray) -> float:
        return float(np.mean([max(ssim(i, b) for b in bank) for i in images]))

    generated, real = faces(samples), faces(reals)
    result = {
        "model": str(args.model),
        "step": model.step,
        "resolution": resolution,
        "data": str(args.data),
        "samples": SAMPLES,
        "generated": {k: v for k, v in generated.items() if not k.startswith("_")},
        "real": {k: v for k, v in real.items() if not k.startswith("_")},
        "kid_descriptors": kid(generated["_descriptors"], real["_descriptors"]),
        "nearest_corpus_ssim": {"generated": nearest_ssim(samples), "real": nearest_ssim(held)},
        "cpu_seconds": round(time.process_time() - started, 1),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.node()} ({platform.processor() or platform.machine()})",
        "command": " ".join(["bench/prior_quality.py", *sys.argv[1:]]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    grid(list(samples[:32]), columns=8).save(args.out.with_suffix(".png"))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
