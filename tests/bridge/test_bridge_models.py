"""Bridge models: real and documented payloads, tolerance, privacy and drift."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from nukiasync.bridge import (
    BridgeCallbackEntry,
    BridgeDevice,
    BridgeDeviceState,
    BridgeInfo,
    BridgeLogEntry,
    BridgeScanResult,
    LockActionResult,
)
from nukiasync.const import (
    BridgeType,
    DeviceType,
    DoorSensorState,
    LockMode,
    LockState,
    OpenerState,
)
from tests.support.paths import load_fixture

if TYPE_CHECKING:
    from collections.abc import Mapping

# Keys each model maps; drift tests fail when a fixture brings a key that is neither
# mapped nor listed as deliberately ignored.
DEVICE_KEYS = {
    "nukiId",
    "deviceType",
    "type",
    "name",
    "firmwareVersion",
    "lastKnownState",
}
STATE_KEYS = {
    "mode",
    "state",
    "stateName",
    "batteryCritical",
    "batteryCharging",
    "batteryChargeState",
    "keypadBatteryCritical",
    "doorsensorState",
    "doorsensorStateName",
    "ringactionTimestamp",
    "ringactionState",
    "timestamp",
}
STATE_IGNORED_KEYS = {"success"}  # checked by the client before parsing
INFO_KEYS = {
    "bridgeType",
    "ids",
    "versions",
    "uptime",
    "currentTime",
    "serverConnected",
    "wlanConnected",
    "scanResults",
}
INFO_IDS_KEYS = {"hardwareId", "serverId"}
INFO_VERSIONS_KEYS = {"firmwareVersion", "wifiFirmwareVersion", "appVersion"}
SCAN_KEYS = {"nukiId", "deviceType", "type", "name", "rssi", "paired"}
LOG_KEYS = {"timestamp", "type", "nukiId", "action", "count"}
# Bridge debug details nobody needs typed; they stay in ``raw``.
LOG_IGNORED_KEYS = {"pairIndex", "bleHandle", "macAddr", "serverNum"}
ACTION_KEYS = {"success", "batteryCritical"}
CALLBACK_KEYS = {"id", "url"}


def _drift(items: list[Mapping[str, Any]], known: set[str]) -> set[str]:
    return {key for item in items for key in item} - known


@pytest.mark.parametrize("name", ["list_go-nukibridgeapi.json", "list_doc-1.13.3.json"])
def test_list_fixture_drift(name: str) -> None:
    devices = load_fixture(f"bridge/{name}")
    assert _drift(devices, DEVICE_KEYS) == set()
    states = [d["lastKnownState"] for d in devices]
    assert _drift(states, STATE_KEYS | STATE_IGNORED_KEYS) == set()


@pytest.mark.parametrize("name", ["info_go-nukibridgeapi.json", "info_doc-1.13.3.json"])
def test_info_fixture_drift(name: str) -> None:
    info = load_fixture(f"bridge/{name}")
    assert _drift([info], INFO_KEYS) == set()
    assert _drift([info["ids"]], INFO_IDS_KEYS) == set()
    assert _drift([info["versions"]], INFO_VERSIONS_KEYS) == set()
    assert _drift(info["scanResults"], SCAN_KEYS) == set()


def test_other_fixtures_drift() -> None:
    log = load_fixture("bridge/log_go-nukibridgeapi.json")
    assert _drift(log, LOG_KEYS | LOG_IGNORED_KEYS) == set()
    state = load_fixture("bridge/lockstate_doc-1.13.3.json")
    assert _drift([state], STATE_KEYS | STATE_IGNORED_KEYS) == set()
    action = load_fixture("bridge/lockaction_doc-1.13.3.json")
    assert _drift([action], ACTION_KEYS) == set()
    callbacks = load_fixture("bridge/callback_list_doc-1.13.3.json")
    assert _drift([callbacks], {"callbacks"}) == set()
    assert _drift(callbacks["callbacks"], CALLBACK_KEYS) == set()


def test_real_list() -> None:
    lock, opener = (
        BridgeDevice.from_api(d) for d in load_fixture("bridge/list_go-nukibridgeapi.json")
    )
    assert lock.nuki_id == 527875674
    assert lock.device_type is DeviceType.SMARTLOCK
    assert lock.name == "Eine Tür"
    assert lock.firmware_version == "2.8.15"
    assert lock.smartlock_id == 527875674
    state = lock.last_known_state
    assert state is not None
    assert state.lock_state is LockState.UNLOCKED
    assert state.state_code == 3
    assert state.mode is LockMode.DOOR
    assert state.battery_charge_state == 100
    assert state.battery_charging is False
    assert state.keypad_battery_critical is None
    assert state.doorsensor_state is DoorSensorState.DOOR_CLOSED
    assert state.doorsensor_state_name == "door closed"
    assert state.timestamp == datetime(2020, 1, 30, 20, tzinfo=UTC)
    assert opener.device_type is DeviceType.OPENER
    assert opener.smartlock_id == (2 << 32) | 519611324
    assert opener.last_known_state is not None
    assert opener.last_known_state.lock_state is OpenerState.ONLINE
    assert opener.last_known_state.ringaction_state is False
    assert opener.last_known_state.doorsensor_state is None
    assert opener.raw["name"] == "Andere Tür"


def test_doc_list_trusts_the_state_number_over_its_name() -> None:
    home, door = (BridgeDevice.from_api(d) for d in load_fixture("bridge/list_doc-1.13.3.json"))
    assert home.last_known_state is not None
    assert home.last_known_state.state_name == "unlocked"
    assert home.last_known_state.lock_state is LockState.LOCKED
    assert door.last_known_state is not None
    assert door.last_known_state.lock_state is OpenerState.RTO_ACTIVE
    assert door.last_known_state.mode is LockMode.CONTINUOUS
    assert door.last_known_state.ringaction_timestamp == datetime(2020, 4, 27, 16, 13, tzinfo=UTC)


def test_lock_state_fixture() -> None:
    state = BridgeDeviceState.from_api(load_fixture("bridge/lockstate_doc-1.13.3.json"), 0)
    assert state.lock_state is LockState.LOCKED
    assert state.battery_critical is False
    assert state.keypad_battery_critical is False
    assert state.timestamp is None
    opener = BridgeDeviceState.from_api({"state": 7}, DeviceType.OPENER)
    assert opener.lock_state is OpenerState.OPENING


def test_tolerance_unknown_codes_string_booleans_and_missing_keys() -> None:
    device = BridgeDevice.from_api(
        {
            "nukiId": "17",
            "deviceType": 9,
            "lastKnownState": {
                "mode": 7,
                "state": 99,
                "batteryCritical": "true",
                "doorsensorState": 77,
                "ringactionState": "false",
            },
        }
    )
    assert device.nuki_id == 17
    assert device.device_type is DeviceType.UNKNOWN
    assert device.device_type_code == 9
    assert device.smartlock_id == (9 << 32) | 17
    state = device.last_known_state
    assert state is not None
    assert (state.lock_state, state.state_code) == (LockState.UNKNOWN, 99)
    assert (state.mode, state.mode_code) == (LockMode.UNKNOWN, 7)
    assert (state.doorsensor_state, state.doorsensor_state_code) == (
        DoorSensorState.UNKNOWN,
        77,
    )
    assert state.battery_critical is True
    assert state.ringaction_state is False
    old = BridgeDevice.from_api({"nukiId": 5, "name": "Old"})  # before API 1.9: no deviceType
    assert old.device_type is DeviceType.SMARTLOCK
    assert old.last_known_state is None
    empty = BridgeDeviceState.from_api({})
    assert (empty.lock_state, empty.state_code, empty.state_name) == (
        LockState.UNKNOWN,
        None,
        "",
    )
    with pytest.raises(ValueError, match="boolean"):
        BridgeDeviceState.from_api({"batteryCritical": "maybe"})
    with pytest.raises(KeyError):
        BridgeDevice.from_api({"name": "no id"})


def test_real_info() -> None:
    info = BridgeInfo.from_api(load_fixture("bridge/info_go-nukibridgeapi.json"))
    assert info.bridge_type is BridgeType.HARDWARE
    assert info.bridge_type_code == 1
    assert (info.hardware_id, info.server_id) == (548263954, 448942400)
    assert info.firmware_version == "2.7.0"
    assert info.wifi_firmware_version == "2.1.17"
    assert info.app_version is None
    assert info.uptime == 1278
    assert info.current_time == datetime(2020, 10, 26, 22, 50, 56, tzinfo=UTC)
    assert info.server_connected is True
    assert info.wlan_connected is True
    assert info.scan_results[0] == BridgeScanResult(
        nuki_id=509600314,
        device_type=DeviceType.OPENER,
        device_type_code=2,
        name="Nuki_Opener_1E5FE23A",
        rssi=-57,
        paired=True,
    )


def test_doc_info_reads_type_as_device_type() -> None:
    info = BridgeInfo.from_api(load_fixture("bridge/info_doc-1.13.3.json"))
    first, second = info.scan_results
    assert (first.device_type, first.paired) == (DeviceType.SMARTLOCK, True)
    assert (second.device_type, second.paired) == (DeviceType.OPENER, False)
    assert info.wlan_connected is None
    bare = BridgeInfo.from_api({"bridgeType": 2, "versions": {"appVersion": "1.2"}})
    assert bare.bridge_type is BridgeType.SOFTWARE
    assert bare.app_version == "1.2"
    assert bare.scan_results == ()


def test_info_skips_a_bad_scan_result(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        info = BridgeInfo.from_api({"scanResults": [{"name": "no id"}, {"nukiId": 3}]})
    assert [r.nuki_id for r in info.scan_results] == [3]
    assert "Skipping bridge scan result #0" in caplog.text


def test_real_log_reads_hex_nuki_ids() -> None:
    entries = [BridgeLogEntry.from_api(e) for e in load_fixture("bridge/log_go-nukibridgeapi.json")]
    assert entries[0].type == "HTTP-Log"
    assert entries[0].nuki_id is None
    assert entries[0].timestamp == datetime(2020, 11, 1, 22, 0, 18, tzinfo=UTC)
    ble = entries[3]
    assert (ble.type, ble.nuki_id) == ("BLE-Disconnected", 0x1E5FE23A)
    assert ble.raw["bleHandle"] == "0001"
    assert entries[2].count == 2
    start = next(e for e in entries if e.type == "HTTP-LockActionStart")
    assert start.action == "lock"
    assert BridgeLogEntry.from_api({"nukiId": 42}).nuki_id == 42
    assert BridgeLogEntry.from_api({"nukiId": ""}).nuki_id is None


def test_lock_action_result() -> None:
    result = LockActionResult.from_api(load_fixture("bridge/lockaction_doc-1.13.3.json"))
    assert result == LockActionResult(success=True, battery_critical=False)
    assert LockActionResult.from_api({"success": "true"}).battery_critical is None


def test_callback_entry_repr_hides_the_path() -> None:
    entries = load_fixture("bridge/callback_list_doc-1.13.3.json")["callbacks"]
    first = BridgeCallbackEntry.from_api(entries[0])
    assert first == BridgeCallbackEntry(id=0, url="http://192.168.0.20:8000/nuki")
    secret = BridgeCallbackEntry(id=2, url="http://10.0.0.2:9000/nukiasync/b/s3cr3tpath")
    assert "s3cr3tpath" not in repr(secret)
    assert "http://10.0.0.2:9000/..." in repr(secret)


def test_models_can_be_built_by_hand() -> None:
    device = BridgeDevice(nuki_id=1, device_type=DeviceType.SMARTLOCK, device_type_code=0)
    assert device.last_known_state is None
    assert "raw" not in repr(device)
    assert BridgeDeviceState().lock_state is LockState.UNKNOWN
