"""Listen to what Nuki locks publish on the owner's MQTT broker.

One subscription (``nuki/+/+``) covers every lock on the broker. Each message becomes a
`DeviceMessage` with a parsed value; what the broker delivers as retained when we subscribe
is the state the lock was already in, not a change, and is marked so. Malformed messages are
counted and dropped at DEBUG without their payload; topics we do not read are counted as
ignored. The feed reconnects after a broker restart and reports each loss and return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from nukiasync.clock import utcnow
from nukiasync.errors import NukiMqttMessageError
from nukiasync.mqtt.broker import LinkStats, MqttSettings, honour_cancel, run_sessions
from nukiasync.mqtt.messages import (
    STATE_TOPICS,
    TOPIC_ROOT,
    parse_lock_action_event,
    parse_state_value,
    parse_topic,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import aiomqtt

_LOGGER = logging.getLogger(__name__)

LOCK_ACTION_EVENT = "lockActionEvent"


@attrs.frozen(kw_only=True)
class DeviceMessage:
    """One value a lock published: ``name`` is the topic's last level."""

    nuki_id: int
    name: str
    value: object
    retained: bool
    received_at: datetime


@attrs.define(kw_only=True)
class FeedStats:
    """Accounting: received = delivered + malformed + ignored."""

    received: int = 0
    delivered: int = 0
    malformed: int = 0
    ignored: int = 0


class LockFeed:
    """Subscribes to the locks' topics and hands each parsed message to ``handler``."""

    def __init__(
        self,
        settings: MqttSettings,
        handler: Callable[[DeviceMessage], None],
        *,
        root: str = TOPIC_ROOT,
        clock: Callable[[], datetime] = utcnow,
        on_health: Callable[[bool, str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._handler = handler
        self._root = root
        self._clock = clock
        self._on_health = on_health or (lambda _ok, _detail: None)
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._connected_detail = ""
        self.stats = FeedStats()
        self.link = LinkStats()

    def __repr__(self) -> str:
        return f"LockFeed(broker={self._settings.origin!r})"

    async def start(self) -> None:
        """Connect and subscribe in the background; `wait_subscribed` tells when it is done."""
        if self._task is None:
            self._task = asyncio.create_task(
                run_sessions(
                    self._settings,
                    self._session,
                    self.link,
                    on_health=self._link_health,
                    sleep=self._sleep,
                ),
                name=f"nukiasync-mqtt-feed-{self._settings.origin}",
            )

    async def wait_subscribed(self) -> None:
        """Return once the feed is subscribed (wrap it in ``asyncio.timeout``)."""
        await self._subscribed.wait()

    async def close(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _link_health(self, available: bool, detail: str) -> None:
        """A lost link is news at once; a new one only once subscribed (messages flow then)."""
        if available:
            self._connected_detail = detail
        else:
            self._on_health(available, detail)

    async def _session(self, client: aiomqtt.Client) -> None:
        try:
            await client.subscribe(f"{self._root}/+/+", qos=1)
            honour_cancel()
            self._subscribed.set()
            self._on_health(True, self._connected_detail)  # noqa: FBT003  (the callback type)
            async for message in client.messages:
                self.feed(str(message.topic), message.payload, retained=bool(message.retain))
        finally:
            self._subscribed.clear()

    def feed(self, topic: str, payload: object, *, retained: bool = False) -> DeviceMessage | None:
        """Parse one message and hand it on; also the seam for tests and other transports."""
        self.stats.received += 1
        try:
            ref = parse_topic(topic)
            if not isinstance(payload, bytes | str):
                payload = b"" if payload is None else str(payload)
            if ref.name == LOCK_ACTION_EVENT:
                value: object = parse_lock_action_event(payload)
            elif ref.name in STATE_TOPICS:
                value = parse_state_value(ref.name, payload)
            else:
                self.stats.ignored += 1
                return None
        except NukiMqttMessageError as err:
            self.stats.malformed += 1
            _LOGGER.debug("Dropped an MQTT message on %s: %s", topic[:80], err.reason)
            return None
        message = DeviceMessage(
            nuki_id=ref.nuki_id,
            name=ref.name,
            value=value,
            retained=retained,
            received_at=self._clock(),
        )
        self.stats.delivered += 1
        self._handler(message)
        return message
