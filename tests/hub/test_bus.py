"""The event bus: order, filters, isolation of failing subscribers, overflow with a Gap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

import pytest

from nukiasync.events import (
    EventSource,
    Gap,
    HealthChanged,
    LockStateChanged,
    NukiEvent,
    event_to_dict,
    stable_id,
)
from nukiasync.hub.bus import EventBus

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def state_event(n: int, smartlock_id: int = 1) -> LockStateChanged:
    return LockStateChanged(
        event_id=f"e{n}",
        received_at=T0,
        source=EventSource.BRIDGE_CALLBACK,
        smartlock_id=smartlock_id,
        previous_state=1,
        state=3,
        state_name="unlocked",
    )


def health() -> HealthChanged:
    return HealthChanged(
        event_id="h", received_at=T0, source=EventSource.HUB, component="bridge", available=True
    )


def test_subscribe_filters_and_unsubscribes() -> None:
    bus = EventBus()
    everything: list[NukiEvent] = []
    lock2: list[NukiEvent] = []
    healthy: list[NukiEvent] = []
    stop = bus.subscribe(everything.append)
    bus.subscribe(lock2.append, smartlock_id=2)
    bus.subscribe(healthy.append, types=[HealthChanged])
    bus.publish(state_event(1, 1))
    bus.publish(state_event(2, 2))
    bus.publish(health())
    stop()
    bus.publish(state_event(3, 2))
    assert [e.event_id for e in everything] == ["e1", "e2", "h"]
    assert [e.event_id for e in lock2] == ["e2", "e3"]
    assert [e.event_id for e in healthy] == ["h"]
    stop()  # twice is harmless
    assert bus.stats.published == 4


def test_failing_subscriber_does_not_affect_others(caplog) -> None:
    bus = EventBus()
    got: list[NukiEvent] = []

    def broken(event: NukiEvent) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(got.append)
    with caplog.at_level(logging.ERROR):
        bus.publish(state_event(1))
    assert len(got) == 1
    assert bus.stats.subscriber_errors == 1
    assert "subscriber failed" in caplog.text


def test_coroutine_callbacks_are_refused() -> None:
    async def handler(event: NukiEvent) -> None:
        return None

    with pytest.raises(TypeError, match="events"):
        EventBus().subscribe(handler)  # type: ignore[arg-type]


async def test_iterator_gets_events_in_order_and_cleans_up() -> None:
    bus = EventBus()

    async def consume() -> list[str]:
        out: list[str] = []
        async with contextlib.aclosing(bus.events()) as events:
            async for event in events:
                out.append(event.event_id)
                if len(out) == 3:
                    break
        return out

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)  # let the consumer subscribe
    for n in range(3):
        bus.publish(state_event(n))
    assert await asyncio.wait_for(task, 1) == ["e0", "e1", "e2"]
    assert bus.stats.subscribers == 0


async def test_slow_consumer_never_blocks_and_gets_a_gap(caplog) -> None:
    """G14: 10,000 events, one consumer that does not read, one that does."""
    bus = EventBus()
    fast: list[str] = []
    bus.subscribe(lambda e: fast.append(e.event_id))
    slow = bus.events(maxsize=100)
    first = asyncio.ensure_future(anext(slow))
    await asyncio.sleep(0)
    worst = 0.0
    with caplog.at_level(logging.WARNING):
        for n in range(10_000):
            start = time.perf_counter()
            bus.publish(state_event(n))
            worst = max(worst, time.perf_counter() - start)
    assert worst < 0.01
    assert fast == [f"e{n}" for n in range(10_000)]
    # The slow one was waiting when the flood began, but never ran during it.
    gap = await asyncio.wait_for(first, 1)
    assert isinstance(gap, Gap)
    assert gap.reason == "consumer_overflow"
    assert gap.dropped == 10_000 - 100
    rest = [(await anext(slow)).event_id for _ in range(100)]
    assert rest == [f"e{n}" for n in range(9_900, 10_000)]
    assert bus.stats.dropped == gap.dropped
    assert caplog.text.count("too slow") == 1
    await slow.aclose()


async def test_taken_watermark_tracks_the_slowest_consumer() -> None:
    bus = EventBus()
    events = bus.events()
    waiter = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    bus.publish(state_event(1))
    bus.publish(state_event(2))
    assert bus.taken_watermark() == 0
    await asyncio.wait_for(waiter, 1)
    assert bus.taken_watermark() == 1
    await anext(events)
    assert bus.taken_watermark() == 2 == bus.sequence
    await events.aclose()


async def test_wait_for() -> None:
    bus = EventBus()
    task = asyncio.ensure_future(bus.wait_for(lambda e: e.event_id == "e2", timeout=1))
    await asyncio.sleep(0)
    bus.publish(state_event(1))
    bus.publish(state_event(2))
    assert (await task).event_id == "e2"
    with pytest.raises(TimeoutError):
        await bus.wait_for(lambda e: False, timeout=0.01)
    assert bus.stats.subscribers == 0


async def test_events_rejects_bad_maxsize() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        await anext(EventBus().events(maxsize=0))


def test_stable_ids_and_json() -> None:
    assert stable_id("attr", "log1") == stable_id("attr", "log1")
    assert stable_id("attr", "log1") != stable_id("attr", "log2")
    data = event_to_dict(state_event(1))
    assert data["type"] == "LockStateChanged"
    assert data["received_at"] == T0.isoformat()
    assert data["source"] == "bridge_callback"
