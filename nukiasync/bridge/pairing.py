"""Pairing: ask a bridge for its API token (``/auth``) while its button is pressed."""

from __future__ import annotations

import logging

import httpx

from nukiasync.bridge._http import CONNECT_TIMEOUT, build_url, decode_response, exchange
from nukiasync.const import DEFAULT_BRIDGE_PORT
from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBridgeError,
    NukiInvalidResponseError,
    NukiPairingError,
    NukiTimeoutError,
)

_LOGGER = logging.getLogger(__name__)

# The bridge holds /auth open while its LED is lit for 30 s; wait a little longer than
# that.
PAIRING_TIMEOUT = 35.0
_PRESS = "press the bridge button within 30 s and try again"


async def request_token(
    host: str,
    port: int = DEFAULT_BRIDGE_PORT,
    *,
    timeout: float = PAIRING_TIMEOUT,  # noqa: ASYNC109 - an HTTP timeout, as in httpx
) -> str:
    """Pair with a bridge (``/auth``) and return its API token.

    The bridge lights its LED for 30 s; someone must press its button in that time.

    Raises:
        NukiPairingError: the button was not pressed in time, or ``/auth`` is disabled.
    """
    log_name = f"bridge {host}"
    request = httpx.Request(
        "GET",
        build_url(host, port) + "/auth",
        extensions={"timeout": httpx.Timeout(timeout, connect=CONNECT_TIMEOUT).as_dict()},
    )
    _LOGGER.info("%s: pairing; press the bridge's button within 30 s", log_name)
    async with httpx.AsyncHTTPTransport(verify=False) as transport:
        try:
            status, body = await exchange(transport, request, "/auth", log_name)
            data = decode_response(
                "/auth",
                status,
                body,
                log_name=log_name,
                time_based=False,
                expect_json=True,
            )
        except NukiTimeoutError as err:
            msg = f"{log_name} gave no token: {_PRESS}"
            raise NukiPairingError(msg, reason="timeout") from err
        except NukiAuthenticationError as err:
            msg = f"{log_name} refused pairing: /auth is disabled (see the Nuki app)"
            raise NukiPairingError(msg, reason="auth disabled") from err
        except NukiBridgeError as err:
            msg = f"{log_name} gave no token: {_PRESS}"
            raise NukiPairingError(msg, reason="button not pressed") from err
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        msg = f"{log_name} answered /auth without a token"
        raise NukiInvalidResponseError(msg, status=status)
    _LOGGER.info("%s: paired", log_name)
    return token
