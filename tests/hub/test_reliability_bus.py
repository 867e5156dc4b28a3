"""Slow consumers (G14) and per-device ordering under random interleavings (G15), on the
EventBus directly. tests/hub/test_bus.py has the basic overflow case with a sync subscriber;
here the normal consumer is an async iterator too, episodes repeat, and hypothesis picks
the interleavings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from nukiasync.events import EventSource, Gap, HealthChanged, LockStateChanged, NukiEvent
from nukiasync.hub.bus import EventBus
from tests.soak.harness import percentile

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def event(seq: int, device: int) -> LockStateChanged:
    return LockStateChanged(
        event_id=f"{device}:{seq}",
        received_at=T0,
        source=EventSource.BRIDGE_CALLBACK,
        smartlock_id=device,
        previous_state=1,
        state=3,
        state_name="unlocked",
    )


END = HealthChanged(
    event_id="end", received_at=T0, source=EventSource.HUB, component="test", available=True
)


async def collect(bus: EventBus, ready: asyncio.Event, **options: object) -> list[NukiEvent]:
    """Iterate until END, taking each event as soon as it is there."""
    got: list[NukiEvent] = []
    async with contextlib.aclosing(bus.events(**options)) as events:  # type: ignore[arg-type]
        ready.set()
        async for item in events:
            if item.event_id == "end":
                return got
            got.append(item)
    return got  # pragma: no cover


async def test_ten_thousand_events_two_episodes(caplog) -> None:
    """G14: publisher never blocks; the normal iterator gets 10,000 in order; the stalled one
    loses the oldest, is warned about once per episode and gets a Gap each time."""
    bus = EventBus()
    ready = asyncio.Event()
    normal = asyncio.create_task(collect(bus, ready), name="normal-consumer")
    await ready.wait()
    stalled = bus.events(maxsize=100)
    first = asyncio.ensure_future(anext(stalled))
    await asyncio.sleep(0)  # let it subscribe and wait
    durations: list[float] = []
    with caplog.at_level(logging.WARNING, logger="nukiasync.hub.bus"):
        for n in range(10_000):
            t0 = time.perf_counter()
            bus.publish(event(n, n % 3))
            durations.append(time.perf_counter() - t0)
            if n % 100 == 99:
                await asyncio.sleep(0)  # the normal consumer's turn; the stalled one: one step
        # It took the first event at the first yield, and nothing after.
        assert (await asyncio.wait_for(first, 1)).event_id == "0:0"
        gap = await anext(stalled)
        assert isinstance(gap, Gap)
        assert gap.dropped == 10_000 - 1 - 100
        caught_up = [(await anext(stalled)).event_id for _ in range(100)]
        assert caught_up == [f"{n % 3}:{n}" for n in range(9_900, 10_000)]
        warnings_first = caplog.text.count("too slow")
        for n in range(10_000, 10_500):  # the second episode
            bus.publish(event(n, n % 3))
        bus.publish(END)
        got = await asyncio.wait_for(normal, 2)
        second = await anext(stalled)
    p99 = percentile(durations, 0.99) * 1e6
    print(  # noqa: T201
        f"\nG14: publish p99 {p99:.1f} us, max {max(durations) * 1e6:.0f} us; "
        f"dropped {bus.stats.dropped}; warnings {caplog.text.count('too slow')}"
    )
    assert p99 < 1000  # < 1 ms
    assert [e.event_id for e in got] == [f"{n % 3}:{n}" for n in range(10_500)]
    assert warnings_first == 1
    assert caplog.text.count("too slow") == 2
    assert isinstance(second, Gap)
    assert second.dropped == 501 - 100  # 500 events and END into a queue of 100
    assert bus.stats.dropped == gap.dropped + second.dropped
    rest = [(await anext(stalled)).event_id for _ in range(100)]
    assert rest[-1] == "end"
    await stalled.aclose()
    assert bus.stats.subscribers == 0


@st.composite
def interleavings(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Publish to one of 3 devices, or let the consumers run a step."""
    steps = st.one_of(
        st.tuples(st.just("publish"), st.integers(0, 2)),
        st.tuples(st.just("yield"), st.integers(1, 3)),
    )
    return draw(st.lists(steps, min_size=1, max_size=120))


def end_marker(device: int) -> LockStateChanged:
    """What stops a consumer that only sees one device (END is a hub event)."""
    return LockStateChanged(
        event_id="end",
        received_at=T0,
        source=EventSource.HUB,
        smartlock_id=device,
        previous_state=1,
        state=1,
        state_name="locked",
    )


async def scenario(steps: list[tuple[str, int]], sizes: tuple[int, ...]) -> None:
    bus = EventBus()
    everything: list[NukiEvent] = []
    bus.subscribe(everything.append)
    consumers = []
    for i, size in enumerate(sizes):
        ready = asyncio.Event()
        device = 1 if i == len(sizes) - 1 else None  # the last one filters one device
        task = asyncio.create_task(
            collect(bus, ready, maxsize=size, smartlock_id=device), name=f"consumer-{i}"
        )
        await ready.wait()
        consumers.append((task, device))
    counters = [0, 0, 0]
    for kind, value in steps:
        if kind == "publish":
            bus.publish(event(counters[value], value))
            counters[value] += 1
        else:
            for _ in range(value):
                await asyncio.sleep(0)  # a consumer step
    bus.publish(END)
    bus.publish(end_marker(1))
    assert [e.event_id for e in everything[:-2]] == [f"{d}:{n}" for d, n in published_order(steps)]
    for task, device in consumers:
        got = await asyncio.wait_for(task, 2)
        published = {d: counters[d] for d in range(3) if device is None or d == device}
        check_order(got, published, device)


def published_order(steps: list[tuple[str, int]]) -> list[tuple[int, int]]:
    counters = [0, 0, 0]
    order = []
    for kind, value in steps:
        if kind == "publish":
            order.append((value, counters[value]))
            counters[value] += 1
    return order


def check_order(got: list[NukiEvent], published: dict[int, int], device: int | None) -> None:
    """Per device: increasing, no holes except where a Gap stands, nothing invented."""
    expected_next = dict.fromkeys(published, 0)
    pending_gap = 0
    announced = 0
    received = 0
    for item in got:
        if isinstance(item, Gap):
            pending_gap += item.dropped
            announced += item.dropped
            continue
        received += 1
        sid = item.smartlock_id
        assert sid is not None
        assert device is None or sid == device
        seq = int(item.event_id.split(":")[1])
        skipped = seq - expected_next[sid]
        assert skipped >= 0, "out of order"
        assert skipped <= pending_gap, "a hole no Gap announced"
        pending_gap -= skipped
        expected_next[sid] = seq + 1
    assert received + announced == sum(published.values()), "lost without a Gap"


@settings(max_examples=150, deadline=None, database=None)
@given(
    interleavings(), st.lists(st.integers(2, 8), min_size=1, max_size=3)
)  # 2: both end markers fit
def test_per_device_order_under_random_interleavings(
    steps: list[tuple[str, int]], sizes: list[int]
) -> None:
    """G15: each consumer sees each device's events in order, holes only behind a Gap."""
    asyncio.run(scenario(steps, (*sizes, 4)))
