"""B2: from a bridge callback to the subscriber's `LockStateChanged`, in process.

A world with 10 locks (the simulated bridge and Web API on loopback) and a hub on it as users
wire it (Web API and bridge, ``confirm="background"``, default timing), fed through
``hub.handle_callback(body, remote)``, the seam the `CallbackServer` and a Home Assistant
webhook share. Each callback flips one lock between locked and unlocked (distinct states;
the simulated bridge is flipped too, so the background `/list` reads agree) and is timed
from the ``handle_callback`` call to the moment a plain subscriber is called with its
`LockStateChanged`; the next callback goes out after that (closed loop). The path includes
the transport checks, parsing, the receiver's queue and task, the device diff, building the
event and the bus. Two hub rows: ``confirm="off"`` and the default ``"background"`` (its
coalesced ``/list`` reads run in the same loop). Every change is attributable, so the log
watcher holds them all pending meanwhile (its first read comes 2 s after a change).

Baselines in the same run: the bare `EventBus` publish to a plain subscriber (a prebuilt
event), and that publish behind one `asyncio.Queue` hop to a task (the least any hand-off
off the request path costs). Goal: p99 < 2 ms.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench._harness import Result, goal, median, percentile, print_table
from bench._rig import build_world, quick_knobs, running_hub
from nukiasync.const import LockState
from nukiasync.events import EventSource, LockStateChanged, StateCorrected
from nukiasync.hub.bus import EventBus

if TYPE_CHECKING:
    from nukiasync.hub import ConfirmPolicy

LOCKS = 10
CALLBACKS = 5000
QUICK_CALLBACKS = 1000
WARMUP = 200
GOAL_P99_MS = 2.0
TIMEOUT = 5.0  # s for one event to arrive


def _event(n: int) -> LockStateChanged:
    return LockStateChanged(
        event_id=f"bench-{n}",
        received_at=datetime.now(UTC),
        source=EventSource.BRIDGE_CALLBACK,
        smartlock_id=1000 + n % LOCKS,
        previous_state=1 + n % 2,
        state=1 + (n + 1) % 2,
        state_name="locked",
    )


async def _bare_bus(count: int) -> list[float]:
    bus = EventBus()
    seen: list[float] = []
    bus.subscribe(lambda _event: seen.append(time.perf_counter()))
    sent: list[float] = []
    for n in range(count):
        event = _event(n)
        sent.append(time.perf_counter())
        bus.publish(event)
        await asyncio.sleep(0)  # a yield, as the closed loop below has between callbacks
    return [b - a for a, b in zip(sent, seen, strict=True)]


async def _queue_hop(count: int) -> list[float]:
    bus = EventBus()
    queue: asyncio.Queue[LockStateChanged] = asyncio.Queue()
    arrived = asyncio.Event()
    seen: list[float] = []

    def subscriber(_event: Any) -> None:
        seen.append(time.perf_counter())
        arrived.set()

    bus.subscribe(subscriber)

    async def drain() -> None:
        while True:
            bus.publish(await queue.get())

    task = asyncio.get_running_loop().create_task(drain(), name="bench.b2.queue_hop")
    sent: list[float] = []
    try:
        for n in range(count):
            event = _event(n)
            arrived.clear()
            sent.append(time.perf_counter())
            queue.put_nowait(event)
            async with asyncio.timeout(TIMEOUT):
                await arrived.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return [b - a for a, b in zip(sent, seen, strict=True)]


async def _hub(count: int, confirm: ConfirmPolicy) -> dict[str, Any]:
    world = build_world(locks=LOCKS, people=1, seed=2, knobs=quick_knobs())
    async with running_hub(world, server=False, confirm=confirm) as rig:
        hub = rig.hub
        arrived = asyncio.Event()
        seen: list[float] = []

        def subscriber(_event: Any) -> None:
            seen.append(time.perf_counter())
            arrived.set()

        hub.subscribe(subscriber, types=[LockStateChanged])
        # What the hub believes each lock is, kept from its own events (a correction too).
        known = {d["smartlock_id"]: d["state"] == "locked" for d in hub.diagnostics()["devices"]}

        def believe(event: Any) -> None:
            known[event.smartlock_id] = event.state == LockState.LOCKED

        hub.subscribe(believe, types=[LockStateChanged, StateCorrected])
        sent: list[float] = []
        statuses: set[int] = set()
        for n in range(count):
            device = world.devices[n % LOCKS]
            # Always a change for the hub, even after a correction moved its state.
            locked = known.get(device.smartlock_id, False)
            device.state = LockState.UNLOCKED if locked else LockState.LOCKED
            body = json.dumps(device.callback_body()).encode()
            arrived.clear()
            sent.append(time.perf_counter())
            statuses.add(await hub.handle_callback(body, "127.0.0.1"))
            async with asyncio.timeout(TIMEOUT):
                await arrived.wait()
        diagnostics = hub.diagnostics()
    return {
        "latencies": [b - a for a, b in zip(sent, seen, strict=True)],
        "statuses": sorted(statuses),
        "counters": diagnostics["counters"],
        "pending_at_end": diagnostics["log_watcher"]["pending"],
    }


def _row(name: str, values: list[float], base_p50: float | None) -> list[Any]:
    us = [v * 1e6 for v in values[WARMUP:]]
    p50 = median(us)
    return [
        name,
        len(us),
        p50,
        percentile(us, 99),
        max(us),
        None if base_p50 is None else p50 / base_p50,
    ]


def run(*, quick: bool = False) -> Result:
    """Measure and return the B2 result."""
    count = (QUICK_CALLBACKS if quick else CALLBACKS) + WARMUP
    gc.collect()
    bare = asyncio.run(_bare_bus(count))
    hop = asyncio.run(_queue_hop(count))
    # At thousands of flips a second the background /list reads see states that moved on
    # and correct some: counted below, their WARNING lines kept off the measurement.
    quiet = logging.getLogger("nukiasync")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        hub_off = asyncio.run(_hub(count, "off"))
        hub = asyncio.run(_hub(count, "background"))
    finally:
        quiet.setLevel(level)
    base_row = _row("baseline: bare EventBus.publish -> subscriber", bare, None)
    base_p50 = base_row[2]
    rows = [
        base_row,
        _row("reference: one asyncio.Queue hop, then publish", hop, base_p50),
        _row("hub, confirm='off': handle_callback -> subscriber", hub_off["latencies"], base_p50),
        _row(
            "hub, confirm='background' (default): handle_callback -> subscriber",
            hub["latencies"],
            base_p50,
        ),
    ]
    hub_p99 = rows[3][3] / 1000
    met = hub_p99 < GOAL_P99_MS
    print_table(
        f"B2 callback to LockStateChanged, in process ({count - WARMUP:,} callbacks after "
        f"{WARMUP} warm-up, {LOCKS} locks, closed loop)",
        ["path", "samples", "p50 us", "p99 us", "max us", "x baseline p50"],
        rows,
    )
    print_table(
        "B2 goal",
        ["measure", "value", "goal", "verdict"],
        [["hub p99 ms", round(hub_p99, 3), f"< {GOAL_P99_MS}", goal(met)]],
    )
    return {
        "callbacks": count - WARMUP,
        "warmup": WARMUP,
        "rows": [
            {"path": r[0], "samples": r[1], "p50_us": r[2], "p99_us": r[3], "max_us": r[4]}
            for r in rows
        ],
        "ratio_p50_to_bare_bus": rows[3][5],
        "hub_statuses": hub["statuses"],
        "hub_counters": hub["counters"],
        "hub_off_counters": hub_off["counters"],
        "pending_at_end": hub["pending_at_end"],
        "goals": {"p99 ms": {"value": hub_p99, "goal": f"< {GOAL_P99_MS}", "met": met}},
    }
