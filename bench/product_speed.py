#!/usr/bin/env python
"""The product's training speed beside the benchmark's, measured in one run on one machine.

A benchmark, not a test: it prints figures and asserts nothing about time.

Two arms, the Quick model (64 px, the engine's defaults, its automatic batch):

* **benchmark**: ``bench/gan_speed.py``'s own measurement of the engine at 64 px (a child
  process timing ``Trainer.train_step`` only), with the batch and threads a job gets.
* **product**: a real Quick training job, queued as the "Train a model" form queues it
  (``presets.train_parameters``, no evaluation afterwards) and run by a real Celery worker
  started with the embedded run's own command line (``launcher.worker_command``: prefork, one
  pool process, ``max_tasks_per_child`` 1, beat inside), on a data set of real faces prepared by
  the engine. Its CPU time is the whole worker's (main process, pool process and beat, read
  from /proc); its steps are the ledger's, seen as the Reporter writes them (a poll every
  0.1 s).

The product figure is the steady state, from the ledger's first step to its last one before it is
cancelled (``--seconds`` later; its 15-minute budget would end it too): every step with
everything the task does between steps (progress reports, cancel checks, lease heartbeats,
sample grids and checkpoints when they fall due). What the job spends before its first step (the
data set download, the caption model, building the networks, the step-0 checkpoint) is reported
apart, as seconds and CPU-seconds. The worker's own speed probe (tasks.probe_speed, run when it
starts, the figure the "Train a model" form's first estimate uses) is waited for and printed.

    .venv/bin/python bench/product_speed.py                  # 30 s per arm, 30 photos
    .venv/bin/python bench/product_speed.py --seconds 40 --photos 30
    .venv/bin/python bench/product_speed.py --threads 1        # both arms on one thread
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gan_speed
import jobs_stack  # puts the checkout on sys.path too
from progress_overhead import load, prepared_data


def worker_tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its living children (the worker and its pool and beat)."""
    total = jobs_stack.cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += worker_tree_cpu(int(child))
            except (FileNotFoundError, ProcessLookupError):
                continue  # a pool process that ended between the listing and the read
    return total


def benchmark_arm(threads: int, batch: int, seconds: float) -> dict:
    """gan_speed's measurement of the engine at 64 px, in its own child process."""
    args = argparse.Namespace(batch=batch, seconds=seconds, threads=threads, width=1.0)
    return gan_speed.run_child("engine", 64, args, "cpu")


def upload_dataset(memorial, data: Path) -> str:
    """The prepared data set in storage, where a preparation job would have left it."""
    from memorial.jobs import files

    key = files.prefix(memorial.pk, "datasets", "bench")
    for path in data.rglob("*"):
        if path.is_file() and "text-cache" not in path.parts:
            files.upload(path, f"{key}/{path.relative_to(data)}")
    return key


def product_arm(owner, memorial, dataset: str, worker_pid: int, seconds: float) -> dict:
    """Queue a Quick job (15-minute budget) and cancel it, as a person would from its page,
    once ``seconds`` of its steps have been watched."""
    from memorial.jobs import dispatch, presets
    from memorial.jobs.models import FINISHED, Job, Kind

    parameters = presets.train_parameters("quick", 15)
    parameters.pop("evaluation")  # an evaluation job afterwards would only compete for the CPU
    parameters["dataset"] = dataset
    job = Job.objects.create(
        kind=Kind.TRAIN,
        memorial=memorial,
        requested_by=owner,
        parameters=parameters,
        queue="gpu",
        total=parameters["engine"]["steps"],
    )
    queued_cpu, queued_at = worker_tree_cpu(worker_pid), time.monotonic()
    dispatch.send(job)
    marks: list[tuple[float, float, int]] = []  # (wall, worker CPU, ledger step)
    state = job.state
    while state not in FINISHED:
        step, state = Job.objects.filter(pk=job.pk).values_list("step", "state").get()
        if state not in FINISHED and step and (not marks or step != marks[-1][2]):
            marks.append((time.monotonic(), worker_tree_cpu(worker_pid), step))
            if marks[-1][0] - marks[0][0] >= seconds:
                Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        time.sleep(0.1)  # a poll interval, not synchronisation: the ledger decides the end
    job.refresh_from_db()
    if len(marks) < 3:
        raise SystemExit(f"the job reached too few steps to measure ({job.state}: {job.message})")
    (wall0, cpu0, step0), (wall1, cpu1, step1) = marks[0], marks[-1]
    batch = 16 if not parameters["engine"].get("batch") else parameters["engine"]["batch"]
    images = (step1 - step0) * batch
    return {
        "state": job.state,
        "message": job.message,
        "seconds": wall1 - wall0,
        "steps": job.step,
        "measured_steps": step1 - step0,
        "train_images_per_second": images / (wall1 - wall0),
        "train_images_per_cpu_second": images / (cpu1 - cpu0),
        "startup_seconds": wall0 - queued_at,
        "startup_cpu_seconds": cpu0 - queued_cpu,
        "ledger_images_per_second": job.images_per_second,
    }


def worker_probe(timeout: float = 300.0) -> dict:
    """The worker's speed probe, once it has stored it (so that it does not run beside an arm)."""
    from memorial.jobs import workers

    deadline = time.monotonic() + timeout
    while not (found := workers.speeds()):
        if time.monotonic() > deadline:
            raise SystemExit(
                "the worker stored no speed probe (MEMORIAL_WORKER_SPEED_PROBE_STEPS?)"
            )
        time.sleep(0.5)  # a poll interval: the stored record is the signal
    return found[0]["figures"][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per arm")
    parser.add_argument("--photos", type=int, default=30, help="photos in the data set (30)")
    parser.add_argument(
        "--threads",
        type=int,
        help="threads for both arms (the worker gets MEMORIAL_JOB_ENGINE_OVERRIDES); "
        "default: what a job gets unset, this process's CPU share",
    )
    args = parser.parse_args(argv)

    from gan_engine.device import cpu_share

    threads, batch = args.threads or cpu_share(), 16  # a CPU job's batch when it sets none
    overrides = {"MEMORIAL_JOB_ENGINE_OVERRIDES": json.dumps({"threads": args.threads})}
    with jobs_stack.Stack(**(overrides if args.threads else {})) as stack:
        # Django is set up now, and with it memorial.celery's OpenMP setting (OMP_WAIT_POLICY),
        # which both the worker and the benchmark's child process inherit.
        print(
            f"{os.cpu_count()} CPU(s), {threads} thread(s), batch {batch}, "
            f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}; "
            f"load average {load():.2f} at the start"
        )
        from memorial.core.launcher import worker_command

        worker = stack.worker(worker_command(stack.data))
        probe = worker_probe()
        owner, memorial = stack.family()
        print(f"Preparing {args.photos} photos (face detection, 64 px crops)…")
        dataset = upload_dataset(memorial, prepared_data(stack.folder / "faces", args.photos))
        print(f"benchmark arm ({args.seconds:g} s)…")
        bench = benchmark_arm(threads, batch, args.seconds)
        print(
            f"  {bench['train_images_per_second']:.2f} img/s, "
            f"{bench['train_images_per_cpu_second']:.2f} img/CPU-s; load {load():.2f}"
        )
        print(f"product arm ({args.seconds:g} s of steps after the start-up)…")
        product = product_arm(owner, memorial, dataset, worker.pid, args.seconds)
    print(f"\nload average {load():.2f} at the end\n")
    print("| arm | img/s | img/CPU-s |\n|---|---|---|")
    for name, row in (("benchmark (gan_speed, train_step only)", bench), ("product job", product)):
        print(
            f"| {name} | {row['train_images_per_second']:.2f} "
            f"| {row['train_images_per_cpu_second']:.2f} |"
        )
    print(
        f"| worker's speed probe at start ({probe['steps']} steps, the form's first estimate) "
        f"| {probe['images_per_second']:.2f} | {probe['images_per_cpu_second']:.2f} |"
    )
    ratio = product["train_images_per_cpu_second"] / bench["train_images_per_cpu_second"]
    wall_ratio = product["train_images_per_second"] / bench["train_images_per_second"]
    print(
        f"\nproduct / benchmark: {ratio:.1%} of the images per CPU-second, {wall_ratio:.1%} of img/s"
    )
    print(
        f"product: {product['measured_steps']} steps measured in {product['seconds']:.1f} s, "
        f"of {product['steps']}; "
        f"before the first step {product['startup_seconds']:.1f} s and "
        f"{product['startup_cpu_seconds']:.1f} CPU-s (data set, caption model, networks, step-0 "
        f"checkpoint); the job ended {product['state']}: {product['message']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
