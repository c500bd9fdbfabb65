"""Helpers that turn the environment into settings values.

Kept out of settings.py so the launcher, the test settings and the Celery app
derive paths and URLs the same way.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
#: What the embedded run creates is for the user who runs it: folders 0700, files 0600. The
#: launcher sets this umask for itself and every process it starts (Redis, daphne, Celery).
PRIVATE_UMASK = 0o077
DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 8000


def data_dir() -> Path:
    """The one folder that holds everything a self-hosted instance must keep.

    Created private (0700): it holds the family's photos, the database and the secret key."""
    path = Path(os.environ.get("MEMORIAL_DATA_DIR", BASE_DIR / "data")).resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def make_private(folder: Path) -> list[Path]:
    """Close ``folder`` and the files directly in it (database, secret key, Redis' files) to
    other users of the machine; returns what had been open. Folders inside it are not walked:
    a closed data folder already keeps others out of them. Something this user does not own
    is left as it is."""
    opened: list[Path] = []
    for path in [folder, *(p for p in folder.iterdir() if p.is_file() and not p.is_symlink())]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & PRIVATE_UMASK:
            try:
                os.chmod(path, mode & ~PRIVATE_UMASK)
            except PermissionError:
                continue
            opened.append(path)
    return opened


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


def link_host(bind: str) -> str:
    """The host a link to this machine carries for a listening address: the address itself, or
    the machine's name when Memorial listens on every interface (0.0.0.0, ::)."""
    if bind in ("", "0.0.0.0", "::"):  # noqa: S104
        return socket.gethostname()
    return f"[{bind}]" if ":" in bind else bind


def site_url(
    environ: Mapping[str, str] = os.environ, bind: str | None = None, port: int | None = None
) -> tuple[str, str]:
    """The address that links in e-mails and invitations point at, and where it came from.

    MEMORIAL_SITE_URL when it is set (behind a proxy it must be); otherwise the address Memorial
    listens on (``bind`` and ``port``, else MEMORIAL_BIND and MEMORIAL_PORT), so an instance
    started on another address or port never sends links to 127.0.0.1:8000."""
    named = environ.get("MEMORIAL_SITE_URL", "").strip().rstrip("/")
    if named:
        return named, "MEMORIAL_SITE_URL"
    bind = environ.get("MEMORIAL_BIND", DEFAULT_BIND) if bind is None else bind
    port_text = environ.get("MEMORIAL_PORT", str(DEFAULT_PORT)) if port is None else str(port)
    return f"http://{link_host(bind)}:{port_text}", "MEMORIAL_BIND and MEMORIAL_PORT"


def default_allowed_hosts(site: str) -> list[str]:
    """This machine's own names, and the site's host, so that its links are answered."""
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    host = urlsplit(site).hostname or ""
    host = f"[{host}]" if ":" in host else host
    if host and host not in hosts:
        hosts.append(host)
    return hosts


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
