"""What the Web API spec says about the device settings the client sends back.

Properties marked ``readOnly`` come in answers and never go in requests: Swagger 2.0 says a
read-only property must not be sent. The spec reuses read schemas (a
device's ``config``, ``advancedConfig``, ...) as request bodies, so every body built from
such a schema goes through `writable`. Those schemas also name required settings, which the
client fills in from the device's current ones (`REQUIRED`). Both tables are pinned against
the repository's copy of the spec (v4.4.1) by tests/web/test_web_spec_requests.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

# Request-body definitions of the spec that hold read-only properties, and those properties.
READ_ONLY: Mapping[str, frozenset[str]] = {
    "AddressUnit": frozenset({"addressId", "addressTokenId", "id", "operationId"}),
    "AdvancedApiKeyCreate": frozenset({"webhookStatus"}),
    "DecentralWebhook": frozenset({"id", "secret"}),
    "Smartlock.AdvancedConfig": frozenset({"operationId", "totalDegrees"}),
    "Smartlock.Config": frozenset(
        {
            "capabilities",
            "deviceType",
            "fobAction1",
            "fobAction2",
            "fobAction3",
            "fobPaired",
            "homekitState",
            "keypad2Paired",
            "keypadPaired",
            "matterState",
            "operatingMode",
            "operationId",
            "productVariant",
            "wifiEnabled",
        }
    ),
    "Smartlock.OpenerAdvancedConfig": frozenset({"busModeSwitch", "intercomId", "operationId"}),
    "Smartlock.SmartdoorAdvancedConfig": frozenset({"operationId", "supportedBatteryTypes"}),
}

# Writable properties each settings block requires in a request (required minus read-only).
REQUIRED: Mapping[str, frozenset[str]] = {
    "Smartlock.Config": frozenset(
        {
            "advertisingMode",
            "latitude",
            "longitude",
            "name",
            "singleLock",
            "timezoneId",
            "timezoneOffset",
        }
    ),
    "Smartlock.AdvancedConfig": frozenset(
        {
            "batteryType",
            "lockedPositionOffsetDegrees",
            "singleLockedPositionOffsetDegrees",
            "unlockedPositionOffsetDegrees",
        }
    ),
    "Smartlock.OpenerAdvancedConfig": frozenset(
        {
            "batteryType",
            "disableRtoAfterRing",
            "doorbellSuppression",
            "doorbellSuppressionDuration",
            "doubleButtonPressAction",
            "electricStrikeDelay",
            "electricStrikeDuration",
            "randomElectricStrikeDelay",
            "rtoTimeout",
            "shortCircuitDuration",
            "singleButtonPressAction",
            "soundCm",
            "soundConfirmation",
            "soundLevel",
            "soundOpen",
            "soundRing",
            "soundRto",
        }
    ),
    "Smartlock.SmartdoorAdvancedConfig": frozenset({"autoLock", "batteryType"}),
}


def writable(definition: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without the properties ``definition`` marks read-only."""
    read_only = READ_ONLY.get(definition, frozenset())
    return {key: value for key, value in body.items() if key not in read_only}
