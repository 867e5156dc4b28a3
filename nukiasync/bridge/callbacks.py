"""Parse what a Nuki Bridge POSTs to a callback URL into a validated `BridgeCallback`.

The body comes from the LAN, unsigned, so the parser is total: on any input it returns
a model or raises `NukiCallbackError` with a short ``reason``. It never lets a
`RecursionError` (deep nesting), a `ValueError` (huge integers) or a
`UnicodeDecodeError` escape, because a stray exception in the receiver would become a
500 or kill a task.

Bodies follow the Bridge HTTP API 1.13.3 (Smart Lock, Smart Lock with door sensor,
Opener); real bridges send the union of what the device supports, and sometimes
booleans as strings.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, parse_bool
from nukiasync.const import (
    DeviceType,
    DoorSensorState,
    LockMode,
    LockState,
    OpenerState,
)
from nukiasync.errors import NukiCallbackError
from nukiasync.ids import smartlock_id_from

_LOGGER = logging.getLogger(__name__)

_MAX_INT_DIGITS = 20  # no field needs more; stops int() on 4,300-digit numbers early
_NUKI_ID_MAX = 0xFFFFFFFF  # nukiId is a 32-bit device id
_DEVICE_TYPE_MAX = 0xF  # the device type is one hex digit of the Web API smartlockId
_CODE_MAX = 0xFF  # state, mode and door sensor codes are bytes on the wire
_LOCK_TYPES = frozenset({0, 3, 4, 5})  # device types whose state is a LockState

# NukiCallbackError.reason values; the receiver counts all of them as "malformed".
REASON_NOT_UTF8 = "not_utf8"
REASON_NOT_JSON = "not_json"
REASON_WRONG_SHAPE = "wrong_shape"
REASON_MISSING = "missing_field"
REASON_WRONG_TYPE = "wrong_type"
REASON_OUT_OF_RANGE = "out_of_range"
# A callback is one flat object; anything nested deeper than this is not one.
MAX_DEPTH = 8


@attrs.frozen(kw_only=True)
class BridgeCallback:
    """One state report from a bridge: a hint about a device, not proof (decision 0001).

    Fields a device does not report are None (an Opener has no door sensor, a lock
    rings no bell). ``*_code`` fields keep the wire integer beside the enum, so unknown
    values become ``UNKNOWN`` without losing information.
    """

    nuki_id: int
    device_type: DeviceType
    device_type_code: int
    state_code: int
    lock_state: LockState | OpenerState
    state_name: str | None = None
    mode: LockMode = LockMode.UNKNOWN
    mode_code: int | None = None
    battery_critical: bool | None = None
    battery_charging: bool | None = None
    battery_charge_state: int | None = None
    keypad_battery_critical: bool | None = None
    doorsensor_state: DoorSensorState | None = None
    doorsensor_state_code: int | None = None
    doorsensor_state_name: str | None = None
    ringaction_timestamp: datetime | None = None
    ringaction_state: bool | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def smartlock_id(self) -> int:
        """The Web API id of the device, computed in the one place that knows how."""
        return smartlock_id_from(self.nuki_id, self.device_type_code)

    @property
    def is_opener(self) -> bool:
        """Whether ``lock_state`` is an `OpenerState`."""
        return self.device_type_code == DeviceType.OPENER

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from an already decoded callback object.

        Raises:
            NukiCallbackError: a key is missing, or a value has the wrong type or range.
        """
        nuki_id = _required_int(data, "nukiId", high=_NUKI_ID_MAX)
        type_code = _int(data, "deviceType", high=_DEVICE_TYPE_MAX)
        type_code = 0 if type_code is None else type_code  # pre-1.9 bridges omitted it
        state = _required_int(data, "state", high=_CODE_MAX)
        mode = _int(data, "mode", high=_CODE_MAX)
        door = _int(data, "doorsensorState", high=_CODE_MAX)
        return cls(
            nuki_id=nuki_id,
            device_type=DeviceType.parse(type_code),
            device_type_code=type_code,
            state_code=state,
            lock_state=_state_enum(type_code, state),
            state_name=_str(data, "stateName"),
            mode=LockMode.parse(mode),
            mode_code=mode,
            battery_critical=_bool(data, "batteryCritical"),
            battery_charging=_bool(data, "batteryCharging"),
            battery_charge_state=_int(data, "batteryChargeState", high=100),
            keypad_battery_critical=_bool(data, "keypadBatteryCritical"),
            doorsensor_state=None if door is None else DoorSensorState.parse(door),
            doorsensor_state_code=door,
            doorsensor_state_name=_str(data, "doorsensorStateName"),
            ringaction_timestamp=_datetime(data, "ringactionTimestamp"),
            ringaction_state=_bool(data, "ringactionState"),
            raw=dict(data),
        )


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit`` (strings are skipped)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_callback(body: bytes) -> BridgeCallback:
    """Decode and validate a callback body.

    Strict where leniency would hide tampering (duplicate keys, NaN, a BOM, bools for
    ints); tolerant where real bridges differ from the document (string booleans,
    unknown codes).

    Raises:
        NukiCallbackError: the body is not a valid callback; ``reason`` says why.
    """
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as err:
        msg = f"Callback body is not UTF-8 (byte {err.start})"
        raise NukiCallbackError(msg, reason=REASON_NOT_UTF8) from None
    if text.startswith("\ufeff"):
        msg = "Callback body starts with a byte order mark"
        raise NukiCallbackError(msg, reason=REASON_NOT_JSON)
    openers = text.count("{") + text.count("[")  # a real callback: one object, no scan
    if openers > MAX_DEPTH and _nested_deeper_than(text, MAX_DEPTH):
        # Checked before decoding: how deep json.loads recurses differs between Pythons.
        msg = "Callback body is nested too deeply"
        raise NukiCallbackError(msg, reason=REASON_NOT_JSON)
    try:
        data = _DECODER.decode(text)
    except (
        ValueError,
        TypeError,
    ) as err:  # JSONDecodeError is a ValueError; hooks raise both
        msg = f"Callback body is not valid JSON: {_short(err)}"
        raise NukiCallbackError(msg, reason=REASON_NOT_JSON) from None
    if not isinstance(data, dict):
        msg = f"Callback body is a JSON {type(data).__name__}, not an object"
        raise NukiCallbackError(msg, reason=REASON_WRONG_SHAPE)
    return BridgeCallback.from_api(data)


def _state_enum(type_code: int, state: int) -> LockState | OpenerState:
    if type_code == DeviceType.OPENER:
        return OpenerState.parse(state)
    if type_code in _LOCK_TYPES:
        return LockState.parse(state)
    _LOGGER.debug(
        "Callback for unknown device type %d; state %d kept as UNKNOWN",
        type_code,
        state,
    )
    return LockState.UNKNOWN


def _required_int(data: Mapping[str, Any], key: str, *, high: int) -> int:
    value = _int(data, key, high=high)
    if value is None:
        msg = f"Callback has no {key}"
        raise NukiCallbackError(msg, reason=REASON_MISSING)
    return value


def _int(data: Mapping[str, Any], key: str, *, high: int) -> int | None:
    value = data.get(key)
    if type(value) is int and 0 <= value <= high:  # the usual case, in one test
        return value
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"Callback {key} is a {type(value).__name__}, not an integer"
        raise NukiCallbackError(msg, reason=REASON_WRONG_TYPE)
    if not 0 <= value <= high:
        msg = f"Callback {key} is out of range 0..{high}"
        raise NukiCallbackError(msg, reason=REASON_OUT_OF_RANGE)
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is None or value is True or value is False:  # the usual cases
        return value
    try:
        return parse_bool(value)
    except ValueError:
        msg = f"Callback {key} is not a boolean ({type(value).__name__})"
        raise NukiCallbackError(msg, reason=REASON_WRONG_TYPE) from None


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return value
    if isinstance(value, str):
        if not value.isascii():
            try:  # a lone surrogate (JSON "\ud800") would break a consumer's UTF-8 output
                value.encode("utf-8")
            except UnicodeEncodeError:
                msg = f"Callback {key} holds a lone surrogate"
                raise NukiCallbackError(msg, reason=REASON_NOT_UTF8) from None
        return value
    msg = f"Callback {key} is a {type(value).__name__}, not a string"
    raise NukiCallbackError(msg, reason=REASON_WRONG_TYPE)


def _datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None:  # locks send no ring
        return None
    try:
        return optional_datetime(value)
    except (ValueError, OverflowError):  # year 1 with an offset overflows when made UTC
        msg = f"Callback {key} is not an ISO 8601 time"
        raise NukiCallbackError(msg, reason=REASON_WRONG_TYPE) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        msg = "duplicate key in object"
        raise ValueError(msg)
    return result


def _reject_constant(name: str) -> Any:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        msg = f"integer with {len(text)} digits"
        raise ValueError(msg)
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        msg = "number out of float range"
        raise ValueError(msg)
    return value


def _short(err: Exception) -> str:
    return str(err)[:80]


# Built once: json.loads with hooks would build a decoder for every callback.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys,
    parse_constant=_reject_constant,
    parse_int=_bounded_int,
    parse_float=_finite_float,
)
