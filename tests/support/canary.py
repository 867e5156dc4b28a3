"""Canary secrets: tests use these values, and the session fixture in conftest.py fails the
run if any of them (or any secret registered at run time) shows up in a log record."""

from __future__ import annotations

WEB_TOKEN = "canary-web-token-1f6b7e0d9c"
BRIDGE_TOKEN = "cnryBT9q4z"
OAUTH_CLIENT_SECRET = "canary-oauth-secret-55aa"
OAUTH_ACCESS_TOKEN = "canary-access-token-77bb"
OAUTH_REFRESH_TOKEN = "canary-refresh-token-99cc"
WEBHOOK_SECRET = "canary-webhook-hmac-secret-3d"
KEYPAD_CODE = 937593  # Nuki codes: 6 digits, no 0

_registered: set[str] = {
    WEB_TOKEN,
    BRIDGE_TOKEN,
    OAUTH_CLIENT_SECRET,
    OAUTH_ACCESS_TOKEN,
    OAUTH_REFRESH_TOKEN,
    WEBHOOK_SECRET,
    str(KEYPAD_CODE),
}


def register(secret: str) -> str:
    """Add a secret made at run time (path secret, ctoken, hash) to the scanned set."""
    if len(secret) >= 6:
        _registered.add(secret)
    return secret


def secrets() -> frozenset[str]:
    return frozenset(_registered)
