"""Helpers that turn the environment into settings values.

Kept out of settings.py so the launcher, the test settings and the Celery app
derive paths and URLs the same way.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The one folder that holds everything a self-hosted instance must keep."""
    path = Path(os.environ.get("MEMORIAL_DATA_DIR", BASE_DIR / "data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(folder: Path) -> str:
    """Use MEMORIAL_SECRET_KEY, or generate one on first start and keep it.

    A key kept in the data folder survives restarts, so sessions and password
    reset links stay valid, without asking the operator to invent one.
    """
    if key := os.environ.get("MEMORIAL_SECRET_KEY"):
        return key
    key_file = folder / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


def default_redis_url(folder: Path) -> str:
    """The private Redis of the embedded run listens on a unix socket in the data folder."""
    return f"unix://{folder / 'redis.sock'}"


def celery_url(redis_url: str) -> str:
    """Kombu spells unix-socket Redis URLs differently from redis-py."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url
