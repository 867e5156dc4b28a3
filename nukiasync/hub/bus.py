"""The event bus: sync subscribers and bounded async iterators, never blocking the publisher.

A slow iterator loses its *oldest* events, never the publisher's time: the loss is counted,
warned about once per episode, and announced to that consumer by a `Gap` event.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Callable, Collection
from typing import TYPE_CHECKING

import attrs

from nukiasync.clock import utcnow
from nukiasync.events import EventSource, Gap, NukiEvent, stable_id

if TYPE_CHECKING:
    from datetime import datetime

_LOGGER = logging.getLogger(__name__)

# Room for a burst of a few hundred events while a consumer awaits something else.
DEFAULT_QUEUE_SIZE = 1000

EventCallback = Callable[[NukiEvent], None]


@attrs.frozen(kw_only=True)
class BusStats:
    """Counters of the bus, for diagnostics and the accounting tests."""

    published: int
    delivered: int
    dropped: int
    subscriber_errors: int
    subscribers: int


class _Subscriber:
    """One consumer: a filter, and either a sync callback or a bounded queue."""

    def __init__(
        self,
        *,
        smartlock_id: int | None,
        types: tuple[type[NukiEvent], ...] | None,
        callback: EventCallback | None = None,
        maxsize: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self.smartlock_id = smartlock_id
        self.types = types
        self.callback = callback
        self.maxsize = maxsize
        self.queue: collections.deque[tuple[int, NukiEvent]] = collections.deque()
        self.wakeup = asyncio.Event()
        self.dropped_in_episode = 0
        self.gap_since: datetime | None = None

    def wants(self, event: NukiEvent) -> bool:
        if self.smartlock_id is not None and event.smartlock_id != self.smartlock_id:
            return False
        return self.types is None or isinstance(event, self.types)


class EventBus:
    """Fan-out of events to subscribers, in publish order for each of them."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._subscribers: list[_Subscriber] = []
        self._clock = clock or utcnow
        self._seq = 0
        self._published = 0
        self._delivered = 0
        self._dropped = 0
        self._errors = 0

    @property
    def stats(self) -> BusStats:
        """A snapshot of the counters."""
        return BusStats(
            published=self._published,
            delivered=self._delivered,
            dropped=self._dropped,
            subscriber_errors=self._errors,
            subscribers=len(self._subscribers),
        )

    @property
    def sequence(self) -> int:
        """Sequence number of the newest published event."""
        return self._seq

    def taken_watermark(self) -> int:
        """Newest sequence number that every current consumer has taken."""
        pending = [sub.queue[0][0] - 1 for sub in self._subscribers if sub.queue]
        return min([self._seq, *pending])

    def subscribe(
        self,
        callback: EventCallback,
        *,
        smartlock_id: int | None = None,
        types: Collection[type[NukiEvent]] | None = None,
    ) -> Callable[[], None]:
        """Call ``callback(event)`` in the event loop for each matching event.

        The callback must be a plain function: one that raises is logged and the others
        still run. Returns a function that unsubscribes.

        Raises:
            TypeError: the callback is a coroutine function (use `events()` instead).
        """
        if asyncio.iscoroutinefunction(callback):
            msg = "subscribe() takes a plain function; iterate events() for async code"
            raise TypeError(msg)
        sub = _Subscriber(
            smartlock_id=smartlock_id,
            types=tuple(types) if types is not None else None,
            callback=callback,
        )
        self._subscribers.append(sub)
        return lambda: self._remove(sub)

    async def events(
        self,
        *,
        smartlock_id: int | None = None,
        types: Collection[type[NukiEvent]] | None = None,
        maxsize: int = DEFAULT_QUEUE_SIZE,
    ) -> AsyncIterator[NukiEvent]:
        """Iterate matching events from now on; wrap in `contextlib.aclosing` to stop cleanly."""
        if maxsize < 1:
            msg = "maxsize must be at least 1"
            raise ValueError(msg)
        sub = _Subscriber(
            smartlock_id=smartlock_id,
            types=tuple(types) if types is not None else None,
            maxsize=maxsize,
        )
        self._subscribers.append(sub)
        try:
            while True:
                if not sub.queue:
                    sub.wakeup.clear()
                    await sub.wakeup.wait()
                    continue
                if sub.dropped_in_episode:
                    yield self._gap_for(sub)
                    continue
                _, event = sub.queue.popleft()
                self._delivered += 1
                yield event
        finally:
            self._remove(sub)

    def publish(self, event: NukiEvent) -> None:
        """Hand an event to every matching subscriber; never blocks, never raises."""
        self._seq += 1
        self._published += 1
        for sub in tuple(self._subscribers):
            if not sub.wants(event):
                continue
            if sub.callback is not None:  # called here, not through a helper: see hub.py
                try:
                    sub.callback(event)
                except Exception:
                    self._errors += 1
                    _LOGGER.exception("An event subscriber failed on %s", type(event).__name__)
                else:
                    self._delivered += 1
                continue
            if len(sub.queue) >= sub.maxsize:
                sub.queue.popleft()
                self._dropped += 1
                if not sub.dropped_in_episode:
                    sub.gap_since = self._clock()
                    _LOGGER.warning(
                        "An event consumer is too slow: dropping its oldest events "
                        "(queue of %d full); it will receive a Gap event",
                        sub.maxsize,
                    )
                sub.dropped_in_episode += 1
            sub.queue.append((self._seq, event))
            sub.wakeup.set()

    async def wait_for(
        self,
        predicate: Callable[[NukiEvent], bool],
        *,
        timeout: float,  # noqa: ASYNC109  (the documented API: wait_for(predicate, timeout=...))
        smartlock_id: int | None = None,
    ) -> NukiEvent:
        """Wait for the first event (from now on) that matches ``predicate``.

        Raises:
            TimeoutError: nothing matched within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        found: asyncio.Future[NukiEvent] = loop.create_future()

        def check(event: NukiEvent) -> None:
            if not found.done() and predicate(event):
                found.set_result(event)

        unsubscribe = self.subscribe(check, smartlock_id=smartlock_id)
        try:
            async with asyncio.timeout(timeout):
                return await found
        finally:
            unsubscribe()

    def _gap_for(self, sub: _Subscriber) -> Gap:
        dropped, sub.dropped_in_episode = sub.dropped_in_episode, 0
        now = self._clock()
        return Gap(
            event_id=stable_id("gap", id(sub), self._seq, dropped),
            received_at=now,
            source=EventSource.HUB,
            reason="consumer_overflow",
            dropped=dropped,
            since=sub.gap_since,
            until=now,
            smartlock_id=sub.smartlock_id,
        )

    def _remove(self, sub: _Subscriber) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
