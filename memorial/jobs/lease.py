"""At most one worker runs a job: a lease in Redis (SET NX PX) renewed by a heartbeat thread.

A broker may deliver a message twice (a visibility timeout passing, a worker lost between the
task finishing and its acknowledgement). The lease makes the second delivery see that the job is
already running. The holder renews it every third of its lifetime; if the holder dies, renewals
stop and the lease expires, so a later delivery can take the job over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from functools import cache

import redis
from django.conf import settings

log = logging.getLogger(__name__)

# Renew or release only our own lease: compare the token and act in one atomic step.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


@cache
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def key(job_id: object) -> str:
    return f"memorial:jobs:lease:{job_id}"


class Lease:
    """A held lease; use :func:`acquire`. ``lost`` is set when a renewal finds it gone."""

    def __init__(self, job_id: object, token: str, seconds: float) -> None:
        self.job_id = job_id
        self.token = token
        self.millis = max(int(seconds * 1000), 1)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def _beat(self) -> None:
        interval = self.millis / 3000
        while not self._stop.wait(interval):
            try:
                renewed = client().eval(_RENEW, 1, key(self.job_id), self.token, self.millis)
            except redis.RedisError:
                # Redis away for a moment: keep training; the lease lives on until it expires.
                log.warning("could not renew the lease of job %s", self.job_id, exc_info=True)
                continue
            if not renewed:
                log.error("job %s: the lease was lost; stopping at the next step", self.job_id)
                self.lost.set()
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            client().eval(_RELEASE, 1, key(self.job_id), self.token)
        except redis.RedisError:  # it expires on its own
            log.warning("could not release the lease of job %s", self.job_id, exc_info=True)


def acquire(job_id: object, seconds: float | None = None) -> Lease | None:
    """Take the job's lease and start renewing it, or return None if another worker holds it."""
    seconds = settings.JOB_LEASE_SECONDS if seconds is None else seconds
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    if not client().set(key(job_id), token, nx=True, px=max(int(seconds * 1000), 1)):
        return None
    lease = Lease(job_id, token, seconds)
    lease._thread.start()
    return lease


def holder(job_id: object) -> str | None:
    value = client().get(key(job_id))
    return value.decode() if value else None


def remaining_seconds(job_id: object) -> float:
    millis = client().pttl(key(job_id))
    return max(millis, 0) / 1000
