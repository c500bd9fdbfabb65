#!/usr/bin/env python
"""Latency from a worker's progress event to the websocket message in subscribed clients.

A benchmark, not a test: it prints figures and asserts nothing about time.

It starts a scratch stack (throw-away data folder, SQLite or --database-url, a private Redis,
ONE daphne process), makes a family and a running training job, and connects 1, 100 and 1,000
clients to ``ws/jobs/<id>/``: asyncio + the ``websockets`` package, each signed in with a member's
session cookie and sending the site's Origin, as a browser does. This process then plays the
worker: it reports progress exactly as a training task does (``progress.Reporter.update(force=
True, ...)``: ledger write, then ``group_send`` through the Redis channel layer), at the rate the
Reporter allows a job (1 / JOB_PROGRESS_INTERVAL = 2 per second by default). Each message
carries the time it was reported in its ``message`` field; a client subtracts that from the time
its ``recv()`` returned (one machine, one clock). So the figure includes the ledger write,
Redis, daphne's channel-layer receive loop, the consumer, the socket, and the client's own event
loop (all clients share this machine's 2 cores with daphne and Redis, so it is pessimistic).

    .venv/bin/python bench/ws_latency.py                       # 1, 100, 1000 subscribers
    .venv/bin/python bench/ws_latency.py --subscribers 1000 --messages 100 --client-processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_stack  # puts the checkout on sys.path too

STAMP = "bench {phase} {seq} {sent!r}"
PUBSUB_SETTINGS = """from memorial.settings import *  # noqa: F403
from memorial.settings import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL}]},
    }
}
"""


# --- clients (child processes; no Django here) -----------------------------------------------


async def _clients(
    url: str, cookie: str, origin: str, count: int, phase: int, last: int, ready, go, timeout: float
) -> dict:
    import websockets

    latencies: list[float] = []
    received = [0] * count
    failed: list[str] = []
    gate = asyncio.Semaphore(50)  # connect a few at a time, as a crowd of browsers would

    async def connect(i: int):
        async with gate:
            try:
                ws = await websockets.connect(
                    url, additional_headers={"Cookie": cookie}, origin=origin, open_timeout=60
                )
            except Exception as error:  # counted and reported, the run goes on
                failed.append(f"{type(error).__name__}: {error}")
                return None
            await ws.recv()  # the current state, sent first on connect
            return ws

    started = time.perf_counter()
    sockets = await asyncio.gather(*(connect(i) for i in range(count)))
    connect_seconds = time.perf_counter() - started
    ready.put((len([s for s in sockets if s is not None]), connect_seconds, failed[:5]))
    while not go.is_set():  # the publisher starts once every process is connected
        await asyncio.sleep(0.01)

    async def listen(i: int, ws) -> None:
        while True:
            try:
                text = await asyncio.wait_for(ws.recv(), timeout)
            except TimeoutError:
                return
            now = time.time()
            fields = json.loads(text).get("message", "").split()
            if len(fields) != 4 or fields[0] != "bench" or int(fields[1]) != phase:
                continue
            seq = int(fields[2])
            if seq >= 0:
                latencies.append(now - float(fields[3]))
                received[i] += 1
            if seq == last:
                return

    cpu = time.process_time()
    await asyncio.gather(*(listen(i, ws) for i, ws in enumerate(sockets) if ws is not None))
    cpu = time.process_time() - cpu
    await asyncio.gather(*(ws.close() for ws in sockets if ws is not None))
    return {
        "latencies": latencies,
        "received": received,
        "connected": count - len(failed),
        "cpu_seconds": cpu,
    }


def client_process(args: tuple, ready, go, results) -> None:
    raise_fd_limit()
    *where, timeout = args
    results.put(asyncio.run(_clients(*where, ready, go, timeout)))


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard limit (each websocket is one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- one phase: N subscribers, M messages ----------------------------------------------------


def run_phase(
    stack: jobs_stack.Stack,
    phase: int,
    subscribers: int,
    args: argparse.Namespace,
    ws_url: str,
    cookie: str,
    origin: str,
    job,
) -> dict:
    from tqdm import tqdm

    from memorial.jobs.progress import Reporter

    job.message = ""  # the snapshot sent on connect must not look like a measured message
    job.save(update_fields=["message"])
    processes = max(1, min(args.client_processes, subscribers))
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    last = args.messages - 1
    timeout = 30.0
    shares = [subscribers // processes + (i < subscribers % processes) for i in range(processes)]
    workers = [
        context.Process(
            target=client_process,
            args=((ws_url, cookie, origin, share, phase, last, timeout), ready, go, results),
            daemon=True,
        )
        for share in shares
    ]
    for process in workers:
        process.start()
    connected, connect_seconds, errors = 0, 0.0, []
    for _ in workers:
        n, seconds, failed = ready.get(timeout=600)
        connected, connect_seconds = connected + n, max(connect_seconds, seconds)
        errors += failed
    go.set()
    time.sleep(1.0)  # every client is in recv() before the first message

    reporter = Reporter(job)
    interval = 1.0 / args.rate
    pids = {"daphne": stack.daphne_pid, "redis": stack.redis.process.pid if stack.redis else None}
    cpu_before = {k: jobs_stack.cpu_seconds(p) for k, p in pids.items() if p}
    publisher_cpu = time.process_time()
    start = time.monotonic()
    bar = tqdm(range(-args.warmup, args.messages), desc=f"{subscribers} subscribers", unit="msg")
    for seq in bar:
        due = start + (seq + args.warmup) * interval
        time.sleep(max(0.0, due - time.monotonic()))
        stamp = STAMP.format(phase=phase, seq=seq, sent=time.time())
        reporter.update(force=True, message=stamp, step=max(seq, 0))  # as a training step does
    publisher_cpu = time.process_time() - publisher_cpu
    collected = [results.get(timeout=120) for _ in workers]
    wall = time.monotonic() - start
    cpu = {k: jobs_stack.cpu_seconds(pids[k]) - v for k, v in cpu_before.items()}
    cpu["publisher"] = publisher_cpu
    cpu["clients"] = sum(c["cpu_seconds"] for c in collected)
    for process in workers:
        process.join(timeout=30)
    latencies = [value for c in collected for value in c["latencies"]]
    received = [n for c in collected for n in c["received"]]
    expected = connected * args.messages
    stats = jobs_stack.summary(latencies) if latencies else {}
    return {
        "subscribers": subscribers,
        "connected": connected,
        "connect_seconds": round(connect_seconds, 2),
        "connect_errors": errors,
        "messages": args.messages,
        "rate_per_second": args.rate,
        "delivered": len(latencies),
        "expected": expected,
        "lost": expected - len(latencies),
        "clients_missing_some": sum(1 for n in received if n < args.messages),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        **{f"{k}_ms": round(v * 1000, 1) for k, v in stats.items() if k != "n"},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--subscribers", type=int, nargs="+", default=[1, 100, 1000], help="(1 100 1000)"
    )
    parser.add_argument("--messages", type=int, default=40, help="measured messages per phase")
    parser.add_argument("--warmup", type=int, default=3, help="messages sent first, not counted")
    parser.add_argument(
        "--rate", type=float, default=2.0, help="progress messages per second (2, the throttle)"
    )
    parser.add_argument(
        "--client-processes", type=int, default=1, help="processes sharing the clients (1)"
    )
    parser.add_argument("--database-url", help="PostgreSQL (created if missing); default SQLite")
    parser.add_argument("--redis-url", help="a Redis (db other than 0); default a private one")
    parser.add_argument(
        "--layer",
        choices=["core", "pubsub"],
        default="core",
        help="channel layer: the product's (channels_redis core) or, for comparison, "
        "channels_redis.pubsub (one Redis PUBLISH per group, fanned out inside daphne)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    limit = raise_fd_limit()  # daphne inherits it
    if max(args.subscribers) + 100 > limit:
        raise SystemExit(f"{max(args.subscribers)} websockets need more than {limit} open files")
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    stack = jobs_stack.Stack(args.database_url, args.redis_url)
    if args.layer == "pubsub":  # the product's settings with only the channel layer changed
        (stack.folder / "bench_pubsub_settings.py").write_text(PUBSUB_SETTINGS)
        sys.path.insert(0, str(stack.folder))
        stack.settings_env.update(
            DJANGO_SETTINGS_MODULE="bench_pubsub_settings", PYTHONPATH=str(stack.folder)
        )
    with stack:
        from django.utils import timezone

        from memorial.jobs.models import Job, Kind, State
        from memorial.memorials.models import Role
        from memorial.memorials.services import add_member

        owner, memorial = stack.family()
        viewer = type(owner).objects.create_user(
            email="viewer@example.org", password=secrets.token_urlsafe(16), display_name="Viewer"
        )
        add_member(memorial, viewer, Role.VIEWER)  # a member who may only watch
        job = Job.objects.create(
            kind=Kind.TRAIN,
            memorial=memorial,
            requested_by=owner,
            queue="gpu",
            state=State.RUNNING,
            started_at=timezone.now(),
            total=10_000,
        )
        cookies = jobs_stack.session_cookie(viewer)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        url = stack.daphne()
        ws_url = url.replace("http", "ws", 1) + f"/ws/jobs/{job.pk}/"
        phases = [
            run_phase(stack, i, n, args, ws_url, cookie, url, job)
            for i, n in enumerate(args.subscribers)
        ]
        database = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"

    print()
    layer = "RedisChannelLayer (settings)" if args.layer == "core" else "RedisPubSubChannelLayer"
    print(f"One daphne process, {database}, private Redis, {layer}; open-file limit {limit}")
    print(
        f"Publisher: Reporter.update(force=True) as a training step, {args.rate:g} messages/s, "
        f"{args.messages} measured (+{args.warmup} warm-up) per phase; "
        f"clients in {args.client_processes} process(es)"
    )
    print(
        f"{'subscribers':>11} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'lost':>6} {'connect s':>10}"
    )
    for p in phases:
        print(
            f"{p['subscribers']:>11} {p.get('p50_ms', '-'):>8} {p.get('p95_ms', '-'):>8} "
            f"{p.get('max_ms', '-'):>8} {p['lost']:>6} {p['connect_seconds']:>10}"
        )
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in p["cpu_seconds"].items())
        print(f"{'':>11} CPU seconds over {p['wall_seconds']} s: {cpu}")
        if p["connect_errors"]:
            print(f"   connect errors, e.g. {p['connect_errors'][0]}")
    if args.json:
        figures = {"layer": args.layer, "file_limit": limit, "phases": phases}
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if all(p["lost"] == 0 for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
