"""Self-healing against the simulator: lost registrations, reboots, dropped callbacks."""

from __future__ import annotations

from typing import Any

import pytest

from nukiasync.events import (
    ActionAttributed,
    BridgeReachable,
    BridgeUnreachable,
    CallbackRegistered,
    EventSource,
    LockStateChanged,
)
from nukiasync.hub.bridge_link import BridgeWatchTiming
from tests.support.hub import FRONT, attributed_to, running

pytestmark = pytest.mark.sockets

FAST_WATCH = BridgeWatchTiming(
    poll_interval=0.2, quiet_after=0.6, reregister_interval=0.5, callback_grace=0.5
)


async def test_a_removed_registration_comes_back() -> None:
    async with running(watch=FAST_WATCH) as (world, _hub, _rec):
        assert len(world.bridge.callbacks) == 1
        world.bridge.callbacks.clear()  # another tool (or the user) removed it
        await world.wait_until(lambda: len(world.bridge.callbacks) == 1, deadline=5.0)


async def test_reboot_is_noticed_and_callbacks_return(tmp_path: Any) -> None:
    async with running(watch=FAST_WATCH, reboot_downtime=4.0) as (world, hub, rec):
        bridge = next(iter(hub._bridges.values()))
        await bridge.reboot()
        assert world.bridge.callbacks == []  # a reboot forgets registrations
        await rec.wait(lambda e: isinstance(e, BridgeUnreachable))
        await rec.wait(lambda e: isinstance(e, BridgeReachable) and e is not rec.events[0])
        await world.wait_until(lambda: len(world.bridge.callbacks) == 1, deadline=5.0)
        await world.person("Alice").unlock("Front door", via="app")
        state = await rec.wait(
            lambda e: isinstance(e, LockStateChanged) and e.source is EventSource.BRIDGE_CALLBACK
        )
        assert state.smartlock_id == FRONT


async def test_dropped_callback_is_found_by_polling_and_reported() -> None:
    async with running(watch=FAST_WATCH) as (world, _hub, rec):
        world.knobs.drop_next_callbacks = 1
        await world.person("Alice").unlock("Front door", via="app")
        polled = await rec.wait(
            lambda e: isinstance(e, LockStateChanged) and e.source is EventSource.BRIDGE_POLL
        )
        assert polled.state == 3
        who = await attributed_to(rec, polled)
        assert isinstance(who, ActionAttributed)
        assert who.actor.name == "Alice"
        unreached = await rec.wait(lambda e: isinstance(e, CallbackRegistered) and not e.available)
        assert "may not reach" in unreached.detail
        await world.person("Alice").lock("Front door", via="app")
        await rec.wait(lambda e: isinstance(e, CallbackRegistered) and e.available and e.detail)
