"""B8: from a simulated lock's ``lockActionEvent`` publish to its receipt, over a real broker.

A world of four MQTT-only Smart Locks (no bridge; ``World(mqtt_url=...)``, each lock its own
client) publishes to a broker process on 127.0.0.1: mosquitto when it is installed, and amqtt
(the test extra's broker, pure Python) always. One person acts on the locks one after the
other (closed loop: the next action once every listener has the previous event). Each
``lockActionEvent`` is timed from ``time.perf_counter()`` just before the simulated lock's
``publish`` to the moment a listener has it:

- baseline: a bare aiomqtt subscriber on ``nuki/+/+`` (receive time of the message);
- nukiasync's `LockFeed` (parsed, its handler called with the `DeviceMessage`).

All of it runs in one event loop, so both listeners share the same scheduling. Events are
matched to their publish by topic and order (QoS 1 on one connection keeps the order).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._harness import Result, goal, median, percentile, print_table
from bench.b8_hub import hub_row_available, run_hub_row
from nukiasync.const import DeviceType
from nukiasync.mqtt import DeviceMessage, LockFeed, MqttSettings
from nukiasync.simulator import Knobs, World
from tests.support.mqtt_broker import Broker, available, running_broker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import aiomqtt

LOCKS = 4
ACTIONS = 300
QUICK_ACTIONS = 40
WARMUP = 10
TIMEOUT = 5.0
GOAL_P95_MS = 100.0  # the budget from publish to ActionAttributed; the feed is part
EVENT = "lockActionEvent"


class Arrivals:
    """Receipt times per topic, in order, and a way to wait for a count."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.count = 0
        self._changed = asyncio.Event()

    def add(self, topic: str, at: float) -> None:
        self.times.setdefault(topic, []).append(at)
        self.count += 1
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(TIMEOUT):
            while self.count < count:
                self._changed.clear()
                await self._changed.wait()


def world_for(broker: Broker, *, seed: int = 8) -> World:
    """Four MQTT-only locks and one person with the app on each."""
    # No motor time: the state that completes an action follows its lockActionEvent at once,
    # so the hub row measures nukiasync, not a motor (a real one turns for about a second).
    knobs = Knobs(log_lag=0.2, motor_time=0.0, mqtt_reconnect_wait=0.1)
    world = World(seed=seed, knobs=knobs, mqtt_url=broker.url(), owner="Ann")
    names = [f"Door {n}" for n in range(LOCKS)]
    for n, name in enumerate(names):
        world.add_lock(
            name, device_type=DeviceType.SMARTLOCK_3, nuki_id=0x2B000000 + n, bridge=None, mqtt=True
        )
    world.add_person("Ann", email="ann@example.invalid", app=names)
    return world


@contextlib.asynccontextmanager
async def bare_subscriber(broker: Broker, arrivals: Arrivals) -> AsyncIterator[None]:
    """The baseline: aiomqtt alone, the receive time of each ``lockActionEvent``."""
    ready = asyncio.Event()

    async def listen() -> None:
        client: aiomqtt.Client
        async with MqttSettings.from_url(broker.url(), client_id="bench-bare").client() as client:
            await client.subscribe("nuki/+/+", qos=1)
            ready.set()
            async for message in client.messages:
                at = time.perf_counter()
                topic = str(message.topic)
                if topic.endswith("/" + EVENT) and not message.retain:
                    arrivals.add(topic, at)

    task = asyncio.create_task(listen(), name="bench.b8.bare")
    try:
        async with asyncio.timeout(TIMEOUT):
            await ready.wait()
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def feed(broker: Broker, arrivals: Arrivals) -> AsyncIterator[LockFeed]:
    """nukiasync's `LockFeed`: the time its handler has the parsed event."""

    def handler(message: DeviceMessage) -> None:
        if message.name == EVENT and not message.retained:
            arrivals.add(f"nuki/{message.nuki_id:08X}/{EVENT}", time.perf_counter())

    lock_feed = LockFeed(MqttSettings.from_url(broker.url(), client_id="bench-feed"), handler)
    await lock_feed.start()
    try:
        async with asyncio.timeout(TIMEOUT):
            await lock_feed.wait_subscribed()
        yield lock_feed
    finally:
        await lock_feed.close()


def latencies(world: World, arrivals: Arrivals) -> list[float]:
    """Seconds from each publish to its receipt, matched by topic and order."""
    sent: dict[str, list[float]] = {}
    for message in world.mqtt.action_events():
        sent.setdefault(message.topic, []).append(message.perf)
    found: list[tuple[float, float]] = []
    for topic, published in sent.items():
        received = arrivals.times.get(topic, [])
        found += list(zip(published, received, strict=False))
    found.sort()
    return [got - put for put, got in found][WARMUP:]


async def _measure(kind: str, actions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-b8-") as workdir:
        async with running_broker(kind, Path(workdir)) as broker:
            world = world_for(broker)
            bare, fed = Arrivals(), Arrivals()
            async with world, bare_subscriber(broker, bare), feed(broker, fed) as lock_feed:
                await world.wait_until(lambda: world.mqtt.connected, deadline=TIMEOUT)
                ann = world.person("Ann")
                for n in range(actions + WARMUP):
                    device = world.devices[n % LOCKS]
                    if device.state == 1:
                        await ann.unlock(device)
                    else:
                        await ann.lock(device)
                    await bare.wait_for(n + 1)
                    await fed.wait_for(n + 1)
                stats = lock_feed.stats
            return {
                "bare": latencies(world, bare),
                "feed": latencies(world, fed),
                "feed_malformed": stats.malformed,
                "published": world.mqtt.stats.published,
            }


def row_of(name: str, values: list[float], base: list[float] | None = None) -> list[Any]:
    """A table row: samples, p50, p95, max (ms) and the ratios to the baseline's p50, p95."""
    ms = [v * 1000 for v in values]
    p50, p95 = median(ms), percentile(ms, 95)
    base_ms = [v * 1000 for v in base] if base is not None else None
    return [
        name,
        len(ms),
        p50,
        p95,
        max(ms) if ms else None,
        None if base_ms is None else p50 / median(base_ms),
        None if base_ms is None else p95 / percentile(base_ms, 95),
    ]


def run(*, quick: bool = False) -> Result:
    """Measure and return the B8 result."""
    actions = QUICK_ACTIONS if quick else ACTIONS
    kinds = [kind for kind in ("mosquitto", "amqtt") if available(kind)]
    rows: list[list[Any]] = []
    per_broker: dict[str, Any] = {}
    goals: dict[str, Any] = {}
    for kind in kinds:
        gc.collect()
        measured = asyncio.run(_measure(kind, actions))
        base = row_of(f"{kind}: baseline, bare aiomqtt subscriber", measured["bare"], None)
        fed = row_of(f"{kind}: nukiasync LockFeed handler", measured["feed"], measured["bare"])
        rows += [base, fed]
        per_broker[kind] = {"baseline": base[1:], "lock_feed": fed[1:], **measured}
        per_broker[kind]["bare_latencies"] = per_broker[kind].pop("bare")
        per_broker[kind].pop("feed")
        goals[f"{kind}: LockFeed p95 ms"] = {
            "value": fed[3],
            "goal": f"< {GOAL_P95_MS:g}",
            "met": fed[3] < GOAL_P95_MS,
        }
        goals[f"{kind}: LockFeed p95 / bare p95"] = {"value": fed[6], "goal": "-", "met": None}
    first = kinds[0]
    hub = None
    if hub_row_available():
        hub = run_hub_row(first, actions, base=per_broker[first]["bare_latencies"])
    if hub is not None:
        rows.append(hub["row"])
        goals.update(hub["goals"])
    headers = ["listener", "events", "p50 ms", "p95 ms", "max ms", "x base p50", "x base p95"]
    print_table(
        f"B8 lockActionEvent publish to receipt ({actions} actions after {WARMUP} warm-up, "
        f"{LOCKS} MQTT-only locks, closed loop)",
        headers,
        rows,
    )
    print_table(
        "B8 goals",
        ["measure", "value", "goal", "verdict"],
        [[name, g["value"], g["goal"], goal(g["met"])] for name, g in goals.items()],
    )
    for detail in per_broker.values():
        detail.pop("bare_latencies")
    return {
        "actions": actions,
        "warmup": WARMUP,
        "brokers": kinds,
        "columns": headers[1:],
        "per_broker": per_broker,
        "hub": None if hub is None else hub["detail"],
        "goals": goals,
    }
