"""Pure rules that pair observed state changes with log records of who acted.

No I/O, no tasks, no clock: time comes in as arguments. The rules work on two neutral records,
`ObservedChange` (a state seen on a device at a host time) and `ActionRecord` (an action a log
says happened at a device time), so sources other than Nuki's Web API log can plug in.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from nukiasync.const import DeviceType, DoorSensorState, LockMode, LockState, LogAction, OpenerState

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

# A log entry's device time may precede the callback by this much: the bridge posts when the
# motor stops, and a lock'n'go or slow bolt adds seconds.
WINDOW_BEFORE = timedelta(seconds=30)
# ... and follow it by this much: clocks are corrected for skew, but only to about a second.
WINDOW_AFTER = timedelta(seconds=5)
# Where a matching entry usually lies: it is dated (in whole seconds) when the action starts,
# the bridge posts when the motor stops. Distances are measured from here, not from 0, so the
# next action's entry is not nearer than the right one; the hub replaces it by what it learns.
EXPECTED_OFFSET = timedelta(seconds=-1)


class ChangeKind(enum.Enum):
    """What part of a device changed."""

    LOCK_STATE = "lock_state"
    MODE = "mode"
    DOOR = "door"
    RING = "ring"


@attrs.frozen(kw_only=True)
class ObservedChange:
    """A change seen on a device, at host time; ``change_id`` is the state event's id."""

    change_id: str
    smartlock_id: int
    device_type: int
    kind: ChangeKind
    previous: int | None
    current: int
    observed_at: datetime


@attrs.frozen(kw_only=True)
class ActionRecord:
    """An action a log says happened, at device time."""

    record_id: str
    smartlock_id: int
    action: int
    succeeded: bool
    occurred_at: datetime


_L = LogAction
# Resting states of a Smart Lock (types 0, 3, 4, 5) and the log actions that end in them.
LOCK_RESULTS: Mapping[int, frozenset[int]] = {
    LockState.LOCKED: frozenset({_L.LOCK}),
    LockState.UNLOCKED: frozenset({_L.UNLOCK, _L.UNLATCH}),
    LockState.UNLATCHED: frozenset({_L.UNLATCH, _L.LOCK_N_GO_UNLATCH}),
    LockState.UNLOCKED_LOCK_N_GO: frozenset({_L.LOCK_N_GO, _L.LOCK_N_GO_UNLATCH}),
}
# Opener (type 2): unlock = activate ring to open, lock = deactivate, unlatch = open.
OPENER_RESULTS: Mapping[int, frozenset[int]] = {
    OpenerState.RTO_ACTIVE: frozenset({_L.UNLOCK}),
    OpenerState.ONLINE: frozenset({_L.LOCK}),
    OpenerState.OPEN: frozenset({_L.UNLATCH}),
}
# Opener continuous mode is a change of mode, not of state.
MODE_RESULTS: Mapping[int, frozenset[int]] = {
    LockMode.CONTINUOUS: frozenset({_L.ACTIVATE_CONTINUOUS_MODE}),
    LockMode.DOOR: frozenset({_L.DEACTIVATE_CONTINUOUS_MODE}),
}
# Door sensor and ring changes are matched so their log entries are not reported twice;
# they name no one.
DOOR_RESULTS: Mapping[int, frozenset[int]] = {
    DoorSensorState.DOOR_OPENED: frozenset({_L.DOOR_OPENED}),
    DoorSensorState.DOOR_CLOSED: frozenset({_L.DOOR_CLOSED}),
}
RING_RESULTS = frozenset({_L.DOORBELL_RECOGNITION})

# Transitions that finish an earlier action by themselves and get no log entry of their own.
LOCK_FOLLOW_ONS = frozenset(
    {
        (LockState.UNLATCHED, LockState.UNLOCKED),  # the latch springs back
        (LockState.UNLOCKED_LOCK_N_GO, LockState.LOCKED),  # lock'n'go locks after its delay
    }
)
OPENER_FOLLOW_ONS = frozenset(
    {
        (OpenerState.OPEN, OpenerState.ONLINE),  # the strike releases
        (OpenerState.OPEN, OpenerState.RTO_ACTIVE),
    }
)


def expected_actions(change: ObservedChange) -> frozenset[int]:
    """Log actions that can explain a change (empty: nothing in the log will)."""
    if change.kind is ChangeKind.DOOR:
        return DOOR_RESULTS.get(change.current, frozenset())
    if change.kind is ChangeKind.RING:
        return RING_RESULTS
    if change.kind is ChangeKind.MODE:
        return MODE_RESULTS.get(change.current, frozenset())
    if change.device_type == DeviceType.OPENER:
        if (change.previous, change.current) in OPENER_FOLLOW_ONS:
            return frozenset()
        return OPENER_RESULTS.get(change.current, frozenset())
    if (change.previous, change.current) in LOCK_FOLLOW_ONS:
        return frozenset()
    return LOCK_RESULTS.get(change.current, frozenset())


def is_attributable(change: ObservedChange) -> bool:
    """Whether a person or automation can have caused the change (so it gets an outcome)."""
    if change.kind in (ChangeKind.DOOR, ChangeKind.RING):
        return False
    return bool(expected_actions(change))


def offset(change: ObservedChange, record: ActionRecord, skew: timedelta) -> timedelta:
    """Record time on the host's clock minus the time the change was observed."""
    return (record.occurred_at - skew) - change.observed_at


def compatible(change: ObservedChange, record: ActionRecord, skew: timedelta) -> bool:
    """Same device, an action that explains the change, success, inside the time window."""
    if record.smartlock_id != change.smartlock_id or not record.succeeded:
        return False
    if record.action not in expected_actions(change):
        return False
    delta = offset(change, record, skew)
    return -WINDOW_BEFORE <= delta <= WINDOW_AFTER


def match(
    pending: Sequence[ObservedChange],
    records: Iterable[ActionRecord],
    *,
    now: datetime,
    skew: timedelta = timedelta(0),
    claimed: frozenset[str] = frozenset(),
    expected: timedelta = EXPECTED_OFFSET,
) -> dict[str, ActionRecord]:
    """Pair pending changes with records: each record at most once, nearest pairs first.

    ``skew`` is device/cloud time minus host time; ``expected`` the usual offset of a
    matching record. Pairs on one device never cross: an earlier change never gets a later
    record than a later change of the same kind. Records dated after ``now`` (corrected)
    plus the window are ignored as impossible. Returns change_id -> record.
    """
    horizon = now + skew + WINDOW_AFTER
    candidates = [
        (abs(offset(change, record, skew) - expected), index, change, record)
        for index, change in enumerate(pending)
        for record in records
        if record.record_id not in claimed
        and record.occurred_at <= horizon
        and compatible(change, record, skew)
    ]
    # Smallest time distance first across all pending changes; ties by arrival order.
    candidates.sort(key=lambda item: (item[0], item[1], item[3].record_id))
    result: dict[str, ActionRecord] = {}
    chosen: list[tuple[ObservedChange, ActionRecord]] = []
    taken: set[str] = set()
    for _distance, _index, change, record in candidates:
        if change.change_id in result or record.record_id in taken:
            continue
        if any(_crosses(change, record, other, theirs) for other, theirs in chosen):
            continue
        result[change.change_id] = record
        chosen.append((change, record))
        taken.add(record.record_id)
    return result


def _crosses(
    change: ObservedChange, record: ActionRecord, other: ObservedChange, theirs: ActionRecord
) -> bool:
    """Whether two pairs on one device and of one kind are in opposite orders."""
    if change.smartlock_id != other.smartlock_id or change.kind is not other.kind:
        return False
    before = change.observed_at < other.observed_at
    after = change.observed_at > other.observed_at
    return (before and record.occurred_at > theirs.occurred_at) or (
        after and record.occurred_at < theirs.occurred_at
    )


def log_has_passed(
    change: ObservedChange, records: Iterable[ActionRecord], skew: timedelta
) -> bool:
    """Whether the log already holds entries newer than the change's window on its device.

    Then a missing match means there is none, not that the log is still behind.
    """
    return any(
        record.smartlock_id == change.smartlock_id and offset(change, record, skew) > WINDOW_AFTER
        for record in records
    )


def could_still_claim(
    record: ActionRecord, pending: Iterable[ObservedChange], skew: timedelta
) -> bool:
    """Whether some pending change could still claim the record (not unclaimed yet)."""
    return any(compatible(change, record, skew) for change in pending)


def estimate_skew(samples: Sequence[timedelta], *, default: timedelta = timedelta(0)) -> timedelta:
    """A robust estimate (median) from time samples: skew, or the usual record offset."""
    if not samples:
        return default
    ordered = sorted(samples)
    return ordered[len(ordered) // 2]
