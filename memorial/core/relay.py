"""One channel-layer subscription per daphne process and group, fanned out in memory.

With channels_redis every websocket consumer has its own channel, so a ``group_send`` to a group
with 1,000 subscribers in one daphne process writes 1,000 Redis messages that the process then
reads and dispatches one by one (about 0.4 ms of CPU each). The relay instead joins the group
with one channel of its own, the first time a local socket subscribes to it, reads that channel
in one task, and hands each message to the local sockets: one Redis message per process per
event, and the JSON text made once per message and kind of reader (a language), not per socket.

Why a channel per group rather than one per process: a message delivered by ``group_send`` does
not say which group it was sent to, and a job's progress goes to two groups (the job's and its
memorial's); a single channel in both would receive two copies it could not tell apart. All of
a process's channels are still read by channels_redis with one blocking Redis read.

Redis restarts: a reader that fails waits, then the relay adds every channel to its group again
(a non-persistent Redis forgets groups); every ``REFRESH`` seconds it does so anyway, which also
keeps long-lived memberships from reaching the layer's ``group_expiry``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Hashable
from typing import Any, Protocol

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

#: Seconds between re-adding every channel to its group (Redis restarts, group_expiry).
REFRESH = 30.0
#: Seconds to wait before rejoining after a failed read, doubled up to ``RETRY_MAX``.
RETRY_FIRST, RETRY_MAX = 0.5, 5.0


class Listener(Protocol):
    """A local socket: what the relay needs of a consumer."""

    def frame_key(self) -> Hashable:
        """Readers of one class with equal keys get the same text (e.g. the reader's language)."""

    def frame(self, message: dict[str, Any]) -> str | None:
        """The websocket text for a channel-layer message (``None``: nothing to send)."""

    async def push(self, text: str) -> None:
        """Send the text (or hold it until the socket's first messages are out)."""


class _Group:
    """One group joined by this process: its channel, reader task and local listeners."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.channel: str | None = None
        self.listeners: set[Listener] = set()
        self.ready: asyncio.Future | None = None
        self.reader: asyncio.Task | None = None
        self.closed = False


class Subscription:
    """A listener's place in a group; :meth:`close` is synchronous and idempotent, so it can
    run in a ``finally`` of a cancelled consumer."""

    def __init__(self, relay: Relay, group: _Group, listener: Listener) -> None:
        self._relay, self._group, self._listener = relay, group, listener

    def close(self) -> None:
        self._relay._leave(self._group, self._listener)


class Relay:
    """The per-process (per event loop) relay; use :func:`relay`."""

    def __init__(self, alias: str = "default") -> None:
        self.layer = get_channel_layer(alias)
        self._groups: dict[str, _Group] = {}
        self._background: set[asyncio.Task] = set()
        self._recovery: asyncio.Task | None = None
        self._refresher: asyncio.Task | None = None
        self._stale: set[tuple[str, str]] = set()  # (group, channel) not yet discarded

    # --- membership ---------------------------------------------------------------------------

    async def subscribe(self, name: str, listener: Listener) -> Subscription:
        """Add a local listener to ``name``; joins the group first when it is the first one.
        Raises what the channel layer raises (then nothing is left behind)."""
        group = self._groups.get(name)
        if group is None or _failed(group.ready):
            group = self._groups[name] = _Group(name)
            group.ready = asyncio.ensure_future(self._open(group))
        group.listeners.add(listener)
        subscription = Subscription(self, group, listener)
        try:
            await asyncio.shield(group.ready)
        except BaseException:
            subscription.close()
            raise
        self._start_refresher()
        return subscription

    def _leave(self, group: _Group, listener: Listener) -> None:
        group.listeners.discard(listener)
        if group.listeners or group.closed:
            return
        group.closed = True
        if self._groups.get(group.name) is group:
            del self._groups[group.name]
        if group.reader is not None:
            group.reader.cancel()
            self._spawn(self._discard(group.name, group.channel))
        # Still joining: _open leaves the group itself once its group_add is done.

    async def _open(self, group: _Group) -> None:
        group.channel = await self.layer.new_channel()
        await self.layer.group_add(group.name, group.channel)
        if group.closed:
            await self._discard(group.name, group.channel)
        else:
            group.reader = asyncio.ensure_future(self._read(group))

    async def _discard(self, name: str, channel: str) -> None:
        try:
            await self.layer.group_discard(name, channel)
            self._stale.discard((name, channel))
        except Exception:  # retried by the refresher; group_expiry ends it at the latest
            self._stale.add((name, channel))
            log.info("could not leave group %s now; will retry", name, exc_info=True)

    # --- delivery -----------------------------------------------------------------------------

    async def _read(self, group: _Group) -> None:
        while True:
            try:
                message = await self.layer.receive(group.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("relay for %s lost the channel layer; rejoining", group.name)
                await self._recover()
                continue
            await self._deliver(group, message)

    async def _deliver(self, group: _Group, message: dict[str, Any]) -> None:
        texts: dict[Hashable, str | None] = {}
        for listener in list(group.listeners):
            try:
                key = (type(listener), listener.frame_key())
                if key not in texts:
                    texts[key] = listener.frame(message)
                text = texts[key]
                if text is not None and listener in group.listeners:
                    await listener.push(text)
            except Exception:  # one broken socket must not starve the others
                log.warning("could not relay a message on %s", group.name, exc_info=True)

    # --- Redis restarts and group expiry --------------------------------------------------------

    async def _recover(self) -> None:
        """Wait until every joined channel is in its group again (one attempt loop for all)."""
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.ensure_future(self._rejoin_until_done())
        await asyncio.shield(self._recovery)

    async def _rejoin_until_done(self) -> None:
        delay = RETRY_FIRST
        while True:
            await asyncio.sleep(delay)
            try:
                await self._rejoin()
                log.info("relay rejoined %d group(s)", len(self._groups))
                return
            except Exception:
                delay = min(delay * 2, RETRY_MAX)

    async def _rejoin(self) -> None:
        for group in list(self._groups.values()):
            if group.reader is not None and not group.closed:
                await self.layer.group_add(group.name, group.channel)
                if group.closed:  # its last socket left meanwhile: leave again
                    await self._discard(group.name, group.channel)
        for name, channel in list(self._stale):
            await self._discard(name, channel)

    def _start_refresher(self) -> None:
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.ensure_future(self._refresh())

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH)
            try:
                await self._rejoin()
            except Exception:
                log.warning("relay could not refresh its groups; retrying", exc_info=True)
                await self._recover()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _failed(future: asyncio.Future | None) -> bool:
    return future is not None and future.done() and (future.cancelled() or bool(future.exception()))


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay] = weakref.WeakKeyDictionary()


def relay() -> Relay:
    """This process's relay for the running event loop (daphne has one)."""
    loop = asyncio.get_running_loop()
    found = _relays.get(loop)
    if found is None:
        found = _relays[loop] = Relay()
    return found


class RelayedConsumer:
    """Mixin for an ``AsyncWebsocketConsumer`` whose group messages come through the relay.

    It has no channel of its own (``channel_layer_alias = None``: Channels then gives it no
    layer, so a Redis outage does not end the socket either; the relay rejoins). Texts that
    arrive before the consumer has sent its first messages (accept, current state) are held and
    sent after them, by :meth:`relay_live`. Subclasses define ``frame_key`` and ``frame``."""

    channel_layer_alias = None
    _subscription: Subscription | None = None
    _held: list[str] | None = None

    async def relay_subscribe(self, group: str) -> None:
        self._held = []
        self._subscription = await relay().subscribe(group, self)

    async def relay_live(self) -> None:
        """Send what was held, then send each text as it comes."""
        while self._held:
            await self.send(text_data=self._held.pop(0))
        self._held = None  # no await since the loop's last check: nothing can slip in between

    async def push(self, text: str) -> None:
        if self._held is not None:
            self._held.append(text)
        else:
            await self.send(text_data=text)

    def relay_unsubscribe(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # also when daphne cancels the consumer without a disconnect
            self.relay_unsubscribe()
