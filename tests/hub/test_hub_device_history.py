"""The hub's memory of a device's states: what it believed when, and what is only in motion."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from nukiasync.const import DeviceType, LockState, OpenerState
from nukiasync.hub.delivery import Checkpoint
from nukiasync.hub.devices import HISTORY, DeviceRecord, DeviceTable

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


def test_believed_states_survive_a_restart_up_to_its_downtime() -> None:
    lock = 17618910285  # a Smart Lock 3/4 id
    before = DeviceTable()
    device = before.get(lock)
    device.remember(at(0), LockState.LOCKED)
    device.remember(at(10), LockState.UNLOCKED)
    checkpoint = Checkpoint(history=before.history_json(), history_until=at(20))
    saved = Checkpoint.from_json(json.loads(json.dumps(checkpoint.to_json())))
    assert saved.history_until == at(20)
    after = DeviceTable()
    after.restore_history(saved.history, lambda _sid: at(12))  # unknown from 12 s on
    restored = after.get(lock)
    assert restored.state_at(at(5)) == LockState.LOCKED
    assert restored.state_at(at(11)) == LockState.UNLOCKED
    assert restored.state_at(at(12)) is None  # the downtime: its entries are only observed
    restored.remember(at(30), LockState.LOCKED)  # what the bridge says at the new start
    assert restored.state_at(at(31)) == LockState.LOCKED
    # A state seen after the downtime began is not taken back (the downtime's is unknown).
    late = DeviceTable()
    late.restore_history(saved.history, lambda _sid: at(8))
    assert late.get(lock).state_at(at(11)) is None
    assert late.history_json() == {str(lock): [[at(0).isoformat(), LockState.LOCKED]]}
