"""Check that every service Memorial depends on answers, and say which one does not.

Database, Redis, the Channels layer (live updates) and a Celery worker per queue.
Each check has a timeout, so a missing service is reported instead of hanging.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from asgiref.sync import async_to_sync
from celery.exceptions import TimeoutError as ResultTimeout
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from memorial.core.tasks import ping

DEFAULT_QUEUES = ("cpu", "gpu")


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    millis: float


def describe_redis(url: str) -> str:
    """Where Redis is, without any password the URL may hold."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix socket {parts.path}"
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"


def check_database(timeout: float) -> str:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite {db['NAME']}"
    return (
        f"{connection.vendor} {db.get('HOST') or 'localhost'}:{db.get('PORT') or ''}/{db['NAME']}"
    )


def check_redis(timeout: float) -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
    finally:
        client.close()
    return f"Redis {version} at {describe_redis(settings.REDIS_URL)}"


def check_channel_layer(timeout: float) -> str:
    """Send a message to ourselves through the layer that carries live updates."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")

    async def round_trip() -> None:
        import asyncio

        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.check"})
        message = await asyncio.wait_for(layer.receive(channel), timeout)
        if message.get("type") != "health.check":
            raise RuntimeError(f"unexpected message {message!r}")

    async_to_sync(round_trip)()
    return type(layer).__name__


def check_worker(queue: str, timeout: float) -> str:
    """A worker that consumes `queue` runs the ping task and answers within the timeout."""
    result = ping.apply_async(
        queue=queue, expires=timeout, retry_policy={"max_retries": 1, "interval_start": 0}
    )
    try:
        hostname = result.get(timeout=timeout)
    except ResultTimeout as error:
        raise RuntimeError(
            f"no worker consuming queue {queue!r} answered within {timeout:g} s"
        ) from error
    finally:
        result.forget()
    return f"answered by {hostname}"


class Command(BaseCommand):
    help = (
        "Check that the database, Redis, the channel layer and a Celery worker on each queue "
        "answer. Exits with status 1 when one does not."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="Seconds to wait for each service."
        )
        parser.add_argument(
            "--queue",
            dest="queues",
            action="append",
            help="Celery queue that must have a worker (repeatable; default: cpu and gpu).",
        )

    def handle(self, *args: object, timeout: float, queues: list[str] | None, **options: object):
        checks: list[tuple[str, Callable[[], str]]] = [
            ("database", lambda: check_database(timeout)),
            ("redis", lambda: check_redis(timeout)),
            ("channel layer", lambda: check_channel_layer(timeout)),
        ]
        for queue in queues or DEFAULT_QUEUES:
            checks.append((f"worker ({queue})", lambda q=queue: check_worker(q, timeout)))

        results = [self.run_check(name, check) for name, check in checks]
        self.print_table(results)
        failed = [r.name for r in results if not r.ok]
        if failed:
            raise CommandError(f"Not answering: {', '.join(failed)}.")

    @staticmethod
    def run_check(name: str, check: Callable[[], str]) -> Result:
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as error:  # report every failure the same way, never a traceback
            detail, ok = f"{type(error).__name__}: {error}", False
        return Result(name, ok, detail, (time.perf_counter() - started) * 1000)

    def print_table(self, results: list[Result]) -> None:
        width = max(len(r.name) for r in [*results, Result("service", True, "", 0)])
        self.stdout.write(f"{'service'.ljust(width)}  {'status':6}  {'time':>9}  detail")
        for r in results:
            status = self.style.SUCCESS("ok    ") if r.ok else self.style.ERROR("FAILED")
            self.stdout.write(f"{r.name.ljust(width)}  {status}  {r.millis:6.0f} ms  {r.detail}")
