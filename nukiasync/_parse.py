"""Tolerant conversions of wire values, shared by every model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from nukiasync.errors import NukiInvalidResponseError

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def parse_bool(value: object, default: bool = False) -> bool:
    """Accept real booleans, 0/1 and the strings real bridges send ("true", "false").

    Raises:
        ValueError: the value is not recognisably a boolean.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    msg = f"not a boolean: {value!r}"
    raise ValueError(msg)


def parse_datetime(value: object) -> datetime:
    """Parse an ISO-8601/RFC 3339 time into an aware UTC datetime.

    Raises:
        ValueError: the value is not a time.
    """
    if not isinstance(value, str):
        msg = f"not a date-time string: {type(value).__name__}"
        raise ValueError(msg)  # noqa: TRY004  (models raise ValueError for any bad value)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def optional_datetime(value: object) -> datetime | None:
    """Parse a time when present; None for missing or empty values."""
    if value in (None, ""):
        return None
    return parse_datetime(value)


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with milliseconds, as Nuki writes it."""
    if value.tzinfo is None:
        msg = "datetime must be timezone-aware"
        raise ValueError(msg)
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def optional_int(value: object) -> int | None:
    """Return an int for ints and digit strings, None for missing values."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        msg = f"not an integer: {value!r}"
        raise ValueError(msg)  # noqa: TRY004  (models raise ValueError for any bad value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    msg = f"not an integer: {value!r}"
    raise ValueError(msg)


def parse_list(items: object, parser: Callable[[Mapping[str, Any]], _T], what: str) -> list[_T]:
    """Parse a JSON list, skipping (with a WARNING) items that cannot be parsed.

    Raises:
        NukiInvalidResponseError: the payload is not a list at all.
    """
    if not isinstance(items, list):
        msg = f"Expected a list of {what}, got {type(items).__name__}"
        raise NukiInvalidResponseError(msg, status=200)
    result: list[_T] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                msg = f"not an object: {type(item).__name__}"
                raise TypeError(msg)  # noqa: TRY301
            result.append(parser(item))
        except (KeyError, ValueError, TypeError, OverflowError) as err:
            _LOGGER.warning(
                "Skipping %s #%d that could not be parsed: %s", what, index, type(err).__name__
            )
    return result
