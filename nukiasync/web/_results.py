"""Turning one decoded JSON object into a model at the client boundary.

A single object that cannot be parsed raises `NukiInvalidResponseError`, so callers only see
`NukiError`s from a request (lists go through `parse_list`, which skips bad items).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from nukiasync.errors import NukiInvalidResponseError

_T = TypeVar("_T")


def one(data: Any, parser: Callable[[Mapping[str, Any]], _T], what: str) -> _T:
    """Parse one object answered to ``what`` (e.g. "GET /smartlock/{smartlockId}").

    Raises:
        NukiInvalidResponseError: the answer is not a usable object.
    """
    try:
        if not isinstance(data, Mapping):
            msg = f"not an object: {type(data).__name__}"
            raise TypeError(msg)  # noqa: TRY301
        return parser(data)
    except (KeyError, ValueError, TypeError, OverflowError) as err:
        msg = f"The Nuki Web API answered {what} with an unusable object"
        raise NukiInvalidResponseError(msg, status=200) from err
