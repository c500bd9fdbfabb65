#!/usr/bin/env python
"""Overhead of progress reporting on training throughput.

A benchmark, not a test: it prints figures and asserts nothing about time.

The same small but real training run (the engine's default 64 px model and settings, seed 0, real
face photos prepared by ``gan_engine.data.prepare``) is made in this process with and without the
callbacks a training task wires (memorial/jobs/tasks.py ``_train``): ``progress`` turning every
step into ``Reporter.update`` (ledger write + ``group_send`` through the Redis channel layer,
throttled to JOB_PROGRESS_INTERVAL, done by the Reporter's publisher thread; the training thread
hands over a copy) and ``should_cancel`` reading the cancel flag from the ledger
every 0.25 s and watching the job's lease (held, with its heartbeat thread, as a task holds it).
The job's websocket group has one member, so each publish is really delivered into Redis.

Throughput is timed around ``Trainer.train_step`` in both arms alike: from the end of the
warm-up steps to the end of the last step, so every measured interval holds one step plus the
callbacks between steps; model building and the final checkpoint are outside. Runs are
interleaved in pairs whose order alternates (with/without, then without/with) so that drift in
the machine's load falls on both arms.

    .venv/bin/python bench/progress_overhead.py                  # 4 pairs of 40 measured steps
    .venv/bin/python bench/progress_overhead.py --pairs 8 --steps 100 --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_stack  # puts the checkout on sys.path too


class StepClock:
    """Wraps ``Trainer.train_step``: wall and CPU time at the end of every step."""

    def __init__(self) -> None:
        from gan_engine.train import Trainer

        self.trainer_class = Trainer
        self.original = Trainer.train_step
        self.marks: list[tuple[float, float, int]] = []
        clock = self

        def timed(trainer, *args, **kwargs):
            losses = clock.original(trainer, *args, **kwargs)
            clock.marks.append((time.perf_counter(), time.process_time(), trainer.batch))
            return losses

        Trainer.train_step = timed

    def restore(self) -> None:
        self.trainer_class.train_step = self.original


def prepared_data(folder: Path, photos: int) -> Path:
    """Real face photos (LFW from ../shared/data, else the test suite's astronaut variants),
    prepared at 64 px by the engine as a preparation job would."""
    from gan_engine.data import prepare
    from tests.images import real_face_photos

    found = real_face_photos(photos)
    if not found:
        from tests.engine.conftest import astronaut_variants

        found = astronaut_variants(folder / "photos", photos)
    out = folder / "data"
    prepare([(p, "smiling, looking at the camera") for p in found], out, sizes=(64,))
    return out


class Spent:
    """Calls and wall seconds spent inside wrapped functions: the direct cost of reporting,
    which a shared machine's noise does not blur the way it blurs throughput."""

    def __init__(self) -> None:
        self.durations: dict[str, list[float]] = {}

    def timed(self, name: str, fn):
        durations = self.durations.setdefault(name, [])

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                durations.append(time.perf_counter() - started)

        return wrapper

    @property
    def calls(self) -> dict[str, int]:
        return {name: len(values) for name, values in self.durations.items()}


def wired_callbacks(job):
    """The progress callback and cancel check exactly as tasks._train builds them (the parts
    that report progress; storage copies of samples and checkpoints are left out)."""
    from memorial.jobs import lease as leases
    from memorial.jobs import progress as reporting
    from memorial.jobs.progress import Reporter

    reporter = Reporter(job)
    lease = leases.acquire(job.pk)
    if lease is None:
        raise SystemExit("the job's lease is held elsewhere")
    stop = {"why": None, "next_check": 0.0}
    spent = Spent()
    # On the training thread: the hand-over to the publisher thread (and, when forced, the wait
    # for its ledger write). On the publisher thread: the ledger write and the publish.
    reporter.flush = spent.timed("flush", reporter.flush)
    reporter.cancel_requested = spent.timed("cancel_poll", reporter.cancel_requested)
    originals = (reporting._save, reporting.publish)
    reporting._save = spent.timed("background_save", reporting._save)
    reporting.publish = spent.timed("background_publish", reporting.publish)

    def finish() -> None:
        """As the task's end does (runner.finish): everything handed over is written first."""
        reporter.close()
        lease.release()
        reporting._save, reporting.publish = originals

    def should_cancel() -> bool:
        now = time.monotonic()
        if lease.lost.is_set():
            stop["why"] = "lost"
        elif now >= stop["next_check"]:
            stop["next_check"] = now + 0.25
            if reporter.cancel_requested():
                stop["why"] = "cancel"
        return stop["why"] is not None

    def on_progress(p) -> None:
        if p.event == "step":
            reporter.update(
                step=p.step,
                total=p.total,
                percent=100.0 * p.step / max(p.total, 1),
                eta_seconds=p.eta_seconds,
                losses={k: round(v, 4) for k, v in p.losses.items()},
                images_per_second=p.images_per_second,
            )
        elif p.event in ("sample", "checkpoint", "cancelled", "done"):
            reporter.update(force=True, checkpoint_step=p.step)
        elif p.event in ("rollback", "batch_reduced") and p.message:
            reporter.update(force=True, message=p.message)

    flushes = spent.durations["flush"]

    def progress(p) -> None:
        """Times each call, apart for calls that only set fields (no ledger write)."""
        before, started = len(flushes), time.perf_counter()
        on_progress(p)
        if len(flushes) == before:
            spent.durations.setdefault("no_flush", []).append(time.perf_counter() - started)

    return (
        spent.timed("progress", progress),
        spent.timed("should_cancel", should_cancel),
        finish,
        spent,
    )


def one_run(arm: str, data: Path, args: argparse.Namespace, job, clock: StepClock) -> dict:
    from gan_engine.train import TrainConfig, train

    total = args.warmup + args.steps
    with tempfile.TemporaryDirectory(prefix="progress-overhead-") as out:
        config = TrainConfig(
            data=str(data), out=out, resolution=64, steps=total, seed=0, threads=args.threads
        )
        clock.marks.clear()
        spent = Spent()
        if arm == "wired":
            progress, should_cancel, finish, spent = wired_callbacks(job)
            started = time.perf_counter()
            try:
                train(config, progress=progress, should_cancel=should_cancel)
            finally:
                finish()
        else:
            started = time.perf_counter()
            train(config)
        train_seconds = time.perf_counter() - started
    marks = clock.marks[args.warmup - 1 :]
    (wall0, cpu0, _), (wall1, cpu1, _) = marks[0], marks[-1]
    images = sum(batch for _, _, batch in marks[1:])
    return {
        "arm": arm,
        "images": images,
        "seconds": wall1 - wall0,
        "images_per_second": images / (wall1 - wall0),
        "images_per_cpu_second": images / (cpu1 - cpu0),
        "publishes": spent.calls.get("flush", 0),
        "durations": spent.durations,
        "train_seconds": train_seconds,
    }


def load() -> float:
    """The 1-minute load average: the machine is shared, so each run notes it."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=4, help="pairs of runs, order alternating (4)")
    parser.add_argument("--steps", type=int, default=40, help="measured steps per run (40)")
    parser.add_argument("--warmup", type=int, default=3, help="steps first, not measured (3)")
    parser.add_argument("--photos", type=int, default=8, help="photos in the data set (8)")
    parser.add_argument(
        "--threads", type=int, help="intra-op threads (default: the engine's, all cores)"
    )
    parser.add_argument("--database-url", help="PostgreSQL (created if missing); default SQLite")
    parser.add_argument("--redis-url", help="a Redis (db other than 0); default a private one")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.warmup < 1:
        parser.error("--warmup must be at least 1")

    from tqdm import tqdm

    with jobs_stack.Stack(args.database_url, args.redis_url) as stack:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer
        from django.conf import settings
        from django.utils import timezone

        from memorial.jobs.models import Job, Kind, State
        from memorial.jobs.progress import job_group

        owner, memorial = stack.family()
        job = Job.objects.create(
            kind=Kind.TRAIN,
            memorial=memorial,
            requested_by=owner,
            queue="gpu",
            state=State.RUNNING,
            started_at=timezone.now(),
        )
        # One subscriber's channel in the job's group, so group_send really writes to Redis.
        async_to_sync(get_channel_layer().group_add)(job_group(job.pk), "specific.bench!watcher")
        print("Preparing the data set (face detection, 64 px crops)…")
        data = prepared_data(stack.folder, args.photos)
        order = []
        for i in range(args.pairs):
            order += ["wired", "none"] if i % 2 == 0 else ["none", "wired"]
        clock = StepClock()
        runs: list[dict] = []
        try:
            for arm in tqdm(order, desc="Training runs", unit="run"):
                before = load()
                run = one_run(arm, data, args, job, clock)
                run["load_before"], run["load_after"] = before, load()
                runs.append(run)
                tqdm.write(
                    f"  {arm:5}  {run['images_per_second']:6.2f} img/s  "
                    f"{run['images_per_cpu_second']:6.2f} img/CPU-s  "
                    f"{run['publishes']:3d} publishes  load {before} -> {run['load_after']}"
                )
        finally:
            clock.restore()
        interval = settings.JOB_PROGRESS_INTERVAL
        quiet = quiet_update_seconds(job)

    def arm_figures(arm: str, key: str) -> list[float]:
        return [r[key] for r in runs if r["arm"] == arm]

    pairs = [runs[i : i + 2] for i in range(0, len(runs), 2)]
    paired = []
    for pair in pairs:
        by_arm = {r["arm"]: r for r in pair}
        none, wired = by_arm["none"]["images_per_second"], by_arm["wired"]["images_per_second"]
        paired.append(100.0 * (none - wired) / none)
    none_ips, wired_ips = (
        arm_figures("none", "images_per_second"),
        arm_figures("wired", "images_per_second"),
    )
    none_cpu, wired_cpu = (
        arm_figures("none", "images_per_cpu_second"),
        arm_figures("wired", "images_per_cpu_second"),
    )
    overhead = 100.0 * (1 - statistics.median(wired_ips) / statistics.median(none_ips))
    overhead_cpu = 100.0 * (1 - statistics.median(wired_cpu) / statistics.median(none_cpu))
    steps_seconds = statistics.median(r["seconds"] / args.steps for r in runs)
    publishes = statistics.median(arm_figures("wired", "publishes"))
    figures = {
        "pairs": args.pairs,
        "steps": args.steps,
        "threads": args.threads or "engine default",
        "progress_interval_seconds": interval,
        "median_step_seconds": round(steps_seconds, 3),
        "publishes_per_wired_run": publishes,
        "none_images_per_second": [round(v, 2) for v in none_ips],
        "wired_images_per_second": [round(v, 2) for v in wired_ips],
        "overhead_percent_of_medians": round(overhead, 2),
        "overhead_percent_cpu_of_medians": round(overhead_cpu, 2),
        "overhead_percent_per_pair": [round(v, 2) for v in paired],
        "runs": runs,
    }
    print()
    print(
        f"Engine default model, 64 px, seed 0, {args.steps} measured steps per run "
        f"(+{args.warmup} warm-up), {args.pairs} pairs, threads: {figures['threads']}"
    )
    print(
        f"Progress: Reporter every {interval:g} s at most (+ forced), median "
        f"{publishes:g} ledger writes + publishes per wired run; step ≈ {steps_seconds:.2f} s"
    )
    print(
        f"without callbacks: img/s median {statistics.median(none_ips):.2f} "
        f"(min {min(none_ips):.2f}, max {max(none_ips):.2f}); "
        f"img/CPU-s median {statistics.median(none_cpu):.2f}"
    )
    print(
        f"with callbacks:    img/s median {statistics.median(wired_ips):.2f} "
        f"(min {min(wired_ips):.2f}, max {max(wired_ips):.2f}); "
        f"img/CPU-s median {statistics.median(wired_cpu):.2f}"
    )
    print(
        f"Overhead: {overhead:.2f} % of img/s (medians), {overhead_cpu:.2f} % of img/CPU-s; "
        f"per pair {', '.join(f'{v:+.1f}' for v in paired)} %"
    )
    figures["direct"] = direct_cost([r for r in runs if r["arm"] == "wired"], interval, quiet)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def quiet_update_seconds(job, calls: int = 5000) -> float:
    """A progress call inside the throttle interval only sets fields on the job: its cost, timed
    over many calls (CPU steps are too slow here for such calls to happen during training)."""
    from memorial.jobs.progress import Reporter

    reporter = Reporter(job, interval=1e9)
    reporter._last = time.monotonic()
    losses = {"d": 0.1234, "g": 1.2345, "recon": 0.5}
    started = time.perf_counter()
    for step in range(calls):
        reporter.update(
            step=step,
            total=calls,
            percent=100.0 * step / calls,
            eta_seconds=1.0,
            losses={k: round(v, 4) for k, v in losses.items()},
            images_per_second=100.0,
        )
    return (time.perf_counter() - started) / calls


def direct_cost(wired: list[dict], interval: float, quiet: float) -> dict:
    """Time spent inside the callbacks, per call, and what it means at any step rate. The first
    publish of a process sets up the channel layer (a one-time cost, reported apart)."""

    def calls(name: str, skip_first: bool = False) -> list[float]:
        return [v for r in wired for v in r["durations"][name][1 if skip_first else 0 :]]

    first = statistics.median(r["durations"]["flush"][0] for r in wired)
    flush = calls("flush", skip_first=True)
    poll = calls("cancel_poll")
    progress, cancel = calls("progress"), calls("should_cancel")
    # A progress call that does not flush only sets attributes on the job.
    seen = [v for r in wired for v in r["durations"].get("no_flush", [])]
    step_cost = statistics.median(seen) if seen else quiet
    inside = sum(progress) + sum(cancel) - first * len(wired)
    share = 100.0 * inside / sum(r["train_seconds"] for r in wired)
    flush_median, flush_mean = statistics.median(flush), statistics.fmean(flush)
    poll_mean = statistics.fmean(poll)
    # Fast steps (a GPU): the throttle allows one flush per interval, one ledger poll per 0.25 s.
    ceiling = 100.0 * (flush_mean / interval + poll_mean / 0.25)
    saves, sends = calls("background_save"), calls("background_publish")
    print(
        f"Direct cost, timed inside the callbacks: hand-over to the publisher thread median "
        f"{flush_median * 1000:.2f} ms (mean {flush_mean * 1000:.1f}, p95 "
        f"{jobs_stack.percentile(sorted(flush), 0.95) * 1000:.1f}; the first of a run "
        f"{first * 1000:.0f} ms, once), cancel poll {poll_mean * 1000:.2f} ms, "
        f"non-flushing progress call {step_cost * 1e6:.1f} µs "
        f"({f'{len(seen)} in training' if seen else 'timed apart: every step here flushed'})"
    )
    print(f"  = {share:.2f} % of the wired runs' time here (first publish excluded)")
    print(
        f"Off the training thread (publisher): ledger write median "
        f"{statistics.median(saves) * 1000:.1f} ms, publish median "
        f"{statistics.median(sends) * 1000:.1f} ms ({len(sends)} publishes)"
    )
    print(
        f"At any step rate (throttled: ≤ 1 publish per {interval:g} s, 1 poll per 0.25 s): "
        f"≤ {ceiling:.2f} % + {step_cost * 1e6:.1f} µs per step"
    )
    return {
        "flush_ms_median": round(flush_median * 1000, 2),
        "flush_ms_mean": round(flush_mean * 1000, 2),
        "first_flush_ms": round(first * 1000, 1),
        "background_save_ms_median": round(statistics.median(saves) * 1000, 2),
        "background_publish_ms_median": round(statistics.median(sends) * 1000, 2),
        "cancel_poll_ms_mean": round(poll_mean * 1000, 3),
        "non_flushing_progress_us": round(step_cost * 1e6, 1),
        "share_of_wired_runs_percent": round(share, 3),
        "throttled_ceiling_percent": round(ceiling, 3),
    }


if __name__ == "__main__":
    sys.exit(main())
