"""Pick and check the compute device, and the batch size that fits on it."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from gan_engine.errors import DeviceError

#: cgroup v2's CPU limit of this process's group ("max" or "<quota> <period>").
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N``; anything else is refused."""
    text = (name or "auto").strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {name!r} was requested but no CUDA GPU is available here; use cpu or auto"
            )
        try:
            device = torch.device(text)
        except RuntimeError as error:
            raise DeviceError(f"unknown device {name!r}: {error}") from error
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)"
            )
        return device
    raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")


def cpu_share(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The CPUs this process may really use: the cores it may run on, capped by a container's
    CPU quota (cgroup v2 ``cpu.max``), at least 1.

    Why: PyTorch starts one intra-op thread per core of the *host*; in a container limited to two
    CPUs on a 32-core host that is 32 threads fighting over two CPUs' worth of time, each step
    several times slower than with two threads.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = cores or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            share = min(share, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit readable here: the cores are the share
    return max(1, share)


def auto_threads(device: torch.device) -> int | None:
    """Intra-op threads for a run that did not choose: the CPU share on the CPU; on a GPU,
    PyTorch's own choice (None) since the CPU only feeds the device."""
    return cpu_share() if device.type != "cuda" else None


def auto_batch(device: torch.device, resolution: int, width: float) -> int:
    """A starting batch size: 16 on the CPU; on a GPU, from free memory (OOM later halves it).

    The per-image estimate (G and D activations for forward and backward in bf16) is deliberately
    generous; the out-of-memory retry corrects a guess that is still too high.
    """
    if device.type != "cuda":
        return 16
    free, _total = torch.cuda.mem_get_info(device)
    per_image = 6e6 * (resolution / 64) ** 2 * max(width, 0.25)
    batch = int(free * 0.6 / per_image)
    size = 4
    while size * 2 <= min(batch, 64):
        size *= 2
    return size


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA out-of-memory errors (raised as different types across PyTorch versions)."""
    return isinstance(error, torch.cuda.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
    )
