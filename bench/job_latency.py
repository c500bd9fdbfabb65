#!/usr/bin/env python
"""Time from clicking "Train" to the job running on an idle worker.

A benchmark, not a test: it prints figures and asserts nothing about time.

It starts a scratch stack (throw-away data folder, SQLite or --database-url, a private Redis,
one daphne process, one Celery worker consuming both queues, as the embedded run has), signs in
a family member and makes the POST that the "Train a model" form makes (or, with --via api, the
API start call). The Train click queues photo preparation first (training waits for it), so the
measured job is that *preparation job*: the first job of the click that runs. Training itself is
cancelled while it waits (it would otherwise run for the preset's time budget).

"Running" is read two ways: the ledger's ``started_at`` (written by the worker when the job is
marked running, after its consent, lease, pause and fairness checks) and the arrival of the
``running`` message on a websocket subscribed to the memorial's jobs, as the browser gets it.
The worker is started through this script with Celery signal hooks that write when its main
process received the message and when the pool process began the task, which splits the time
into its parts. All clocks are this machine's.

    .venv/bin/python bench/job_latency.py                     # 20 clicks, SQLite
    .venv/bin/python bench/job_latency.py --via api --repeat 50
    .venv/bin/python bench/job_latency.py --database-url postgres://postgres@127.0.0.1:5432/memorial_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jobs_stack  # puts the checkout on sys.path too

PROBE_KEY = "memorial:bench:probe:{}"


# --- the worker, with timing hooks -----------------------------------------------------------


def probe_worker(argv: list[str]) -> None:
    """Run a Celery worker (argv as after ``celery -A memorial``) that writes, per task, when its
    main process received the message and when the pool process began running it."""
    import os

    import django

    django.setup()
    import redis
    from celery.signals import task_prerun, task_received
    from django.conf import settings

    from memorial.celery import app

    clients: dict[int, redis.Redis] = {}

    def write(task_id: str, field: str) -> None:
        now = time.time()
        client = clients.get(os.getpid())
        if client is None:  # one connection per process (the pool forks)
            client = clients[os.getpid()] = redis.Redis.from_url(settings.REDIS_URL)
        client.hset(PROBE_KEY.format(task_id), field, repr(now))
        client.expire(PROBE_KEY.format(task_id), 3600)

    @task_received.connect(weak=False)
    def _received(request=None, **_kwargs) -> None:
        write(request.id, "received")

    @task_prerun.connect(weak=False)
    def _prerun(task_id=None, **_kwargs) -> None:
        write(task_id, "prerun")

    app.worker_main(argv)


# --- the browser's side: a websocket on the memorial's jobs ----------------------------------


class Watcher:
    """Listens on ``ws/memorials/<id>/jobs/`` in a thread; notes when each job's first message
    in each state arrived."""

    def __init__(self, url: str, memorial_id: str, cookies: dict[str, str]) -> None:
        self.url = url.replace("http", "ws", 1) + f"/ws/memorials/{memorial_id}/jobs/"
        self.origin = url
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.seen: dict[tuple[str, str], float] = {}
        self.changed = threading.Condition()
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.connected.wait(30):
            raise SystemExit(f"The websocket did not connect: {self.error!r}")

    def _run(self) -> None:
        try:
            asyncio.run(self._listen())
        except BaseException as error:  # reported to the main thread
            self.error = error
            self.connected.set()
            with self.changed:
                self.changed.notify_all()

    async def _listen(self) -> None:
        import websockets

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with websockets.connect(
            self.url, additional_headers={"Cookie": self.cookie}, origin=self.origin
        ) as ws:
            self.connected.set()
            stop = asyncio.ensure_future(self._stop.wait())
            while True:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    receive.cancel()
                    return
                now = time.time()
                message = json.loads(receive.result())
                with self.changed:
                    self.seen.setdefault((message["job"], message["state"]), now)
                    self.changed.notify_all()

    def wait(self, job_id: str, states: set[str], timeout: float) -> tuple[str, float]:
        """The first of ``states`` seen for the job, and when it arrived."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for state in states:
                    if (job_id, state) in self.seen:
                        return state, self.seen[(job_id, state)]
                if self.error is not None:
                    raise SystemExit(f"The websocket failed: {self.error!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"job {job_id} showed none of {sorted(states)} in time")
                self.changed.wait(left)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=10)


# --- one click -----------------------------------------------------------------------------


class Clicker:
    """Makes the Train form's POST (or the API call) as a signed-in member's browser would."""

    def __init__(self, url: str, memorial_id: str, cookies: dict[str, str], via: str, token: str):
        import httpx

        self.url, self.via = url, via
        self.train_url = f"{url}/m/{memorial_id}/train/"
        self.api_url = f"{url}/api/memorials/{memorial_id}/jobs/"
        self.http = httpx.Client(cookies=cookies, timeout=60)
        self.token = token
        page = self.http.get(self.train_url)
        page.raise_for_status()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if found is None:
            raise SystemExit("The train page has no CSRF token; is consent approved?")
        self.csrf = found.group(1)

    def click(self) -> str:
        """Start training; returns the training job's id."""
        if self.via == "api":
            answer = self.http.post(
                self.api_url,
                json={"kind": "train", "preset": "quick", "time_budget_minutes": 15},
                headers={"Authorization": f"Token {self.token}"},
            )
            if answer.status_code != 201:
                raise SystemExit(f"API start refused: {answer.status_code} {answer.text[:300]}")
            return answer.json()["id"]
        answer = self.http.post(
            self.train_url,
            data={"csrfmiddlewaretoken": self.csrf, "preset": "quick", "budget": "15"},
            headers={"Origin": self.url, "Referer": self.train_url},
        )
        if answer.status_code != 302:
            raise SystemExit(f"Train form refused: {answer.status_code} {answer.text[:300]}")
        return re.search(r"/jobs/([0-9a-f-]{36})/", answer.headers["Location"]).group(1)

    def close(self) -> None:
        self.http.close()


def measure_once(clicker: Clicker, watcher: Watcher, probes, timeout: float) -> dict[str, float]:
    from memorial.jobs import services
    from memorial.jobs.models import FINISHED, Job

    clicked = time.time()
    train_id = clicker.click()
    answered = time.time()
    train = Job.objects.select_related("after").get(pk=train_id)
    prepare = train.after
    state, seen = watcher.wait(str(prepare.pk), {"running", "failed", "blocked"}, timeout)
    if state != "running":
        prepare.refresh_from_db()
        raise SystemExit(f"The preparation job ended {state}: {prepare.error or prepare.message}")
    services.cancel(train)  # queued behind the preparation: it never starts
    watcher.wait(str(prepare.pk), {s.value for s in FINISHED}, timeout)
    prepare.refresh_from_db()
    probe = {
        k.decode(): float(v)
        for k, v in probes.hgetall(PROBE_KEY.format(prepare.celery_task_id)).items()
    }
    created, started = prepare.created_at.timestamp(), prepare.started_at.timestamp()
    return {
        "click_to_running": started - clicked,
        "click_to_browser": seen - clicked,
        "post_round_trip": answered - clicked,
        "request_until_row": created - clicked,
        "row_to_worker_received": probe["received"] - created,
        "received_to_pool_start": probe["prerun"] - probe["received"],
        "checks_to_running": started - probe["prerun"],
        "running_to_browser": seen - started,
        "prepare_seconds": prepare.finished_at.timestamp() - started,
        "prepare_state": prepare.state,
    }


# --- report ----------------------------------------------------------------------------------

PARTS = [
    ("request_until_row", "the POST until the job row is inserted (auth, form, consent, photos)"),
    ("row_to_worker_received", "commit, send to the Redis queue, worker's main process receives"),
    ("received_to_pool_start", "handed to the (pre-forked) pool process, task begins"),
    ("checks_to_running", "deliveries, consent gate, lease, pause, fairness, ledger write"),
    ("running_to_browser", "ledger running -> websocket message in the client"),
]


def report(samples: list[dict], warmup: list[dict], where: str, via: str, idle: float) -> dict:
    summary = jobs_stack.summary

    def ms(value: float) -> str:
        return f"{value * 1000:7.1f}"

    figures = {"instance": where, "via": via, "repetitions": len(samples), "idle_seconds": idle}
    print()
    print(f"Instance: {where}")
    print(
        f"Click:    {'POST /api/memorials/<id>/jobs/' if via == 'api' else 'POST /m/<id>/train/ (the Train form)'}"
    )
    print(
        f"Measured: the preparation job (first job of the click), {len(samples)} times, "
        f"each {idle:g} s after the previous job ended; ms"
    )
    print(f"{'':38} {'p50':>7} {'p95':>7} {'max':>7} {'min':>7}")
    rows = [
        ("click_to_running", "click -> running (ledger)"),
        ("click_to_browser", "click -> running seen on websocket"),
        ("post_round_trip", "POST answered (302/201)"),
        *[(key, "  " + key.replace("_", " ")) for key, _ in PARTS],
    ]
    for key, label in rows:
        stats = summary([s[key] for s in samples])
        figures[key] = {k: round(v * 1000, 1) if k != "n" else v for k, v in stats.items()}
        print(
            f"{label:38} {ms(stats['p50'])} {ms(stats['p95'])} {ms(stats['max'])} {ms(stats['min'])}"
        )
    print()
    for key, what in PARTS:
        print(f"  {key.replace('_', ' ')}: {what}")
    states = sorted({s["prepare_state"] for s in samples})
    prep = summary([s["prepare_seconds"] for s in samples])
    print(f"Preparation itself (not part of the figure): p50 {prep['p50']:.1f} s, ended {states}")
    if warmup:
        first = warmup[0]
        print(
            f"First click after the worker started (not counted): click -> running "
            f"{first['click_to_running'] * 1000:.0f} ms"
        )
        figures["first_click_after_start_ms"] = round(first["click_to_running"] * 1000, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe-worker"]:
        probe_worker(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="clicks measured (20)")
    parser.add_argument("--warmup", type=int, default=1, help="clicks first, not counted (1)")
    parser.add_argument("--via", choices=["form", "api"], default="form")
    parser.add_argument("--photos", type=int, default=2, help="captioned photos to prepare (2)")
    parser.add_argument(
        "--idle",
        type=float,
        default=10.0,
        help="seconds between a job's end and the next click (10): the worker replaces its pool "
        "process after every task (max tasks per child 1), which takes a few seconds",
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL to use (created if missing); default SQLite"
    )
    parser.add_argument(
        "--redis-url", help="a Redis to use (db other than 0); default a private one"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a job")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    import logging

    from tqdm import tqdm

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    Stack, session_cookie = jobs_stack.Stack, jobs_stack.session_cookie

    # Training, should it ever slip through, stays tiny; preparation is unchanged by this.
    overrides = json.dumps({"steps": 1, "device": "cpu"})
    with Stack(args.database_url, args.redis_url, MEMORIAL_JOB_ENGINE_OVERRIDES=overrides) as stack:
        import redis

        from memorial.accounts import tokens
        from tests.servers import celery_worker_command

        owner, memorial = stack.family(photos=args.photos)
        cookies = session_cookie(owner)
        token = tokens.issue(owner, name="bench").key
        url = stack.daphne()
        celery_args = celery_worker_command(name="bench@%h")[5:]  # after "-m celery -A memorial"
        stack.worker(
            [sys.executable, str(Path(__file__).resolve()), "--probe-worker", *celery_args]
        )
        probes = redis.Redis.from_url(stack.redis_url)
        watcher = Watcher(url, str(memorial.pk), cookies)
        watcher.start()
        clicker = Clicker(url, str(memorial.pk), cookies, args.via, token)
        samples: list[dict] = []
        warmup: list[dict] = []
        try:
            for i in tqdm(range(args.warmup + args.repeat), desc="Clicks", unit="click"):
                try:
                    sample = measure_once(clicker, watcher, probes, args.timeout)
                except (TimeoutError, KeyError) as error:
                    raise SystemExit(f"{stack.log_tail('worker')}\n{error!r}") from None
                (warmup if i < args.warmup else samples).append(sample)
                time.sleep(args.idle)  # the pool process is replaced after every task
        finally:
            clicker.close()
            watcher.stop()
        database = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"
        where = f"scratch stack on this machine (daphne, 1 worker -Q cpu,gpu -c 1, {database}, " + (
            "private Redis)" if args.redis_url is None else "Redis " + args.redis_url + ")"
        )
        figures = report(samples, warmup, where, args.via, args.idle)
        if args.json:
            args.json.write_text(json.dumps({**figures, "samples": samples}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
