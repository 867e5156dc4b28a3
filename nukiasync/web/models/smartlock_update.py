"""Inputs for the configuration updates of a device: every field optional, unset ones not sent.

The spec reuses its read schemas as request bodies; these classes keep only the settings a
user can change: what the spec marks read-only (capabilities, fob actions, operating mode,
Wi-Fi flag, calibrated total degrees, the Opener's intercom id and bus mode switch, pairing
flags, operation ids) has no field here, and `writable` drops it from any body regardless.
The spec marks some settings of each block required; the client completes a body that
lacks one from the device's current settings (``from_config`` does the copying).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import attrs

from nukiasync._redact import redact
from nukiasync.web.models._common import omit_none
from nukiasync.web.models._read_only import writable

if TYPE_CHECKING:
    from nukiasync.web.models.smartlock_config import (
        OpenerAdvancedConfig,
        SmartdoorAdvancedConfig,
        SmartlockAdvancedConfig,
        SmartlockConfig,
    )


def _same_named(cls: type[Any], config: object) -> dict[str, Any]:
    """The current values of the settings ``cls`` can change, read from ``config``."""
    return {field.name: getattr(config, field.name) for field in attrs.fields(cls)}


@attrs.frozen(kw_only=True)
class SmartlockConfigUpdate:
    """Body of ``POST /smartlock/{smartlockId}/config``."""

    name: str | None = None
    latitude: float | None = attrs.field(default=None, repr=redact)
    longitude: float | None = attrs.field(default=None, repr=redact)
    auto_unlatch: bool | None = None
    lift_up_handle: bool | None = None
    pairing_enabled: bool | None = None
    button_enabled: bool | None = None
    led_enabled: bool | None = None
    led_brightness: int | None = None
    timezone_offset: int | None = None
    daylight_saving_mode: int | None = None
    single_lock: bool | None = None
    advertising_mode: int | None = None
    timezone_id: int | None = None

    @classmethod
    def from_config(cls, config: SmartlockConfig) -> Self:
        """Start from a device's current config (then change fields with `attrs.evolve`)."""
        return cls(
            name=config.name or None,
            latitude=config.latitude,
            longitude=config.longitude,
            auto_unlatch=config.auto_unlatch,
            lift_up_handle=config.lift_up_handle,
            pairing_enabled=config.pairing_enabled,
            button_enabled=config.button_enabled,
            led_enabled=config.led_enabled,
            led_brightness=config.led_brightness,
            timezone_offset=config.timezone_offset,
            daylight_saving_mode=config.daylight_saving_mode,
            single_lock=config.single_lock,
            advertising_mode=config.advertising_mode,
            timezone_id=config.timezone_id,
        )

    def to_api(self) -> dict[str, Any]:
        """The JSON body: the fields that are set."""
        body = omit_none(
            {
                "name": self.name,
                "latitude": self.latitude,
                "longitude": self.longitude,
                "autoUnlatch": self.auto_unlatch,
                "liftUpHandle": self.lift_up_handle,
                "pairingEnabled": self.pairing_enabled,
                "buttonEnabled": self.button_enabled,
                "ledEnabled": self.led_enabled,
                "ledBrightness": self.led_brightness,
                "timezoneOffset": self.timezone_offset,
                "daylightSavingMode": self.daylight_saving_mode,
                "singleLock": self.single_lock,
                "advertisingMode": self.advertising_mode,
                "timezoneId": self.timezone_id,
            }
        )
        return writable("Smartlock.Config", body)


@attrs.frozen(kw_only=True)
class SmartlockAdvancedConfigUpdate:
    """Body of ``POST /smartlock/{smartlockId}/advanced/config`` (Smart Lock types 0/4/5)."""

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

    @classmethod
    def from_config(cls, config: SmartlockAdvancedConfig) -> Self:
        """Start from a device's current settings (then change fields with `attrs.evolve`)."""
        return cls(**_same_named(cls, config))

    def to_api(self) -> dict[str, Any]:
        """The JSON body: the fields that are set."""
        body = omit_none(
            {
                "unlockedPositionOffsetDegrees": self.unlocked_position_offset_degrees,
                "lockedPositionOffsetDegrees": self.locked_position_offset_degrees,
                "singleLockedPositionOffsetDegrees": self.single_locked_position_offset_degrees,
                "unlockedToLockedTransitionOffsetDegrees": (
                    self.unlocked_to_locked_transition_offset_degrees
                ),
                "lngTimeout": self.lng_timeout,
                "singleButtonPressAction": self.single_button_press_action,
                "doubleButtonPressAction": self.double_button_press_action,
                "detachedCylinder": self.detached_cylinder,
                "batteryType": self.battery_type,
                "automaticBatteryTypeDetection": self.automatic_battery_type_detection,
                "unlatchDuration": self.unlatch_duration,
                "autoLock": self.auto_lock,
                "autoLockTimeout": self.auto_lock_timeout,
                "autoUpdateEnabled": self.auto_update_enabled,
                "motorSpeed": self.motor_speed,
                "enableSlowSpeedDuringNightmode": self.enable_slow_speed_during_nightmode,
            }
        )
        return writable("Smartlock.AdvancedConfig", body)


@attrs.frozen(kw_only=True)
class OpenerAdvancedConfigUpdate:
    """Body of ``POST /smartlock/{smartlockId}/advanced/openerconfig``."""

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

    @classmethod
    def from_config(cls, config: OpenerAdvancedConfig) -> Self:
        """Start from a device's current settings (then change fields with `attrs.evolve`)."""
        return cls(**_same_named(cls, config))

    def to_api(self) -> dict[str, Any]:
        """The JSON body: the fields that are set."""
        body = omit_none(
            {
                "shortCircuitDuration": self.short_circuit_duration,
                "electricStrikeDelay": self.electric_strike_delay,
                "randomElectricStrikeDelay": self.random_electric_strike_delay,
                "electricStrikeDuration": self.electric_strike_duration,
                "disableRtoAfterRing": self.disable_rto_after_ring,
                "rtoTimeout": self.rto_timeout,
                "doorbellSuppression": self.doorbell_suppression,
                "doorbellSuppressionDuration": self.doorbell_suppression_duration,
                "soundRing": self.sound_ring,
                "soundOpen": self.sound_open,
                "soundRto": self.sound_rto,
                "soundCm": self.sound_cm,
                "soundConfirmation": self.sound_confirmation,
                "soundLevel": self.sound_level,
                "singleButtonPressAction": self.single_button_press_action,
                "doubleButtonPressAction": self.double_button_press_action,
                "batteryType": self.battery_type,
                "automaticBatteryTypeDetection": self.automatic_battery_type_detection,
                "autoUpdateEnabled": self.auto_update_enabled,
            }
        )
        return writable("Smartlock.OpenerAdvancedConfig", body)


@attrs.frozen(kw_only=True)
class SmartdoorAdvancedConfigUpdate:
    """Body of ``POST /smartlock/{smartlockId}/advanced/smartdoorconfig``."""

    lng_timeout: int | None = None
    single_button_press_action: int | None = None
    double_button_press_action: int | None = None
    automatic_battery_type_detection: bool | None = None
    unlatch_duration: int | None = None
    battery_type: int | None = None
    auto_lock: bool | None = None
    auto_lock_timeout: int | None = None
    buzzer_volume: int | None = None

    @classmethod
    def from_config(cls, config: SmartdoorAdvancedConfig) -> Self:
        """Start from a device's current settings (then change fields with `attrs.evolve`)."""
        return cls(**_same_named(cls, config))

    def to_api(self) -> dict[str, Any]:
        """The JSON body: the fields that are set."""
        body = omit_none(
            {
                "lngTimeout": self.lng_timeout,
                "singleButtonPressAction": self.single_button_press_action,
                "doubleButtonPressAction": self.double_button_press_action,
                "automaticBatteryTypeDetection": self.automatic_battery_type_detection,
                "unlatchDuration": self.unlatch_duration,
                "batteryType": self.battery_type,
                "autoLock": self.auto_lock,
                "autoLockTimeout": self.auto_lock_timeout,
                "buzzerVolume": self.buzzer_volume,
            }
        )
        return writable("Smartlock.SmartdoorAdvancedConfig", body)
