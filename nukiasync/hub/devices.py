"""What the hub knows about each device, and how a callback turns into events.

A callback carries the whole state of one device; comparing it with the last known state
gives the events (lock state, door sensor, battery, ring) and the changes that wait for a
log entry. Repeats and echoes give nothing and are counted.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync import attribution
from nukiasync.attribution import ChangeKind, ObservedChange
from nukiasync.bridge.callbacks import BridgeCallback
from nukiasync.bridge.claims import ClaimField
from nukiasync.const import DeviceType, DoorSensorState, LockState, OpenerState
from nukiasync.events import (
    BatteryChanged,
    DoorSensorChanged,
    EventSource,
    LockStateChanged,
    NukiEvent,
    RingActionReceived,
    stable_id,
)
from nukiasync.hub.fields import claimed_fields
from nukiasync.ids import device_type_from, nuki_id_from

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nukiasync.bridge.models import BridgeDevice


@attrs.define
class HubCounters:
    """Accounting per callback that passed the transport checks (decision 0001)."""

    emitted: int = 0
    deduplicated: int = 0
    rejected_contradicted: int = 0
    rejected_unconfirmed: int = 0
    unverifiable: int = 0  # before_emit: a change in a field the bridge's /list does not report
    corrections: int = 0
    attributed: int = 0
    unavailable: int = 0
    log_only: int = 0
    hidden: int = 0  # states only the log showed, emitted from it
    gaps: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return attrs.asdict(self)


HISTORY = 32  # states kept per device: a few minutes of a busy door
MOVING_LOCK = frozenset({LockState.UNLOCKING, LockState.LOCKING, LockState.UNLATCHING})
MOVING_OPENER = frozenset({OpenerState.OPENING})


@attrs.define
class DeviceRecord:
    """The last known state of one device."""

    smartlock_id: int
    nuki_id: int
    device_type: DeviceType
    name: str | None = None
    bridge_id: str | None = None
    state: int | None = None
    mode: int | None = None
    door: int | None = None
    battery: tuple[Any, ...] | None = None
    ring_at: datetime | None = None
    changed_at: datetime | None = None  # when the last state or mode change was observed
    # Recent (seen at, state); None: not known from then on (a restart's downtime).
    history: list[tuple[datetime, int | None]] = attrs.field(factory=list)
    # field -> id of the event that set its value ("" once a correction set it): a claim
    # the device moved on from is not "still" held when a later change repeats its value.
    owners: dict[ClaimField, str] = attrs.field(factory=dict)

    def moving(self, state: int) -> bool:
        """Whether a state is one a device passes through (locking, opening, ...)."""
        table = MOVING_OPENER if self.device_type == DeviceType.OPENER else MOVING_LOCK
        return state in table

    def state_at(self, when: datetime) -> int | None:
        """The state the hub believed the device in at a time (None: not known then)."""
        believed = None
        for since, state in self.history:
            if since > when:
                break
            believed = state
        return believed

    def remember(self, when: datetime, state: int | None) -> None:
        """Keep a state in the recent history, in time order (for entries no callback claimed).

        States learnt from the log come late: they go in at their own time.
        """
        bisect.insort(self.history, (when, state), key=lambda item: item[0])
        del self.history[:-HISTORY]

    def identity(self) -> dict[str, Any]:
        """The device fields every event carries."""
        return {
            "smartlock_id": self.smartlock_id,
            "nuki_id": self.nuki_id,
            "device_type": self.device_type,
            "device_name": self.name,
            "bridge_id": self.bridge_id,
        }


@attrs.frozen(kw_only=True)
class CallbackDiff:
    """What a callback changes: the events to emit and the changes to attribute."""

    device: DeviceRecord
    callback: BridgeCallback
    events: tuple[NukiEvent, ...]
    changes: tuple[tuple[ObservedChange, bool], ...]  # (change, attributable)
    at: datetime  # when the callback (or the polled state) was seen

    @property
    def claims_change(self) -> bool:
        """Whether the callback claims a new lock state, mode or door state."""
        return any(isinstance(e, LockStateChanged | DoorSensorChanged) for e in self.events)

    @property
    def duplicate(self) -> bool:
        """Nothing changed: a repeat or an echo."""
        return not self.events


def state_name(device_type: int, state: int) -> str:
    """A readable name of a state code, from the table of the device's kind."""
    enum = OpenerState if device_type == DeviceType.OPENER else LockState
    member = enum.parse(state)
    return member.name.lower() if member.name != "UNKNOWN" else f"unknown_{state}"


class DeviceTable:
    """Devices by smartlock id, seeded from the bridge and the Web API, updated by callbacks."""

    def __init__(self) -> None:
        self._devices: dict[int, DeviceRecord] = {}
        self.started_at: datetime | None = None  # the hub began watching (set by the hub)

    def __len__(self) -> int:
        return len(self._devices)

    def get(self, smartlock_id: int) -> DeviceRecord:
        """The record of a device, created bare when it is new to us."""
        record = self._devices.get(smartlock_id)
        if record is None:
            record = DeviceRecord(
                smartlock_id=smartlock_id,
                nuki_id=nuki_id_from(smartlock_id),
                device_type=device_type_from(smartlock_id),
            )
            self._devices[smartlock_id] = record
        return record

    def seed(self, bridge_id: str, devices: Iterable[BridgeDevice]) -> None:
        """Take names and states from a bridge's ``/list``."""
        for device in devices:
            record = self.get(device.smartlock_id)
            record.bridge_id = bridge_id
            record.name = device.name or record.name
            state = device.last_known_state
            if state is not None and record.state is None:
                record.state = state.state_code
                if self.started_at is not None and state.state_code is not None:
                    # Log dates are whole seconds: as the rules do, count them from a little
                    # before the start (entries older than that are the downtime's).
                    since = self.started_at - attribution.START_SLACK
                    record.remember(since, state.state_code)
                record.mode = state.mode_code
                record.door = state.doorsensor_state_code
            if state is not None and record.battery is None:
                record.battery = (
                    state.battery_critical if "batteryCritical" in state.raw else None,
                    state.battery_charging,
                    state.battery_charge_state,
                    state.keypad_battery_critical,
                )
            if state is not None and record.ring_at is None:
                record.ring_at = state.ringaction_timestamp

    def forget(self, smartlock_id: int) -> None:
        """Drop a device the bridge does not list (it was only ever claimed)."""
        self._devices.pop(smartlock_id, None)

    def name(self, smartlock_id: int, name: str) -> None:
        """Set a device's display name (from the Web API)."""
        if name:
            self.get(smartlock_id).name = name

    def correct(self, smartlock_id: int, state: int, now: datetime) -> int | None:
        """Overwrite the state (a correction from the bridge); the state it replaced."""
        device = self.get(smartlock_id)
        wrong, device.state = device.state, state
        device.owners[ClaimField.STATE] = ""
        device.remember(now, state)
        return wrong

    def diff(
        self,
        callback: BridgeCallback,
        bridge_id: str | None,
        now: datetime,
        *,
        source: EventSource = EventSource.BRIDGE_CALLBACK,
    ) -> CallbackDiff:
        """The events and changes a callback (or a polled state) means; the table stays."""
        device = self.get(callback.smartlock_id)
        ident = {**device.identity(), "bridge_id": bridge_id}
        base = {"received_at": now, "source": source, **ident}
        if source is EventSource.BRIDGE_POLL:
            base["confirmed"] = True  # read from /list itself
        events: list[NukiEvent] = []
        changes: list[tuple[ObservedChange, bool]] = []
        code = callback.device_type_code

        previous_at = device.changed_at or self.started_at

        def observed(kind: ChangeKind, previous: int | None, current: int, cid: str) -> bool:
            change = ObservedChange(
                change_id=cid,
                smartlock_id=callback.smartlock_id,
                device_type=code,
                kind=kind,
                previous=previous,
                current=current,
                observed_at=now,
                previous_at=previous_at,
            )
            if not attribution.expected_actions(change):
                return False
            attributable = attribution.is_attributable(change)
            changes.append((change, attributable))
            return attributable

        mode = callback.mode_code
        mode_changed = mode is not None and device.mode is not None and mode != device.mode
        if callback.state_code != device.state or mode_changed:
            event_id = stable_id(
                "state", callback.smartlock_id, device.state, callback.state_code, now.isoformat()
            )
            attributable = False
            if callback.state_code != device.state:
                attributable = observed(
                    ChangeKind.LOCK_STATE, device.state, callback.state_code, event_id
                )
            if mode_changed and mode is not None:
                attributable = (
                    observed(ChangeKind.MODE, device.mode, mode, event_id) or attributable
                )
            events.append(
                LockStateChanged(
                    event_id=event_id,
                    previous_state=device.state,
                    state=callback.state_code,
                    state_name=state_name(code, callback.state_code),
                    mode=mode,
                    attributable=attributable,
                    **base,
                )
            )
        door = callback.doorsensor_state_code
        if door is not None and door != device.door:
            event_id = stable_id("door", callback.smartlock_id, device.door, door, now.isoformat())
            events.append(
                DoorSensorChanged(
                    event_id=event_id,
                    previous_state=None
                    if device.door is None
                    else DoorSensorState.parse(device.door),
                    state=DoorSensorState.parse(door),
                    state_code=door,
                    **base,
                )
            )
        battery = _battery(callback, device.battery)
        if device.battery is not None and battery != device.battery:
            critical, charging, charge, keypad = battery
            events.append(
                BatteryChanged(
                    event_id=stable_id("battery", callback.smartlock_id, battery, now.isoformat()),
                    battery_critical=critical,
                    battery_charging=charging,
                    battery_charge_state=charge,
                    keypad_battery_critical=keypad,
                    **base,
                )
            )
        ring_at = callback.ringaction_timestamp
        if callback.ringaction_state and ring_at is not None and ring_at != device.ring_at:
            event_id = stable_id("ring", callback.smartlock_id, ring_at.isoformat())
            events.append(
                RingActionReceived(event_id=event_id, ringaction_timestamp=ring_at, **base)
            )
        return CallbackDiff(
            device=device,
            callback=callback,
            events=tuple(events),
            changes=tuple(changes),
            at=now,
        )

    def apply(self, diff: CallbackDiff, bridge_id: str | None) -> None:
        """Make a callback's state the known state (``bridge_id`` None: not from a bridge)."""
        device, callback = diff.device, diff.callback
        if bridge_id is not None:
            device.bridge_id = bridge_id
        device.owners.update(claimed_fields(diff))
        if diff.changes:
            device.changed_at = diff.changes[0][0].observed_at
        if device.state != callback.state_code:
            device.remember(diff.at, callback.state_code)
        device.state = callback.state_code
        if callback.mode_code is not None:
            device.mode = callback.mode_code
        if callback.doorsensor_state_code is not None:
            device.door = callback.doorsensor_state_code
        device.battery = _battery(callback, device.battery)
        if callback.ringaction_timestamp is not None:
            device.ring_at = callback.ringaction_timestamp

    def remember_battery(self, callback: BridgeCallback) -> None:
        """Take a first battery reading without reporting it as a change."""
        device = self.get(callback.smartlock_id)
        if device.battery is None:
            device.battery = _battery(callback, None)

    def history_json(self) -> dict[str, list[list[Any]]]:
        """Every device's recent states, for the state file."""
        return {
            str(sid): [[when.isoformat(), state] for when, state in d.history if state is not None]
            for sid, d in self._devices.items()
            if d.history
        }

    def restore_history(
        self, saved: dict[str, list[list[Any]]], unknown_from: Callable[[int], datetime]
    ) -> None:
        """States believed before a restart, up to where each device's downtime begins."""
        for key, states in saved.items():
            device = self.get(int(key))
            until = unknown_from(device.smartlock_id)
            for when, state in states:
                if (seen := datetime.fromisoformat(when)) < until:
                    device.remember(seen, int(state))
            device.remember(until, None)

    def summary(self) -> list[dict[str, Any]]:
        """Devices for diagnostics (names of devices are not personal data)."""
        return [
            {
                "smartlock_id": d.smartlock_id,
                "device_type": d.device_type.name.lower(),
                "name": d.name,
                "bridge_id": d.bridge_id,
                "state": None if d.state is None else state_name(d.device_type, d.state),
            }
            for d in self._devices.values()
        ]


def _battery(callback: BridgeCallback, known: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """The battery fields after a callback: a field it does not report keeps its value."""
    reported = (
        callback.battery_critical,
        callback.battery_charging,
        callback.battery_charge_state,
        callback.keypad_battery_critical,
    )
    if known is None:
        return reported
    return tuple(new if new is not None else old for new, old in zip(reported, known, strict=True))
