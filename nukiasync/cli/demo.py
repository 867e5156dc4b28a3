"""The demo: a simulated morning in two buildings, told by the hub as it happens.

Everything runs on 127.0.0.1 over real HTTP: two simulated bridges and the simulated Web API,
one `CallbackServer`, the `NukiHub`. The timeline has what the hub must get right: people on
apps, keypad codes (one wrong), a manual turn, auto-lock, lock'n'go, a door sensor, an Opener
ring and ring to open, two people within a second on different locks, and a callback the
bridge loses, which only the Web API log reveals.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.server import CallbackServer
from nukiasync.const import LogAction
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    LockStateChanged,
    LogEntryObserved,
    NukiEvent,
)
from nukiasync.hub import NukiHub
from nukiasync.hub.sources.log_watcher import AttributionTiming
from nukiasync.simulator import Knobs, World
from nukiasync.web.client import NukiWebClient

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from nukiasync.simulator import Person

KEYPAD_CODE = 345678  # the simulated Bob's code; no real secret
WRONG_CODE = 999999
# Shorter than the library's defaults so the demo ends within a minute; the lag stays real.
DEMO_TIMING = AttributionTiming(deadline=20.0, grace=4.0, background_interval=5.0)
SETTLE_TIMEOUT = 25.0  # s after the last step for the last answers to arrive
_QUIET = frozenset({LogAction.DOORBELL_RECOGNITION, LogAction.DOOR_OPENED, LogAction.DOOR_CLOSED})


@attrs.frozen(kw_only=True)
class DemoSummary:
    """What the demo showed, in numbers."""

    events: int
    attributable: int
    attributed: int
    unavailable: int
    log_only: int
    latencies: tuple[float, ...]
    web_requests: int

    @property
    def median_latency(self) -> float | None:
        """Median seconds from a state change to its attribution."""
        return statistics.median(self.latencies) if self.latencies else None

    @property
    def max_latency(self) -> float | None:
        """Longest seconds from a state change to its attribution."""
        return max(self.latencies) if self.latencies else None


def build_world(*, speed: float = 1.0, seed: int = 7) -> World:
    """Two bridges: a house (front and back door, keypad, door sensor) and a building entrance."""
    world = World(seed=seed, speed=speed, owner="Alice", knobs=Knobs(log_lag=(2.0, 4.0)))
    world.add_bridge("entrance")
    world.add_lock("Front door", nuki_id=0x1A2B3C4D, door_sensor=True, keypad=True, auto_lock=6)
    world.add_lock("Back door", device_type=0, nuki_id=0x2B3C4D5E)
    world.add_opener("Building entrance", nuki_id=0x1E5FE23A, bridge="entrance")
    world.add_person(
        "Alice",
        email="alice@example.invalid",
        app=["Front door", "Back door", "Building entrance"],
    )
    world.add_person(
        "Bob",
        email="bob@example.invalid",
        app=["Front door", "Back door", "Building entrance"],
        keypad=["Front door"],
        keypad_code=KEYPAD_CODE,
    )
    world.add_person("Courier", email="courier@example.invalid")
    return world


def timeline(world: World) -> list[tuple[float, Callable[[], Awaitable[object]]]]:
    """(seconds from start, action) pairs of the demo morning."""
    alice, bob, courier = world.person("Alice"), world.person("Bob"), world.person("Courier")

    async def lost_callback(person: Person) -> object:
        world.knobs.drop_next_callbacks = 1  # the bridge's POST never arrives
        return await person.unlock("Back door", via="app")

    return [
        (0.5, lambda: alice.unlock("Front door", via="app")),
        (2.0, lambda: alice.open_door("Front door")),
        (3.5, lambda: alice.close_door("Front door")),  # then auto-lock after 6 s
        (9.0, lambda: courier.ring("Building entrance")),
        (10.0, lambda: courier.enter_code("Front door", WRONG_CODE)),
        (12.0, lambda: bob.enter_code("Front door", KEYPAD_CODE)),
        (15.0, lambda: bob.lock_n_go("Front door", via="app")),
        (17.0, lambda: alice.unlock("Back door", via="manual")),
        (20.0, lambda: alice.lock("Back door", via="app")),
        (20.4, lambda: bob.activate_rto("Building entrance", via="app")),
        (23.0, lambda: courier.ring("Building entrance")),  # ring to open
        (26.0, lambda: lost_callback(alice)),
    ]


async def run_demo(
    on_event: Callable[[NukiEvent], None],
    *,
    speed: float = 1.0,
    world: World | None = None,
) -> DemoSummary:
    """Play the demo morning against the hub; call ``on_event`` for every event."""
    world = world or build_world(speed=speed)
    events: list[NukiEvent] = []
    async with world:
        web = NukiWebClient(world.web_token, base_url=world.web_url)
        bridges = [
            NukiBridgeClient(
                "127.0.0.1",
                sim.token,
                port=urlsplit(sim.url).port or 0,
                bridge_id=name if name != "bridge" else "house",
            )
            for name, sim in world.bridges.items()
        ]
        server = CallbackServer(host="127.0.0.1", port=0)
        # The hub keeps the simulation's time, so a faster timeline stays consistent.
        hub = NukiHub(
            web=web,
            bridge=bridges,
            callback_server=server,
            timing=DEMO_TIMING,
            clock=world.clock.now,
            sleep=lambda seconds: asyncio.sleep(seconds / speed),
        )

        def record(event: NukiEvent) -> None:
            events.append(event)
            on_event(event)

        hub.subscribe(record)
        try:
            async with hub:
                loop = asyncio.get_running_loop()
                start = loop.time()
                for at, action in timeline(world):
                    await asyncio.sleep(max(0.0, start + at / speed - loop.time()))
                    await action()
                await _settle(events, world, hub)
        finally:
            await web.close()
            for bridge in bridges:
                await bridge.close()
            await server.close()
    return summarize(events, web.request_count)


async def _settle(events: list[NukiEvent], world: World, hub: NukiHub) -> None:
    """Wait until every attributable change has its answer and the lost one is reported."""

    def done() -> bool:
        pending = {e.event_id for e in events if isinstance(e, LockStateChanged) and e.attributable}
        answered = {
            e.state_event_id
            for e in events
            if isinstance(e, ActionAttributed | AttributionUnavailable)
        }
        # Door and ring entries are claimed by their own events and name no one.
        journal_ids = {r.log_id for r in world.journal if r.log_id and r.action not in _QUIET}
        told = {getattr(e, "log_entry_id", None) for e in events}
        return pending <= answered and journal_ids <= told

    async with asyncio.timeout(SETTLE_TIMEOUT):
        while not done():
            await hub.wait_for(lambda _e: True, timeout=SETTLE_TIMEOUT)


def summarize(events: list[NukiEvent], web_requests: int) -> DemoSummary:
    """Count what the demo produced."""
    attributed = [e for e in events if isinstance(e, ActionAttributed)]
    return DemoSummary(
        events=len(events),
        attributable=sum(isinstance(e, LockStateChanged) and e.attributable for e in events),
        attributed=len(attributed),
        unavailable=sum(isinstance(e, AttributionUnavailable) for e in events),
        log_only=sum(isinstance(e, LogEntryObserved) for e in events),
        latencies=tuple(e.latency for e in attributed),
        web_requests=web_requests,
    )
