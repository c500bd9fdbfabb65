"""A scratch Memorial stack for the job benchmarks (job_latency, ws_latency, progress_overhead).

A throw-away data folder, a database (SQLite in that folder, or the PostgreSQL database named by
``--database-url``, created when missing and never dropped), a private Redis on a unix socket
(or ``--redis-url``), Django set up in this process against them, and the real server processes
the product runs: daphne and a Celery worker consuming both queues, as the embedded run does.
Not a benchmark itself; the three scripts import it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Environment variables of the caller that would point the stack at another instance.
FOREIGN = {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}


def percentile(values: list[float], fraction: float) -> float:
    """Inclusive percentile (the same method as bench/upload_throughput.py)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "max": ordered[-1],
        "min": ordered[0],
        "mean": statistics.fmean(ordered),
    }


def ensure_postgres_database(url: str) -> None:
    """Create the named PostgreSQL database when it does not exist (never drops anything)."""
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not found:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Stack:
    """Data folder, database, Redis and Django in this process; daphne and a worker on demand."""

    def __init__(
        self,
        database_url: str | None = None,
        redis_url: str | None = None,
        **settings_env: str,
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="memorial-jobs-bench-"))
        self.data = self.folder / "data"
        self.data.mkdir()
        self.database_url = database_url or f"sqlite:///{self.data / 'memorial.sqlite3'}"
        self.redis_url = redis_url
        self.settings_env = settings_env
        self.redis = None
        self.processes: list[tuple[subprocess.Popen, Any]] = []

    # --- setup ------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _start(self) -> None:
        if self.redis_url is None:
            from memorial.core.redis_server import PrivateRedis

            self.redis = PrivateRedis(self.folder / "redis")
            self.redis.start()
            self.redis_url = self.redis.url
        if self.database_url.startswith("postgres"):
            ensure_postgres_database(self.database_url)
        for key in list(os.environ):
            if key.startswith("MEMORIAL_") or key in FOREIGN:
                del os.environ[key]
        os.environ.update(
            {
                "MEMORIAL_DATA_DIR": str(self.data),
                "MEMORIAL_SECRET_KEY": secrets.token_urlsafe(48),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "DJANGO_SETTINGS_MODULE": "memorial.settings",
                "PYTHONUNBUFFERED": "1",
                **self.settings_env,
            }
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)

    def close(self) -> None:
        from tests.servers import stop_process

        for process, log in reversed(self.processes):
            stop_process(process)
            log.close()
        self.processes.clear()
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- server processes --------------------------------------------------------------------

    def _spawn(self, command: list[str], name: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append((process, log))
        return process

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.folder / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def daphne(self) -> str:
        """Start one daphne process serving the app; returns its base URL once it answers."""
        from tests.servers import free_port, wait_for_http

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        process = self._spawn([*command, "memorial.asgi:application"], "daphne")
        self.daphne_pid = process.pid
        try:
            wait_for_http(url + "/healthz", process)
        except (RuntimeError, TimeoutError) as error:
            raise SystemExit(f"{self.log_tail('daphne')}\n{error}") from None
        return url

    def worker(self, command: list[str] | None = None, timeout: float = 180.0) -> subprocess.Popen:
        """Start one Celery worker on both queues (the tests' command line unless given) and
        return once it says it is ready (its pool processes forked, the queues consumed)."""
        from tests.servers import celery_worker_command

        process = self._spawn(command or celery_worker_command(name="bench@%h"), "worker")
        log = self.folder / "worker.log"
        deadline = time.monotonic() + timeout
        while " ready." not in log.read_text(errors="replace"):  # Celery's own readiness line
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{self.log_tail('worker')}\nThe worker did not become ready.")
            time.sleep(0.1)
        return process

    # --- people and data -----------------------------------------------------------------------

    def family(self, photos: int = 0) -> tuple[Any, Any]:
        """An owner and a memorial with approved consent for training and generated photos, and
        ``photos`` captioned photos (real faces from ../shared/data when present)."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from memorial.accounts.models import User
        from memorial.consent.models import ConsentRecord, Scope, Status
        from memorial.memorials.ingest import ingest_photo
        from memorial.memorials.services import create_memorial
        from tests.images import jpeg, real_face_photos

        owner = User.objects.create_user(
            email=f"bench-{secrets.token_hex(4)}@example.org",
            password=secrets.token_urlsafe(16),
            display_name="Bench Owner",
        )
        memorial = create_memorial(owner, name="Benchmark memorial")
        ConsentRecord.objects.create(
            memorial=memorial,
            attester_name="Bench Owner",
            relationship="daughter",
            basis="next_of_kin",
            scopes=[Scope.TRAINING, Scope.GENERATED_PHOTOS],
            status=Status.APPROVED,
        )
        faces = real_face_photos(photos) if photos else []
        for i in range(photos):
            body = faces[i].read_bytes() if faces else jpeg(seed=i)
            ingest_photo(
                memorial=memorial,
                uploaded=SimpleUploadedFile(f"photo-{i}.jpg", body),
                user=owner,
                attested=True,
                caption=f"benchmark photo {i}, smiling",
            )
        return owner, memorial


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session_cookie(user) -> dict[str, str]:
    """A signed-in session for ``user`` (written to the database, as a real sign-in would)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
