"""Small wire conversions shared by the Web API models of devices, auths and addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nukiasync._parse import optional_int, parse_bool


def optional_bool(value: object) -> bool | None:
    """A boolean when the key is present, None when the device did not report it."""
    if value is None:
        return None
    return parse_bool(value)


def optional_float(value: object) -> float | None:
    """A float for numbers, None for missing values."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = f"not a number: {value!r}"
        raise TypeError(msg)
    return float(value)


def optional_str(value: object) -> str | None:
    """A string for present, non-empty values; None otherwise."""
    if value is None or value == "":
        return None
    return str(value)


def parse_operation_id(value: object) -> str | None:
    """The pending operation's id: a 24-hex string, or rebuilt from a serialized ObjectId.

    The spec describes ``SmartlockAuth.operationId`` as a Java BSON ``ObjectId`` object
    (timestamp, machine, process, counter); every other object carries the hex string.
    """
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        timestamp = optional_int(value.get("timestamp")) or 0
        machine = optional_int(value.get("machineIdentifier")) or 0
        process = optional_int(value.get("processIdentifier")) or 0
        counter = optional_int(value.get("counter")) or 0
        return (
            f"{timestamp & 0xFFFFFFFF:08x}{machine & 0xFFFFFF:06x}"
            f"{process & 0xFFFF:04x}{counter & 0xFFFFFF:06x}"
        )
    return str(value)


def int_list(value: object) -> tuple[int, ...]:
    """A tuple of ints from a JSON array (None or missing gives an empty tuple).

    Raises:
        TypeError: the value is not an array.
        ValueError: an item is not an integer.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        msg = f"expected a list of integers, got {type(value).__name__}"
        raise TypeError(msg)
    result: list[int] = []
    for item in value:
        number = optional_int(item)
        if number is None:
            msg = "null in a list of integers"
            raise ValueError(msg)
        result.append(number)
    return tuple(result)


def str_list(value: object) -> tuple[str, ...]:
    """A tuple of strings from a JSON array (None or missing gives an empty tuple).

    Raises:
        TypeError: the value is not an array.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        msg = f"expected a list of strings, got {type(value).__name__}"
        raise TypeError(msg)
    return tuple(str(item) for item in value)


def required_int(data: Mapping[str, Any], key: str) -> int:
    """An integer that must be present and not null.

    Raises:
        KeyError: the key is missing.
        ValueError: the value is null, empty or not an integer.
    """
    value = optional_int(data[key])
    if value is None:
        msg = f"{key} must not be empty"
        raise ValueError(msg)
    return value


def omit_none(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body without the fields the caller did not give."""
    return {key: value for key, value in body.items() if value is not None}
