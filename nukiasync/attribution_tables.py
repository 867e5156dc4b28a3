"""The neutral records the matching rule works on, and the tables it reads.

An `ObservedChange` is a state seen on a device at a host time; an `ActionRecord` an action a
log says happened at a device time. The tables say which log actions leave which states, which
actions move which part of a device, and which transitions a device makes by itself; the
time windows say where a record may lie around a change. Pure data, lookups and predicates:
`nukiasync.attribution` holds the rule and re-exports these names.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from nukiasync.const import DeviceType, LockMode, LockState, LogAction, OpenerState

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class ChangeKind(enum.Enum):
    """What part of a device changed."""

    LOCK_STATE = "lock_state"
    MODE = "mode"


@attrs.frozen(kw_only=True)
class ObservedChange:
    """A change seen on a device, at host time; ``change_id`` is the state event's id.

    ``previous_at`` is when the device's previous change was observed (or the hub began
    watching it): the history before it is already accounted for.
    """

    change_id: str
    smartlock_id: int
    device_type: int
    kind: ChangeKind
    previous: int | None
    current: int
    observed_at: datetime
    previous_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ActionRecord:
    """An action a log says happened, at device time; ``seen_at`` is when it was first read.

    ``stuck``: it failed after the motor moved (blocked, no power): the device changed
    state all the same (to an error state), so the record splits what came before from after.
    """

    record_id: str
    smartlock_id: int
    action: int
    succeeded: bool
    occurred_at: datetime
    seen_at: datetime | None = None
    stuck: bool = False


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
# The actions that move each part of a device (the rest: door sensor, ring, maintenance).
LOCK_STATE_ACTIONS = frozenset({_L.UNLOCK, _L.LOCK, _L.UNLATCH, _L.LOCK_N_GO, _L.LOCK_N_GO_UNLATCH})
OPENER_STATE_ACTIONS = frozenset({_L.UNLOCK, _L.LOCK, _L.UNLATCH})
MODE_ACTIONS = frozenset({_L.ACTIVATE_CONTINUOUS_MODE, _L.DEACTIVATE_CONTINUOUS_MODE})
# The state each action leaves a device in (for changes no callback reported).
LOCK_ACTION_RESULTS: Mapping[int, int] = {
    _L.UNLOCK: LockState.UNLOCKED,
    _L.LOCK: LockState.LOCKED,
    _L.UNLATCH: LockState.UNLATCHED,
    _L.LOCK_N_GO: LockState.UNLOCKED_LOCK_N_GO,
    _L.LOCK_N_GO_UNLATCH: LockState.UNLATCHED,
}
OPENER_ACTION_RESULTS: Mapping[int, int] = {
    _L.UNLOCK: OpenerState.RTO_ACTIVE,
    _L.LOCK: OpenerState.ONLINE,
    _L.UNLATCH: OpenerState.OPEN,
}

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
    if change.kind is ChangeKind.MODE:
        return MODE_RESULTS.get(change.current, frozenset())
    if change.device_type == DeviceType.OPENER:
        return OPENER_RESULTS.get(change.current, frozenset())
    return LOCK_RESULTS.get(change.current, frozenset())


def is_follow_on(change: ObservedChange) -> bool:
    """Whether the device may have made the change by itself (maybe attributable)."""
    if change.kind is ChangeKind.MODE:
        return False
    step = (change.previous, change.current)
    if change.device_type == DeviceType.OPENER:
        return step in OPENER_FOLLOW_ONS
    return step in LOCK_FOLLOW_ONS


def is_attributable(change: ObservedChange) -> bool:
    """Whether a person or automation must have caused the change (so it gets an outcome)."""
    return bool(expected_actions(change)) and not is_follow_on(change)


def claimable(record: ActionRecord) -> bool:
    """Whether any change could claim the record: a successful state-changing action."""
    return record.succeeded and record.action in LOCK_STATE_ACTIONS | MODE_ACTIONS


def result_state(device_type: int, action: int) -> int | None:
    """The state an action leaves a device in (None: not a state-changing action)."""
    table = OPENER_ACTION_RESULTS if device_type == DeviceType.OPENER else LOCK_ACTION_RESULTS
    return table.get(action)


def moves_part(change: ObservedChange, record: ActionRecord) -> bool:
    """Whether a record is an action on the part of the device the change is of that moved it.

    Successful, or stuck on the way (`ActionRecord.stuck`).
    """
    if record.smartlock_id != change.smartlock_id or not (record.succeeded or record.stuck):
        return False
    if change.kind is ChangeKind.MODE:
        return record.action in MODE_ACTIONS
    if change.device_type == DeviceType.OPENER:
        return record.action in OPENER_STATE_ACTIONS
    return record.action in LOCK_STATE_ACTIONS


# A log entry's device time may precede the callback by this much: the bridge posts when the
# motor stops, and a lock'n'go or slow bolt adds seconds.
WINDOW_BEFORE = timedelta(seconds=30)
# ... and follow it by this much: clocks are corrected for skew, but only to about a second.
WINDOW_AFTER = timedelta(seconds=5)
# Around the usual offset, a record is where the device's own record lies: answered at once
# (whole-second dates, skew corrected to about a second, motors that vary a little).
TIGHT_BEFORE = timedelta(seconds=1.25)
TIGHT_AFTER = timedelta(seconds=1.5)
# A record first read this long before the change was observed was there before the action
# could have ended: it is someone else's, or the change's own uploaded very fast; either way
# not an answer at once.
FRESH = timedelta(seconds=1)
# Log dates are whole seconds (cut, not rounded): an action that began after a moment can be
# dated up to this much before it.
DATE_SLACK = timedelta(seconds=1)
# Log dates are whole seconds and skew is corrected to about a second: a record of an action
# that began just after the hub did can be dated this much before it.
START_SLACK = timedelta(seconds=2)


def offset(change: ObservedChange, record: ActionRecord, skew: timedelta) -> timedelta:
    """Record time on the host's clock minus the time the change was observed."""
    return (record.occurred_at - skew) - change.observed_at


def compatible(change: ObservedChange, record: ActionRecord, skew: timedelta) -> bool:
    """Same device, an action that explains the change, success, inside the time window."""
    if record.smartlock_id != change.smartlock_id or not record.succeeded:
        return False
    if record.action not in expected_actions(change):
        return False
    return -WINDOW_BEFORE <= offset(change, record, skew) <= WINDOW_AFTER


def excluded(
    change: ObservedChange, record: ActionRecord, skew: timedelta, not_before: datetime | None
) -> bool:
    """Rule 2: history the hub has already accounted for never explains the change."""
    when = record.occurred_at - skew
    if (
        not_before is not None
        and change.observed_at >= not_before
        and when < not_before - START_SLACK
    ):
        return True  # dated before the hub watched: the downtime of a restart
    return (
        change.previous_at is not None
        and record.seen_at is not None
        and record.seen_at <= change.observed_at
        and when < change.previous_at - DATE_SLACK
    )


def is_tight(
    change: ObservedChange, record: ActionRecord, skew: timedelta, expected: timedelta
) -> bool:
    """Rule 4: the record lies where the device's own record of the change lies."""
    delta = offset(change, record, skew)
    return expected - TIGHT_BEFORE <= delta <= expected + TIGHT_AFTER


def is_fresh(change: ObservedChange, record: ActionRecord) -> bool:
    """Rule 4: the record was first read after the change's action could have ended."""
    return record.seen_at is None or record.seen_at > change.observed_at - FRESH


def log_has_passed(
    change: ObservedChange, records: Iterable[ActionRecord], skew: timedelta
) -> bool:
    """Whether the log already holds entries newer than the change's window on its device."""
    return any(
        record.smartlock_id == change.smartlock_id and offset(change, record, skew) > WINDOW_AFTER
        for record in records
    )
