"""The hub end to end against the simulator over real sockets: state at once, then who."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from nukiasync import CallbackServer, NukiBridgeClient, NukiWebClient
from nukiasync.events import (
    ActionAttributed,
    AttributionFailure,
    AttributionUnavailable,
    CallbackRegistered,
    DoorSensorChanged,
    LockStateChanged,
    LogEntryObserved,
    NukiEvent,
    RingActionReceived,
)
from nukiasync.hub import NukiHub
from nukiasync.log_watcher import AttributionTiming
from tests import canary
from tests.simulator_support import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.sockets

FRONT = (4 << 32) | 0x1A2B3C4D
BACK = 0x2B3C4D5E
ENTRANCE = (2 << 32) | 0x1E5FE23A
TIMING = AttributionTiming(
    first_delay=0.3, poll_interval=0.2, burst_interval=0.3, deadline=3.0, grace=0.8,
    tight_phase=2.0, max_interval=0.5, background_interval=2.0,
)  # fmt: skip
WAIT = 6.0


class Recorder:
    """Collects every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[NukiEvent] = []
        self.changed = asyncio.Event()

    def __call__(self, event: NukiEvent) -> None:
        self.events.append(event)
        self.changed.set()

    def of(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    async def wait(self, predicate: Any, timeout: float = WAIT) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def running(
    *,
    web: bool = True,
    bridge: bool = True,
    confirm: str = "background",
    state_file: Any = None,
    watch: Any = None,
    **knobs: Any,
) -> AsyncIterator[tuple[Any, NukiHub, Recorder]]:
    async with make_world(**{"log_lag": 0.3, **knobs}) as world:
        port = urlsplit(world.bridge_url).port
        web_client = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url) if web else None
        bridge_client = (
            NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port or 0, min_spacing=0.02)
            if bridge
            else None
        )
        server = CallbackServer(host="127.0.0.1", port=0) if bridge else None
        recorder = Recorder()
        hub = NukiHub(
            web=web_client,
            bridge=bridge_client,
            callback_server=server,
            confirm=confirm,  # type: ignore[arg-type]
            state_file=state_file,
            timing=TIMING,
            watch=watch,
        )
        hub.subscribe(recorder)
        try:
            async with hub:
                yield world, hub, recorder
        finally:
            if web_client is not None:
                await web_client.close()
            if bridge_client is not None:
                await bridge_client.close()


def attributed_to(recorder: Recorder, state_event: LockStateChanged) -> Any:
    return recorder.wait(
        lambda e: (
            isinstance(e, ActionAttributed | AttributionUnavailable)
            and e.state_event_id == state_event.event_id
        )
    )


async def test_state_at_once_then_who() -> None:
    async with running() as (world, hub, rec):
        registered = rec.of(CallbackRegistered)
        assert registered
        assert registered[0].available
        await world.person("Alice").unlock("Front door", via="app")
        state = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        assert state.smartlock_id == FRONT
        assert state.device_name == "Front door"
        assert state.previous_state == 1
        assert state.attributable
        who = await attributed_to(rec, state)
        assert isinstance(who, ActionAttributed)
        assert who.actor.name == "Alice"
        assert who.actor.auth_type == "app"
        assert who.log_entry_id == world.journal[-1].log_id
        assert who.latency > 0
        assert "Alice" not in repr(who)
        diag = hub.diagnostics()
        assert diag["counters"]["attributed"] == 1
        assert canary.BRIDGE_TOKEN not in repr(diag)


async def test_keypad_manual_and_failed_code() -> None:
    async with running() as (world, _hub, rec):
        bob = world.person("Bob")
        await bob.enter_code("Front door", 999999)  # wrong: a log entry, no state change
        await bob.enter_code("Front door", canary.KEYPAD_CODE)
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        who = await attributed_to(rec, unlocked)
        assert who.actor.name == "Bob"
        assert who.actor.auth_type == "keypad_code"
        failed = await rec.wait(lambda e: isinstance(e, LogEntryObserved) and not e.succeeded)
        assert failed.outcome_name == "invalid_code"
        assert canary.KEYPAD_CODE not in {getattr(e, "state", None) for e in rec.events}


async def test_door_and_ring_entries_are_reported_on_first_read() -> None:
    """Issue 13: no callback can claim them, so they do not wait for a grace period."""
    async with running() as (world, hub, rec):
        await world.person("Alice").open_door("Front door")
        door = await rec.wait(lambda e: isinstance(e, DoorSensorChanged))
        assert door.state.name == "DOOR_OPENED"
        await world.person("Bob").ring("Entrance")
        await rec.wait(lambda e: isinstance(e, RingActionReceived))
        for action in (240, 224):
            seen = await rec.wait(
                lambda e, a=action: isinstance(e, LogEntryObserved) and e.action == a
            )
            assert isinstance(seen, LogEntryObserved)
            watcher = hub._web_side.watcher
            first_seen = watcher._seen[seen.log_entry_id].first_seen
            # Reported on the evaluation after the read that first saw it, not after grace.
            assert (seen.received_at - first_seen).total_seconds() < TIMING.grace / 2
        assert not rec.of(ActionAttributed)


async def test_lost_callback_is_reported_from_the_log() -> None:
    """The entry proves a change no callback reported: shown as a change, then who did it."""
    async with running() as (world, _hub, rec):
        world.knobs.drop_next_callbacks = 1
        record = await world.person("Alice").unlock("Back door", via="app")
        who = await rec.wait(lambda e: isinstance(e, ActionAttributed))
        assert who.log_entry_id == record.log_id
        assert who.actor.name == "Alice"
        shown = next(e for e in rec.of(LockStateChanged) if e.event_id == who.state_event_id)
        assert shown.source == "web_log"
        # A repeat (the state the hub already believes) is only observed.
        world.knobs.drop_next_callbacks = 1
        again = await world.person("Alice").unlock("Back door", via="app")
        observed = await rec.wait(lambda e: isinstance(e, LogEntryObserved))
        assert observed.log_entry_id == again.log_id
        assert observed.actor.name == "Alice"


async def test_bridge_only_answers_unavailable() -> None:
    async with running(web=False) as (world, _hub, rec):
        await world.person("Alice").unlock("Front door", via="app")
        state = await rec.wait(lambda e: isinstance(e, LockStateChanged))
        outcome = await attributed_to(rec, state)
        assert isinstance(outcome, AttributionUnavailable)
        assert outcome.reason is AttributionFailure.NO_WEB_API


async def test_web_only_reports_from_the_log() -> None:
    async with running(bridge=False) as (world, hub, rec):
        record = await world.person("Alice").unlock("Front door", via="app")
        hub._web_side.watcher.poke()
        observed = await rec.wait(
            lambda e: isinstance(e, LogEntryObserved) and e.log_entry_id == record.log_id
        )
        assert observed.actor.name == "Alice"
