"""The hub's memory of a device's states: what it believed when, and what is only in motion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nukiasync.const import DeviceType, LockState, OpenerState
from nukiasync.hub.devices import HISTORY, DeviceRecord

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_state_at_a_time_from_history_in_time_order() -> None:
    device = DeviceRecord(smartlock_id=1, nuki_id=1, device_type=DeviceType.SMARTLOCK_3)
    assert device.state_at(at(0)) is None  # nothing known yet
    device.remember(at(0), LockState.LOCKED)
    device.remember(at(10), LockState.UNLOCKED)
    device.remember(at(5), LockState.UNLATCHED)  # learnt late from the log: goes in its place
    assert device.state_at(at(-1)) is None
    assert device.state_at(at(0)) == LockState.LOCKED
    assert device.state_at(at(6)) == LockState.UNLATCHED
    assert device.state_at(at(10)) == LockState.UNLOCKED
    for n in range(HISTORY + 5):
        device.remember(at(100 + n), LockState.LOCKED)
    assert len(device.history) == HISTORY
    assert device.state_at(at(99)) is None  # the oldest are forgotten


def test_moving_states_are_not_truth() -> None:
    lock = DeviceRecord(smartlock_id=1, nuki_id=1, device_type=DeviceType.SMARTLOCK_3)
    opener = DeviceRecord(smartlock_id=2, nuki_id=2, device_type=DeviceType.OPENER)
    assert lock.moving(LockState.LOCKING)
    assert lock.moving(LockState.UNLOCKING)
    assert lock.moving(LockState.UNLATCHING)
    assert not lock.moving(LockState.LOCKED)
    assert not lock.moving(LockState.MOTOR_BLOCKED)
    assert opener.moving(OpenerState.OPENING)
    assert not opener.moving(OpenerState.OPEN)
    assert not opener.moving(LockState.LOCKING)  # 4 means nothing moving on an Opener
