"""The embedded run as a person uses it: start, sign in, work, stop, start again.

The real launcher runs as a subprocess on a fresh data folder with no DATABASE_URL and
no REDIS_URL, so it brings up SQLite, its private Redis, daphne and a Celery worker,
exactly as `make run` does on a new machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from django.urls import reverse

from tests.servers import ROOT, free_port, wait_for_http

START_SECONDS = 180  # first start migrates a new database on a busy two-core machine
STOP_SECONDS = 60
PASSWORD_LINE = re.compile(r"Password:\s+(\S+)\s+\|")
EMAIL_LINE = re.compile(r"E-mail:\s+(\S+)\s+\|")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def launcher_env(data_dir: Path, port: int) -> dict[str, str]:
    """The environment of a fresh machine: none of the test suite's settings leak in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MEMORIAL_")
        and key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(MEMORIAL_DATA_DIR=str(data_dir), MEMORIAL_PORT=str(port), PYTHONUNBUFFERED="1")
    return env


class Launcher:
    """`python -m memorial.core.launcher` with its output collected line by line."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.log = open(log_dir / f"launcher-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "memorial.core.launcher"],
            cwd=ROOT,
            env=launcher_env(data_dir, self.port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)
            self.log.flush()
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    @property
    def output(self) -> str:
        with self.changed:
            return "\n".join(self.lines)

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines:
                    if match := pattern.search(line):
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"no line matching {pattern.pattern!r}:\n{self.output}")
                self.changed.wait(remaining)

    def wait_until_serving(self) -> None:
        try:
            wait_for_http(self.url + "/healthz", self.process, timeout=START_SECONDS)
        except (RuntimeError, TimeoutError) as error:
            raise AssertionError(f"{error}\n{self.output}") from error

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def wait(self) -> int:
        code = self.process.wait(timeout=STOP_SECONDS)
        self.reader.join(timeout=10)
        self.log.close()
        return code

    def kill(self) -> None:
        """Last resort when a test fails half-way: leave no process behind."""
        processes = self.children() if self.process.poll() is None else []
        for process in [*processes, psutil.Process(self.process.pid)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.process.wait()
        self.log.close()


def kind(process: psutil.Process) -> str | None:
    try:
        command = " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):  # a finished setup step, not yet reaped
        return None
    for name in ("daphne", "celery", "redis-server"):
        if name in command:
            return name
    return None


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=10)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def sign_in(url: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    login_url = reverse("accounts:login")
    page = client.get(login_url)
    assert page.status_code == 200
    token = CSRF_FIELD.search(page.text)
    assert token, "the sign-in page has no CSRF token"
    answer = client.post(
        login_url,
        data={"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
    )
    assert answer.status_code == 302, answer.text[:2000]
    assert answer.headers["location"] == reverse("memorials:dashboard")
    return client


def check_services(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The operator's health check, pointed at the launcher's data folder and private Redis."""
    env = launcher_env(data_dir, 0)
    env["DJANGO_SETTINGS_MODULE"] = "memorial.settings"
    return subprocess.run(
        [sys.executable, "-m", "django", "check_services", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_embedded_run_from_first_start_to_restart(data_dir, artifacts_dir):
    # First start on an empty data folder: everything is created.
    first = Launcher(data_dir, artifacts_dir)
    try:
        first.wait_until_serving()
        password = first.wait_for_line(PASSWORD_LINE, timeout=10).group(1)
        email = first.wait_for_line(EMAIL_LINE, timeout=10).group(1)
        assert email == "admin@localhost"

        # The one-time password works in the real sign-in form, and the dashboard loads.
        browser = sign_in(first.url, email, password)
        dashboard = browser.get(reverse("memorials:dashboard"))
        assert dashboard.status_code == 200
        assert reverse("accounts:logout") in dashboard.text

        # Static files are served with DEBUG off (WhiteNoise), as the pages need them.
        assert browser.get("/static/admin/css/base.css").status_code == 200

        # A task round-trips through the launcher's own worker, on both queues.
        report = check_services(data_dir)
        assert report.returncode == 0, report.stdout + report.stderr
        assert re.search(r"worker \(cpu\)\s+ok .* answered by memorial@", report.stdout)
        assert re.search(r"worker \(gpu\)\s+ok .* answered by memorial@", report.stdout)

        # A second run on the same folder would share its Redis socket and database: refused.
        intruder = Launcher(data_dir, artifacts_dir)
        assert intruder.wait() == 1
        assert "Memorial is already running from" in intruder.output
        assert httpx.get(first.url + "/healthz").status_code == 200

        children = first.children()
        assert {kind(p) for p in children} >= {"daphne", "celery", "redis-server"}
        secret_key = (data_dir / "secret_key").read_text()

        # Ctrl-C stops everything and exits 0.
        first.process.send_signal(signal.SIGINT)
        assert first.wait() == 0, first.output
    except BaseException:
        first.kill()
        raise
    assert still_running(children) == []
    assert not (data_dir / "redis.sock").exists()

    # Second start on the same folder: same key, same administrator, sessions survive.
    second = Launcher(data_dir, artifacts_dir)
    try:
        second.wait_until_serving()
        second.wait_for_line(re.compile(r"An administrator already exists \(admin@localhost\)"), 10)
        assert not PASSWORD_LINE.search(second.output)
        assert (data_dir / "secret_key").read_text() == secret_key
        with sqlite3.connect(data_dir / "memorial.sqlite3") as db:
            (admins,) = db.execute(
                "SELECT COUNT(*) FROM accounts_user WHERE is_superuser"
            ).fetchone()
        assert admins == 1

        again = httpx.Client(base_url=second.url, cookies=browser.cookies, timeout=30)
        assert again.get(reverse("memorials:dashboard")).status_code == 200

        # A child that dies on its own takes the whole run down, with a message and status 1.
        children = second.children()
        worker = next(p for p in children if kind(p) == "celery" and p.ppid() == second.process.pid)
        worker.kill()
        assert second.wait() == 1
    except BaseException:
        second.kill()
        raise
    assert "The worker process stopped unexpectedly" in second.output
    assert still_running(children) == []
