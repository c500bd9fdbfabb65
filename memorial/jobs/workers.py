"""Worker heartbeats: each worker writes a small record to Redis every few seconds; the queue
metrics read them to tell online workers from lost ones.

The writer runs in the worker's main process (started from tasks.py on ``worker_ready``). GPU
figures come from ``nvidia-smi``, not torch.cuda: initialising CUDA in the parent process would
break the forked pool processes that run the jobs ("Cannot re-initialize CUDA in forked
subprocess").
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

import redis
from django.conf import settings

from memorial.jobs import lease as leases

log = logging.getLogger(__name__)
KEY = "memorial:workers"  # hash: worker name -> JSON record


def gpus() -> list[dict[str, Any]]:
    """Name, memory and utilisation of the GPUs this worker may use; [] without NVIDIA tools."""
    tool = shutil.which("nvidia-smi")
    if not tool:
        return []
    command = [
        tool,
        "--query-gpu=name,memory.used,memory.total,utilization.gpu",
        "--format=csv,noheader,nounits",
    ]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if visible:
        command.append(f"--id={visible}")
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.strip().splitlines():
        name, used, total, util = (part.strip() for part in line.split(","))
        found.append(
            {
                "name": name,
                "memory_used_bytes": int(float(used)) * 2**20,
                "memory_total_bytes": int(float(total)) * 2**20,
                "utilisation": float(util) / 100 if util.replace(".", "").isdigit() else None,
            }
        )
    return found


def beat(name: str, queues: list[str], now: float | None = None) -> None:
    record = {
        "name": name,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "queues": queues,
        "gpus": gpus(),
        "beat": time.time() if now is None else now,
    }
    leases.client().hset(KEY, name, json.dumps(record))


def forget(name: str) -> None:
    leases.client().hdel(KEY, name)


def records(now: float | None = None) -> list[dict[str, Any]]:
    """Every worker that ever beat (until forgotten), with ``age`` and ``online``."""
    now = time.time() if now is None else now
    try:
        raw = leases.client().hgetall(KEY)
    except redis.RedisError:
        log.warning("could not read worker heartbeats", exc_info=True)
        return []
    found = []
    for value in raw.values():
        record = json.loads(value)
        record["age"] = max(0.0, now - float(record.get("beat", 0)))
        record["online"] = record["age"] <= 3 * settings.WORKER_HEARTBEAT_SECONDS
        found.append(record)
    return sorted(found, key=lambda r: r["name"])


def start(name: str, queues: list[str]) -> threading.Event:
    """Beat now and then every ``WORKER_HEARTBEAT_SECONDS`` on a daemon thread; set the returned
    event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                beat(name, queues)
            except redis.RedisError:  # Redis away for a moment: the next beat will do
                log.warning("worker heartbeat failed", exc_info=True)
            if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                return

    threading.Thread(target=loop, name="memorial-heartbeat", daemon=True).start()
    return stop


# --- measured training speed

SPEED_KEY = "memorial:worker-speeds"  # hash: worker name -> JSON record of its speed probe


def store_speed(name: str, figures: list[dict[str, Any]]) -> None:
    """Keep what a worker's speed probe measured (tasks.probe_speed), for the web's estimate.

    Kept after the worker stops: the figure is the machine's, and the estimate still needs it
    while the worker restarts."""
    record = {"name": name, "host": socket.gethostname(), "figures": figures, "at": time.time()}
    leases.client().hset(SPEED_KEY, name, json.dumps(record))


def speeds() -> list[dict[str, Any]]:
    """Every stored speed record, with ``online`` from the worker's heartbeat; [] if Redis is
    away (the estimate then falls back to the preset's default)."""
    try:
        raw = leases.client().hgetall(SPEED_KEY)
    except redis.RedisError:
        log.warning("could not read measured worker speeds", exc_info=True)
        return []
    online = {r["name"] for r in records() if r["online"]}
    found = []
    for value in raw.values():
        record = json.loads(value)
        record["online"] = record["name"] in online
        found.append(record)
    return sorted(found, key=lambda r: r["name"])
