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
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from django.urls import reverse

from memorial import config
from memorial.core import launcher
from memorial.core.redis_server import PrivateRedis
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


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


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

        # Other users of the machine cannot read the family's data; links use this address.
        assert mode(data_dir) == 0o700
        assert mode(data_dir / "memorial.sqlite3") == mode(data_dir / "secret_key") == 0o600
        first.wait_for_line(re.compile(re.escape(f"invitations: {first.url}/ (from the")), 10)

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


# --- The launcher's pieces, one at a time


def test_a_new_data_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMORIAL_DATA_DIR", str(tmp_path / "new" / "data"))
    assert mode(config.data_dir()) == 0o700


def test_the_launcher_closes_an_open_data_folder(data_dir):
    (data_dir / "memorial.sqlite3").write_bytes(b"SQLite format 3\0")
    (data_dir / "secret_key").write_text("key")
    (data_dir / "media").mkdir()
    for path in (data_dir, data_dir / "memorial.sqlite3", data_dir / "secret_key"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    out = StringIO()
    launcher.Launcher("127.0.0.1", 8000, data_dir, out=out).close_data_folder()
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "memorial.sqlite3") == mode(data_dir / "secret_key") == 0o600
    assert "readable by this user only" in out.getvalue()
    assert "memorial.sqlite3" in out.getvalue() and "secret_key" in out.getvalue()


def test_processes_the_launcher_starts_create_private_files(data_dir):
    made = data_dir / "made"
    script = f"import os; open({str(made)!r} + '.txt', 'w').close(); os.mkdir({str(made)!r})"
    runner = launcher.Launcher("127.0.0.1", 8000, data_dir, out=StringIO())
    runner.spawn("probe", [sys.executable, "-c", script], "a probe")
    child = runner.children[0]
    assert child.process.wait(timeout=60) == 0
    child.pump.join(timeout=10)
    assert mode(data_dir / "made.txt") == 0o600 and mode(made) == 0o700


def test_the_private_redis_keeps_its_files_private(data_dir):
    redis_server = PrivateRedis(data_dir, persist=True)
    redis_server.start()
    try:
        client = redis.Redis(unix_socket_path=str(redis_server.socket))
        client.set("memorial-test", "1")
        client.save()
        client.close()
        kept = [p for p in data_dir.rglob("*") if p != redis_server.socket]
        assert {p.name for p in kept} >= {"dump.rdb", "redis.log"}
        assert {p.name: mode(p) & 0o077 for p in kept} == {p.name: 0 for p in kept}
    finally:
        redis_server.stop()


def test_links_point_at_the_address_memorial_listens_on(data_dir):
    out = StringIO()
    runner = launcher.Launcher("192.0.2.10", 8123, data_dir, out=out)
    runner.env.pop("MEMORIAL_SITE_URL", None)
    runner.use_site_url()
    assert runner.env["MEMORIAL_SITE_URL"] == "http://192.0.2.10:8123"
    assert "invitations: http://192.0.2.10:8123/ (from the address Memorial listens on" in (
        out.getvalue()
    )

    everywhere = launcher.Launcher("0.0.0.0", 8123, data_dir, out=StringIO())  # noqa: S104
    everywhere.env.pop("MEMORIAL_SITE_URL", None)
    everywhere.use_site_url()
    assert everywhere.env["MEMORIAL_SITE_URL"] == f"http://{socket.gethostname()}:8123"


def test_a_site_url_that_is_set_wins_and_is_named(data_dir):
    out = StringIO()
    runner = launcher.Launcher("192.0.2.10", 8123, data_dir, out=out)
    runner.env["MEMORIAL_SITE_URL"] = "https://memorial.example.org/"
    runner.use_site_url()
    assert runner.env["MEMORIAL_SITE_URL"] == "https://memorial.example.org"
    assert "invitations: https://memorial.example.org/ (from MEMORIAL_SITE_URL)" in out.getvalue()


def test_settings_derive_the_site_url_and_its_host_from_the_bind_address(data_dir):
    """What the children of the launcher, or a daphne started by hand, compute on their own."""
    env = launcher_env(data_dir, 8123)
    env.update(
        MEMORIAL_BIND="192.0.2.10",
        MEMORIAL_SECRET_KEY="test-only-key",
        DJANGO_SETTINGS_MODULE="memorial.settings",
    )
    code = "from django.conf import settings; print(settings.SITE_URL, *settings.ALLOWED_HOSTS)"
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    site, *hosts = shown.stdout.split()
    assert site == "http://192.0.2.10:8123"
    assert "192.0.2.10" in hosts and "127.0.0.1" in hosts
