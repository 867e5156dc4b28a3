"""Floor 1: errors, tolerant enums, the id rule, parsing and redaction helpers."""

from __future__ import annotations

import inspect
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nukiasync import _parse, _redact, errors
from nukiasync.const import DeviceType, DoorSensorState, LockState, LogAction, TolerantIntEnum
from nukiasync.errors import NukiError, NukiInvalidResponseError
from nukiasync.ids import device_type_from, nuki_id_from, smartlock_id_from


def test_every_error_derives_from_nuki_error() -> None:
    classes = [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if obj.__module__ == errors.__name__
    ]
    assert len(classes) >= 18
    for cls in classes:
        assert issubclass(cls, NukiError), cls
    assert issubclass(errors.NukiTimeoutError, TimeoutError)
    assert issubclass(errors.NukiCallbackServerError, OSError)


def test_error_attributes() -> None:
    err = errors.NukiRateLimitError("slow down", retry_after=3.0, body="x" * 1000)
    assert err.retry_after == 3.0
    assert err.status == 429
    assert len(err.body) == 200
    assert errors.NukiBridgeError("no", reason="busy").reason == "busy"
    full = errors.NukiCallbackSlotsFullError("full", occupied=("http://10.0.0.9:80",))
    assert full.occupied == ("http://10.0.0.9:80",)
    assert full.reason == "slots full"
    assert errors.NukiCallbackError("bad").reason == "malformed"
    assert errors.NukiBadRequestError("x", description="d").description == "d"


# Nuki's own table (PDF 1.5.3, "Convert Device ID from HEX to DECIMAL") for id 1A2B3C4D.
@pytest.mark.parametrize(
    ("device_type", "smartlock_id"),
    [
        (DeviceType.SMARTLOCK, 439041101),
        (DeviceType.BOX, 4734008397),
        (DeviceType.OPENER, 9028975693),
        (DeviceType.SMARTDOOR, 13323942989),
        (DeviceType.SMARTLOCK_3, 17618910285),
        (DeviceType.SMARTLOCK_5, 21913877581),
    ],
)
def test_id_rule_matches_nukis_table(device_type, smartlock_id) -> None:
    assert smartlock_id_from(0x1A2B3C4D, device_type) == smartlock_id
    assert nuki_id_from(smartlock_id) == 0x1A2B3C4D
    assert device_type_from(smartlock_id) is device_type


@pytest.mark.parametrize("device_type", [t for t in DeviceType if t is not DeviceType.UNKNOWN])
@pytest.mark.parametrize("nuki_id", [0, 0x10, 0xABCDE, 0x0FFFFFFF, 0xFFFFFFFF])
def test_id_rule_for_small_ids_and_every_type(device_type, nuki_id) -> None:
    """Ids below 0x10000000 break string concatenation; the arithmetic keeps them right."""
    smartlock_id = smartlock_id_from(nuki_id, device_type)
    assert smartlock_id == int(f"{int(device_type):x}{nuki_id:08x}", 16)
    assert nuki_id_from(smartlock_id) == nuki_id
    assert device_type_from(smartlock_id) is device_type


@given(st.integers(0, 0xFFFFFFFF), st.sampled_from([0, 1, 2, 3, 4, 5]))
def test_id_round_trip(nuki_id, device_type) -> None:
    assert nuki_id_from(smartlock_id_from(nuki_id, device_type)) == nuki_id


def test_id_rule_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="32-bit"):
        smartlock_id_from(-1, 0)
    with pytest.raises(ValueError, match="32-bit"):
        smartlock_id_from(0x1_0000_0000, 0)
    with pytest.raises(ValueError, match="device_type"):
        smartlock_id_from(1, DeviceType.UNKNOWN)
    with pytest.raises(ValueError, match="negative"):
        nuki_id_from(-5)


def test_tolerant_enums(caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        assert LogAction(208) is LogAction.DOOR_WARNING_AJAR
        assert LogAction(9999) is LogAction.UNKNOWN
    assert "Unknown LogAction value 9999" in caplog.text
    assert LockState.parse("3") is LockState.UNLOCKED
    assert LockState.parse(True) is LockState.UNKNOWN
    assert LockState.parse(None) is LockState.UNKNOWN
    assert LockState.parse("x") is LockState.UNKNOWN
    assert DoorSensorState.parse(240) is DoorSensorState.REMOVED
    for cls in TolerantIntEnum.__subclasses__():
        assert "UNKNOWN" in cls.__members__, cls


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("False", False),
        (" 1 ", True),
        ("", False),
        (None, False),
    ],
)
def test_parse_bool(value, expected) -> None:
    assert _parse.parse_bool(value) is expected


@pytest.mark.parametrize("value", [2, "maybe", 1.0, [], {}])
def test_parse_bool_rejects(value) -> None:
    with pytest.raises(ValueError, match="boolean"):
        _parse.parse_bool(value)


def test_parse_datetime_forms() -> None:
    utc = datetime(2019, 12, 22, 15, 0, 36, tzinfo=UTC)
    assert _parse.parse_datetime("2019-12-22T15:00:36.000Z") == utc
    assert _parse.parse_datetime("2019-12-22T15:00:36z") == utc
    assert _parse.parse_datetime("2019-12-22T16:00:36+01:00") == utc
    assert _parse.parse_datetime("2019-12-22T15:00:36") == utc
    assert _parse.optional_datetime("") is None
    assert _parse.optional_datetime(None) is None
    for bad in (12, None, "soon"):
        with pytest.raises(ValueError):  # noqa: PT011
            _parse.parse_datetime(bad)


def test_format_datetime() -> None:
    local = datetime(2026, 1, 2, 4, 4, 5, 678900, tzinfo=timezone(timedelta(hours=1)))
    assert _parse.format_datetime(local) == "2026-01-02T03:04:05.678Z"
    with pytest.raises(ValueError, match="aware"):
        _parse.format_datetime(datetime(2026, 1, 1))  # noqa: DTZ001


def test_optional_int() -> None:
    assert _parse.optional_int(None) is None
    assert _parse.optional_int("") is None
    assert _parse.optional_int("42") == 42
    assert _parse.optional_int(7) == 7
    for bad in (True, 1.5, [1]):
        with pytest.raises(ValueError, match="integer"):
            _parse.optional_int(bad)


def test_parse_list_rejects_non_lists() -> None:
    with pytest.raises(NukiInvalidResponseError):
        _parse.parse_list({"a": 1}, dict, "thing")


def test_redaction_helpers() -> None:
    assert _redact.redact("Alice") == _redact.REDACTED
    assert _redact.redact("") == "''"
    assert _redact.redact(None) == "None"
    data = {
        "name": "Alice",
        "code": 937593,
        "nested": [{"token": "t", "ok": 1}],
        "empty": {"email": ""},
    }
    assert _redact.redact_mapping(data) == {
        "name": _redact.REDACTED,
        "code": _redact.REDACTED,
        "nested": [{"token": _redact.REDACTED, "ok": 1}],
        "empty": {"email": ""},
    }
    assert (
        _redact.origin_of("http://10.0.0.2:8080/nukiasync/abc/SECRET?x=1") == "http://10.0.0.2:8080"
    )
    assert _redact.origin_of("http://host/x") == "http://host"
    assert _redact.origin_of("http://[::1") == "<unparsable url>"
