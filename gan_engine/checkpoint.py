"""Checkpoint files: atomic to write, verified to read, never replacing a good one with a bad one.

Layout: an 8-byte magic, the SHA-256 of the payload, then the payload (``torch.save`` of a dict of
tensors and plain values). The hash makes any truncation or bit-flip a clear error instead of a
half-loaded model; loading uses ``weights_only=True`` so a checkpoint cannot run code.

Writing goes to a temporary file in the same folder, is flushed to disk, and only then renamed
over ``checkpoint.pt`` (the previous one is first renamed to ``checkpoint.prev.pt``). A crash, a
full disk or a cancel at any moment therefore leaves at least one complete, verified checkpoint.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from gan_engine import CHECKPOINT_FORMAT
from gan_engine.errors import CheckpointError
from gan_engine.prior import is_prior_folder, load_prior_state, no_longer_supported, removed_option

MAGIC = b"MEMGAN\x00\x01"
CHECKPOINT_NAME = "checkpoint.pt"
PREVIOUS_NAME = "checkpoint.prev.pt"


def save_checkpoint(state: dict[str, Any], directory: str | os.PathLike[str]) -> Path:
    """Write ``state`` as ``directory/checkpoint.pt`` atomically and return its path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CHECKPOINT_NAME
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".checkpoint.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(MAGIC)
            stream.write(hashlib.sha256(payload).digest())
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        why = "the disk is full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else str(error)
        kept = f"; the last good checkpoint {target} is kept" if target.exists() else ""
        raise CheckpointError(f"cannot write a checkpoint in {folder}: {why}{kept}") from error
    if target.exists():
        os.replace(target, folder / PREVIOUS_NAME)
    os.replace(temporary, target)
    with contextlib.suppress(OSError):  # make the renames durable where the OS allows it
        directory_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
    return target


def read_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read and verify one checkpoint file; any damage is a :class:`CheckpointError`."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError as error:
        raise CheckpointError(f"there is no checkpoint at {file}") from error
    except OSError as error:
        raise CheckpointError(f"cannot read the checkpoint {file}: {error}") from error
    header = len(MAGIC) + 32
    if len(data) < header or not data.startswith(MAGIC):
        raise CheckpointError(f"{file} is not a gan_engine checkpoint (or it is truncated)")
    payload = data[header:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC) : header]:
        raise CheckpointError(
            f"the checkpoint {file} is damaged or truncated (its checksum does not match)"
        )
    try:
        state = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for unreadable archives
        raise CheckpointError(f"the checkpoint {file} cannot be loaded: {error}") from error
    return state


def check_compatible(state: dict[str, Any], path: Path, resolution: int | None = None) -> None:
    """Refuse checkpoints from another format version or resolution, naming both, and those
    trained with an option the engine no longer has, naming it."""
    version = state.get("format")
    if version != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"the checkpoint {path} has format version {version!r}; this engine reads version {CHECKPOINT_FORMAT}"
        )
    if resolution is not None and state.get("resolution") != resolution:
        raise CheckpointError(
            f"the checkpoint {path} is for {state.get('resolution')} px images, not {resolution} px"
        )
    if option := removed_option(state.get("config") or {}):
        raise CheckpointError(no_longer_supported(f"the checkpoint {path}", option))


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    resolution: int | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Read, verify and check a checkpoint (a folder means its ``checkpoint.pt``, or, for a
    shipped prior's folder, its verified weights: see :mod:`gan_engine.prior`)."""
    file = Path(path)
    if file.is_dir() and is_prior_folder(file):
        return load_prior_state(file, resolution=resolution, map_location=str(map_location))
    if file.is_dir():
        file = file / CHECKPOINT_NAME
    state = read_checkpoint(file, map_location)
    check_compatible(state, file, resolution)
    return state


def find_resume_checkpoint(directory: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint in a run folder: ``checkpoint.pt``, else ``checkpoint.prev.pt``.

    The fallback covers a crash between the two renames of :func:`save_checkpoint`.
    """
    folder = Path(directory)
    for name in (CHECKPOINT_NAME, PREVIOUS_NAME):
        if (folder / name).is_file():
            return folder / name
    return None
