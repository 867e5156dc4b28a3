"""B6: resident memory of an idle hub with 10 locks, and its growth under 100,000 events.

A fresh process (so nothing else sits in its heap) imports the library (the hub included) and
reads its RSS: the baseline. Then a factory builds the system under test against the
simulator (running in another process with 10 locks) and RSS is read again: the idle cost.
Then 100,000 `LockStateChanged` events are published, taken by one sync subscriber (that keeps
the last event per lock, as an entity would) and one ``events()`` iterator; RSS after a
collection is the growth. Goal: growth < 20 MiB.

Two systems, each in its own fresh process, the first as the reference:
- ``clients_and_bus``: a `NukiWebClient` and a `NukiBridgeClient` that have read the 10
  devices, a listening `CallbackServer` and a bare `EventBus`;
- ``hub`` (judged): a started `NukiHub` with Web API, bridge and `CallbackServer` (devices
  and names read, callback registered, log watcher and confirmer running); the events are
  published straight onto the hub's private bus, ``hub._bus`` (not through
  ``handle_callback``: that path would park every change in the log watcher until its
  deadline, a flood test rather than a leak test).

A factory takes the simulator's `Endpoints` and returns an async context manager yielding a
`Subject` (its ``publish``, ``subscribe`` and ``events``); ``run(factories=(...))`` picks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import importlib
import inspect
import multiprocessing
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import attrs

from bench._harness import Result, goal, print_table
from bench._sim_process import SimProcess

LOCKS = 10
EVENTS = 100_000
QUICK_EVENTS = 10_000
BATCH = 500  # events published before waiting for the iterator to catch up (queue: 1000)
GOAL_GROWTH_MIB = 20.0
REFERENCE_FACTORY = "bench.b6_memory:clients_and_bus"
HUB_FACTORY = "bench.b6_memory:hub"
FACTORIES = (REFERENCE_FACTORY, HUB_FACTORY)  # the last one is judged
LABELS = {
    REFERENCE_FACTORY: "reference: both clients, a CallbackServer and an EventBus",
    HUB_FACTORY: "NukiHub (Web API, bridge, CallbackServer), events on its bus",
}
MIB = 1024 * 1024


@attrs.frozen(kw_only=True)
class Endpoints:
    """Where the simulator runs, from its process's line."""

    web_url: str
    web_token: str
    bridge_port: int
    bridge_token: str
    smartlock_ids: list[int]


@attrs.frozen(kw_only=True)
class Subject:
    """What B6 drives: a way to publish events and the two ways to consume them."""

    publish: Callable[[Any], Awaitable[None] | None]
    subscribe: Callable[..., Callable[[], None]]
    events: Callable[..., AsyncIterator[Any]]


Factory = Callable[[Endpoints], contextlib.AbstractAsyncContextManager[Subject]]


@contextlib.asynccontextmanager
async def clients_and_bus(endpoints: Endpoints) -> AsyncIterator[Subject]:
    """Today's idle system: both clients with the devices read, a listening server, a bus."""
    from nukiasync import NukiBridgeClient, NukiWebClient  # noqa: PLC0415
    from nukiasync.bridge.server import CallbackServer  # noqa: PLC0415
    from nukiasync.hub.bus import EventBus  # noqa: PLC0415

    bus = EventBus()
    state: dict[str, Any] = {}
    async with (
        NukiWebClient(endpoints.web_token, base_url=endpoints.web_url) as web,
        NukiBridgeClient(
            "127.0.0.1", endpoints.bridge_token, port=endpoints.bridge_port, min_spacing=0
        ) as bridge,
        CallbackServer(lambda _cb: None, host="127.0.0.1", allowed_sources=["127.0.0.1"]),
    ):
        state["smartlocks"] = await web.smartlocks()
        state["devices"] = await bridge.devices()
        if len(state["smartlocks"]) != len(endpoints.smartlock_ids):
            msg = "the Web API did not list every lock"
            raise RuntimeError(msg)
        yield Subject(publish=bus.publish, subscribe=bus.subscribe, events=bus.events)


@contextlib.asynccontextmanager
async def hub(endpoints: Endpoints) -> AsyncIterator[Subject]:
    """The hub as users run it: Web API, bridge, a listening `CallbackServer`, all started.

    Events go straight onto the hub's own bus (``hub._bus.publish``), taken through
    ``hub.subscribe`` and ``hub.events`` filtered to `LockStateChanged` (the hub's health
    events would skew the count); the callback path would also park every change in the log
    watcher until its deadline, which is a flood test, not a leak test.
    """
    from nukiasync import NukiBridgeClient, NukiWebClient  # noqa: PLC0415
    from nukiasync.bridge.server import CallbackServer  # noqa: PLC0415
    from nukiasync.events import LockStateChanged  # noqa: PLC0415
    from nukiasync.hub import NukiHub  # noqa: PLC0415

    web = NukiWebClient(endpoints.web_token, base_url=endpoints.web_url)
    bridge = NukiBridgeClient("127.0.0.1", endpoints.bridge_token, port=endpoints.bridge_port)
    server = CallbackServer(host="127.0.0.1", port=0)
    the_hub = NukiHub(web=web, bridge=bridge, callback_server=server)
    types = [LockStateChanged]
    try:
        async with the_hub:
            if len(the_hub.diagnostics()["devices"]) != len(endpoints.smartlock_ids):
                msg = "the hub did not see every lock"
                raise RuntimeError(msg)

            def subscribe(callback: Any, **kw: Any) -> Callable[[], None]:
                return the_hub.subscribe(callback, types=types, **kw)

            def events(**kw: Any) -> AsyncIterator[Any]:
                return the_hub.events(types=types, **kw)

            # The hub's private bus: this measures what the hub keeps, not the callback path.
            publish = the_hub._bus.publish  # noqa: SLF001
            yield Subject(publish=publish, subscribe=subscribe, events=events)
    finally:
        await web.close()
        await bridge.close()
        await server.close()


def _rss() -> int:
    import psutil  # noqa: PLC0415

    gc.collect()
    return int(psutil.Process().memory_info().rss)


async def _drive(factory: Factory, endpoints: Endpoints, events: int) -> dict[str, int]:
    from nukiasync.events import EventSource, LockStateChanged  # noqa: PLC0415

    async with factory(endpoints) as subject:
        idle = _rss()
        last: dict[int | None, Any] = {}
        taken = 0
        caught_up = asyncio.Event()
        target = 0

        def keep(event: Any) -> None:
            last[event.smartlock_id] = event

        async def consume() -> None:
            nonlocal taken
            async with contextlib.aclosing(subject.events()) as stream:
                async for _event in stream:
                    taken += 1
                    if taken >= target:
                        caught_up.set()

        unsubscribe = subject.subscribe(keep)
        consumer = asyncio.get_running_loop().create_task(consume(), name="bench.b6.consumer")
        await asyncio.sleep(0)  # a yield, not a wait: the task registers its iterator first
        try:
            ids = endpoints.smartlock_ids
            for start in range(0, events, BATCH):
                target = min(start + BATCH, events)
                caught_up.clear()
                for n in range(start, target):
                    event = LockStateChanged(
                        event_id=f"bench-{n}",
                        received_at=datetime.now(UTC),
                        source=EventSource.BRIDGE_CALLBACK,
                        smartlock_id=ids[n % len(ids)],
                        previous_state=1 + n % 2,
                        state=1 + (n + 1) % 2,
                        state_name="locked",
                    )
                    published = subject.publish(event)
                    if inspect.isawaitable(published):
                        await published
                async with asyncio.timeout(10):
                    await caught_up.wait()
            after = _rss()
        finally:
            unsubscribe()
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
    if taken != events or len(last) != len(ids):
        msg = f"consumers took {taken} of {events} events"
        raise RuntimeError(msg)
    return {"idle": idle, "after": after}


def measure(factory_path: str, endpoints: dict[str, Any], events: int) -> dict[str, int]:
    """In a fresh process: RSS with the imports, idle with the system up, after the events."""
    import nukiasync  # noqa: PLC0415 - the baseline includes the library's imports
    import nukiasync.bridge.server  # noqa: PLC0415
    import nukiasync.hub  # noqa: F401, PLC0415

    module, _, name = factory_path.partition(":")
    factory: Factory = getattr(importlib.import_module(module), name)
    baseline = _rss()
    result = asyncio.run(_drive(factory, Endpoints(**endpoints), events))
    return {"baseline": baseline, **result}


def _measure_one(factory: str, events: int) -> dict[str, int]:
    with SimProcess(locks=LOCKS, entries=2) as sim:
        info = sim.info
        endpoints = {
            "web_url": info["web_url"],
            "web_token": info["web_token"],
            "bridge_port": info["bridge_port"],
            "bridge_token": info["bridge_token"],
            "smartlock_ids": info["smartlock_ids"],
        }
        spawn = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
            rss: dict[str, int] = pool.submit(measure, factory, endpoints, events).result(
                timeout=300
            )
    return rss


def run(*, quick: bool = False, factories: tuple[str, ...] = FACTORIES) -> Result:
    """Measure each system (the last one is judged) and return the B6 result."""
    events = QUICK_EVENTS if quick else EVENTS
    found = {factory: _measure_one(factory, events) for factory in factories}
    rows = []
    summary: dict[str, dict[str, float]] = {}
    for factory, rss in found.items():
        idle_mib = (rss["idle"] - rss["baseline"]) / MIB
        growth_mib = (rss["after"] - rss["idle"]) / MIB
        summary[factory] = {"idle_over_baseline_mib": idle_mib, "growth_mib": growth_mib}
        rows.append(
            [
                LABELS.get(factory, factory),
                rss["baseline"] / MIB,
                rss["idle"] / MIB,
                idle_mib,
                rss["after"] / MIB,
                growth_mib,
            ]
        )
    judged = factories[-1]
    growth = summary[judged]["growth_mib"]
    met = growth < GOAL_GROWTH_MIB
    print_table(
        f"B6 memory: {LOCKS} locks, {events:,} events (RSS in MiB, each in a fresh process)",
        [
            "system",
            "after imports (baseline)",
            "idle, system up",
            "idle over baseline",
            f"after {events:,} events",
            "growth",
        ],
        rows,
    )
    print_table(
        "B6 goal",
        ["measure", "value", "goal", "verdict"],
        [[f"growth MiB ({LABELS.get(judged, judged)})", growth, f"< {GOAL_GROWTH_MIB}", goal(met)]],
    )
    return {
        "factories": list(factories),
        "judged": judged,
        "locks": LOCKS,
        "events": events,
        "rss_bytes": found,
        "summary": summary,
        "goals": {"growth_mib": {"value": growth, "goal": f"< {GOAL_GROWTH_MIB}", "met": met}},
    }
