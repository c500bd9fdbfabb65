"""The embedded run: `make run` (or `python -m memorial.core.launcher`) brings Memorial up.

One process supervises the same pieces production runs, on one machine:
a private Redis on a unix socket in the data folder (unless REDIS_URL names one),
the database migrations, the first administrator, daphne for HTTP and websockets,
and one Celery worker that consumes both queues and runs the beat scheduler.
Their logs are streamed with a prefix. Ctrl-C or SIGTERM stops the children, then Redis, and exits 0; a child that
dies on its own stops the rest and the launcher exits 1.

Children run in their own sessions, so a Ctrl-C in the terminal reaches only this
process, which then stops them in order (Redis last, after the processes using it).

Everything runs with umask 077 and the data folder is closed to other users (0700), so the
database, the photos, the secret key and Redis' files are readable by this user only. Links in
e-mails and invitations point at MEMORIAL_SITE_URL, else at the address daphne listens on;
the launcher says which at start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from memorial import config
from memorial.core.redis_server import PrivateRedis

STOP_SECONDS = 30.0  # a worker finishing its task gets this long before it is killed
READY_SECONDS = 180.0
COLOURS = {"redis": 31, "setup": 36, "web": 32, "worker": 35}


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived before everything had started."""


class StartupFailed(Exception):
    """A step the run depends on failed; the message says which and what to do."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pump: threading.Thread


class Launcher:
    def __init__(self, bind: str, port: int, data_dir: Path, out: IO[str] = sys.stdout) -> None:
        self.bind = bind
        self.port = port
        self.data_dir = data_dir
        self.out = out
        self.url = f"http://{display_host(bind)}:{port}/"
        self.children: list[Child] = []
        self.redis: PrivateRedis | None = None
        self.stop_requested = threading.Event()
        self.force = threading.Event()
        self.supervising = False
        self.stopping = False
        self.print_lock = threading.Lock()
        self.colour = out.isatty() and not os.environ.get("NO_COLOR")
        self.env = dict(os.environ)

    # --- output

    def say(self, text: str, prefix: str = "memorial") -> None:
        label = f"{prefix:<8}|"
        if self.colour:
            label = f"\033[{COLOURS.get(prefix, 1)}m{label}\033[0m"
        with self.print_lock:
            for line in text.splitlines() or [""]:
                print(f"{label} {line}", file=self.out, flush=True)

    def pump_output(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(raw.decode(errors="replace").rstrip(), prefix=name)
        stream.close()

    # --- signals

    def on_signal(self, signum: int, frame: object) -> None:
        if self.stopping:
            if not self.force.is_set():
                self.say("Stopping now, without waiting for running tasks.")
            self.force.set()
            return
        self.stop_requested.set()
        if not self.supervising:
            raise Stopped(signal.Signals(signum).name)

    # --- the run

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.on_signal)
        try:
            with self.data_folder_lock():
                return self.start_and_supervise()
        except Stopped:
            self.say("Stopped before Memorial had finished starting.")
            return 0
        except StartupFailed as error:
            self.say(f"Could not start: {error}")
            return 1

    def start_and_supervise(self) -> int:
        try:
            self.check_port()
            self.close_data_folder()
            self.use_site_url()
            if self.env.get("DATABASE_URL"):
                self.say("Database: the one named by DATABASE_URL.")
            else:
                self.say(f"Database: SQLite, {self.data_dir / 'memorial.sqlite3'}")
            self.start_redis()
            self.env.update(
                DJANGO_SETTINGS_MODULE=self.env.get("DJANGO_SETTINGS_MODULE", "memorial.settings"),
                MEMORIAL_DATA_DIR=str(self.data_dir),
                PYTHONUNBUFFERED="1",
            )
            self.step("Applying database migrations", "migrate", "--noinput")
            self.step("Collecting static files", "collectstatic", "--noinput", "--verbosity", "0")
            self.create_admin()
            self.spawn("web", web_command(self.bind, self.port), f"daphne on {self.url}")
            self.spawn(
                "worker",
                worker_command(self.data_dir),
                "Celery worker for queues cpu and gpu, with the beat scheduler",
            )
            self.write_run_file()
            threading.Thread(target=self.announce_when_ready, daemon=True).start()
            return self.supervise()
        finally:
            self.stopping = True
            self.stop_all()

    def close_data_folder(self) -> None:
        """Other users of the machine may not read the family's photos, database or keys."""
        opened = config.make_private(self.data_dir)
        if stat.S_IMODE(self.data_dir.stat().st_mode) & config.PRIVATE_UMASK:
            self.say(
                f"Data folder: {self.data_dir} (other users of this machine can open it and this "
                "user cannot change that: give it to this user, or chmod 700 it)"
            )
        else:
            self.say(f"Data folder: {self.data_dir} (readable by this user only)")
        if opened:
            names = ", ".join(path.name or str(path) for path in opened)
            self.say(f"Closed to other users what was open to them: {names}.")

    def use_site_url(self) -> None:
        """Choose the address links in e-mails and invitations carry, hand it to the children
        (MEMORIAL_SITE_URL) and say where it came from, so a wrong one is noticed at once."""
        site, source = config.site_url(self.env, self.bind, self.port)
        self.env["MEMORIAL_SITE_URL"] = site
        if source == "MEMORIAL_SITE_URL":
            self.say(f"Links in e-mails and invitations: {site}/ (from MEMORIAL_SITE_URL).")
            return
        self.say(
            f"Links in e-mails and invitations: {site}/ (from the address Memorial listens on, "
            f"{source}; set MEMORIAL_SITE_URL if family members reach it by another address)."
        )

    @contextlib.contextmanager
    def data_folder_lock(self):
        """One launcher per data folder: two would share one Redis socket and database."""
        lock_path = self.data_dir / "launcher.lock"
        with open(lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise StartupFailed(
                    f"Memorial is already running from {self.data_dir}. Stop it first "
                    "(Ctrl-C in its terminal), or set MEMORIAL_DATA_DIR to another folder."
                ) from error
            try:
                yield
            finally:
                (self.data_dir / "run.json").unlink(missing_ok=True)

    def check_port(self) -> None:
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.bind, self.port))
            except OSError as error:
                raise StartupFailed(
                    f"cannot listen on {self.bind}:{self.port} ({error.strerror}). Another "
                    "program uses that port; set MEMORIAL_PORT to choose another one."
                ) from error

    def start_redis(self) -> None:
        if self.env.get("REDIS_URL"):
            self.say("Using the Redis named by REDIS_URL.")
            return
        self.redis = PrivateRedis(self.data_dir, persist=True)
        try:
            self.redis.start()
        except Exception as error:
            raise StartupFailed(f"the private Redis did not start: {error}") from error
        self.env["REDIS_URL"] = self.redis.url
        pid = self.redis.process.pid if self.redis.process else "?"
        self.say(f"Private Redis (pid {pid}) on {self.redis.socket}", prefix="redis")

    def step(self, title: str, *command: str) -> None:
        """Run one management command to completion, its output prefixed."""
        self.say(title + "...")
        process = subprocess.Popen(
            [sys.executable, "-m", "django", *command],
            cwd=config.BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=config.PRIVATE_UMASK,
        )
        assert process.stdout is not None
        try:
            self.pump_output("setup", process.stdout)
            code = process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if code != 0:
            raise StartupFailed(f"`manage.py {command[0]}` failed with exit code {code} (above).")

    def create_admin(self) -> None:
        """Runs in the foreground with the terminal, so it can ask for a password."""
        code = subprocess.call(
            [sys.executable, "-m", "django", "createadmin", "--url", self.url],
            cwd=config.BASE_DIR,
            env=self.env,
            umask=config.PRIVATE_UMASK,
        )
        if code != 0:
            raise StartupFailed(f"creating the first administrator failed (exit code {code}).")

    def spawn(self, name: str, command: Sequence[str], what: str) -> None:
        process = subprocess.Popen(
            command,
            cwd=config.BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=config.PRIVATE_UMASK,
        )
        assert process.stdout is not None
        pump = threading.Thread(
            target=self.pump_output, args=(name, process.stdout), name=f"log-{name}", daemon=True
        )
        pump.start()
        self.children.append(Child(name, process, pump))
        self.say(f"Started {what} (pid {process.pid}).")

    def write_run_file(self) -> None:
        """Who is running, for people and scripts that want to look or stop one piece."""
        pids = {"launcher": os.getpid(), **{c.name: c.process.pid for c in self.children}}
        if self.redis and self.redis.process:
            pids["redis"] = self.redis.process.pid
        (self.data_dir / "run.json").write_text(json.dumps({"url": self.url, "pids": pids}))

    def announce_when_ready(self) -> None:
        health = f"http://{display_host(self.bind)}:{self.port}/healthz"
        deadline = time.monotonic() + READY_SECONDS
        while not self.stop_requested.is_set() and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        self.say(f"Memorial is running at {self.url}  (Ctrl-C stops it)")
                        return
            except (urllib.error.URLError, OSError):
                pass
            self.stop_requested.wait(0.5)

    def supervise(self) -> int:
        self.supervising = True
        while not self.stop_requested.wait(0.5):
            for child in self.children:
                code = child.process.poll()
                if code is not None:
                    self.say(
                        f"The {child.name} process stopped unexpectedly (exit code {code}); "
                        "stopping Memorial. Its last lines above say why."
                    )
                    return 1
        self.say("Stopping Memorial...")
        return 0

    # --- stopping

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for child in reversed(self.children):
            self.wait_for(child, deadline)
            # A Celery pool process whose parent died would be left behind: end the group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.pump.join(timeout=5)
        if self.redis is not None:
            self.redis.stop()
            self.say("Redis stopped.", prefix="redis")
        if self.children:
            self.say("All stopped.")

    def wait_for(self, child: Child, deadline: float) -> None:
        while child.process.poll() is None:
            if self.force.is_set() or time.monotonic() > deadline:
                self.say(f"{child.name} did not stop in time; killing it.")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=0.2)


def display_host(bind: str) -> str:
    """The address a browser on this machine should open for a bind address."""
    if bind in ("", "0.0.0.0"):  # noqa: S104
        return "127.0.0.1"
    if bind == "::":
        return "[::1]"
    return f"[{bind}]" if ":" in bind else bind


def web_command(bind: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "--bind",
        bind,
        "--port",
        str(port),
        "memorial.asgi:application",
    ]


def worker_command(data_dir: Path | None = None) -> list[str]:
    """One worker for both queues: the embedded run has one machine and at most one GPU.

    It also runs the beat scheduler (`--beat`) for periodic tasks such as deleting memorials
    whose cooling-off period is over; its schedule file lives in the data folder.
    """
    schedule = (data_dir or config.data_dir()) / "celerybeat-schedule"
    return [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "memorial",
        "worker",
        "--queues",
        "cpu,gpu",
        "--concurrency",
        "1",
        "--hostname",
        "memorial@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--beat",
        "--schedule",
        str(schedule),
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m memorial.core.launcher",
        description="Run Memorial on this machine: Redis, migrations, daphne and one worker.",
    )
    parser.add_argument(
        "--bind",
        default=os.environ.get("MEMORIAL_BIND", config.DEFAULT_BIND),
        help="Address to listen on (MEMORIAL_BIND, default 127.0.0.1: this machine only).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("MEMORIAL_PORT", str(config.DEFAULT_PORT))),
        help="Port to listen on (MEMORIAL_PORT, default 8000).",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.umask(config.PRIVATE_UMASK)  # the lock, run.json and a new data folder are private too
    # Log lines from the children may hold any character; never crash on printing one.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")
    data_dir = config.data_dir()
    os.environ["MEMORIAL_DATA_DIR"] = str(data_dir)
    return Launcher(args.bind, args.port, data_dir).run()


if __name__ == "__main__":
    sys.exit(main())
