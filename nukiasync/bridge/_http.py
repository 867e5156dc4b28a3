"""One bridge request on the wire, and the mapping of its outcome to nukiasync errors.

Texts built here name the bridge and the endpoint path, never the query: the query holds
the token (or its hash or ctoken) and callback URLs with path secrets (decision 0004).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from nukiasync._parse import parse_bool
from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBadRequestError,
    NukiBridgeAuthenticationError,
    NukiBridgeBusyError,
    NukiBridgeError,
    NukiConnectionError,
    NukiInvalidResponseError,
    NukiNotFoundError,
    NukiResponseError,
    NukiServerError,
    NukiTimeoutError,
)

# Lock actions wait for the device over BLE; Nuki's FAQ warns they can take long when
# the app or Nuki Web use the bridge at the same time. 30 s covers a slow unlatch with
# margin.
DEFAULT_TIMEOUT = 30.0
# The bridge is on the LAN: if it has not accepted a connection in 5 s it is off or
# rebooting.
CONNECT_TIMEOUT = 5.0


def build_url(host: str, port: int) -> str:
    """Return ``http://host:port`` with IPv6 literals bracketed.

    Raises:
        ValueError: the port is out of range.
    """
    if not 0 < port < 65536:
        msg = f"port must be 1-65535, got {port}"
        raise ValueError(msg)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


async def exchange(
    transport: httpx.AsyncBaseTransport,
    request: httpx.Request,
    path: str,
    log_name: str,
) -> tuple[int, bytes]:
    """Send one request and read the whole body; map transport failures.

    Raises:
        NukiTimeoutError: connect, read or write timed out (an action may have
            happened).
        NukiConnectionError: anything else on the way; ``__cause__`` is the httpx
            error, and an ``httpx.ConnectError`` there proves nothing was sent.
    """
    try:
        response = await transport.handle_async_request(request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
    except httpx.TimeoutException as err:
        msg = f"Timeout talking to {log_name} (GET {path}): {type(err).__name__}"
        raise NukiTimeoutError(msg) from err
    except httpx.ConnectError as err:
        msg = f"Cannot connect to {log_name} (GET {path}): the bridge is off or rebooting"
        raise NukiConnectionError(msg) from err
    except httpx.TransportError as err:
        msg = f"Connection to {log_name} failed (GET {path}): {type(err).__name__}"
        raise NukiConnectionError(msg) from err
    return response.status_code, body


def decode_response(
    path: str,
    status: int,
    body: bytes,
    *,
    log_name: str,
    time_based: bool,
    expect_json: bool = True,
) -> Any:
    """Return the JSON of a 2xx answer or raise the error its status means.

    ``expect_json=False`` is for maintenance endpoints that Nuki documents as
    "No response".

    Raises:
        NukiResponseError: a non-2xx status or a body that is not JSON (a subclass
            by status).
        NukiBridgeError: the bridge answered ``"success": false``.
    """
    text = body.decode("utf-8", errors="replace")
    where = f"{log_name} (GET {path})"
    if not 200 <= status < 300:
        raise _status_error(status, text, where, time_based=time_based)
    try:
        data = json.loads(text)
    except ValueError as err:
        if not expect_json:
            return None
        msg = f"{where} answered {status} with a body that is not JSON"
        raise NukiInvalidResponseError(msg, status=status, body=text) from err
    if isinstance(data, dict) and "success" in data:
        try:
            ok = parse_bool(data["success"])
        except ValueError as err:
            msg = f"{where} answered an unreadable success flag"
            raise NukiInvalidResponseError(msg, status=status, body=text) from err
        if not ok:
            reason = data.get("message")
            reason_text = f": {reason}" if reason else ""
            msg = f"{where} reported failure{reason_text}"
            raise NukiBridgeError(msg, reason=None if reason is None else str(reason))
    return data


def _status_error(status: int, text: str, where: str, *, time_based: bool) -> NukiResponseError:
    if status == 400:
        msg = f"{where} refused the parameters (400)"
        return NukiBadRequestError(msg, status=status, body=text, description=text[:200])
    if status == 401:
        if time_based:
            msg = (
                f"{where} refused the token (401): the token is wrong, or this "
                "host's clock is more than 60 s off the bridge's"
            )
        else:
            msg = f"{where} refused the token (401): the token is wrong"
        return NukiBridgeAuthenticationError(msg, status=status, body=text)
    if status == 403:
        msg = f"{where} answered 403: the HTTP API or its authentication is disabled"
        return NukiAuthenticationError(msg, status=status, body=text)
    if status == 404:
        msg = (
            f"{where} answered 404: unknown nuki_id, or the wrong device_type "
            "(Openers need DeviceType.OPENER)"
        )
        return NukiNotFoundError(msg, status=status, body=text)
    if status == 503:
        msg = f"{where} is busy with another request or cannot reach the device (503)"
        return NukiBridgeBusyError(msg, status=status, body=text)
    if status >= 500:
        msg = f"{where} failed ({status})"
        return NukiServerError(msg, status=status, body=text)
    msg = f"{where} answered {status}"
    return NukiResponseError(msg, status=status, body=text)
