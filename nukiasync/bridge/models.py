"""Typed snapshots of Bridge HTTP API 1.13.3 answers, tolerant of real bridges.

Real bridges and Nuki's own examples disagree in places, so the parsers here:

- read the device type from ``deviceType`` or, as in the doc's ``/info`` example,
  ``type``;
- trust the state *number* over ``stateName`` (the doc's ``/list`` example labels
  state 1 "unlocked"); the name is display text;
- accept booleans sent as strings, and keep unknown device types, modes and states as
  ``UNKNOWN`` beside the raw code;
- read the 8-hex-digit string ``nukiId`` of ``/log`` entries.

Every top-level model keeps the payload in ``raw`` so nothing the bridge sent is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int, parse_bool, parse_list
from nukiasync._redact import origin_of
from nukiasync.const import (
    BridgeType,
    DeviceType,
    DoorSensorState,
    LockMode,
    LockState,
    OpenerState,
)
from nukiasync.ids import smartlock_id_from


def device_type_code(data: Mapping[str, Any]) -> int:
    """Return the raw device type of a payload: ``deviceType``, else ``type``, else 0.

    Bridges before API 1.9 knew only Smart Locks and sent no device type (default 0).
    """
    value = data.get("deviceType", data.get("type"))
    code = optional_int(value)
    return 0 if code is None else code


def parse_lock_state(device_type: int, state: object) -> LockState | OpenerState:
    """Interpret a state number by device type: Opener numbers mean other things."""
    if device_type == DeviceType.OPENER:
        return OpenerState.parse(state)
    # Smart Locks, the Smart Door and device types newer than this library share one
    # table.
    return LockState.parse(state)


def _optional_bool(value: object) -> bool | None:
    return None if value is None else parse_bool(value)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _callback_url_repr(url: str) -> str:
    # The path of our callback URL holds the server's path secret: show the origin only.
    return repr(f"{origin_of(url)}/...")


@attrs.frozen(kw_only=True)
class BridgeDeviceState:
    """A device's state as ``/lockState`` answers it or ``/list`` caches it."""

    lock_state: LockState | OpenerState = LockState.UNKNOWN
    state_code: int | None = None
    state_name: str = ""
    mode: LockMode = LockMode.UNKNOWN
    mode_code: int | None = None
    battery_critical: bool = False
    battery_charging: bool | None = None
    battery_charge_state: int | None = None
    keypad_battery_critical: bool | None = None
    doorsensor_state: DoorSensorState | None = None
    doorsensor_state_code: int | None = None
    doorsensor_state_name: str | None = None
    ringaction_timestamp: datetime | None = None
    ringaction_state: bool | None = None
    timestamp: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], device_type: int | None = None) -> Self:
        """Build from a state object; ``device_type`` decides what the state means.

        Raises:
            ValueError: a value has the wrong type.
        """
        kind = device_type_code(data) if device_type is None else int(device_type)
        state_code = optional_int(data.get("state"))
        mode_code = optional_int(data.get("mode"))
        door_code = optional_int(data.get("doorsensorState"))
        return cls(
            lock_state=parse_lock_state(kind, state_code),
            state_code=state_code,
            state_name=str(data.get("stateName") or ""),
            mode=LockMode.parse(mode_code),
            mode_code=mode_code,
            battery_critical=parse_bool(data.get("batteryCritical")),
            battery_charging=_optional_bool(data.get("batteryCharging")),
            battery_charge_state=optional_int(data.get("batteryChargeState")),
            keypad_battery_critical=_optional_bool(data.get("keypadBatteryCritical")),
            doorsensor_state=None if door_code is None else DoorSensorState.parse(door_code),
            doorsensor_state_code=door_code,
            doorsensor_state_name=_optional_str(data.get("doorsensorStateName")),
            ringaction_timestamp=optional_datetime(data.get("ringactionTimestamp")),
            ringaction_state=_optional_bool(data.get("ringactionState")),
            timestamp=optional_datetime(data.get("timestamp")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class BridgeDevice:
    """One paired device of ``/list``; its name names a door, not a person."""

    nuki_id: int
    device_type: DeviceType
    device_type_code: int
    name: str = ""
    firmware_version: str | None = None
    last_known_state: BridgeDeviceState | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def smartlock_id(self) -> int:
        """The Web API ``smartlockId`` of this device.

        Raises:
            ValueError: the device type cannot be encoded in a smartlockId.
        """
        return smartlock_id_from(self.nuki_id, self.device_type_code)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from one ``/list`` item.

        Raises:
            KeyError: ``nukiId`` is missing.
            ValueError: a value has the wrong type.
        """
        code = device_type_code(data)
        state = data.get("lastKnownState")
        return cls(
            nuki_id=int(data["nukiId"]),
            device_type=DeviceType.parse(code),
            device_type_code=code,
            name=str(data.get("name") or ""),
            firmware_version=_optional_str(data.get("firmwareVersion")),
            last_known_state=(
                BridgeDeviceState.from_api(state, code) if isinstance(state, Mapping) else None
            ),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class BridgeScanResult:
    """A device the bridge can hear (``/info`` ``scanResults``); names are BLE names."""

    nuki_id: int
    device_type: DeviceType
    device_type_code: int
    name: str = ""
    rssi: int | None = None
    paired: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from one scan result (``type`` or ``deviceType``).

        Raises:
            KeyError: ``nukiId`` is missing.
        """
        code = device_type_code(data)
        return cls(
            nuki_id=int(data["nukiId"]),
            device_type=DeviceType.parse(code),
            device_type_code=code,
            name=str(data.get("name") or ""),
            rssi=optional_int(data.get("rssi")),
            paired=parse_bool(data.get("paired")),
        )


@attrs.frozen(kw_only=True)
class BridgeInfo:
    """The bridge's own facts and the devices in range (``/info``)."""

    bridge_type: BridgeType = BridgeType.UNKNOWN
    bridge_type_code: int | None = None
    hardware_id: int | None = None
    server_id: int | None = None
    firmware_version: str | None = None
    wifi_firmware_version: str | None = None
    app_version: str | None = None
    uptime: int | None = None
    current_time: datetime | None = None
    server_connected: bool | None = None
    wlan_connected: bool | None = None
    scan_results: tuple[BridgeScanResult, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``/info`` object.

        Raises:
            ValueError: a value has the wrong type.
        """
        ids = data.get("ids") or {}
        versions = data.get("versions") or {}
        type_code = optional_int(data.get("bridgeType"))
        scan = data.get("scanResults")
        return cls(
            bridge_type=BridgeType.parse(type_code),
            bridge_type_code=type_code,
            hardware_id=optional_int(ids.get("hardwareId")),
            server_id=optional_int(ids.get("serverId")),
            firmware_version=_optional_str(versions.get("firmwareVersion")),
            wifi_firmware_version=_optional_str(versions.get("wifiFirmwareVersion")),
            app_version=_optional_str(versions.get("appVersion")),
            uptime=optional_int(data.get("uptime")),
            current_time=optional_datetime(data.get("currentTime")),
            server_connected=_optional_bool(data.get("serverConnected")),
            wlan_connected=_optional_bool(data.get("wlanConnected")),
            scan_results=tuple(
                parse_list(scan, BridgeScanResult.from_api, "bridge scan result")
                if scan is not None
                else ()
            ),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class BridgeCallbackEntry:
    """A registered callback (``/callback/list``); ``repr`` shows the URL's origin."""

    id: int
    url: str = attrs.field(repr=_callback_url_repr)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from one ``callbacks`` item.

        Raises:
            KeyError: ``id`` or ``url`` is missing.
        """
        return cls(id=int(data["id"]), url=str(data["url"]))


@attrs.frozen(kw_only=True)
class BridgeLogEntry:
    """One entry of the bridge's debug log (``/log``, hardware bridges only)."""

    timestamp: datetime | None = None
    type: str = ""
    nuki_id: int | None = None
    action: str | None = None
    count: int | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from one ``/log`` item; its ``nukiId`` is an 8-hex-digit string.

        Raises:
            ValueError: a value has the wrong type.
        """
        nuki_id = data.get("nukiId")
        return cls(
            timestamp=optional_datetime(data.get("timestamp")),
            type=str(data.get("type") or ""),
            nuki_id=_hex_nuki_id(nuki_id),
            action=_optional_str(data.get("action")),
            count=optional_int(data.get("count")),
            raw=data,
        )


def _hex_nuki_id(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return int(value, 16)
    return optional_int(value)


@attrs.frozen(kw_only=True)
class LockActionResult:
    """The answer to ``/lockAction``, ``/lock`` and ``/unlock``."""

    success: bool
    battery_critical: bool | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the action's answer.

        Raises:
            ValueError: a value has the wrong type.
        """
        return cls(
            success=parse_bool(data.get("success")),
            battery_critical=_optional_bool(data.get("batteryCritical")),
            raw=data,
        )
