"""The simulator's ground truth and the situations real locks make (issue 13).

Follow-ons with a callback and no log entry, people acting inside their windows, failed
attempts, lost and repeated callbacks, slow log entries, the busy bridge: each is on by
default where a real lock does it, and ``world.changes`` says who really caused each change.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp
import pytest

from nukiasync.const import LockState, LogState, OpenerState
from nukiasync.simulator import Knobs, Scenario, World
from tests.simulator_support import DEADLINE, Receiver, make_world, receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

FRONT_NUKI_ID = 0x1A2B3C4D


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


@pytest.fixture
async def listening(world: World) -> AsyncIterator[Receiver]:
    async with receiver() as rec:
        world.bridge.callbacks.append((0, rec.url("/cb")))
        yield rec


async def until(condition: Callable[[], bool], world: World) -> None:
    await world.wait_until(condition, deadline=DEADLINE)


def kinds(world: World, lock: str) -> list[tuple[str, int, int]]:
    return [(c.kind, c.before, c.after) for c in world.changes if c.lock == lock]


async def test_lock_n_go_locks_again_with_a_callback_and_no_entry(
    world: World, listening: Receiver
) -> None:
    record = await world.person("Alice").lock_n_go("Front door")
    await until(lambda: len(kinds(world, "Front door")) == 2, world)
    assert kinds(world, "Front door") == [
        ("action", LockState.LOCKED, LockState.UNLOCKED_LOCK_N_GO),
        ("lock_n_go_relock", LockState.UNLOCKED_LOCK_N_GO, LockState.LOCKED),
    ]
    action, relock = world.changes
    assert (action.person, action.log_id, action.attributable) == ("Alice", record.log_id, True)
    assert action.entry_visible_at == record.visible_at
    assert (relock.automatic, relock.follow_on, relock.attributable) == (True, True, False)
    assert (relock.log_id, relock.record_seq, relock.person) == (None, record.seq, None)
    assert len(world.logbook.entries) == 1  # the lock logs only the lock 'n' go
    assert world.truth.find(relock.seq) is relock
    assert (world.truth.find(None), world.truth.find(3)) == (None, None)
    bodies = await listening.wait_for(2)
    assert [b["state"] for b in bodies] == [LockState.UNLOCKED_LOCK_N_GO, LockState.LOCKED]
    await world.bridge.drain()
    assert [s.change for s in world.bridge.sent] == [action.seq, relock.seq]
    assert (relock.callbacks_posted, relock.callbacks_lost) == (1, 0)


async def test_someone_locking_inside_lock_n_go_delay_cancels_the_relock(world: World) -> None:
    world.knobs.lock_n_go_delay = 0.4
    await world.person("Alice").lock_n_go("Front door")
    lock = await world.person("Bob").lock("Front door", via="keypad")
    await asyncio.sleep(0.6)  # past the delay: the relock would have happened by now
    assert kinds(world, "Front door") == [
        ("action", LockState.LOCKED, LockState.UNLOCKED_LOCK_N_GO),
        ("action", LockState.UNLOCKED_LOCK_N_GO, LockState.LOCKED),
    ]
    assert world.changes[-1].log_id == lock.log_id
    assert world.changes[-1].person == "Bob"


async def test_the_latch_springs_back_after_unlatch(world: World) -> None:
    record = await world.person("Alice").unlatch("Front door")
    await until(lambda: len(world.changes) == 2, world)
    assert kinds(world, "Front door") == [
        ("action", LockState.LOCKED, LockState.UNLATCHED),
        ("unlatch_release", LockState.UNLATCHED, LockState.UNLOCKED),
    ]
    assert world.changes[1].record_seq == record.seq


async def test_opener_strike_releases_unless_rto_goes_off_first(world: World) -> None:
    alice = world.person("Alice")
    await alice.activate_rto("Entrance")
    await alice.open("Entrance")
    await until(lambda: len(world.changes) == 3, world)
    assert kinds(world, "Entrance") == [
        ("action", OpenerState.ONLINE, OpenerState.RTO_ACTIVE),
        ("action", OpenerState.RTO_ACTIVE, OpenerState.OPEN),
        ("opener_release", OpenerState.OPEN, OpenerState.RTO_ACTIVE),
    ]
    world.knobs.opener_open_time = 0.5
    await alice.open("Entrance")
    off = await alice.deactivate_rto("Entrance")  # right after opening
    await asyncio.sleep(0.7)
    assert kinds(world, "Entrance")[3:] == [
        ("action", OpenerState.RTO_ACTIVE, OpenerState.OPEN),
        ("action", OpenerState.OPEN, OpenerState.ONLINE),
    ]
    assert world.changes[-1].log_id == off.log_id


async def test_ring_to_open_is_a_logged_automation(world: World) -> None:
    await world.person("Alice").activate_rto("Entrance")
    await world.person("Courier").ring("Entrance")
    opened = next(c for c in world.changes if c.after == OpenerState.OPEN)
    assert (opened.kind, opened.automatic, opened.follow_on) == ("ring_to_open", True, False)
    assert opened.log_id is not None


async def test_failed_attempts_change_nothing_but_a_blocked_motor(world: World) -> None:
    bob = world.person("Bob")
    wrong = await bob.enter_code("Front door", 999999)
    rejected = await world.act(bob, "Front door", 1, outcome=LogState.REJECTED)
    assert (wrong.state, rejected.state) == (LogState.INVALID_CODE, LogState.REJECTED)
    assert world.changes == []
    blocked = await world.act(bob, "Front door", 1, outcome=LogState.MOTOR_BLOCKED)
    (change,) = world.changes
    assert (change.after, change.failed, change.attributable) == (
        LockState.MOTOR_BLOCKED,
        True,
        False,
    )
    assert change.log_id == blocked.log_id


async def test_a_lost_callback_and_a_repeating_one(world: World, listening: Receiver) -> None:
    world.knobs.drop_next_callbacks_of[FRONT_NUKI_ID] = 1
    await world.person("Alice").unlock("Back door")  # another lock loses nothing
    await world.person("Alice").unlock("Front door")
    world.set_battery("Front door", charge=40)  # the same state again: no change
    await listening.wait_for(2)
    await world.bridge.drain()
    back, front = world.changes
    assert (back.callbacks_posted, back.callbacks_lost) == (1, 0)
    assert (front.callbacks_posted, front.callbacks_lost) == (0, 1)
    assert [s.change for s in world.bridge.sent] == [back.seq, None]
    assert world.bridge.sent[-1].body["state"] == front.after


async def test_the_bridge_is_busy_while_it_serves_by_default() -> None:
    assert Knobs().bridge_request_time > 0
    async with make_world(motor_time=0.05) as world, aiohttp.ClientSession() as session:
        token = {"token": world.bridge.token}
        first = asyncio.ensure_future(session.get(world.bridge_url + "/list", params=token))
        await world.wait_until(lambda: world.bridge.busy, deadline=DEADLINE)
        async with session.get(world.bridge_url + "/info", params=token) as response:
            assert response.status == 503
        async with await first as response:
            assert response.status == 200
        assert world.bridge.rejected_busy == 1


async def test_slow_log_entries_come_late_and_out_of_order() -> None:
    async with make_world(log_lag=0.1, slow_log_chance=1.0, slow_log_lag=(5.0, 6.0)) as world:
        record = await world.person("Alice").unlock("Front door")
        assert record.visible_at is not None
        lag = record.visible_at - record.completed_at
        assert timedelta(seconds=5.0) <= lag <= timedelta(seconds=6.2)
        world.knobs.slow_log_chance = 0.0
        later = await world.person("Alice").lock("Front door")
        assert later.visible_at is not None
        assert later.visible_at < record.visible_at  # the newer entry shows first


def test_scenario_files_take_the_new_knobs() -> None:
    scenario = Scenario.from_toml(
        """
        name = "slow"
        [knobs]
        slow_log_chance = 0.1
        slow_log_lag = [10.0, 20.0]
        bridge_request_time = 0.0
        [[lock]]
        name = "Door"
        """
    )
    world = scenario.build()
    assert world.knobs.slow_log_chance == 0.1
    assert world.knobs.slow_log_lag == (10.0, 20.0)
    assert world.knobs.bridge_request_time == 0.0
