"""The fields a claim speaks of, read off a device record and off a callback.

Confirmation judges a callback field by field (decision 0014); these helpers are the one place
that knows which attribute of a `DeviceRecord` and of a `BridgeCallback` each field is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.bridge.claims import BATTERY_FIELDS, ClaimField, Confirmation, StateClaim
from nukiasync.events import BatteryChanged, DoorSensorChanged, LockStateChanged, RingActionReceived

if TYPE_CHECKING:
    from nukiasync.bridge.callbacks import BridgeCallback
    from nukiasync.bridge.claims import ClaimVerdict, FieldValue
    from nukiasync.hub.devices import CallbackDiff, DeviceRecord


def claimed_fields(diff: CallbackDiff) -> dict[ClaimField, str]:
    """The fields a diff's events claim, each with its event's id (before it is applied)."""
    device, callback = diff.device, diff.callback
    claimed: dict[ClaimField, str] = {}
    for event in diff.events:
        eid = event.event_id
        if isinstance(event, LockStateChanged):
            if callback.state_code != device.state:
                claimed[ClaimField.STATE] = eid
            if event.mode is not None and device.mode is not None and event.mode != device.mode:
                claimed[ClaimField.MODE] = eid
        elif isinstance(event, DoorSensorChanged):
            claimed[ClaimField.DOOR_SENSOR] = eid
        elif isinstance(event, BatteryChanged):
            known = device.battery or (None,) * len(BATTERY_FIELDS)
            for field, old in zip(BATTERY_FIELDS, known, strict=True):
                new = _callback_value(callback, field)
                if new is not None and new != old:
                    claimed[field] = eid
        elif isinstance(event, RingActionReceived):
            claimed[ClaimField.RING] = eid
    return claimed


def record_value(device: DeviceRecord, field: ClaimField) -> FieldValue:
    """What the hub holds for a field of a device."""
    if field in BATTERY_FIELDS:
        return None if device.battery is None else device.battery[BATTERY_FIELDS.index(field)]
    value: FieldValue = getattr(device, _RECORD[field])
    return value


def set_record_value(device: DeviceRecord, field: ClaimField, value: FieldValue) -> None:
    """Overwrite a field of a device with what the bridge reports."""
    device.owners[field] = ""
    if field in BATTERY_FIELDS:
        battery = list(device.battery or (None,) * len(BATTERY_FIELDS))
        battery[BATTERY_FIELDS.index(field)] = value
        device.battery = tuple(battery)
    else:
        setattr(device, _RECORD[field], value)


_RECORD = {
    ClaimField.STATE: "state",
    ClaimField.MODE: "mode",
    ClaimField.DOOR_SENSOR: "door",
    ClaimField.RING: "ring_at",
}
CALLBACK_ATTRIBUTE = {
    ClaimField.STATE: "state_code",
    ClaimField.MODE: "mode_code",
    ClaimField.DOOR_SENSOR: "doorsensor_state_code",
    ClaimField.BATTERY_CRITICAL: "battery_critical",
    ClaimField.BATTERY_CHARGING: "battery_charging",
    ClaimField.BATTERY_CHARGE_STATE: "battery_charge_state",
    ClaimField.KEYPAD_BATTERY_CRITICAL: "keypad_battery_critical",
    ClaimField.RING: "ringaction_timestamp",
}


def _callback_value(callback: BridgeCallback, field: ClaimField) -> FieldValue:
    value: FieldValue = getattr(callback, CALLBACK_ATTRIBUTE[field])
    return value


def passed(field: ClaimField, verdict: ClaimVerdict) -> bool:
    """Whether before_emit may emit a field: confirmed, or a ring /list cannot check."""
    result = verdict.fields.get(field)
    return result is Confirmation.CONFIRMED or (
        field is ClaimField.RING and result is Confirmation.SUPERSEDED
    )


def still_claimed(device: DeviceRecord, claim: StateClaim, field: ClaimField) -> bool:
    """Whether the hub still holds what the claim said (no later callback moved it on).

    The value alone is not enough: unlocked, locked, unlocked again holds the first claim's
    value, but not its change.
    """
    own = claim.event_ids.get(field)
    if own is not None and device.owners.get(field, own) != own:
        return False
    return record_value(device, field) == claim.value(field)


def trusted(
    callback: BridgeCallback, device: DeviceRecord, verdict: ClaimVerdict
) -> BridgeCallback | None:
    """The callback with every field the read did not pass replaced by what we knew.

    None when its state did not pass and we know no state to put instead.
    """
    changes: dict[str, Any] = {}
    for field in ClaimField:
        if passed(field, verdict):
            continue
        if field in BATTERY_FIELDS:
            changes[CALLBACK_ATTRIBUTE[field]] = None  # "not reported": the known value stays
        elif field is ClaimField.STATE and device.state is None:
            return None
        else:
            changes[CALLBACK_ATTRIBUTE[field]] = record_value(device, field)
    if not passed(ClaimField.RING, verdict):
        changes["ringaction_state"] = False
    return attrs.evolve(callback, **changes)
