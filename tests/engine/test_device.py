"""Threads for a CPU run: this process's CPU share, not the host's core count."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gan_engine.device import auto_threads, cpu_share


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def test_a_container_cpu_quota_caps_the_threads(tmp_path: Path) -> None:
    limit = tmp_path / "cpu.max"
    limit.write_text("100000 100000\n")  # one CPU's worth of time, however many cores
    assert cpu_share(limit) == 1
    limit.write_text("150000 100000\n")  # one and a half CPUs: two threads
    assert cpu_share(limit) == min(2, _cores())


def test_without_a_quota_the_share_is_the_cores_this_process_may_run_on(tmp_path: Path) -> None:
    limit = tmp_path / "cpu.max"
    limit.write_text("max 100000\n")
    assert cpu_share(limit) == _cores()
    assert cpu_share(tmp_path / "missing") == _cores()  # no cgroup v2 here


def test_a_cpu_run_that_chose_no_threads_uses_the_share() -> None:
    assert auto_threads(torch.device("cpu")) == cpu_share()
    assert auto_threads(torch.device("cuda")) is None  # the GPU does the work
