"""The hub end to end against the simulator over real sockets: state at once, then who."""

from __future__ import annotations

import pytest

from nukiasync.events import (
    ActionAttributed,
    AttributionFailure,
    AttributionUnavailable,
    CallbackRegistered,
    DoorSensorChanged,
    LockStateChanged,
    LogEntryObserved,
    RingActionReceived,
)
from tests.support import canary
from tests.support.hub import FRONT, TIMING, attributed_to, running

pytestmark = pytest.mark.sockets


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
            watcher = hub._web_log.side.watcher
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
    async with running(bridge=False) as (world, _hub, rec):
        record = await world.person("Alice").unlock("Front door", via="app")
        observed = await rec.wait(
            lambda e: isinstance(e, LogEntryObserved) and e.log_entry_id == record.log_id
        )
        assert observed.actor.name == "Alice"
