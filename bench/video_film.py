#!/usr/bin/env python
"""Latent-walk film: frames per second (wall and per CPU-second) and peak memory.

A benchmark, not a test: it prints figures and asserts nothing. The generator is the engine's
default architecture at the given resolution (width 1.0) with freshly initialised weights unless
``--checkpoint`` names a trained run: the cost of a forward pass does not depend on the weights.
Timed: the whole ``make_film`` call after the model is loaded (keyframe noise, generation in
batches, cross-fade, provenance when asked, libx264 encoding in the ffmpeg child, C2PA signing).
CPU time counts this process and the encoder child (``resource.getrusage``).

    .venv/bin/python bench/video_film.py                          # 64 px, 10 s at 24 fps
    .venv/bin/python bench/video_film.py --provenance --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def fresh_model(resolution: int):
    """The default architecture with initial weights (speed only)."""
    import torch

    from gan_engine.generate import Model
    from gan_engine.networks import Generator, NetConfig

    torch.manual_seed(0)
    generator = Generator(NetConfig(resolution=resolution)).eval().requires_grad_(False)
    return Model(generator, {}, 0, torch.device("cpu"), Path("fresh"))


def provenance():
    from gan_engine.provenance import Provenance, SignerMaterial
    from gan_engine.provenance.authority import create_authority

    authority = create_authority("Benchmark instance")
    return Provenance(
        instance_id="bench",
        instance_name="Benchmark instance",
        signer=SignerMaterial(chain=authority.chain, key=authority.sign_key),
        item_id="film-1",
        model_version="mv-1",
        consent_id="consent-1",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a trained run (default: fresh 64 px weights)")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--keys", type=int, default=5, help="keyframes (seeds 0..keys-1)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--provenance", action="store_true", help="mark, watermark, sign")
    parser.add_argument("--repeat", type=int, default=2, help="runs; the first warms up")
    args = parser.parse_args()

    import torch

    from gan_engine.generate import load_model
    from gan_engine.video import film

    if args.threads:
        torch.set_num_threads(args.threads)
    film.BATCH = args.batch
    model = load_model(args.checkpoint, "cpu") if args.checkpoint else fresh_model(args.resolution)
    stamp = provenance() if args.provenance else None
    with tempfile.TemporaryDirectory(prefix="film-bench-") as work:
        for run in range(args.repeat):
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            result = film.make_film(
                model,
                Path(work) / f"film-{run}.mp4",
                seeds=list(range(args.keys)),
                seconds=args.seconds,
                fps=args.fps,
                provenance=stamp,
            )
            cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
            row = {
                "run": run,
                "resolution": int(model.generator.config.resolution),
                "video_size": f"{result.size[0]}x{result.size[1]}",
                "frames": result.frames,
                "threads": torch.get_num_threads(),
                "provenance": bool(stamp),
                "frames_per_wall_s": round(result.frames / wall, 1),
                "frames_per_cpu_s": round(result.frames / cpu, 1),
                "mp4_kb": round(result.path.stat().st_size / 1024),
            }
            print(json.dumps(row), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the render process (model, one batch of frames): {peak:.0f} MB")


if __name__ == "__main__":
    main()
