"""Device, auth, address, opener, service and page models: parsing, tolerance, privacy, drift."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from nukiasync._parse import parse_list
from nukiasync.const import (
    AuthType,
    DeviceType,
    DoorSensorState,
    LockMode,
    LockState,
    LogTrigger,
    OpenerState,
    ServerState,
    WebLockAction,
    WebOpenerAction,
)
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web._results import one
from nukiasync.web.models._common import (
    int_list,
    optional_bool,
    optional_float,
    parse_operation_id,
    str_list,
)
from nukiasync.web.models.address import (
    Address,
    AddressToken,
    AddressTokenInfo,
    AddressUnit,
    Reservation,
)
from nukiasync.web.models.apikey import DecentralWebhook
from nukiasync.web.models.auth import SmartlockAuth, check_keypad_code
from nukiasync.web.models.notification import Notification
from nukiasync.web.models.opener import IntercomVerification, OpenerBrand, OpenerIntercom
from nukiasync.web.models.page import Page
from nukiasync.web.models.service import Service
from nukiasync.web.models.smartlock import (
    AdminPinState,
    Smartlock,
    SmartlockState,
    WebConfig,
    format_version,
)
from tests.support.canary import KEYPAD_CODE
from tests.support.paths import load_fixture

SL = 17618910285
OPENER = 9028975693


def _locks() -> list[dict[str, Any]]:
    return load_fixture("web/smartlocks.json")


def test_smart_lock_from_fixture() -> None:
    lock = Smartlock.from_api(_locks()[0])
    assert lock.smartlock_id == SL
    assert lock.nuki_id == 0x1A2B3C4D
    assert lock.type is DeviceType.SMARTLOCK_3
    assert lock.type_code == 4
    assert lock.favorite
    assert lock.firmware_version == 197905
    assert lock.firmware_version_text == "3.5.17"
    assert lock.server_state is ServerState.OK
    assert lock.admin_pin_state is AdminPinState.OK
    assert lock.creation_date == datetime(2024, 3, 18, 9, 12, 44, tzinfo=UTC)
    state = lock.state
    assert state is not None
    assert (state.mode, state.state, state.trigger) == (
        LockMode.DOOR,
        LockState.LOCKED,
        LogTrigger.AUTO_LOCK,
    )
    assert state.last_action is WebLockAction.LOCK
    assert state.door_state is DoorSensorState.DOOR_CLOSED
    assert state.battery_charge == 84
    assert lock.config is not None
    assert lock.config.keypad2_paired
    assert lock.config.latitude == pytest.approx(48.2082)
    assert lock.advanced_config is not None
    assert lock.advanced_config.auto_lock_timeout == 300
    assert lock.web_config == WebConfig(
        battery_warning_per_mail_enabled=True, dismissed_lift_up_handle_warning=(401234,)
    )
    assert lock.opener_advanced_config is None
    assert lock.smartdoor_advanced_config is None
    assert not lock.is_opener


def test_opener_state_uses_opener_tables() -> None:
    opener = Smartlock.from_api(_locks()[1])
    assert opener.is_opener
    assert opener.state is not None
    assert opener.state.state is OpenerState.RTO_ACTIVE
    assert opener.state.last_action is WebOpenerAction.ACTIVATE_RTO
    assert opener.state.ring_to_open_end == datetime(2026, 11, 20, 7, 35, tzinfo=UTC)
    assert opener.opener_advanced_config is not None
    assert opener.opener_advanced_config.intercom_id == 1034
    assert opener.admin_pin_state is AdminPinState.MISSING
    assert opener.web_config is not None
    assert opener.web_config.dismissed_lift_up_handle_warning is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (6, WebOpenerAction.ACTIVATE_CONTINUOUS_MODE),
        (7, WebOpenerAction.DEACTIVATE_CONTINUOUS_MODE),
        (3, WebOpenerAction.ELECTRIC_STRIKE_ACTUATION),
        (4, WebOpenerAction.UNKNOWN),  # the Bridge's continuous mode, not the Web API's
    ],
)
def test_opener_last_action_uses_web_numbers(code: int, expected: WebOpenerAction) -> None:
    state = SmartlockState.from_api({"lastAction": code}, device_type=DeviceType.OPENER)
    assert (state.last_action, state.last_action_code) == (expected, code)


def test_firmware_version_packing() -> None:
    assert format_version(133135) == "2.8.15"  # 0x2080F, Nuki's own example
    assert Smartlock(smartlock_id=SL).firmware_version_text is None


def test_smart_door_block_and_state_without_type() -> None:
    data = load_fixture("web/smartlocks.json")[0] | {
        "type": 3,
        "smartdoorAdvancedConfig": {"autoLock": True, "supportedBatteryTypes": [0, 3, 254]},
    }
    door = Smartlock.from_api(data)
    assert door.type is DeviceType.SMARTDOOR
    assert door.smartdoor_advanced_config is not None
    assert door.smartdoor_advanced_config.supported_battery_types == (0, 3, 254)
    assert SmartlockState.from_api({"state": 3}).state is LockState.UNLOCKED


def test_unknown_codes_become_unknown_and_keep_the_number() -> None:
    data = _locks()[0] | {"type": 9, "serverState": 9, "adminPinState": 7, "newKey": {"x": 1}}
    data["state"] = {"mode": 9, "state": 99, "trigger": 77, "lastAction": 66, "doorState": 111}
    lock = Smartlock.from_api(data)
    assert (lock.type, lock.type_code) == (DeviceType.UNKNOWN, 9)
    assert (lock.server_state, lock.server_state_code) == (ServerState.UNKNOWN, 9)
    assert (lock.admin_pin_state, lock.admin_pin_state_code) == (AdminPinState.UNKNOWN, 7)
    assert lock.state is not None
    assert (lock.state.mode, lock.state.mode_code) == (LockMode.UNKNOWN, 9)
    assert (lock.state.state, lock.state.state_code) == (LockState.UNKNOWN, 99)
    assert (lock.state.trigger, lock.state.trigger_code) == (LogTrigger.UNKNOWN, 77)
    assert (lock.state.last_action, lock.state.last_action_code) == (WebLockAction.UNKNOWN, 66)
    assert (lock.state.door_state, lock.state.door_state_code) == (DoorSensorState.UNKNOWN, 111)
    assert lock.raw["newKey"] == {"x": 1}


def test_smartlock_repr_hides_position() -> None:
    lock = Smartlock.from_api(_locks()[0])
    assert "48.2082" not in repr(lock)
    assert "16.3738" not in repr(lock)


@pytest.mark.parametrize(
    ("data", "error"),
    [({"name": "x"}, KeyError), ({"smartlockId": None}, ValueError)],
)
def test_smartlock_without_id_raises(data, error) -> None:
    with pytest.raises(error):
        Smartlock.from_api(data)


def test_bad_smartlock_is_skipped_with_a_warning(caplog) -> None:
    caplog.set_level(logging.WARNING)
    data = [*_locks(), {"smartlockId": "not a number"}]
    locks = parse_list(data, Smartlock.from_api, "smartlock")
    assert [lock.smartlock_id for lock in locks] == [SL, OPENER]
    assert "Skipping smartlock #2" in caplog.text


def test_result_helpers_raise_nuki_errors() -> None:
    with pytest.raises(NukiInvalidResponseError):
        one([], Smartlock.from_api, "GET /smartlock/{smartlockId}")


# --- SmartlockAuth ---


def _auths() -> list[dict[str, Any]]:
    return load_fixture("web/smartlock_auths.json")


def test_auths_from_fixture() -> None:
    app, keypad, fob, fingerprint = (SmartlockAuth.from_api(a) for a in _auths())
    assert (app.id, app.auth_id, app.account_user_id, app.app_id) == (
        "65f1c0a2e4b0c1d2e3f4a5b6",
        3,
        512001,
        77120,
    )
    assert app.lock_count == 412
    assert app.remote_allowed
    assert keypad.type is AuthType.KEYPAD_CODE
    assert keypad.type_code == 13
    assert keypad.code == KEYPAD_CODE
    assert keypad.account_user_id is None
    assert (keypad.allowed_week_days, keypad.allowed_from_time, keypad.allowed_until_time) == (
        96,
        480,
        720,
    )
    assert keypad.allowed_until_date == datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert not fob.enabled
    assert fingerprint.fingerprints == {"6f0c2d1e": "Right thumb"}
    assert fingerprint.operation_id == "6740a1b2c3d4e5f60718293a"


def test_auth_repr_and_str_hide_code_name_fingerprints() -> None:
    auths = [SmartlockAuth.from_api(a) for a in _auths()]
    for text in (repr(auths), str(auths)):
        assert str(KEYPAD_CODE) not in text
        assert "Anna Berger" not in text
        assert "Right thumb" not in text


def test_auth_unknown_type_and_keys() -> None:
    auth = SmartlockAuth.from_api(_auths()[0] | {"type": 42, "futureField": True})
    assert (auth.type, auth.type_code) == (AuthType.UNKNOWN, 42)
    assert auth.raw["futureField"] is True


def test_auth_operation_id_object_form() -> None:
    data = _auths()[0] | {
        "operationId": {
            "timestamp": 0x6740A1B2,
            "machineIdentifier": 0xC3D4E5,
            "processIdentifier": 0xF607,
            "counter": 0x18293A,
            "date": "2024-11-22T15:29:22.000Z",
        }
    }
    assert SmartlockAuth.from_api(data).operation_id == "6740a1b2c3d4e5f60718293a"
    assert parse_operation_id({}) == "0" * 24
    assert parse_operation_id("") is None


@pytest.mark.parametrize(
    ("patch", "error"),
    [({"id": ""}, ValueError), ({"smartlockId": None}, ValueError), ({"id": 5}, ValueError)],
)
def test_auth_without_ids_raises(patch, error) -> None:
    with pytest.raises(error):
        SmartlockAuth.from_api(_auths()[0] | patch)


def test_bad_auth_is_skipped_with_a_warning(caplog) -> None:
    caplog.set_level(logging.WARNING)
    auths = parse_list([*_auths(), {"id": "x"}], SmartlockAuth.from_api, "authorization")
    assert len(auths) == 4
    assert "Skipping authorization #4" in caplog.text
    assert str(KEYPAD_CODE) not in caplog.text


@pytest.mark.parametrize("code", [KEYPAD_CODE, 111111, 999999])
def test_valid_keypad_codes(code) -> None:
    assert check_keypad_code(code) == code


@pytest.mark.parametrize("code", [123450, 12345, 1234567, -123456, 0, True])
def test_invalid_keypad_codes(code) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        check_keypad_code(code)


# --- Page ---


def test_page_from_fixture_and_fallbacks() -> None:
    page = Page.from_api(
        load_fixture("web/smartlock_auths_page.json"), SmartlockAuth.from_api, "authorization"
    )
    assert len(page.results) == 2
    assert page.has_next
    last = Page.from_api(
        {"results": [], "pagination": {"currentPage": 1, "totalPages": 2}}, dict, "item"
    )
    assert not last.has_next
    bare = Page.from_api({"results": [{"a": 1}], "pagination": None}, dict, "item")
    assert bare.results == [{"a": 1}]
    assert not bare.has_next
    linked = Page.from_api({"results": [], "pagination": {"nextPage": "/paged?page=3"}}, dict, "x")
    assert linked.has_next
    with pytest.raises(TypeError):
        Page.from_api([], dict, "item")


# --- addresses, opener, service ---


def test_address_models_from_fixtures() -> None:
    address = Address.from_api(load_fixture("web/addresses.json")[0])
    assert address.settings == {"language": "de"}
    assert (address.check_in_time, address.check_out_time) == (900, 600)
    unit = AddressUnit.from_api(load_fixture("web/address_units.json")[0])
    assert unit.redeem_date == datetime(2025, 4, 3, 10, tzinfo=UTC)
    token = AddressToken.from_api(load_fixture("web/address_tokens.json")[0])
    info = AddressTokenInfo.from_api(load_fixture("web/address_token_info.json"))
    reservation = Reservation.from_api(load_fixture("web/address_reservations.json")[0])
    assert reservation.reference == "SMB-884211"
    assert reservation.start_date == datetime(2026, 11, 21, 14, tzinfo=UTC)
    assert not reservation.currently_issuing_auth
    private = repr([address, unit, token, info, reservation])
    for secret in (
        "Lakeside",
        "Apartment 2",
        "66a0b1c2d3e4f5a6b7c8d9f1",
        "K7Q2-9XPA",
        "Jonas",
        "jonas.keller@example.org",
    ):
        assert secret not in private


def test_reservation_reads_both_flag_spellings() -> None:
    data = load_fixture("web/address_reservations.json")[0]
    del data["isCurrentlyIssuingAuth"]
    reservation = Reservation.from_api(data | {"currentlyIssuingAuth": True})
    assert reservation.currently_issuing_auth


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Address, {"addressId": None}),
        (AddressUnit, {"id": "u", "creationDate": "yesterday"}),
        (AddressToken, {"id": ""}),
        (OpenerBrand, {"brandId": None}),
        (OpenerIntercom, {"intercomId": None}),
        (Address, {"addressId": 1, "smartlockIds": "17"}),
        (Address, {"addressId": 1, "smartlockIds": [None]}),
        (AddressTokenInfo, {"id": "x", "smartlockNames": "Front door"}),
    ],
)
def test_address_and_opener_models_reject_bad_required_values(model, data) -> None:
    with pytest.raises((ValueError, TypeError)):
        model.from_api(data)


def test_ids_the_spec_leaves_optional_in_answers_may_be_missing() -> None:
    """AddressUnitResponse.id, DecentralWebhook.id and notificationId are not required."""
    assert AddressUnit.from_api({"name": "Flat 1"}).id is None
    assert DecentralWebhook.from_api({"webhookUrl": "https://x", "webhookFeatures": []}).id is None
    assert Notification.from_api({"pushId": "p", "os": 2, "settings": []}).notification_id is None


def test_opener_and_service_models() -> None:
    intercom = OpenerIntercom.from_api(
        load_fixture("web/opener_intercoms.json")[0] | {"verified": 9}
    )
    assert (intercom.verified, intercom.verified_code) == (IntercomVerification.UNKNOWN, 9)
    assert intercom.creation_date == datetime(2019, 5, 2, 9, tzinfo=UTC)
    service = Service.from_api({"serviceId": "airbnb", "name": "Airbnb", "enabled": True})
    assert (service.service_id, service.name, service.enabled) == ("airbnb", "Airbnb", True)


def test_common_helpers() -> None:
    assert optional_bool(None) is None
    assert optional_bool("false") is False
    assert optional_float(None) is None
    assert optional_float("1.5") == 1.5
    with pytest.raises(TypeError):
        optional_float(True)
    assert int_list(None) == ()
    assert str_list(None) == ()
    with pytest.raises(TypeError):
        str_list("ab")


# --- drift: every key of a fixture is mapped or deliberately ignored ---

SMARTLOCK_KEYS = {
    "smartlockId", "accountId", "type", "lmType", "authId", "name", "favorite", "config",
    "advancedConfig", "openerAdvancedConfig", "smartdoorAdvancedConfig", "webConfig", "state",
    "firmwareVersion", "hardwareVersion", "operationId", "serverState", "adminPinState",
    "virtualDevice", "creationDate", "updateDate", "error", "region", "mountingVariant",
}  # fmt: skip
# Derived flags (from `type`) and subscription details are left in raw on purpose.
SMARTLOCK_IGNORED = {
    "opener", "box", "smartDoor", "keyturner", "currentSubscription", "previousSubscriptions",
}  # fmt: skip
CONFIG_KEYS = {
    "name", "latitude", "longitude", "capabilities", "autoUnlatch", "liftUpHandle",
    "pairingEnabled", "buttonEnabled", "ledEnabled", "ledBrightness", "timezoneOffset",
    "daylightSavingMode", "fobPaired", "fobAction1", "fobAction2", "fobAction3", "singleLock",
    "operatingMode", "advertisingMode", "keypadPaired", "keypad2Paired", "homekitState",
    "matterState", "timezoneId", "deviceType", "wifiEnabled", "productVariant", "operationId",
}  # fmt: skip
ADVANCED_KEYS = {
    "totalDegrees", "unlockedPositionOffsetDegrees", "lockedPositionOffsetDegrees",
    "singleLockedPositionOffsetDegrees", "unlockedToLockedTransitionOffsetDegrees", "lngTimeout",
    "singleButtonPressAction", "doubleButtonPressAction", "detachedCylinder", "batteryType",
    "automaticBatteryTypeDetection", "unlatchDuration", "autoLock", "autoLockTimeout",
    "autoUpdateEnabled", "motorSpeed", "enableSlowSpeedDuringNightmode", "operationId",
}  # fmt: skip
OPENER_KEYS = {
    "intercomId", "busModeSwitch", "shortCircuitDuration", "electricStrikeDelay",
    "randomElectricStrikeDelay", "electricStrikeDuration", "disableRtoAfterRing", "rtoTimeout",
    "doorbellSuppression", "doorbellSuppressionDuration", "soundRing", "soundOpen", "soundRto",
    "soundCm", "soundConfirmation", "soundLevel", "singleButtonPressAction",
    "doubleButtonPressAction", "batteryType", "automaticBatteryTypeDetection",
    "autoUpdateEnabled", "operationId",
}  # fmt: skip
STATE_KEYS = {
    "mode", "state", "trigger", "lastAction", "batteryCritical", "batteryCharging",
    "batteryCharge", "keypadBatteryCritical", "doorsensorBatteryCritical", "doorState",
    "ringToOpenTimer", "ringToOpenEnd", "nightMode", "operationId",
}  # fmt: skip
WEB_CONFIG_KEYS = {"batteryWarningPerMailEnabled", "dismissedLiftUpHandleWarning"}
AUTH_KEYS = {
    "id", "smartlockId", "accountUserId", "authId", "code", "fingerprints", "type", "name",
    "enabled", "remoteAllowed", "lockCount", "allowedFromDate", "allowedUntilDate",
    "allowedWeekDays", "allowedFromTime", "allowedUntilTime", "lastActiveDate", "creationDate",
    "updateDate", "operationId", "error", "appId", "authTypeAsString",
}  # fmt: skip
ADDRESS_KEYS = {
    "addressId", "accountId", "name", "smartlockIds", "settings", "checkInTime", "checkOutTime",
    "serviceId", "timeZone", "creationDate", "updateDate",
}  # fmt: skip
UNIT_KEYS = {
    "id", "addressId", "addressTokenId", "name", "creationDate", "redeemDate", "redeemResult",
    "operationId",
}  # fmt: skip
TOKEN_KEYS = {
    "id", "addressId", "creationDate", "redeemDate", "redeemAccountId", "redeemResult",
    "inviteKeys",
}  # fmt: skip
TOKEN_INFO_KEYS = {"id", "addressName", "smartlockNames"}
RESERVATION_KEYS = {
    "id", "addressId", "accountId", "serviceId", "reference", "state", "automation", "name",
    "email", "guests", "guestsIssued", "startDate", "endDate", "checkedIn", "keypadIssued",
    "hasCustomAccessTimes", "isCurrentlyIssuingAuth", "currentlyIssuingAuth",
    "isCurrentlyRevokingAuth", "currentlyRevokingAuth", "updateDate",
}  # fmt: skip
BRAND_KEYS = {"brandId", "brand"}
INTERCOM_KEYS = {
    "intercomId", "brandId", "model", "type", "verified", "busModeSwitch",
    "busModeSwitchShortCircuitDuration", "conAudioout", "conBusAudio", "conDoorbellMinus",
    "conDoorbellPlus", "conGndAnalogue", "conGndBus", "conOpendoor", "creationDate",
    "updateDate",
}  # fmt: skip
# The spec's Service is a serialized server object; only its flags mean anything to us.
SERVICE_KEYS = {"serviceId", "name", "enabled", "started", "stopped"}
SERVICE_IGNORED = {"context"}


def _unmapped(items: list[dict[str, Any]], mapped: set[str], ignored: set[str]) -> set[str]:
    return {key for item in items for key in item} - mapped - ignored


@pytest.mark.parametrize(
    ("fixture", "mapped", "ignored"),
    [
        ("web/smartlocks.json", SMARTLOCK_KEYS, SMARTLOCK_IGNORED),
        ("web/smartlock_auths.json", AUTH_KEYS, set()),
        ("web/addresses.json", ADDRESS_KEYS, set()),
        ("web/address_units.json", UNIT_KEYS, set()),
        ("web/address_tokens.json", TOKEN_KEYS, set()),
        ("web/address_reservations.json", RESERVATION_KEYS, set()),
        ("web/opener_brands.json", BRAND_KEYS, set()),
        ("web/opener_intercoms.json", INTERCOM_KEYS, set()),
        ("web/services.json", SERVICE_KEYS, SERVICE_IGNORED),
    ],
)
def test_fixture_keys_are_all_mapped(fixture, mapped, ignored) -> None:
    assert _unmapped(load_fixture(fixture), mapped, ignored) == set()


def test_nested_blocks_and_single_objects_are_all_mapped() -> None:
    locks = _locks()
    blocks = {
        "config": CONFIG_KEYS,
        "advancedConfig": ADVANCED_KEYS,
        "openerAdvancedConfig": OPENER_KEYS,
        "state": STATE_KEYS,
        "webConfig": WEB_CONFIG_KEYS,
    }
    for key, mapped in blocks.items():
        items = [lock[key] for lock in locks if key in lock]
        assert items, key
        assert _unmapped(items, mapped, set()) == set(), key
    info = load_fixture("web/address_token_info.json")
    assert _unmapped([info], TOKEN_INFO_KEYS, set()) == set()
    page = load_fixture("web/smartlock_auths_page.json")
    assert set(page) == {"results", "pagination"}
    assert set(page["pagination"]) == {
        "totalItems", "totalPages", "currentPage", "nextPage", "prevPage", "pageSize",
    }  # fmt: skip
