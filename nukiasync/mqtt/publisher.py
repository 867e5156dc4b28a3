"""Export the hub's events to an MQTT broker, for Node-RED, openHAB or another host.

Every event goes as JSON to ``<prefix>/<smartlock_id>/event`` (``<prefix>/hub/event`` for
hub-wide ones, QoS 1); the last state of each device is also kept, retained, on
``<prefix>/<smartlock_id>/state``, so a consumer that connects later reads it at once.

The publisher is a hub subscriber: taking an event never waits. Events wait in a bounded
buffer and leave it only when the broker acknowledged them, so a broker restart loses nothing
the buffer held; when the buffer is full the oldest event is dropped and counted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from typing import TYPE_CHECKING

import attrs

from nukiasync.events import LockStateChanged, NukiEvent, event_to_dict
from nukiasync.mqtt.broker import (
    LinkStats,
    MqttSettings,
    honour_cancel,
    load_aiomqtt,
    run_sessions,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import aiomqtt

_LOGGER = logging.getLogger(__name__)

DEFAULT_PREFIX = "nukiasync"
DEFAULT_BUFFER = 1000


@attrs.define(kw_only=True)
class PublisherStats:
    """Accounting: taken = published + dropped + still buffered."""

    taken: int = 0
    published: int = 0
    dropped: int = 0


class EventPublisher:
    """Publishes hub events to MQTT; pass it to ``hub.subscribe``."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        prefix: str = DEFAULT_PREFIX,
        buffer: int = DEFAULT_BUFFER,
        on_health: Callable[[bool, str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if buffer < 1:
            msg = "buffer must hold at least one event"
            raise ValueError(msg)
        self._settings = settings
        self._prefix = prefix.strip("/") or DEFAULT_PREFIX
        self._buffer: collections.deque[tuple[str, bytes, bool]] = collections.deque()
        self._limit = buffer
        self._on_health = on_health or (lambda _ok, _detail: None)
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._in_flight = False
        self._task: asyncio.Task[None] | None = None
        self.stats = PublisherStats()
        self.link = LinkStats()

    def __repr__(self) -> str:
        return f"EventPublisher(broker={self._settings.origin!r}, prefix={self._prefix!r})"

    @property
    def buffered(self) -> int:
        """Events waiting for the broker."""
        return len(self._buffer)

    def __call__(self, event: NukiEvent) -> None:
        """Take one event (a hub subscriber): never blocks, never raises."""
        self.stats.taken += 1
        device = "hub" if event.smartlock_id is None else str(event.smartlock_id)
        payload = json.dumps(event_to_dict(event), sort_keys=True).encode()
        self._put((f"{self._prefix}/{device}/event", payload, False))
        if isinstance(event, LockStateChanged):
            self._put((f"{self._prefix}/{device}/state", payload, True))

    def _put(self, item: tuple[str, bytes, bool]) -> None:
        if len(self._buffer) >= self._limit:
            self._count_drop()
            # The oldest event not already on its way to the broker goes.
            if not self._in_flight:
                self._buffer.popleft()
            elif len(self._buffer) > 1:
                del self._buffer[1]
            else:
                return  # the only slot is in flight: the new event is the one dropped
        self._buffer.append(item)
        self._drained.clear()
        self._wake.set()

    def _count_drop(self) -> None:
        self.stats.dropped += 1
        if self.stats.dropped == 1 or self.stats.dropped % 100 == 0:
            _LOGGER.warning("MQTT export buffer full: %d events dropped", self.stats.dropped)

    async def start(self) -> None:
        """Start publishing in the background (connects, and reconnects, by itself)."""
        if self._task is None:
            self._task = asyncio.create_task(
                run_sessions(
                    self._settings,
                    self._session,
                    self.link,
                    on_health=self._on_health,
                    sleep=self._sleep,
                ),
                name=f"nukiasync-mqtt-publish-{self._settings.origin}",
            )

    async def wait_drained(self) -> None:
        """Return once the broker acknowledged everything taken (wrap it in a timeout)."""
        await self._drained.wait()

    async def close(self, *, flush_timeout: float = 2.0) -> None:
        """Publish what is buffered (within ``flush_timeout``), then stop; the rest is counted."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained.wait(), flush_timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self.stats.dropped += len(self._buffer)
        self._buffer.clear()

    async def _session(self, client: aiomqtt.Client) -> None:
        # Nothing tells an idle publisher that the broker went away but a pending read.
        watch = asyncio.create_task(self._watch(client), name="nukiasync-mqtt-publish-watch")
        try:
            while True:
                if not self._buffer:
                    await self._idle(watch)
                    continue
                topic, payload, retain = self._buffer[0]
                # QoS 1 waits for the broker's acknowledgement: only then is the event gone.
                self._in_flight = True
                try:
                    await client.publish(topic, payload, qos=1, retain=retain)
                finally:
                    self._in_flight = False
                self._buffer.popleft()
                self.stats.published += 1
                honour_cancel()  # after the count: the broker has it
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watch

    async def _idle(self, watch: asyncio.Task[None]) -> None:
        """Wait for the next event, or raise the watcher's error when the broker is lost."""
        self._drained.set()
        self._wake.clear()
        waiter = asyncio.create_task(self._wake.wait(), name="nukiasync-mqtt-publish-wake")
        try:
            await asyncio.wait({waiter, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        if watch.done():
            watch.result()  # the broker's MqttError starts the next session

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        async for _message in client.messages:
            pass  # we subscribe to nothing; the loop ends with the connection
        msg = "the broker closed the connection"
        raise load_aiomqtt().MqttError(msg)
