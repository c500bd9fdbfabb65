"""List and delete stored files by key prefix, the same way for the local folder and for S3.

Deletion that "reaches every copy" is checked against the storage itself, not the database:
these helpers walk the storage's own listing.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from django.core.files.storage import default_storage

log = logging.getLogger(__name__)


def stored_keys(prefix: str) -> list[str]:
    """Every stored key under `prefix` (a folder, no trailing slash), sorted."""
    prefix = prefix.rstrip("/")
    keys: list[str] = []
    folders = [prefix]
    while folders:
        folder = folders.pop()
        try:
            subfolders, names = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        keys.extend(f"{folder}/{name}" for name in names)
        folders.extend(f"{folder}/{sub}" for sub in subfolders)
    return sorted(keys)


def delete_prefix(prefix: str) -> list[str]:
    """Delete every file under `prefix`; returns the keys that could not be deleted.

    Only a folder of one memorial (``memorials/<id>/<something>…``) is accepted: an empty or
    short prefix would otherwise reach the whole storage."""
    parts = [p for p in prefix.strip("/").split("/") if p]
    if len(parts) < 3 or parts[0] != "memorials" or ".." in parts:
        raise ValueError(f"refusing to delete under {prefix!r}")
    failed = []
    for key in stored_keys(prefix):
        try:
            default_storage.delete(key)
        except Exception:
            log.warning("could not delete %s", key, exc_info=True)
            failed.append(key)
    _remove_empty_folders(prefix)
    return failed


def delete_key(key: str) -> bool:
    if not key:
        return True
    try:
        default_storage.delete(key)
    except Exception:
        log.warning("could not delete %s", key, exc_info=True)
        return False
    return True


def _remove_empty_folders(prefix: str) -> None:
    """The local folder keeps empty directories; S3 has none to remove."""
    try:
        root = default_storage.path(prefix)
    except NotImplementedError:
        return
    base = Path(root)
    if not base.is_dir():
        return
    for folder in sorted((p for p in base.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
    with contextlib.suppress(OSError):
        base.rmdir()
