"""Move job files between the shared storage (django default_storage) and a worker's temporary
folder. Data sets, checkpoints and sample grids live in the storage so any worker can continue
any job; a worker's disk holds only scratch copies."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

log = logging.getLogger(__name__)


def prefix(memorial_id: object, *parts: object) -> str:
    return "/".join(["memorials", str(memorial_id), "models", *(str(p) for p in parts)])


def upload(path: Path, key: str) -> str:
    """Store a local file under `key` (or a free name beside it); returns the stored key."""
    with path.open("rb") as handle:
        return default_storage.save(key, File(handle, name=path.name))


def download(key: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with default_storage.open(key, "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    return path


def delete(key: str) -> None:
    if not key:
        return
    try:
        default_storage.delete(key)
    except Exception:  # best effort: a leftover file is better than a failed job
        log.warning("could not delete %s", key, exc_info=True)
