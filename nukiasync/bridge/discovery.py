"""Find the bridges on this network through Nuki's discovery endpoint.

``GET https://api.nuki.io/discover/bridges`` lists the bridges that last reported from the
caller's public address, each with its LAN address and port. It is the first step of a setup
flow: discover, then pair with the bridge's ``/auth`` (``request_token``). A bridge whose HTTP
API is switched off is listed with ip ``0.0.0.0`` and port 0 (``api_enabled`` is false).

The endpoint lives on the Web API's host but takes no token, so this module talks to it
with its own small error mapping: ``bridge/`` never imports ``web/``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs
import httpx

from nukiasync._parse import optional_datetime, parse_list
from nukiasync.const import DEFAULT_WEB_URL
from nukiasync.errors import (
    NukiConnectionError,
    NukiInvalidResponseError,
    NukiRateLimitError,
    NukiResponseError,
    NukiServerError,
    NukiTimeoutError,
)

_LOGGER = logging.getLogger(__name__)

DISCOVERY_PATH = "/discover/bridges"
# The cloud answers in well under a second; a setup flow should fail fast, not hang.
DISCOVERY_TIMEOUT = 10.0
_DISABLED_IPS = frozenset({"", "0.0.0.0"})  # noqa: S104 - Nuki's "HTTP API off" marker


@attrs.frozen(kw_only=True)
class DiscoveredBridge:
    """One bridge the discovery endpoint lists; ``ip`` and ``port`` are on its LAN."""

    bridge_id: int
    ip: str
    port: int
    date_updated: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from one element of ``bridges``.

        Raises:
            KeyError: ``bridgeId`` is missing.
            ValueError: a value has the wrong type.
        """
        bridge_id = data["bridgeId"]
        port = data.get("port", 0)
        ip = data.get("ip", "")
        if isinstance(bridge_id, bool) or not isinstance(bridge_id, int):
            msg = f"bridgeId is not an integer: {type(bridge_id).__name__}"
            raise ValueError(msg)  # noqa: TRY004 - models raise ValueError for any bad value
        if isinstance(port, bool) or not isinstance(port, int) or not isinstance(ip, str):
            msg = "ip must be a string and port an integer"
            raise ValueError(msg)  # noqa: TRY004 - models raise ValueError for any bad value
        return cls(
            bridge_id=bridge_id,
            ip=ip,
            port=port,
            date_updated=optional_datetime(data.get("dateUpdated")),
            raw=data,
        )

    @property
    def api_enabled(self) -> bool:
        """Whether the bridge's HTTP API is on (Nuki lists ``0.0.0.0:0`` when it is off)."""
        return self.ip not in _DISABLED_IPS and 0 < self.port < 65536

    @property
    def host(self) -> str | None:
        """The address to give ``NukiBridgeClient``/``request_token``; None when the API is off."""
        return self.ip if self.api_enabled else None


async def discover_bridges(
    *,
    base_url: str = DEFAULT_WEB_URL,
    client: httpx.AsyncClient | None = None,
    timeout: float = DISCOVERY_TIMEOUT,  # noqa: ASYNC109 - an HTTP timeout, as in httpx
) -> list[DiscoveredBridge]:
    """Return the bridges Nuki's cloud knows on the caller's network (maybe none).

    Args:
        base_url: the discovery service; tests and the simulator pass their own.
        client: a borrowed ``httpx.AsyncClient`` (e.g. Home Assistant's shared one). It is
            used with a per-request URL and timeout, and never closed or changed. Without
            one, a client is made for this call (its TLS context built off the event loop,
            since loading CA certificates reads files) and closed afterwards.
        timeout: seconds for the whole request.

    Raises:
        NukiRateLimitError: the service asked us to slow down (429).
        NukiServerError: the service failed (5xx).
        NukiInvalidResponseError: the answer is not the documented JSON.
        NukiResponseError: any other refusal, or an ``errorCode`` other than 0.
    """
    url = base_url.rstrip("/") + DISCOVERY_PATH
    if client is not None:
        response = await _get(client, url, timeout)
    else:
        context = await asyncio.to_thread(ssl.create_default_context)
        async with httpx.AsyncClient(verify=context) as owned:
            response = await _get(owned, url, timeout)
    data = _decode(response)
    bridges = parse_list(data.get("bridges", []), DiscoveredBridge.from_api, "discovered bridge")
    _LOGGER.debug("discovery listed %d bridge(s)", len(bridges))
    return bridges


async def _get(client: httpx.AsyncClient, url: str, timeout: float) -> httpx.Response:  # noqa: ASYNC109
    try:
        return await client.get(url, headers={"Accept": "application/json"}, timeout=timeout)
    except httpx.TimeoutException as err:
        msg = f"Timeout asking Nuki's discovery service (GET {DISCOVERY_PATH})"
        raise NukiTimeoutError(msg) from err
    except httpx.TransportError as err:
        msg = f"Cannot reach Nuki's discovery service (GET {DISCOVERY_PATH}): {type(err).__name__}"
        raise NukiConnectionError(msg) from err


def _decode(response: httpx.Response) -> Mapping[str, Any]:
    status = response.status_code
    where = f"Nuki's discovery service (GET {DISCOVERY_PATH})"
    text = response.content.decode("utf-8", errors="replace")
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        msg = f"{where} is rate limiting us (429)"
        raise NukiRateLimitError(msg, status=status, body=text, retry_after=retry_after)
    if status >= 500:
        msg = f"{where} failed ({status})"
        raise NukiServerError(msg, status=status, body=text)
    if not 200 <= status < 300:
        msg = f"{where} answered {status}"
        raise NukiResponseError(msg, status=status, body=text)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        msg = f"{where} answered with a body that is not JSON"
        raise NukiInvalidResponseError(msg, status=status, body=text) from err
    if not isinstance(data, Mapping):
        msg = f"{where} answered {type(data).__name__}, not an object"
        raise NukiInvalidResponseError(msg, status=status, body=text)
    code = data.get("errorCode", 0)
    if code != 0:
        msg = f"{where} reported errorCode {code!r}"
        raise NukiResponseError(msg, status=status, body=text)
    return data


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None  # an HTTP-date: rare here, and the caller only waits before retrying
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None
