"""Helpers that turn the environment into settings values.

Kept out of settings.py so the launcher, the test settings and the Celery app
derive paths and URLs the same way.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


LOCAL_STORAGE = "django.core.files.storage.FileSystemStorage"
S3_STORAGE = "memorial.core.storage.PrivateS3Storage"
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # the longest an S3 signature (SigV4) may live


def default_storage(media_root: Path, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """STORAGES["default"]: the local media folder, or a private S3 bucket when one is named.

    A function, so that settings and the storage tests build the options the same way.
    Objects are private and reached only through short-lived signed URLs.
    """
    bucket = environ.get("MEMORIAL_S3_BUCKET", "").strip()
    if not bucket:
        return {
            "BACKEND": LOCAL_STORAGE,
            "OPTIONS": {"location": str(media_root), "base_url": None},
        }
    seconds_text = environ.get("MEMORIAL_S3_URL_SECONDS", "").strip() or "300"
    try:
        seconds = int(seconds_text)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_SIGNED_URL_SECONDS:
        raise ValueError(
            f"MEMORIAL_S3_URL_SECONDS must be a whole number of seconds between 1 and "
            f"{MAX_SIGNED_URL_SECONDS}, not {seconds_text!r}"
        )
    return {
        "BACKEND": S3_STORAGE,
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ.get("MEMORIAL_S3_ENDPOINT_URL", "").strip() or None,
            "public_endpoint_url": environ.get("MEMORIAL_S3_PUBLIC_ENDPOINT_URL", "").strip()
            or None,
            "access_key": environ.get("MEMORIAL_S3_ACCESS_KEY", "") or None,
            "secret_key": environ.get("MEMORIAL_S3_SECRET_KEY", "") or None,
            "region_name": environ.get("MEMORIAL_S3_REGION", "").strip() or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": seconds,
            "file_overwrite": False,
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }
