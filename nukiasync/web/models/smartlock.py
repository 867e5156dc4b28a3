"""Nuki devices as the Web API lists them: identity, state, configuration blocks.

``Smartlock`` covers every device type (Smart Lock 1 to 5, Box, Opener, Smart Door); what a
number in ``state`` means depends on the type, so the state block is parsed knowing it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int, parse_bool
from nukiasync.const import (
    DeviceType,
    DoorSensorState,
    LockMode,
    LockState,
    LogTrigger,
    OpenerState,
    ServerState,
    TolerantIntEnum,
    WebLockAction,
    WebOpenerAction,
)
from nukiasync.ids import nuki_id_from
from nukiasync.web.models._common import optional_str
from nukiasync.web.models.smartlock_config import (
    OpenerAdvancedConfig,
    SmartdoorAdvancedConfig,
    SmartlockAdvancedConfig,
    SmartlockConfig,
    WebConfig,
)

__all__ = [
    "ActionOption",
    "AdminPinState",
    "OpenerAdvancedConfig",
    "SmartdoorAdvancedConfig",
    "Smartlock",
    "SmartlockAdvancedConfig",
    "SmartlockConfig",
    "SmartlockState",
    "WebConfig",
    "format_version",
]


class AdminPinState(TolerantIntEnum):
    """Whether the device's admin PIN is known to Nuki Web (``Smartlock.adminPinState``)."""

    UNKNOWN = -1
    OK = 0
    MISSING = 1
    INVALID = 2


class ActionOption(enum.IntFlag):
    """Option mask of ``POST /smartlock/{smartlockId}/action`` (bits may be combined)."""

    NONE = 0
    FORCE = 2
    FULL_LOCK = 4


def format_version(value: int) -> str:
    """Dotted form of a packed firmware version: 133135 = 0x2080F is "2.8.15"."""
    return f"{value >> 16 & 0xFF}.{value >> 8 & 0xFF}.{value & 0xFF}"


def _is_opener(device_type: DeviceType | int | None) -> bool:
    return device_type is not None and int(device_type) == DeviceType.OPENER


@attrs.frozen(kw_only=True)
class SmartlockState:
    """``Smartlock.state``: what the device reported last.

    ``state`` is an `OpenerState` for an Opener (type 2) and a `LockState` otherwise;
    ``last_action`` likewise a `WebOpenerAction` or a `WebLockAction`: the Web API's
    numbers, where an Opener's continuous mode is 6/7 (the Bridge's 4/5). ``trigger`` uses
    the log's trigger table, which real payloads follow (the spec's state table disagrees).
    """

    mode: LockMode = LockMode.UNKNOWN
    mode_code: int | None = None
    state: LockState | OpenerState = LockState.UNKNOWN
    state_code: int | None = None
    trigger: LogTrigger = LogTrigger.UNKNOWN
    trigger_code: int | None = None
    last_action: WebLockAction | WebOpenerAction = WebLockAction.UNKNOWN
    last_action_code: int | None = None
    battery_critical: bool = False
    battery_charging: bool = False
    battery_charge: int | None = None
    keypad_battery_critical: bool = False
    doorsensor_battery_critical: bool = False
    door_state: DoorSensorState = DoorSensorState.UNKNOWN
    door_state_code: int | None = None
    ring_to_open_timer: int | None = None
    ring_to_open_end: datetime | None = None
    night_mode: bool = False
    operation_id: str | None = None

    @classmethod
    def from_api(
        cls, data: Mapping[str, Any], *, device_type: DeviceType | int | None = None
    ) -> Self:
        """Build from the ``state`` JSON object of a device of ``device_type``."""
        mode = optional_int(data.get("mode"))
        state = optional_int(data.get("state"))
        trigger = optional_int(data.get("trigger"))
        last_action = optional_int(data.get("lastAction"))
        door_state = optional_int(data.get("doorState"))
        opener = _is_opener(device_type)
        return cls(
            mode=LockMode.parse(mode),
            mode_code=mode,
            state=OpenerState.parse(state) if opener else LockState.parse(state),
            state_code=state,
            trigger=LogTrigger.parse(trigger),
            trigger_code=trigger,
            last_action=(
                WebOpenerAction.parse(last_action) if opener else WebLockAction.parse(last_action)
            ),
            last_action_code=last_action,
            battery_critical=parse_bool(data.get("batteryCritical")),
            battery_charging=parse_bool(data.get("batteryCharging")),
            battery_charge=optional_int(data.get("batteryCharge")),
            keypad_battery_critical=parse_bool(data.get("keypadBatteryCritical")),
            doorsensor_battery_critical=parse_bool(data.get("doorsensorBatteryCritical")),
            door_state=DoorSensorState.parse(door_state),
            door_state_code=door_state,
            ring_to_open_timer=optional_int(data.get("ringToOpenTimer")),
            ring_to_open_end=optional_datetime(data.get("ringToOpenEnd")),
            night_mode=parse_bool(data.get("nightMode")),
            operation_id=optional_str(data.get("operationId")),
        )


@attrs.frozen(kw_only=True)
class Smartlock:
    """One device of ``GET /smartlock`` or ``GET /smartlock/{smartlockId}``."""

    smartlock_id: int
    account_id: int | None = None
    type: DeviceType = DeviceType.UNKNOWN
    type_code: int | None = None
    lm_type: int | None = None
    auth_id: int | None = None
    name: str = ""
    favorite: bool = False
    config: SmartlockConfig | None = None
    advanced_config: SmartlockAdvancedConfig | None = None
    opener_advanced_config: OpenerAdvancedConfig | None = None
    smartdoor_advanced_config: SmartdoorAdvancedConfig | None = None
    web_config: WebConfig | None = None
    state: SmartlockState | None = None
    firmware_version: int | None = None
    hardware_version: int | None = None
    operation_id: str | None = None
    server_state: ServerState = ServerState.UNKNOWN
    server_state_code: int | None = None
    admin_pin_state: AdminPinState = AdminPinState.UNKNOWN
    admin_pin_state_code: int | None = None
    virtual_device: bool = False
    region: int | None = None
    mounting_variant: int | None = None
    creation_date: datetime | None = None
    update_date: datetime | None = None
    error: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def nuki_id(self) -> int:
        """The Bridge's id for this device."""
        return nuki_id_from(self.smartlock_id)

    @property
    def firmware_version_text(self) -> str | None:
        """The firmware version as Nuki's apps show it, e.g. "2.8.15"."""
        if self.firmware_version is None:
            return None
        return format_version(self.firmware_version)

    @property
    def is_opener(self) -> bool:
        """Whether the device is an Opener (its state and actions mean other things)."""
        return self.type is DeviceType.OPENER

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        smartlock_id = optional_int(data["smartlockId"])
        if smartlock_id is None:
            msg = "smartlock without smartlockId"
            raise ValueError(msg)
        type_code = optional_int(data.get("type"))
        server_state = optional_int(data.get("serverState"))
        admin_pin_state = optional_int(data.get("adminPinState"))
        config = data.get("config")
        advanced = data.get("advancedConfig")
        opener = data.get("openerAdvancedConfig")
        smartdoor = data.get("smartdoorAdvancedConfig")
        web = data.get("webConfig")
        state = data.get("state")
        return cls(
            smartlock_id=smartlock_id,
            account_id=optional_int(data.get("accountId")),
            type=DeviceType.parse(type_code),
            type_code=type_code,
            lm_type=optional_int(data.get("lmType")),
            auth_id=optional_int(data.get("authId")),
            name=str(data.get("name") or ""),
            favorite=parse_bool(data.get("favorite")),
            config=SmartlockConfig.from_api(config) if isinstance(config, Mapping) else None,
            advanced_config=(
                SmartlockAdvancedConfig.from_api(advanced)
                if isinstance(advanced, Mapping)
                else None
            ),
            opener_advanced_config=(
                OpenerAdvancedConfig.from_api(opener) if isinstance(opener, Mapping) else None
            ),
            smartdoor_advanced_config=(
                SmartdoorAdvancedConfig.from_api(smartdoor)
                if isinstance(smartdoor, Mapping)
                else None
            ),
            web_config=WebConfig.from_api(web) if isinstance(web, Mapping) else None,
            state=(
                SmartlockState.from_api(state, device_type=type_code)
                if isinstance(state, Mapping)
                else None
            ),
            firmware_version=optional_int(data.get("firmwareVersion")),
            hardware_version=optional_int(data.get("hardwareVersion")),
            operation_id=optional_str(data.get("operationId")),
            server_state=ServerState.parse(server_state),
            server_state_code=server_state,
            admin_pin_state=AdminPinState.parse(admin_pin_state),
            admin_pin_state_code=admin_pin_state,
            virtual_device=parse_bool(data.get("virtualDevice")),
            region=optional_int(data.get("region")),
            mounting_variant=optional_int(data.get("mountingVariant")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            error=optional_str(data.get("error")),
            raw=data,
        )
