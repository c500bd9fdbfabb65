"""Fixtures for the job tests: approved consent, a prepared tiny data set in storage, tiny engine
settings, and Celery workers on a second, private Redis that no other test's worker reads.

The second Redis keeps these tests' deliveries away from the suite's shared `celery_worker`
(which reads the main test Redis and serves the tests that go through pages and the API), so a
test can kill its worker or run two at once and know exactly who received what.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from memorial import config
from memorial.core.redis_server import PrivateRedis
from tests.servers import ROOT, celery_worker_command, child_env, stop_process

TINY = {
    "resolution": 16,
    "steps": 12,
    "batch": 4,
    "width": 0.125,
    "z_dim": 32,
    "cond_dim": 32,
    "device": "cpu",
    "threads": 1,
    "sample_every": 4,
    "sample_count": 4,
    "likeness_samples": 4,  # the kept snapshot is measured on 4 samples, not 24
    "checkpoint_every_steps": 4,
    "min_photos": 2,
}
DEADLINE = 180.0  # seconds; generous for 2 shared cores, never a sleep


def wait_for(
    predicate: Callable[[], object], what: str, timeout: float = DEADLINE, every: float = 0.05
):
    """Poll `predicate` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def approve(memorial, *scopes):
    from memorial.consent.models import ConsentRecord, Status

    return ConsentRecord.objects.create(
        memorial=memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=list(scopes),
        status=Status.APPROVED,
    )


def face_photo_paths(count: int = 8) -> list[Path]:
    """Real photos of one person: LFW beside the checkout, else the astronaut's variants."""
    from tests.images import real_face_photos

    found = real_face_photos(count)
    if found:
        return found
    from tests.engine.conftest import astronaut_variants

    return astronaut_variants(Path(tempfile.mkdtemp(prefix="faces-")), count)


CAPTIONS = [
    "smiling, in a dark suit",
    "looking at the camera",
    "at a press conference",
    "with a tie",
]


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory) -> Path:
    """A data set prepared once per session at 16 px, in the test process."""
    from gan_engine.data import prepare

    out = tmp_path_factory.mktemp("jobs-prepared")
    pairs = [(p, CAPTIONS[i % 4]) for i, p in enumerate(face_photo_paths())]
    prepare(pairs, out, sizes=(16,))
    return out


@pytest.fixture
def dataset(prepared_dir, family) -> str:
    """The prepared data set copied into storage for this test's memorial; returns its key."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from memorial.jobs import files

    key = files.prefix(family.memorial.pk, "datasets", "test")
    for path in prepared_dir.rglob("*"):
        if path.is_file() and "text-cache" not in path.parts:
            default_storage.save(
                f"{key}/{path.relative_to(prepared_dir)}", ContentFile(path.read_bytes())
            )
    return key


@pytest.fixture
def train_job(family, dataset):
    """Make a training job (not queued) for the family's memorial with tiny engine settings."""
    from memorial.jobs.models import Job, Kind

    def make(**engine) -> Job:
        settings = {**TINY, **engine}
        return Job.objects.create(
            kind=Kind.TRAIN,
            memorial=family.memorial,
            requested_by=family.contributor,
            parameters={"dataset": dataset, "engine": settings},
            queue="gpu",
            total=settings["steps"],
        )

    return make


class Broker:
    """A second private Redis: broker, lease store and channel layer of the workers below."""

    def __init__(self, persist: bool = False) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="jobs-redis-"))
        self.redis = PrivateRedis(self.folder, persist=persist)
        self.redis.start()
        self.url = self.redis.url
        self.client = redis.Redis.from_url(self.url)

    def send(self, kind: str, job_id, **options) -> None:
        from memorial.celery import app

        with app.connection_for_write(config.celery_url(self.url)) as connection:
            app.send_task(
                f"memorial.jobs.{kind}",
                args=[str(job_id)],
                queue="cpu" if kind == "prepare" else "gpu",
                connection=connection,
                ignore_result=True,
                **options,
            )

    def restart(self) -> None:
        """Stop Redis (it writes its append-only file) and start it again on the same socket."""
        self.redis.stop()
        self.redis.start()

    def stop(self) -> None:
        self.client.close()
        self.redis.stop()


class Worker:
    """A real Celery worker process on the second Redis, in its own process group (so a test can
    kill the whole worker with SIGKILL, as a lost node would be)."""

    def __init__(self, broker: Broker, log_dir: Path, concurrency: int = 1, **env: str) -> None:
        self.log_path = log_dir / f"jobs-worker-{os.getpid()}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115
        extra = {
            "REDIS_URL": broker.url,
            "MEMORIAL_JOB_LEASE_SECONDS": "3",
            "MEMORIAL_JOB_PROGRESS_INTERVAL": "0.2",
            **env,
        }
        self.process = subprocess.Popen(
            celery_worker_command(concurrency=concurrency, name=f"jobs-{time.monotonic_ns()}@%h"),
            cwd=ROOT,
            env=child_env(**extra),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: no clean-up, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()

    def stop(self) -> None:
        """Cold shutdown (SIGQUIT): the test is over, nothing it runs needs finishing."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            stop_process(self.process)
        if not self.log.closed:
            self.log.close()


@pytest.fixture(scope="session")
def broker():
    b = Broker()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def job_worker(django_db_setup, django_db_blocker, broker, artifacts_dir):
    with django_db_blocker.unblock():
        worker = Worker(broker, artifacts_dir)
    yield worker
    worker.stop()


@pytest.fixture
def own_broker():
    """A Redis of this test's own: no other worker (like the module's `job_worker`) reads it."""
    b = Broker()
    yield b
    b.stop()


@pytest.fixture
def start_worker(django_db_setup, own_broker, artifacts_dir):
    """Start workers on `own_broker` for one test; all are stopped at its end."""
    started: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = Worker(own_broker, artifacts_dir, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def fresh(job):
    job.refresh_from_db()
    return job


def ledger(job_id):
    from memorial.jobs.models import Job

    return Job.objects.get(pk=job_id)


def dumps(job) -> str:
    return json.dumps(
        {"state": job.state, "step": job.step, "message": job.message, "error": job.error}
    )
