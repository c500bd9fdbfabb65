#!/usr/bin/env python
"""GAN speed, side by side: the engine's default model and both reference DCGANs.

A benchmark, not a test: it prints figures and asserts nothing about time. For each model and
resolution (64 and 128 px on the CPU, same batch for all): training images/s (one D and one G
update per step, as each model trains for real: the engine with its augmentation, projection
discriminator and reconstruction decoder), generation images/s (no gradients, batch as given),
peak memory, and the training step's achieved FLOP/s as a share of this machine's measured fp32
matrix-multiply rate. FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` (matmuls
and convolutions, forward and backward; element-wise work is not counted, so the share is the
useful-work share). Peak memory is the child process's maximum resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), each measurement running in its own process so
the figures do not mix; it includes the Python interpreter and PyTorch itself (~300 MB).
On a CUDA GPU it also measures bf16 autocast at the same resolutions.

    .venv/bin/python bench/gan_speed.py                       # 64 and 128 px, batch 16, 20 s each
    .venv/bin/python bench/gan_speed.py --seconds 5 --resolutions 64
    .venv/bin/python bench/gan_speed.py --models engine --width 0.5 --batch 32
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = ("engine", "dcgan", "dcgan_bn")


def matmul_rate(threads: int, size: int = 2048, seconds: float = 3.0) -> float:
    """Measured fp32 FLOP/s of a large square ``torch.matmul`` on the CPU (best of the repeats)."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        tick = time.perf_counter()
        torch.matmul(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - tick))
    return best


def synthetic_dataset(folder: Path, count: int, size: int) -> Path:
    """A prepared data set of random crops: speed does not depend on what the pixels show (the
    same data set the workers' speed probe uses)."""
    from gan_engine.speed import random_dataset

    return random_dataset(folder, size, count)


def build(model: str, resolution: int, batch: int, width: float, device: str):
    """(train_step(), generate(n), models to count) for one model."""
    import torch

    if model == "engine":
        from gan_engine.text import CaptionEncoder
        from gan_engine.train import TrainConfig, Trainer

        work = Path(tempfile.mkdtemp(prefix="gan-speed-"))
        data = synthetic_dataset(work / "data", 32, resolution)
        config = TrainConfig(
            data=str(data),
            out=str(work / "run"),
            resolution=resolution,
            batch=batch,
            width=width,
            device=device,
            sample_every=0,
        )
        trainer = Trainer(config, CaptionEncoder(cache_dir=work / "text-cache"))

        def generate(n: int) -> None:
            with trainer._autocast():
                trainer.G_ema(
                    torch.randn(n, config.z_dim, device=trainer.device),
                    torch.zeros(n, 384, device=trainer.device),
                )

        return trainer.train_step, generate

    from bench.reference_models import ReferenceGAN

    gan = ReferenceGAN(model, resolution)
    dev = torch.device(device)
    gan.G.to(dev)
    gan.D.to(dev)
    images = torch.rand(32, 3, resolution, resolution, device=dev) * 2 - 1
    cuda = dev.type == "cuda"

    def step() -> None:
        index = torch.randint(len(images), (batch,))
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            gan.train_step(images[index], torch.zeros(batch, 384, device=dev))

    def generate(n: int) -> None:
        gan.G.eval()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            gan.G(torch.randn(n, 128, device=dev), torch.zeros(n, 384, device=dev))
        gan.G.train()

    return step, generate


def measure_one(args: argparse.Namespace) -> dict:
    """Runs in a child process: one model at one resolution."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    step, generate = build(args.model, args.resolution, args.batch, args.width, args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    step()  # warm-up: allocation, oneDNN kernel selection
    step()
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()

    def timed(fn, minimum: int) -> tuple[int, float]:
        sync()
        count, start = 0, time.perf_counter()
        while count < minimum or time.perf_counter() - start < args.seconds:
            fn()
            count += 1
        sync()
        return count, time.perf_counter() - start

    # The matmul rate right before the timed steps, under the same load: on a shared machine the
    # share of this figure is the fair one (the global figure may come from a quieter moment).
    rate_now = matmul_rate(args.threads, seconds=1.5) if args.device == "cpu" else None
    cpu_start = time.process_time()
    steps, train_seconds = timed(step, 3)
    train_cpu = time.process_time() - cpu_start
    with torch.no_grad():
        generate(args.batch)
        calls, gen_seconds = timed(lambda: generate(args.batch), 3)
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if args.device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "model": args.model,
        "resolution": args.resolution,
        "batch": args.batch,
        "device": args.device,
        "train_images_per_second": steps * args.batch / train_seconds,
        "train_images_per_cpu_second": steps * args.batch / train_cpu,
        "matmul_now": rate_now,
        "step_seconds": train_seconds / steps,
        "generate_images_per_second": calls * args.batch / gen_seconds,
        "flops_per_step": flops,
        "achieved_flops": flops * steps / train_seconds,
        "peak_memory_mb": peak,
    }


def run_child(model: str, resolution: int, args: argparse.Namespace, device: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--one",
        model,
        "--resolutions",
        str(resolution),
        "--batch",
        str(args.batch),
        "--seconds",
        str(args.seconds),
        "--threads",
        str(args.threads),
        "--width",
        str(args.width),
        "--device",
        device,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{model} at {resolution} px failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict], rate: float | None, memory_label: str) -> str:
    head = (
        "| model | px | batch | train img/s | train img/CPU-s | generate img/s | GFLOP/img "
        "| achieved GFLOP/s | share of matmul (start) | share of matmul (same moment) "
        f"| {memory_label} |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        share = f"{100 * r['achieved_flops'] / rate:.0f} %" if rate else "—"
        now = r.get("matmul_now")
        share_now = f"{100 * r['achieved_flops'] / now:.0f} %" if now else "—"
        lines.append(
            f"| {r['model']} | {r['resolution']} | {r['batch']} | {r['train_images_per_second']:.1f} "
            f"| {r['train_images_per_cpu_second']:.1f} | {r['generate_images_per_second']:.0f} "
            f"| {r['flops_per_step'] / r['batch'] / 1e9:.2f} | {r['achieved_flops'] / 1e9:.1f} "
            f"| {share} | {share_now} | {r['peak_memory_mb']:.0f} |"
        )
    return head + "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--resolutions", default="64,128")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per figure")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--width", type=float, default=1.0, help="engine channel multiplier")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--gpu-only", action="store_true", help="skip the CPU rows")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        args.model, args.resolution = args.one, int(args.resolutions)
        print(json.dumps(measure_one(args)))
        return 0

    import torch

    models = [m for m in args.models.split(",") if m]
    resolutions = [int(r) for r in args.resolutions.split(",") if r]
    print(
        f"torch {torch.__version__}, {args.threads} thread(s) of {os.cpu_count()} CPU(s), "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    if not args.gpu_only:
        rate = matmul_rate(args.threads)
        print(
            f"measured fp32 matmul (2048x2048, best of 3 s, {args.threads} thread(s)): "
            f"{rate / 1e9:.1f} GFLOP/s"
        )
        rows = [run_child(m, r, args, "cpu") for r in resolutions for m in models]
        print(
            f"\nCPU, fp32, batch {args.batch}, engine width {args.width:g}, "
            f"{args.seconds:g} s per figure"
        )
        print(table(rows, rate, "peak RSS MB"))
    if torch.cuda.is_available():
        gpu_rows = [run_child(m, r, args, "cuda") for r in resolutions for m in models]
        print(f"\nCUDA bf16 autocast ({torch.cuda.get_device_name()}), batch {args.batch}")
        print(table(gpu_rows, None, "peak CUDA MB"))
    else:
        print("\nCUDA bf16: skipped (no CUDA GPU on this machine)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
