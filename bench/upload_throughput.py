#!/usr/bin/env python
"""Upload throughput: many ~3 MB photos through POST /api/memorials/<id>/photos/.

A benchmark, not a test: it prints figures and asserts nothing about time.

By default it starts its own instance exactly as `make run` does (the launcher: daphne,
one Celery worker, a private Redis, SQLite) in a throw-away data folder, signs in with a
token, creates a memorial, and uploads. With --url and --token it measures an instance
that is already running instead.

    .venv/bin/python bench/upload_throughput.py                 # 200 photos, 4 clients
    .venv/bin/python bench/upload_throughput.py --clients 8 --count 50
    .venv/bin/python bench/upload_throughput.py --url https://memorial.example --token T
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000
WIDTH, HEIGHT, QUALITY = 3000, 2000, 92


# --- test photos -------------------------------------------------------------------------


def photo_bytes(seed: int, noise: float) -> bytes:
    """A 3000x2000 JPEG unique to `seed`: a colour gradient under fine noise.

    The noise sets the compressed size, as the detail of a real photo does; each seed has
    its own colours and noise, so no two photos are duplicates.
    """
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None, :, None]
    top_left, top_right, bottom = (rng.uniform(30, 225, 3).astype(np.float32) for _ in range(3))
    pixels = top_left + (top_right - top_left) * x + (bottom - top_left) * y * 0.6
    pixels += rng.normal(0.0, noise, (HEIGHT, WIDTH, 3)).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def calibrate_noise(target_bytes: int) -> float:
    """The noise level whose JPEG is closest to the target size (bisection on one photo)."""
    low, high = 0.0, 64.0
    for _ in range(8):
        middle = (low + high) / 2
        if len(photo_bytes(999_999_999, middle)) < target_bytes:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def write_photo(folder: Path, index: int, noise: float, seed: int) -> Path:
    path = folder / f"bench-{seed}-{index:04d}.jpg"
    if not path.exists():
        path.write_bytes(photo_bytes(seed * 100_000 + index, noise))
    return path


def make_photos(folder: Path, count: int, megabytes: float, seed: int) -> list[Path]:
    noise = calibrate_noise(int(megabytes * MB))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [pool.submit(write_photo, folder, i, noise, seed) for i in range(count)]
        paths = [f.result() for f in tqdm(futures, desc="Making photos", unit="photo")]
    return paths


# --- an instance to measure ----------------------------------------------------------------


class OwnInstance:
    """The embedded run (python -m memorial.core.launcher) in a throw-away data folder."""

    email = "bench@localhost"

    def __init__(self, folder: Path, database_url: str | None) -> None:
        self.folder = folder
        self.password = secrets.token_urlsafe(24)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("MEMORIAL_")
            and key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            MEMORIAL_DATA_DIR=str(folder / "data"),
            MEMORIAL_PORT=str(port),
            MEMORIAL_ADMIN_EMAIL=self.email,
            MEMORIAL_ADMIN_PASSWORD=self.password,
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        self.log_path = folder / "launcher.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "memorial.core.launcher"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def failed(self, why: str) -> SystemExit:
        """The reason with the end of the launcher's log: the folder is removed on exit."""
        self.log.flush()
        tail = self.log_path.read_text(errors="replace").splitlines()[-40:]
        return SystemExit("\n".join([*tail, why]))

    def wait_until_serving(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise self.failed("The instance did not start (its log ends above).")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise self.failed(f"The instance did not answer within {timeout:.0f} s.")
            time.sleep(0.2)

    def token(self) -> str:
        answer = httpx.post(
            self.url + "/api/auth/token/",
            json={"email": self.email, "password": self.password},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["token"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def create_memorial(url: str, token: str) -> str:
    answer = httpx.post(
        url + "/api/memorials/",
        json={"name": "Upload benchmark"},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    if answer.status_code != 201:
        raise SystemExit(f"Could not create a memorial: {answer.status_code} {answer.text[:500]}")
    return answer.json()["id"]


# --- the measurement -----------------------------------------------------------------------


@dataclass
class Upload:
    path: Path
    size: int
    status: int
    seconds: float
    detail: str


def upload_all(
    url: str, token: str, memorial: str, photos: list[Path], clients: int
) -> tuple[list[Upload], float]:
    endpoint = f"{url}/api/memorials/{memorial}/photos/"
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=300)
        return local.client

    def upload(path: Path) -> Upload:
        body = path.read_bytes()
        started = time.perf_counter()
        try:
            answer = client().post(
                endpoint,
                files={"file": (path.name, body, "image/jpeg")},
                data={"attested": "true", "caption": f"Benchmark photo {path.stem}"},
            )
            status, detail = answer.status_code, "" if answer.status_code == 201 else answer.text
        except httpx.HTTPError as error:
            status, detail = 0, f"{type(error).__name__}: {error}"
        return Upload(path, len(body), status, time.perf_counter() - started, detail[:300])

    results: list[Upload] = []
    started = time.perf_counter()
    with (
        ThreadPoolExecutor(max_workers=clients) as pool,
        tqdm(total=len(photos), desc="Uploading", unit="photo") as bar,
    ):
        for future in as_completed([pool.submit(upload, p) for p in photos]):
            results.append(result := future.result())
            elapsed = time.perf_counter() - started
            sent = sum(r.size for r in results if r.status == 201)
            bar.set_postfix_str(f"{sent / MB / elapsed:.1f} MB/s")
            bar.update()
            if result.status != 201:
                tqdm.write(f"{result.path.name}: HTTP {result.status} {result.detail}")
    return results, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def report(results: list[Upload], seconds: float, clients: int, where: str) -> dict:
    done = [r for r in results if r.status == 201]
    latencies = sorted(r.seconds for r in done)
    total = sum(r.size for r in done)
    figures = {
        "instance": where,
        "clients": clients,
        "photos_uploaded": len(done),
        "photos_failed": len(results) - len(done),
        "total_mb": round(total / MB, 1),
        "mean_photo_mb": round(total / MB / max(len(done), 1), 2),
        "wall_seconds": round(seconds, 1),
        "mb_per_second": round(total / MB / seconds, 2),
        "files_per_second": round(len(done) / seconds, 2),
        "latency_p50_seconds": round(percentile(latencies, 0.50), 2) if latencies else None,
        "latency_p95_seconds": round(percentile(latencies, 0.95), 2) if latencies else None,
        "latency_max_seconds": round(latencies[-1], 2) if latencies else None,
        "statuses": dict(Counter(r.status for r in results)),
    }
    print()
    print(f"Instance:      {where}")
    print(
        f"Uploaded:      {len(done)} of {len(results)} photos, {figures['total_mb']} MB "
        f"(mean {figures['mean_photo_mb']} MB) in {figures['wall_seconds']} s "
        f"with {clients} concurrent clients"
    )
    print(
        f"Throughput:    {figures['mb_per_second']} MB/s, "
        f"{figures['files_per_second']} files/s   (1 MB = 10^6 bytes)"
    )
    print(
        f"Per file:      p50 {figures['latency_p50_seconds']} s, "
        f"p95 {figures['latency_p95_seconds']} s, max {figures['latency_max_seconds']} s"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="photos to upload (200)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent uploads (4)")
    parser.add_argument("--megabytes", type=float, default=3.0, help="size of each photo (3)")
    parser.add_argument("--seed", type=int, default=0, help="another seed makes other photos")
    parser.add_argument("--url", help="measure this running instance instead of starting one")
    parser.add_argument("--token", help="API token for --url (POST /api/auth/token/)")
    parser.add_argument("--memorial", help="memorial id to upload into (default: a new one)")
    parser.add_argument(
        "--database-url", help="DATABASE_URL for the instance this script starts (default SQLite)"
    )
    parser.add_argument("--photos-dir", type=Path, help="keep the generated photos here")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.url and not args.token:
        parser.error("--url needs --token")

    work = Path(tempfile.mkdtemp(prefix="memorial-bench-"))
    instance: OwnInstance | None = None
    try:
        photos_dir = args.photos_dir or work / "photos"
        photos_dir.mkdir(parents=True, exist_ok=True)
        photos = make_photos(photos_dir, args.count, args.megabytes, args.seed)

        if args.url:
            url, token, where = args.url.rstrip("/"), args.token, args.url
        else:
            instance = OwnInstance(work, args.database_url)
            print(f"Starting an instance at {instance.url}")
            instance.wait_until_serving()
            url, token = instance.url, instance.token()
            database = "PostgreSQL" if args.database_url else "SQLite"
            where = f"embedded run on this machine (daphne, 1 worker, private Redis, {database})"
        memorial = args.memorial or create_memorial(url, token)

        results, seconds = upload_all(url, token, memorial, photos, args.clients)
        figures = report(results, seconds, args.clients, where)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return 0 if figures["photos_failed"] == 0 else 1
    finally:
        if instance is not None:
            instance.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
