"""Simulated Nuki devices and the wire JSON a bridge and the Web API show for them.

The JSON is written here from Nuki's documents (Bridge HTTP API 1.13.3, Web API spec 4.4.1)
and real captures, never with the clients' serializers: a simulator that shared them would
agree with their bugs. Key order follows the captures (a 4th-gen lock's callback starts with
``deviceType``, the documented Smart Lock 2 body with ``nukiId``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import attrs

from nukiasync.const import DeviceType, DoorSensorState, LockMode, LockState, OpenerState

LOCK_STATE_NAMES = {
    LockState.UNCALIBRATED: "uncalibrated",
    LockState.LOCKED: "locked",
    LockState.UNLOCKING: "unlocking",
    LockState.UNLOCKED: "unlocked",
    LockState.LOCKING: "locking",
    LockState.UNLATCHED: "unlatched",
    LockState.UNLOCKED_LOCK_N_GO: "unlocked (lock 'n' go)",
    LockState.UNLATCHING: "unlatching",
    LockState.MOTOR_BLOCKED: "motor blocked",
    LockState.UNDEFINED: "undefined",
}
OPENER_STATE_NAMES = {
    OpenerState.UNTRAINED: "untrained",
    OpenerState.ONLINE: "online",
    OpenerState.RTO_ACTIVE: "rto active",
    OpenerState.OPEN: "open",
    OpenerState.OPENING: "opening",
    OpenerState.BOOT_RUN: "boot run",
    OpenerState.UNDEFINED: "undefined",
}
DOOR_STATE_NAMES: dict[int, str] = {
    DoorSensorState.DEACTIVATED: "deactivated",
    DoorSensorState.DOOR_CLOSED: "door closed",
    DoorSensorState.DOOR_OPENED: "door opened",
    DoorSensorState.DOOR_STATE_UNKNOWN: "door state unknown",
    DoorSensorState.CALIBRATING: "calibrating",
    DoorSensorState.UNCALIBRATED: "uncalibrated",
    DoorSensorState.REMOVED: "tampered",  # what real bridges send; the documents say "removed"
    DoorSensorState.UNDEFINED: "unknown",
}
DEFAULT_BRIDGE = "bridge"  # name of the World's first bridge
BRIDGE_DEVICE_TYPES = frozenset({DeviceType.SMARTLOCK, DeviceType.OPENER, DeviceType.SMARTLOCK_3})


def smartlock_id_of(nuki_id: int, device_type: int) -> int:
    """Web API id of a device: ``deviceType << 32 | nukiId`` (Web API PDF 1.5.3, concept A)."""
    return (device_type << 32) | nuki_id


def bridge_time(when: datetime) -> str:
    """Format a time as the bridge does (``2020-01-30T20:00:00+00:00``)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def web_time(when: datetime) -> str:
    """Format a time as the Web API does: second resolution, ``.000Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _firmware_number(version: str) -> int:
    major, minor, patch = (int(part) for part in version.split("."))
    return (major << 16) | (minor << 8) | patch


@attrs.define(kw_only=True, eq=False)
class Device:
    """One Smart Lock or Opener with its accessories and its current state."""

    name: str
    nuki_id: int
    device_type: DeviceType
    created: datetime
    door_sensor: bool = False
    keypad: bool = False
    auto_lock: float = 0.0  # seconds after an unlock; 0 = off
    knob: bool = False  # a knob instead of a handle: the simple /unlock unlatches
    firmware: str = "3.10.5"
    battery_charge: int = 87
    battery_critical: bool = False
    battery_charging: bool = False
    keypad_battery_critical: bool = False
    state: int = LockState.LOCKED
    mode: int = LockMode.DOOR
    door_state: int = DoorSensorState.UNAVAILABLE
    ring_action_timestamp: datetime | None = None
    ring_action_state: bool = False
    continuous: bool = False  # Opener continuous mode
    last_action: int = 0
    last_trigger: int = 0
    updated: datetime | None = None
    paired: bool = True
    bridge: str | None = DEFAULT_BRIDGE  # name of the bridge it is paired to; None: no bridge
    mqtt: bool = False  # publishes to the World's MQTT broker (Smart Lock 3.0 Pro, 4th/5th gen)
    motion: asyncio.Lock = attrs.field(factory=asyncio.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.door_sensor and self.door_state == DoorSensorState.UNAVAILABLE:
            self.door_state = DoorSensorState.DOOR_CLOSED
        if self.is_opener and self.state == LockState.LOCKED:
            self.state = OpenerState.ONLINE

    @property
    def smartlock_id(self) -> int:
        """The Web API id."""
        return smartlock_id_of(self.nuki_id, self.device_type)

    @property
    def is_opener(self) -> bool:
        """Whether this is an Opener (different states, actions and callback body)."""
        return self.device_type == DeviceType.OPENER

    @property
    def state_name(self) -> str:
        """The bridge's ``stateName`` for the current state."""
        names: dict[Any, str] = OPENER_STATE_NAMES if self.is_opener else LOCK_STATE_NAMES
        return names.get(self.state, "undefined")

    # Bridge wire shapes

    def bridge_state(self) -> dict[str, Any]:
        """The state object of ``/lockState`` and ``/list`` (without ``timestamp``)."""
        body: dict[str, Any] = {
            "mode": self.mode,
            "state": self.state,
            "stateName": self.state_name,
            "batteryCritical": self.battery_critical,
        }
        if self.is_opener:
            body["ringactionTimestamp"] = (
                bridge_time(self.ring_action_timestamp) if self.ring_action_timestamp else None
            )
            body["ringactionState"] = self.ring_action_state
            return body
        body["batteryCharging"] = self.battery_charging
        body["batteryChargeState"] = self.battery_charge
        if self.keypad:
            body["keypadBatteryCritical"] = self.keypad_battery_critical
        if self.door_sensor:
            body["doorsensorState"] = self.door_state
            body["doorsensorStateName"] = DOOR_STATE_NAMES.get(self.door_state, "unknown")
        return body

    def callback_body(self) -> dict[str, Any]:
        """What the bridge POSTs to each callback URL when this device changes."""
        ids = {"nukiId": self.nuki_id, "deviceType": int(self.device_type)}
        if self.device_type == DeviceType.SMARTLOCK_3:
            ids = {"deviceType": int(self.device_type), "nukiId": self.nuki_id}
        return {**ids, **self.bridge_state()}

    def list_entry(self) -> dict[str, Any]:
        """One element of ``/list``: ``timestamp`` is when the state last changed."""
        state = self.bridge_state()
        state["timestamp"] = bridge_time(self.updated or self.created)
        return {
            "nukiId": self.nuki_id,
            "deviceType": int(self.device_type),
            "name": self.name,
            "firmwareVersion": self.firmware,
            "lastKnownState": state,
        }

    def scan_name(self) -> str:
        """The BLE name in ``/info`` scan results (``Nuki_Opener_1E5FE23A``)."""
        prefix = "Nuki_Opener_" if self.is_opener else "Nuki_"
        return f"{prefix}{self.nuki_id:08X}"

    # Web API wire shape

    def web_smartlock(self, *, account_id: int, auth_id: int) -> dict[str, Any]:
        """The Web API ``Smartlock`` object."""
        state: dict[str, Any] = {
            "mode": self.mode,
            "state": self.state,
            "trigger": self.last_trigger,
            "lastAction": self.last_action,
            "batteryCritical": self.battery_critical,
            "batteryCharging": self.battery_charging,
            "batteryCharge": self.battery_charge,
            "doorState": self.door_state,
            "ringToOpenTimer": 0,
            "nightMode": False,
        }
        if self.keypad:
            state["keypadBatteryCritical"] = self.keypad_battery_critical
        if self.door_sensor:
            state["doorsensorBatteryCritical"] = False
        created = web_time(self.created)
        return {
            "smartlockId": self.smartlock_id,
            "accountId": account_id,
            "type": int(self.device_type),
            "authId": auth_id,
            "name": self.name,
            "favorite": False,
            "config": {
                "name": self.name,
                "latitude": 48.2082,
                "longitude": 16.3738,
                "singleLock": False,
                "advertisingMode": 0,
                "timezoneId": 37,
                "timezoneOffset": 0,
                "keypadPaired": self.keypad,
                "deviceType": int(self.device_type),
            },
            "state": state,
            "firmwareVersion": _firmware_number(self.firmware),
            "hardwareVersion": 1,
            "serverState": 0,
            "adminPinState": 0,
            "virtualDevice": False,
            "creationDate": created,
            "updateDate": web_time(self.updated or self.created),
            "opener": self.is_opener,
            "box": False,
            "smartDoor": False,
            "keyturner": not self.is_opener,
        }
