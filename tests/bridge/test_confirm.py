"""Confirmer and the transition table: a callback is a hint, not proof (decision 0001)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from nukiasync.bridge.callbacks import parse_callback
from nukiasync.bridge.confirm import (
    Confirmation,
    Confirmer,
    Correction,
    DeviceSnapshot,
    StateClaim,
    is_confirmed,
)
from nukiasync.bridge.transitions import on_shortest_path
from nukiasync.const import LockState as L
from nukiasync.const import OpenerState as O

if TYPE_CHECKING:
    from collections.abc import Mapping

LOCK, OPENER = 4, 2
SID = (4 << 32) | 7


@pytest.mark.parametrize(
    ("device_type", "old", "claimed", "new", "expected"),
    [
        (LOCK, L.LOCKED, L.UNLOCKING, L.UNLOCKED, True),
        (LOCK, L.UNLATCHING, L.UNLATCHED, L.UNLOCKED, True),
        (LOCK, L.LOCKED, L.UNLATCHED, L.UNLOCKED, False),  # a longer way round
        (LOCK, L.LOCKED, L.UNLATCHING, L.UNLATCHED, True),
        (LOCK, L.UNLOCKED, L.LOCKING, L.LOCKED, True),
        (LOCK, L.LOCKED, L.UNLOCKED_LOCK_N_GO, L.LOCKING, True),
        (LOCK, L.LOCKED, L.LOCKING, L.UNLOCKED, False),  # not on the way
        (LOCK, L.LOCKED, L.LOCKED, L.UNLOCKED, False),  # the old state proves nothing
        (LOCK, L.LOCKED, L.UNLOCKING, L.LOCKED, False),  # no change
        (LOCK, L.LOCKED, L.UNLOCKED, L.UNLOCKING, False),  # beyond the new state
        (LOCK, L.LOCKED, 42, L.UNLOCKED, False),  # unknown code
        (LOCK, 42, L.UNLOCKING, L.UNLOCKED, False),
        (LOCK, L.LOCKED, L.UNLOCKING, 42, False),
        (LOCK, L.UNDEFINED, L.UNLOCKING, L.UNLOCKED, False),
        (OPENER, O.ONLINE, O.OPENING, O.OPEN, True),
        (OPENER, O.RTO_ACTIVE, O.OPENING, O.OPEN, True),
        (OPENER, O.RTO_ACTIVE, O.OPENING, O.ONLINE, False),  # RTO can just end
        (OPENER, O.ONLINE, O.RTO_ACTIVE, O.OPEN, False),
        (OPENER, O.BOOT_RUN, O.ONLINE, O.RTO_ACTIVE, True),
    ],
)
def test_transition_table(
    device_type: int, old: int, claimed: int, new: int, expected: bool
) -> None:
    assert on_shortest_path(device_type, old, claimed, new) is expected


def claim(state: int, door: int | None = None) -> StateClaim:
    return StateClaim(smartlock_id=SID, device_type=LOCK, state=state, door_sensor_state=door)


def snap(state: int, door: int | None = None) -> DeviceSnapshot:
    return DeviceSnapshot(state=state, door_sensor_state=door)


@pytest.mark.parametrize(
    ("the_claim", "before", "after", "expected"),
    [
        (claim(L.UNLOCKED), None, snap(L.UNLOCKED), True),
        (claim(L.UNLOCKED), snap(L.LOCKED), None, False),
        (claim(L.UNLOCKING), snap(L.LOCKED), snap(L.UNLOCKED), True),
        (claim(L.UNLOCKING), None, snap(L.UNLOCKED), False),  # no before: exact only
        (claim(L.UNLOCKED), snap(L.LOCKED), snap(L.LOCKED), False),
        (claim(L.LOCKED, door=3), snap(L.LOCKED, 2), snap(L.LOCKED, 3), True),
        (claim(L.LOCKED, door=3), snap(L.LOCKED, 2), snap(L.LOCKED, 2), False),
    ],
)
def test_is_confirmed(
    the_claim: StateClaim,
    before: DeviceSnapshot | None,
    after: DeviceSnapshot | None,
    expected: bool,
) -> None:
    assert is_confirmed(the_claim, before, after) is expected


@pytest.mark.parametrize(
    ("device_type", "claimed", "read", "expected"),
    [
        (OPENER, O.OPEN, O.ONLINE, True),  # the strike released within 0.2 s
        (OPENER, O.OPEN, O.RTO_ACTIVE, True),
        (LOCK, L.UNLATCHED, L.UNLOCKED, True),  # the latch sprang back
        (LOCK, L.UNLOCKED_LOCK_N_GO, L.LOCKED, True),  # lock'n'go locked
        (OPENER, O.ONLINE, O.OPEN, False),  # not the way round
        (LOCK, L.UNLOCKED, L.UNLATCHED, False),
        (LOCK, O.OPEN, O.ONLINE, False),  # the Opener's codes mean other things on a lock
        (OPENER, L.UNLOCKED_LOCK_N_GO, L.LOCKED, False),  # a lock's follow-on, not an Opener's
    ],
)
def test_a_follow_on_is_a_legal_path(
    device_type: int, claimed: int, read: int, expected: bool
) -> None:
    """Issue 13: a genuine change that moved on by itself is not contradicted."""
    the_claim = StateClaim(smartlock_id=SID, device_type=device_type, state=claimed)
    for before in (None, snap(O.ONLINE if device_type == OPENER else L.LOCKED)):
        assert is_confirmed(the_claim, before, snap(read)) is expected


def test_claim_from_callback() -> None:
    cb = parse_callback(b'{"nukiId": 7, "deviceType": 4, "state": 3, "doorsensorState": 2}')
    assert StateClaim.from_callback(cb) == StateClaim(
        smartlock_id=SID, device_type=4, state=3, door_sensor_state=2
    )


class FakeBridge:
    """A reader the test drives: each read waits until the test answers it."""

    def __init__(self) -> None:
        self.states: dict[int, DeviceSnapshot] = {}
        self.reads = 0
        self.completed = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = asyncio.Event()
        self.progress = asyncio.Event()
        self.gate = asyncio.Event()
        self.fail: Exception | None = None

    async def read(self) -> Mapping[int, DeviceSnapshot]:
        self.reads += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.started.set()
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        self.gate.clear()
        self.completed += 1
        self.progress.set()
        if self.fail is not None:
            raise self.fail
        return dict(self.states)

    async def answer(self, **states: DeviceSnapshot) -> None:
        """Wait for the next read to start, then let it return ``states``."""
        await asyncio.wait_for(self.started.wait(), 2)
        self.started.clear()
        self.states = {SID: states["now"]} if "now" in states else {}
        self.gate.set()


class FakeTimer:
    """Deadlines fire only when the test says so; spacing waits return at once."""

    def __init__(self) -> None:
        self.fire = asyncio.Event()
        self.spacing: list[float] = []

    async def sleep(self, seconds: float) -> None:
        if seconds == 5.0:
            await self.fire.wait()
        else:
            self.spacing.append(seconds)


async def settle(bridge: FakeBridge, reads: int) -> None:
    """Wait until ``reads`` reads have returned; the confirmer evaluates them in the same
    step, before this test task runs again."""
    async with asyncio.timeout(2):
        while bridge.completed < reads:
            bridge.progress.clear()
            await bridge.progress.wait()


async def test_background_confirms_and_coalesces() -> None:
    bridge, corrections = FakeBridge(), []
    confirmer = Confirmer(bridge.read, on_correction=corrections.append, min_interval=0)
    async with confirmer:
        await bridge.answer(now=snap(L.LOCKED))  # the priming read
        await settle(bridge, 1)
        for state in (L.UNLOCKING, L.UNLOCKED):
            confirmer.observe(claim(state))
        await bridge.answer(now=snap(L.UNLOCKED))
        for _ in range(50):  # a flood during a read waits for the next single read
            confirmer.observe(claim(L.UNLOCKED))
        await settle(bridge, 2)
        await bridge.answer(now=snap(L.UNLOCKED))
        await settle(bridge, 3)
        assert confirmer.stats.confirmed == 52
    assert bridge.reads == 3
    assert bridge.max_in_flight == 1
    assert corrections == []
    assert confirmer.snapshot(SID) == snap(L.UNLOCKED)


async def test_background_contradiction_gives_one_correction_per_read() -> None:
    bridge, corrections = FakeBridge(), []
    confirmer = Confirmer(bridge.read, on_correction=corrections.append, prime=False)
    async with confirmer:
        for _ in range(3):
            confirmer.observe(claim(L.UNLOCKED))  # spoofed: the lock stays locked
        await bridge.answer(now=snap(L.LOCKED))
        await settle(bridge, 1)
    assert confirmer.stats.contradicted == 3
    assert confirmer.stats.corrections == 1
    assert corrections == [
        Correction(smartlock_id=SID, snapshot=snap(L.LOCKED), claims=(claim(L.UNLOCKED),) * 3)
    ]


async def test_unknown_device_is_contradicted_and_handler_errors_are_contained() -> None:
    bridge = FakeBridge()

    def broken(correction: Correction) -> None:
        msg = "handler bug"
        raise RuntimeError(msg)

    confirmer = Confirmer(bridge.read, on_correction=broken, prime=False)
    async with confirmer:
        confirmer.observe(claim(L.UNLOCKED))
        await bridge.answer()  # the bridge does not list the device
        await settle(bridge, 1)
    assert confirmer.stats.corrections == 1


async def test_read_failure_leaves_claims_unconfirmed() -> None:
    bridge = FakeBridge()
    bridge.fail = OSError("bridge down")
    confirmer = Confirmer(bridge.read, prime=False, min_interval=0)
    async with confirmer:
        for _ in range(2):
            confirmer.observe(claim(L.UNLOCKED))
            await bridge.answer()
            await settle(bridge, bridge.reads)
        bridge.fail = None
        confirmer.observe(claim(L.UNLOCKED))
        await bridge.answer(now=snap(L.UNLOCKED))
        await settle(bridge, 3)
    assert confirmer.stats.read_failures == 2
    assert confirmer.stats.unconfirmed == 2
    assert confirmer.stats.confirmed == 1


async def test_before_emit_confirmed_and_contradicted() -> None:
    bridge = FakeBridge()
    timer = FakeTimer()
    confirmer = Confirmer(
        bridge.read, policy="before_emit", prime=False, sleep=timer.sleep, min_interval=0.5
    )
    async with confirmer:
        waiting = asyncio.create_task(confirmer.confirm(claim(L.UNLOCKED)))
        await bridge.answer(now=snap(L.UNLOCKED))
        assert await waiting is Confirmation.CONFIRMED
        waiting = asyncio.create_task(confirmer.confirm(claim(L.LOCKED)))
        await bridge.answer(now=snap(L.UNLOCKED))
        assert await waiting is Confirmation.CONTRADICTED
    assert confirmer.stats.corrections == 0  # a rejected claim needs no correction
    assert timer.spacing  # reads are spaced
    assert all(0 < s <= 0.5 for s in timer.spacing)


async def test_before_emit_deadline_gives_unconfirmed() -> None:
    bridge = FakeBridge()
    timer = FakeTimer()
    confirmer = Confirmer(bridge.read, policy="before_emit", prime=False, sleep=timer.sleep)
    async with confirmer:
        waiting = asyncio.create_task(confirmer.confirm(claim(L.UNLOCKED)))
        await asyncio.wait_for(bridge.started.wait(), 2)  # the read hangs
        timer.fire.set()
        assert await waiting is Confirmation.UNCONFIRMED
        bridge.states = {SID: snap(L.UNLOCKED)}
        bridge.gate.set()  # the late answer changes nothing
        await settle(bridge, 1)
    assert confirmer.stats.unconfirmed == 1
    assert confirmer.stats.confirmed == 0


async def test_close_answers_waiting_callers() -> None:
    bridge = FakeBridge()
    timer = FakeTimer()
    confirmer = Confirmer(bridge.read, policy="before_emit", sleep=timer.sleep)
    await confirmer.start()
    with pytest.raises(RuntimeError, match="already started"):
        await confirmer.start()
    await asyncio.wait_for(bridge.started.wait(), 2)  # priming read hangs
    waiting = asyncio.create_task(confirmer.confirm(claim(L.UNLOCKED)))
    await asyncio.sleep(0)
    await confirmer.close()
    assert await waiting is Confirmation.UNCONFIRMED
    assert [t for t in asyncio.all_tasks() if "confirm" in t.get_name()] == []


async def test_policy_off_and_bad_policy() -> None:
    bridge = FakeBridge()
    async with Confirmer(bridge.read, policy="off") as confirmer:
        confirmer.observe(claim(L.UNLOCKED))
        assert await confirmer.confirm(claim(L.UNLOCKED)) is Confirmation.SKIPPED
    assert bridge.reads == 0
    with pytest.raises(ValueError, match="policy"):
        Confirmer(bridge.read, policy="sometimes")  # type: ignore[arg-type]
