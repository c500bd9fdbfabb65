"""The background thread that writes a running job's progress to the ledger and publishes it.

Why: a ledger save and a channel-layer publish take ~10–25 ms, and doing them on the training
thread cost ~3 % of CPU training throughput. :class:`memorial.jobs.progress.Reporter` hands a copy
of the job to one :class:`Publisher` per task run instead and goes on training.

* Coalescing: while the thread is busy, a newer copy replaces the waiting one (only the newest
  progress matters) and the fields to save are merged, so nothing set is lost. A copy in another
  state is queued behind it, never merged, so a state is never skipped or reordered.
* Order: one thread does everything, first in, first out; a caller that needs the ledger to have
  it (:meth:`wait`) or needs everything out before it writes a final state (:meth:`close`) waits,
  for a bounded time.
* Failures: a failed save or publish (Redis restarting) is logged and the thread goes on; a failed
  save is raised again to a caller waiting for it, as the save on its own thread raised before.
* The thread's database connections are closed when it ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, connections

log = logging.getLogger(__name__)
WAIT_SECONDS = 30.0  # the longest a caller waits for the ledger (SQLite's lock timeout is 20 s)


@dataclass
class _Entry:
    job: Any  # a copy of the Job, owned by the thread from now on
    fields: set[str] = field(default_factory=set)
    generation: int = 0


class Publisher:
    """``save(job, fields)`` then ``send(job)`` for each handed-over copy, on one thread."""

    def __init__(
        self, save: Callable[[Any, set[str]], None], send: Callable[[Any], None], name: str
    ) -> None:
        self._save, self._send = save, send
        self._cond = threading.Condition()
        self._queue: list[_Entry] = []
        self._handed = 0  # generation of the newest hand-over
        self._saved = 0  # newest generation the thread has saved (or failed to)
        self._failed: tuple[int, Exception] | None = None
        self._closing = False
        self._abandoned = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def hand(self, job: Any, fields: set[str]) -> int:
        """Queue ``job`` (a copy the caller no longer touches); returns its generation."""
        with self._cond:
            self._handed += 1
            tail = self._queue[-1] if self._queue else None
            if tail is not None and tail.job.state == job.state:
                tail.job, tail.generation = job, self._handed
                tail.fields |= fields
            else:
                self._queue.append(_Entry(job, set(fields), self._handed))
            self._cond.notify_all()
            return self._handed

    def wait(self, generation: int, timeout: float = WAIT_SECONDS) -> None:
        """Return once ``generation`` is in the ledger; raise the save's error if it failed."""
        with self._cond:
            done = self._cond.wait_for(
                lambda: self._saved >= generation or not self._thread.is_alive(), timeout
            )
            failed = self._failed
        if not done:
            log.warning("progress was not written within %.0f s; going on", timeout)
        elif failed is not None and failed[0] >= generation:
            raise failed[1]

    def close(self, timeout: float = WAIT_SECONDS) -> None:
        """Write and publish everything handed over, then end the thread (bounded wait)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            with self._cond:  # stuck (a hung database or Redis): send nothing after the caller
                self._abandoned = True
                self._queue.clear()
            log.warning("progress publisher still busy after %.0f s; dropped the rest", timeout)

    def _serve(self) -> None:
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._queue or self._closing)
                    if not self._queue:
                        return
                    entry = self._queue.pop(0)
                failed = None
                try:
                    self._save(entry.job, entry.fields)
                except Exception as error:
                    failed = error
                    log.warning("could not save progress of job %s", entry.job.pk, exc_info=True)
                    close_old_connections()  # a broken connection is opened afresh next time
                with self._cond:
                    self._saved = entry.generation
                    self._failed = (entry.generation, failed) if failed else None
                    self._cond.notify_all()
                    if failed or self._abandoned:
                        continue
                try:
                    self._send(entry.job)
                except Exception:
                    log.warning("could not publish progress of job %s", entry.job.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections only
