"""Redaction for repr, logs, error texts and diagnostics: secrets never leave in clear."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

REDACTED = "**REDACTED**"

# Keys whose values are secret or personal wherever they appear in a payload.
SECRET_KEYS = frozenset(
    {
        "token",
        "ctoken",
        "hash",
        "nonce",
        "rnr",
        "code",
        "secret",
        "password",
        "access_token",
        "refresh_token",
        "client_secret",
        "authorization",
        "email",
        "name",
        "pin",
        "adminPin",
        "apiToken",
        "sharedKey",
        "webhookUrl",
        "url",
    }
)


def redact(value: object) -> str:
    """Attrs ``repr=`` hook for personal or secret fields."""
    return REDACTED if value not in (None, "") else repr(value)


def redact_mapping(data: Any) -> Any:
    """Return a deep copy of JSON data with secret and personal values replaced."""
    if isinstance(data, Mapping):
        return {
            key: REDACTED if key in SECRET_KEYS and val not in (None, "") else redact_mapping(val)
            for key, val in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(item) for item in data]
    return data


def origin_of(url: str) -> str:
    """Return scheme, host and port of a URL: what an error text may show of it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable url>"
    return f"{parts.scheme}://{host}{port}"
