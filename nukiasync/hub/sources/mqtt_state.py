"""What an MQTT lock's state topics mean to the hub's device table.

A state topic carries one field; the hub's events come from comparing a whole state with the
last known one (`DeviceTable.diff`, as for a bridge callback). So one new field is set into
the device's known state, the rest as the hub knows it (a bridge may have told it later than
the broker), and the result reads like a callback: one place builds the events for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from nukiasync.bridge.callbacks import BridgeCallback
from nukiasync.const import DeviceType, DoorSensorState, LockMode, LockState, OpenerState
from nukiasync.ids import smartlock_id_from

if TYPE_CHECKING:
    from datetime import datetime

    from nukiasync.hub.devices import DeviceRecord

# Topics that are part of the device state the hub keeps, and the callback field they fill.
FIELDS = {
    "state": "state_code",
    "mode": "mode_code",
    "doorsensorState": "doorsensor_state_code",
    "batteryCritical": "battery_critical",
    "batteryCharging": "battery_charging",
    "batteryChargeState": "battery_charge_state",
    "keypadBatteryCritical": "keypad_battery_critical",
}
BATTERY = (
    "battery_critical",
    "battery_charging",
    "battery_charge_state",
    "keypad_battery_critical",
)


@attrs.define
class MqttLock:
    """What the broker told about one lock."""

    nuki_id: int
    device_type: int | None = None
    seen: set[str] = attrs.field(factory=set)  # topics read at least once
    waiting: dict[str, object] = attrs.field(factory=dict)  # values before the device type
    other: dict[str, object] = attrs.field(factory=dict)  # connected, firmware, ...

    @property
    def smartlock_id(self) -> int | None:
        """The Web API id, once the lock said what kind of device it is."""
        if self.device_type is None:
            return None
        return smartlock_id_from(self.nuki_id, self.device_type)


def as_callback(
    lock: MqttLock, device: DeviceRecord, field: str, value: object
) -> BridgeCallback | None:
    """The device's whole known state with one field new, as a bridge would report it."""
    state = value if field == "state_code" else device.state
    if not isinstance(state, int) or lock.device_type is None:
        return None
    code = lock.device_type
    mode = value if field == "mode_code" else device.mode
    door = value if field == "doorsensor_state_code" else device.door
    battery = {name: value if field == name else None for name in BATTERY}
    opener = code == DeviceType.OPENER
    return BridgeCallback(
        nuki_id=lock.nuki_id,
        device_type=DeviceType.parse(code),
        device_type_code=code,
        state_code=int(state),
        lock_state=OpenerState.parse(int(state)) if opener else LockState.parse(int(state)),
        mode=LockMode.parse(int(mode)) if isinstance(mode, int) else LockMode.UNKNOWN,
        mode_code=int(mode) if isinstance(mode, int) else None,
        doorsensor_state=DoorSensorState.parse(int(door)) if isinstance(door, int) else None,
        doorsensor_state_code=int(door) if isinstance(door, int) else None,
        **battery,  # type: ignore[arg-type]
    )


def set_known(device: DeviceRecord, field: str, value: object, now: datetime) -> None:
    """Take a value into the device's record without an event."""
    if field == "state_code" and isinstance(value, int):
        if device.state != value:
            device.remember(now, int(value))
        device.state = int(value)
    elif field == "mode_code" and isinstance(value, int):
        device.mode = int(value)
    elif field == "doorsensor_state_code" and isinstance(value, int):
        device.door = int(value)
    elif field in BATTERY:
        known = list(device.battery) if device.battery is not None else [None] * len(BATTERY)
        known[BATTERY.index(field)] = value
        device.battery = tuple(known)
