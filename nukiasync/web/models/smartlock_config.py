"""A device's configuration blocks as the Web API reports them (``Smartlock.config`` & co.).

Numbers whose meaning depends on the device type (fob actions, button actions, sounds) stay
plain ints: the spec's tables for them are per type and incomplete. Every field has a default,
so a block that omits keys (older firmware, another device type) still parses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import attrs

from nukiasync._parse import optional_int
from nukiasync._redact import redact
from nukiasync.web.models._common import (
    int_list,
    optional_bool,
    optional_float,
    optional_str,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


@attrs.frozen(kw_only=True)
class SmartlockConfig:
    """``Smartlock.config``: the settings stored on the device itself."""

    name: str = ""
    latitude: float | None = attrs.field(default=None, repr=redact)
    longitude: float | None = attrs.field(default=None, repr=redact)
    capabilities: int | None = None
    auto_unlatch: bool | None = None
    lift_up_handle: bool | None = None
    pairing_enabled: bool | None = None
    button_enabled: bool | None = None
    led_enabled: bool | None = None
    led_brightness: int | None = None
    timezone_offset: int | None = None
    daylight_saving_mode: int | None = None
    fob_paired: bool | None = None
    fob_action_1: int | None = None
    fob_action_2: int | None = None
    fob_action_3: int | None = None
    single_lock: bool | None = None
    operating_mode: int | None = None
    advertising_mode: int | None = None
    keypad_paired: bool | None = None
    keypad2_paired: bool | None = None
    homekit_state: int | None = None
    matter_state: int | None = None
    timezone_id: int | None = None
    device_type_code: int | None = None
    wifi_enabled: bool | None = None
    product_variant: int | None = None
    operation_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``config`` JSON object."""
        return cls(
            name=str(data.get("name") or ""),
            latitude=optional_float(data.get("latitude")),
            longitude=optional_float(data.get("longitude")),
            capabilities=optional_int(data.get("capabilities")),
            auto_unlatch=optional_bool(data.get("autoUnlatch")),
            lift_up_handle=optional_bool(data.get("liftUpHandle")),
            pairing_enabled=optional_bool(data.get("pairingEnabled")),
            button_enabled=optional_bool(data.get("buttonEnabled")),
            led_enabled=optional_bool(data.get("ledEnabled")),
            led_brightness=optional_int(data.get("ledBrightness")),
            timezone_offset=optional_int(data.get("timezoneOffset")),
            daylight_saving_mode=optional_int(data.get("daylightSavingMode")),
            fob_paired=optional_bool(data.get("fobPaired")),
            fob_action_1=optional_int(data.get("fobAction1")),
            fob_action_2=optional_int(data.get("fobAction2")),
            fob_action_3=optional_int(data.get("fobAction3")),
            single_lock=optional_bool(data.get("singleLock")),
            operating_mode=optional_int(data.get("operatingMode")),
            advertising_mode=optional_int(data.get("advertisingMode")),
            keypad_paired=optional_bool(data.get("keypadPaired")),
            keypad2_paired=optional_bool(data.get("keypad2Paired")),
            homekit_state=optional_int(data.get("homekitState")),
            matter_state=optional_int(data.get("matterState")),
            timezone_id=optional_int(data.get("timezoneId")),
            device_type_code=optional_int(data.get("deviceType")),
            wifi_enabled=optional_bool(data.get("wifiEnabled")),
            product_variant=optional_int(data.get("productVariant")),
            operation_id=optional_str(data.get("operationId")),
        )


@attrs.frozen(kw_only=True)
class SmartlockAdvancedConfig:
    """``Smartlock.advancedConfig``: calibration, auto lock and button settings of a lock."""

    total_degrees: int | None = None
    unlocked_position_offset_degrees: int | None = None
    locked_position_offset_degrees: int | None = None
    single_locked_position_offset_degrees: int | None = None
    unlocked_to_locked_transition_offset_degrees: int | None = None
    lng_timeout: int | None = None
    single_button_press_action: int | None = None
    double_button_press_action: int | None = None
    detached_cylinder: bool | None = None
    battery_type: int | None = None
    automatic_battery_type_detection: bool | None = None
    unlatch_duration: int | None = None
    auto_lock: bool | None = None
    auto_lock_timeout: int | None = None
    auto_update_enabled: bool | None = None
    motor_speed: int | None = None
    enable_slow_speed_during_nightmode: bool | None = None
    operation_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``advancedConfig`` JSON object."""
        return cls(
            total_degrees=optional_int(data.get("totalDegrees")),
            unlocked_position_offset_degrees=optional_int(
                data.get("unlockedPositionOffsetDegrees")
            ),
            locked_position_offset_degrees=optional_int(data.get("lockedPositionOffsetDegrees")),
            single_locked_position_offset_degrees=optional_int(
                data.get("singleLockedPositionOffsetDegrees")
            ),
            unlocked_to_locked_transition_offset_degrees=optional_int(
                data.get("unlockedToLockedTransitionOffsetDegrees")
            ),
            lng_timeout=optional_int(data.get("lngTimeout")),
            single_button_press_action=optional_int(data.get("singleButtonPressAction")),
            double_button_press_action=optional_int(data.get("doubleButtonPressAction")),
            detached_cylinder=optional_bool(data.get("detachedCylinder")),
            battery_type=optional_int(data.get("batteryType")),
            automatic_battery_type_detection=optional_bool(
                data.get("automaticBatteryTypeDetection")
            ),
            unlatch_duration=optional_int(data.get("unlatchDuration")),
            auto_lock=optional_bool(data.get("autoLock")),
            auto_lock_timeout=optional_int(data.get("autoLockTimeout")),
            auto_update_enabled=optional_bool(data.get("autoUpdateEnabled")),
            motor_speed=optional_int(data.get("motorSpeed")),
            enable_slow_speed_during_nightmode=optional_bool(
                data.get("enableSlowSpeedDuringNightmode")
            ),
            operation_id=optional_str(data.get("operationId")),
        )


@attrs.frozen(kw_only=True)
class OpenerAdvancedConfig:
    """``Smartlock.openerAdvancedConfig``: intercom wiring, timings and sounds of an Opener."""

    intercom_id: int | None = None
    bus_mode_switch: int | None = None
    short_circuit_duration: int | None = None
    electric_strike_delay: int | None = None
    random_electric_strike_delay: bool | None = None
    electric_strike_duration: int | None = None
    disable_rto_after_ring: bool | None = None
    rto_timeout: int | None = None
    doorbell_suppression: int | None = None
    doorbell_suppression_duration: int | None = None
    sound_ring: int | None = None
    sound_open: int | None = None
    sound_rto: int | None = None
    sound_cm: int | None = None
    sound_confirmation: int | None = None
    sound_level: int | None = None
    single_button_press_action: int | None = None
    double_button_press_action: int | None = None
    battery_type: int | None = None
    automatic_battery_type_detection: bool | None = None
    auto_update_enabled: bool | None = None
    operation_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``openerAdvancedConfig`` JSON object."""
        return cls(
            intercom_id=optional_int(data.get("intercomId")),
            bus_mode_switch=optional_int(data.get("busModeSwitch")),
            short_circuit_duration=optional_int(data.get("shortCircuitDuration")),
            electric_strike_delay=optional_int(data.get("electricStrikeDelay")),
            random_electric_strike_delay=optional_bool(data.get("randomElectricStrikeDelay")),
            electric_strike_duration=optional_int(data.get("electricStrikeDuration")),
            disable_rto_after_ring=optional_bool(data.get("disableRtoAfterRing")),
            rto_timeout=optional_int(data.get("rtoTimeout")),
            doorbell_suppression=optional_int(data.get("doorbellSuppression")),
            doorbell_suppression_duration=optional_int(data.get("doorbellSuppressionDuration")),
            sound_ring=optional_int(data.get("soundRing")),
            sound_open=optional_int(data.get("soundOpen")),
            sound_rto=optional_int(data.get("soundRto")),
            sound_cm=optional_int(data.get("soundCm")),
            sound_confirmation=optional_int(data.get("soundConfirmation")),
            sound_level=optional_int(data.get("soundLevel")),
            single_button_press_action=optional_int(data.get("singleButtonPressAction")),
            double_button_press_action=optional_int(data.get("doubleButtonPressAction")),
            battery_type=optional_int(data.get("batteryType")),
            automatic_battery_type_detection=optional_bool(
                data.get("automaticBatteryTypeDetection")
            ),
            auto_update_enabled=optional_bool(data.get("autoUpdateEnabled")),
            operation_id=optional_str(data.get("operationId")),
        )


@attrs.frozen(kw_only=True)
class SmartdoorAdvancedConfig:
    """``Smartlock.smartdoorAdvancedConfig``: auto lock, buzzer and buttons of a Smart Door."""

    lng_timeout: int | None = None
    single_button_press_action: int | None = None
    double_button_press_action: int | None = None
    automatic_battery_type_detection: bool | None = None
    unlatch_duration: int | None = None
    battery_type: int | None = None
    supported_battery_types: tuple[int, ...] = ()
    auto_lock: bool | None = None
    auto_lock_timeout: int | None = None
    buzzer_volume: int | None = None
    operation_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``smartdoorAdvancedConfig`` JSON object."""
        return cls(
            lng_timeout=optional_int(data.get("lngTimeout")),
            single_button_press_action=optional_int(data.get("singleButtonPressAction")),
            double_button_press_action=optional_int(data.get("doubleButtonPressAction")),
            automatic_battery_type_detection=optional_bool(
                data.get("automaticBatteryTypeDetection")
            ),
            unlatch_duration=optional_int(data.get("unlatchDuration")),
            battery_type=optional_int(data.get("batteryType")),
            supported_battery_types=int_list(data.get("supportedBatteryTypes")),
            auto_lock=optional_bool(data.get("autoLock")),
            auto_lock_timeout=optional_int(data.get("autoLockTimeout")),
            buzzer_volume=optional_int(data.get("buzzerVolume")),
            operation_id=optional_str(data.get("operationId")),
        )


@attrs.frozen(kw_only=True)
class WebConfig:
    """``Smartlock.webConfig``: settings kept by Nuki Web, not on the device."""

    battery_warning_per_mail_enabled: bool | None = None
    dismissed_lift_up_handle_warning: tuple[int, ...] | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``webConfig`` JSON object."""
        dismissed = data.get("dismissedLiftUpHandleWarning")
        return cls(
            battery_warning_per_mail_enabled=optional_bool(
                data.get("batteryWarningPerMailEnabled")
            ),
            dismissed_lift_up_handle_warning=(None if dismissed is None else int_list(dismissed)),
        )

    def to_api(self) -> dict[str, Any]:
        """The JSON body of a web config update; None fields are left out (not changed).

        An empty ``dismissed_lift_up_handle_warning`` is sent, and clears the list.
        """
        body: dict[str, Any] = {}
        if self.battery_warning_per_mail_enabled is not None:
            body["batteryWarningPerMailEnabled"] = self.battery_warning_per_mail_enabled
        if self.dismissed_lift_up_handle_warning is not None:
            body["dismissedLiftUpHandleWarning"] = list(self.dismissed_lift_up_handle_warning)
        return body
