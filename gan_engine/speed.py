"""How fast this machine trains: a few real training steps, timed (``python -m gan_engine.speed``).

Why: a duration estimate needs this machine's speed, and a GPU guess is wrong by a factor of 20
on a CPU-only server. The steps are the real ones (``Trainer.train_step`` of the engine's default
model, with the batch and threads a training run would choose on this device) on random pixels:
speed does not depend on what the pictures show. Run as a module it prints one JSON object, so a
caller that must not load torch or CUDA itself (a Celery worker's main process, whose forked pool
processes cannot use a CUDA context made before the fork) can run it as a child process.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_engine import MANIFEST_FORMAT
from gan_engine.outputs import write_image

#: Photos in the made-up data set: as many as a family's collection, so sampling costs the same.
PHOTOS = 30


def random_dataset(folder: Path, resolution: int, count: int = PHOTOS) -> Path:
    """A prepared data set of random crops without captions (no caption model is loaded)."""
    rng = np.random.default_rng(0)
    entries = []
    for i in range(count):
        relative = f"crops/{resolution}/{i:04d}.png"
        pixels = rng.integers(0, 256, (resolution, resolution, 3), dtype=np.uint8)
        write_image(pixels, folder / relative, kind="crop")
        entries.append(
            {
                "id": f"{i:04d}",
                "caption": None,
                "crops": {str(resolution): relative},
                "descriptor": [0.0] * 128,
                "split": "train",
            }
        )
    manifest = {"format": MANIFEST_FORMAT, "mode": "person", "entries": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def measure(
    resolution: int = 64,
    steps: int = 5,
    *,
    warmup: int = 2,
    device: str = "auto",
    batch: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Time ``steps`` training steps after ``warmup`` untimed ones (allocation, kernel choice).

    Returns the device kind (``cpu``/``cuda``) and name, the batch and threads the run used, and
    images per second (wall clock) and per CPU-second of this process.
    """
    from gan_engine.train import TrainConfig, Trainer

    if steps < 1:
        raise ValueError("steps must be at least 1")
    with tempfile.TemporaryDirectory(prefix="gan-speed-probe-") as scratch:
        root = Path(scratch)
        config = TrainConfig(
            data=str(random_dataset(root / "data", resolution)),
            out=str(root / "run"),
            resolution=resolution,
            batch=batch,
            device=device,
            threads=threads,
            sample_every=0,
            min_photos=1,
        )
        trainer = Trainer(config)
        for _ in range(warmup):
            trainer.train_step()
        sync = torch.cuda.synchronize if trainer.cuda else (lambda: None)
        sync()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            trainer.train_step()
        sync()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    images = steps * trainer.batch
    return {
        "device": trainer.device.type,
        "device_name": torch.cuda.get_device_name(trainer.device) if trainer.cuda else "CPU",
        "resolution": resolution,
        "batch": trainer.batch,
        "threads": torch.get_num_threads(),
        "steps": steps,
        "images_per_second": images / wall,
        "images_per_cpu_second": images / cpu if cpu > 0 else None,
        "measured_at": time.time(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", default="64", help="comma-separated, e.g. 64,128")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    figures = [
        measure(
            int(r),
            args.steps,
            warmup=args.warmup,
            device=args.device,
            batch=args.batch,
            threads=args.threads,
        )
        for r in args.resolutions.split(",")
        if r.strip()
    ]
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
