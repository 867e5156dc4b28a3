"""Ground truth of every state change the simulated world makes: who really caused it.

A benchmark or test scores a correlator (the hub, a peer's strategy) against this, not against
its own reading of the log: each ``StateChange`` says which device went from which settled
state to which, when, whether a person's action, an automatic follow-on of the lock itself
(the latch springing back, lock 'n' go locking again, the Opener's strike releasing) or an
automation with its own log entry (auto-lock, ring to open) caused it, the log entry that
explains it (``None`` when none does) and what became of its callbacks (posted, lost). A
change is a move between settled states (transitional states such as "unlocking" are never
changes: no callback reports them); a callback that repeats the settled state (battery, a
door sensor) is no change.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from nukiasync.simulator.devices import Device

# Kinds of cause. ``action``: a person or the bridge acted and the lock logged it;
# ``auto_lock`` and ``ring_to_open``: the lock acted by itself and logged it (no name);
# the follow-ons below: the lock moved by itself and logged nothing.
ACTION = "action"
FOLLOW_ONS = frozenset({"unlatch_release", "lock_n_go_relock", "opener_release"})
LOGGED_AUTOMATIONS = frozenset({"auto_lock", "ring_to_open"})


@attrs.define(kw_only=True, eq=False)
class StateChange:
    """One move of a device between settled states, with its real cause.

    ``record_seq`` is the journal record behind it: the action itself, or for a follow-on
    the action whose follow-on it is. ``log_id`` is the entry that explains the change
    (``None`` for follow-ons: the lock logs nothing for them). ``failed`` marks a change
    whose entry has an outcome other than success (a blocked motor leaves state 254).
    ``callbacks_posted`` / ``callbacks_lost`` count the POSTs of its callback per URL.
    """

    seq: int
    lock: str
    smartlock_id: int
    nuki_id: int
    device_type: int
    before: int
    after: int
    mode_before: int
    mode_after: int
    at: datetime
    kind: str
    person: str | None = None
    record_seq: int | None = None
    log_id: str | None = None
    entry_visible_at: datetime | None = None
    failed: bool = False
    callbacks_posted: int = 0
    callbacks_lost: int = 0

    @property
    def automatic(self) -> bool:
        """The lock moved by itself (a follow-on or a logged automation), not a person."""
        return self.kind != ACTION

    @property
    def follow_on(self) -> bool:
        """A follow-on: automatic, with a callback and no log entry."""
        return self.kind in FOLLOW_ONS

    @property
    def attributable(self) -> bool:
        """A successful action or automation whose log entry explains this change."""
        return self.log_id is not None and not self.failed


@attrs.define
class ChangeBook:
    """The World's list of state changes and each device's last settled state."""

    changes: list[StateChange] = attrs.field(factory=list)
    _settled: dict[int, tuple[int, int]] = attrs.field(factory=dict)

    def register(self, device: Device) -> None:
        """Remember a device's initial settled state (when it is added)."""
        self._settled[device.smartlock_id] = (device.state, device.mode)

    def settled(self, device: Device) -> tuple[int, int]:
        """The device's last settled (state, mode)."""
        return self._settled.get(device.smartlock_id, (device.state, device.mode))

    def note(
        self,
        device: Device,
        at: datetime,
        *,
        kind: str,
        person: str | None = None,
        record_seq: int | None = None,
    ) -> StateChange | None:
        """Record the device's current state as settled; a change if it differs from before."""
        before, mode_before = self.settled(device)
        self._settled[device.smartlock_id] = (device.state, device.mode)
        if (before, mode_before) == (device.state, device.mode):
            return None
        change = StateChange(
            seq=len(self.changes) + 1,
            lock=device.name,
            smartlock_id=device.smartlock_id,
            nuki_id=device.nuki_id,
            device_type=int(device.device_type),
            before=before,
            after=device.state,
            mode_before=mode_before,
            mode_after=device.mode,
            at=at,
            kind=kind,
            person=person,
            record_seq=record_seq,
        )
        self.changes.append(change)
        return change

    def find(self, seq: int | None) -> StateChange | None:
        """The change with this sequence number."""
        if seq is None or not 1 <= seq <= len(self.changes):
            return None
        return self.changes[seq - 1]
