"""The legal paths a device's state takes, for judging what a read of ``/list`` shows.

Callbacks carry no time, so a read after a callback can only be compared by paths: a claimed
state is confirmed when it lies on the shortest legal path from the state before to the state
read (locked, unlocking, unlocked), "near" when it lies on a slightly longer one (an unlatch
seen when it ended), and a follow-on when the device leaves it by itself at once.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from nukiasync.const import DeviceType, LockState, OpenerState

if TYPE_CHECKING:
    from collections.abc import Mapping

_L = LockState
_LOCK_TRANSITIONS: Mapping[int, frozenset[int]] = {
    _L.UNCALIBRATED: frozenset({_L.LOCKED, _L.UNLOCKED}),
    _L.LOCKED: frozenset({_L.UNLOCKING, _L.UNLATCHING}),
    _L.UNLOCKING: frozenset({_L.UNLOCKED, _L.UNLOCKED_LOCK_N_GO, _L.MOTOR_BLOCKED}),
    _L.UNLOCKED: frozenset({_L.LOCKING, _L.UNLATCHING}),
    _L.LOCKING: frozenset({_L.LOCKED, _L.MOTOR_BLOCKED}),
    _L.UNLATCHING: frozenset({_L.UNLATCHED, _L.MOTOR_BLOCKED}),
    _L.UNLATCHED: frozenset({_L.UNLOCKED, _L.UNLOCKED_LOCK_N_GO}),
    _L.UNLOCKED_LOCK_N_GO: frozenset({_L.LOCKING}),
    _L.MOTOR_BLOCKED: frozenset({_L.LOCKING, _L.UNLOCKING, _L.UNLATCHING, _L.UNCALIBRATED}),
}
_O = OpenerState
_OPENER_TRANSITIONS: Mapping[int, frozenset[int]] = {
    _O.UNTRAINED: frozenset({_O.ONLINE}),
    _O.BOOT_RUN: frozenset({_O.ONLINE}),
    _O.ONLINE: frozenset({_O.RTO_ACTIVE, _O.OPENING}),
    _O.RTO_ACTIVE: frozenset({_O.ONLINE, _O.OPENING}),
    _O.OPENING: frozenset({_O.OPEN}),
    _O.OPEN: frozenset({_O.ONLINE, _O.RTO_ACTIVE}),
}

# States a device leaves by itself at once: a read may already show where it went (issue 13).
_FOLLOW_ONS = frozenset(
    {
        (DeviceType.OPENER, _O.OPEN, _O.ONLINE),  # the strike releases
        (DeviceType.OPENER, _O.OPEN, _O.RTO_ACTIVE),
        (None, _L.UNLATCHED, _L.UNLOCKED),  # the latch springs back
        (None, _L.UNLOCKED_LOCK_N_GO, _L.LOCKED),  # lock'n'go locks after its delay
    }
)


def is_follow_on(device_type: int, claimed: int, new: int) -> bool:
    """Whether a device in ``claimed`` moves on to ``new`` by itself (a legal path)."""
    kind = DeviceType.OPENER if device_type == DeviceType.OPENER else None
    return (kind, claimed, new) in _FOLLOW_ONS


def on_shortest_path(device_type: int, old: int, claimed: int, new: int) -> bool:
    """Whether ``claimed`` lies after ``old`` on a shortest legal path to ``new``.

    Pure: the whole rule is the transition table of the device type. States outside
    the table (unknown codes) lie on no path.
    """
    table = _OPENER_TRANSITIONS if device_type == DeviceType.OPENER else _LOCK_TRANSITIONS
    if old in (claimed, new):
        return False
    from_old = _distances(table, old)
    if new not in from_old or claimed not in from_old:
        return False
    return from_old[claimed] + _distances(table, claimed).get(new, -1) == from_old[new]


NEAR_PATH_SLACK = 2  # steps beyond the shortest path a real change may take (an unlatch)


def near_path(device_type: int, old: int, claimed: int, new: int) -> bool:
    """Whether ``claimed`` lies on a legal path from ``old`` to ``new`` a little longer.

    At most `NEAR_PATH_SLACK` steps longer than the shortest, ``old`` differing from
    ``new``. An unlatch passes ``unlatching`` and ``unlatched`` on its way from ``locked`` to
    ``unlocked``, one step longer than an unlock: a read that shows only the end cannot
    tell it from a lie, so such a claim is neither confirmed nor corrected.
    """
    table = _OPENER_TRANSITIONS if device_type == DeviceType.OPENER else _LOCK_TRANSITIONS
    if old in (claimed, new):
        return False
    from_old = _distances(table, old)
    to_new = _distances(table, claimed).get(new)
    if new not in from_old or claimed not in from_old or to_new is None:
        return False
    return from_old[claimed] + to_new <= from_old[new] + NEAR_PATH_SLACK


def _distances(table: Mapping[int, frozenset[int]], start: int) -> dict[int, int]:
    distance = {start: 0}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for nxt in table.get(state, frozenset()):
            if nxt not in distance:
                distance[nxt] = distance[state] + 1
                queue.append(nxt)
    return distance
