"""NukiBridgeClient: every endpoint of the Bridge HTTP API 1.13.3, one at a time.

The bridge serves one request at a time (503 otherwise), so the client holds an
:class:`asyncio.Lock` per bridge and leaves ``min_spacing`` seconds between requests.
Reads that meet a 503 or a refused connection are retried with capped, jittered
backoff. Lock actions are re-sent only when the connection was refused, which proves
nothing reached the bridge, and at most once (DECISIONS D6): after a read timeout or a
5xx the door may already be open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_none,
    wait_random_exponential,
)

from nukiasync._parse import parse_list
from nukiasync._redact import origin_of, redact_mapping
from nukiasync.bridge._http import (
    CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    build_url,
    decode_response,
    exchange,
)
from nukiasync.bridge.callback_urls import (
    MAX_CALLBACKS,
    callback_marker,
    check_callback_url,
    check_marker,
    is_ours,
)
from nukiasync.bridge.models import (
    BridgeCallbackEntry,
    BridgeDevice,
    BridgeDeviceState,
    BridgeInfo,
    BridgeLogEntry,
    LockActionResult,
)
from nukiasync.bridge.token import (
    TokenMode,
    auth_params,
    check_token_mode,
    is_time_based,
)
from nukiasync.const import DEFAULT_BRIDGE_PORT, DeviceType, LockAction, OpenerAction
from nukiasync.errors import (
    NukiBridgeBusyError,
    NukiCallbackSlotsFullError,
    NukiConnectionError,
    NukiInvalidResponseError,
    NukiTimeoutError,
)

if TYPE_CHECKING:
    from types import TracebackType

_LOGGER = logging.getLogger(__name__)

# Nuki's FAQ: the bridge handles one request at a time and needs a pause between them;
# 250 ms keeps a busy hub from meeting 503s without slowing a person's lock action
# noticeably.
MIN_SPACING = 0.25
# Reads meeting 503 or a refused connection: 4 attempts span about 1-8 s of backoff,
# enough for the app or Nuki Web to finish their request or the bridge to come back from
# a reboot.
READ_ATTEMPTS = 4
BACKOFF_BASE = 0.5  # seconds; first retry waits up to this, doubling per attempt
BACKOFF_CAP = 5.0  # seconds; no single wait longer than this
# A lock action is re-sent once at most, and only after a refused connection (D6).
ACTION_ATTEMPTS = 2

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Action = LockAction | OpenerAction | int
_T = TypeVar("_T")


def _not_sent(exc: BaseException) -> bool:
    """Tell whether a failure proves that the request never reached the bridge."""
    return (
        isinstance(exc, NukiConnectionError)
        and not isinstance(exc, NukiTimeoutError)
        and isinstance(exc.__cause__, httpx.ConnectError)
    )


def _read_retryable(exc: BaseException) -> bool:
    return isinstance(exc, NukiBridgeBusyError) or _not_sent(exc)


class NukiBridgeClient:
    """Client of one Nuki Bridge's local HTTP API.

    It owns its HTTP transport and takes no borrowed ``httpx.AsyncClient``: the bridge
    expects its credentials in the query string, and httpx's client logs every request
    URL at INFO and shows it in its errors. So the client builds ``httpx.Request``
    objects, sends them through its own ``httpx.AsyncHTTPTransport`` and logs a redacted
    line of its own (DECISIONS D4).

    Construction does no I/O; use ``async with`` or call :meth:`close`.
    """

    def __init__(
        self,
        host: str,
        token: str,
        *,
        port: int = DEFAULT_BRIDGE_PORT,
        token_mode: TokenMode = "encrypted",  # noqa: S107 - a mode name, not a secret
        min_spacing: float = MIN_SPACING,
        timeout: float = DEFAULT_TIMEOUT,
        bridge_id: str | int | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if not host:
            msg = "host must not be empty"
            raise ValueError(msg)
        if not token:
            msg = "token must not be empty"
            raise ValueError(msg)
        if min_spacing < 0 or timeout <= 0:
            msg = "min_spacing must be >= 0 and timeout > 0"
            raise ValueError(msg)
        self._host = host
        self._port = port
        self._base_url = build_url(host, port)
        self._token = token
        self._token_mode = check_token_mode(token_mode)
        self._min_spacing = min_spacing
        self._timeouts = httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)).as_dict()
        self._bridge_id = None if bridge_id is None else str(bridge_id)
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._lock = asyncio.Lock()
        self._transport: httpx.AsyncHTTPTransport | None = None
        self._closed = False
        self._last_done: float | None = None
        self._log_name = f"bridge {self._bridge_id or host}"

    def __repr__(self) -> str:
        return (
            f"NukiBridgeClient(host={self._host!r}, port={self._port}, "
            f"token_mode={self._token_mode!r}, bridge_id={self._bridge_id!r})"
        )

    @property
    def host(self) -> str:
        """The bridge's address."""
        return self._host

    @property
    def port(self) -> int:
        """The bridge's HTTP API port."""
        return self._port

    @property
    def bridge_id(self) -> str | None:
        """The bridge id given at construction, used in the callback marker."""
        return self._bridge_id

    async def __aenter__(self) -> Self:
        if self._closed:
            msg = "client closed"
            raise RuntimeError(msg)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the transport; the client cannot be used afterwards."""
        self._closed = True
        if self._transport is not None:
            transport, self._transport = self._transport, None
            await transport.aclose()

    # Reads

    async def devices(self) -> list[BridgeDevice]:
        """Return the paired devices with their cached state (``/list``, cheap)."""
        data = await self._get("/list")
        return self._parse("/list", lambda: parse_list(data, BridgeDevice.from_api, "device"))

    async def info(self) -> BridgeInfo:
        """Return the bridge's versions, ids and the devices in range (``/info``)."""
        data = await self._get("/info")
        return self._parse("/info", lambda: BridgeInfo.from_api(data))

    async def lock_state(self, nuki_id: int, device_type: DeviceType | int) -> BridgeDeviceState:
        """Ask the device over BLE (``/lockState``); it drains batteries, do not poll.

        Raises:
            NukiNotFoundError: unknown ``nuki_id``, or an Opener sent without its type.
            NukiBridgeError: the bridge could not reach the device (``success: false``).
        """
        params = _device_params(nuki_id, device_type)
        data = await self._get("/lockState", params)
        return self._parse("/lockState", lambda: BridgeDeviceState.from_api(data, device_type))

    async def callbacks(self) -> list[BridgeCallbackEntry]:
        """Return the registered callbacks (``/callback/list``)."""
        data = await self._get("/callback/list")
        return self._parse(
            "/callback/list",
            lambda: parse_list(data["callbacks"], BridgeCallbackEntry.from_api, "callback"),
        )

    async def log(self, *, offset: int = 0, count: int = 100) -> list[BridgeLogEntry]:
        """Return the bridge's debug log (``/log``, hardware bridges only)."""
        if offset < 0 or count < 1:
            msg = "offset must be >= 0 and count >= 1"
            raise ValueError(msg)
        data = await self._get("/log", {"offset": offset, "count": count})
        return self._parse("/log", lambda: parse_list(data, BridgeLogEntry.from_api, "log entry"))

    # Lock actions: never re-sent after an ambiguous failure

    async def lock_action(
        self,
        nuki_id: int,
        action: Action,
        *,
        device_type: DeviceType | int,
        nowait: bool = False,
    ) -> LockActionResult:
        """Send a lock action (``/lockAction``); ``nowait`` answers before it completes.

        Raises:
            ValueError: the action does not fit the device type.
            NukiBridgeError: the device reported failure (``success: false``).
            NukiTimeoutError: no answer in time; the action may or may not have run.
        """
        params = _device_params(nuki_id, device_type)
        params["action"] = _check_action(action, device_type)
        params["nowait"] = int(nowait)
        data = await self._send("/lockAction", params)
        return self._parse("/lockAction", lambda: LockActionResult.from_api(data))

    async def lock(self, nuki_id: int, *, device_type: DeviceType | int) -> LockActionResult:
        """Send the simple "lock" action (``/lock``); the device picks what it means."""
        data = await self._send("/lock", _device_params(nuki_id, device_type))
        return self._parse("/lock", lambda: LockActionResult.from_api(data))

    async def unlock(self, nuki_id: int, *, device_type: DeviceType | int) -> LockActionResult:
        """Send the simple "unlock" (``/unlock``): a knob lock or an Opener *opens*."""
        data = await self._send("/unlock", _device_params(nuki_id, device_type))
        return self._parse("/unlock", lambda: LockActionResult.from_api(data))

    # Other writes

    async def unpair(self, nuki_id: int, *, device_type: DeviceType | int) -> None:
        """Remove the pairing with a device (``/unpair``, hardware bridges only)."""
        await self._send("/unpair", _device_params(nuki_id, device_type))

    async def config_auth(self, enable: bool) -> None:
        """Enable or disable ``/auth`` pairing and discovery (``/configAuth``)."""
        await self._send("/configAuth", {"enable": int(enable)})

    async def add_callback(self, url: str) -> None:
        """Register a callback URL (``/callback/add``); prefer :meth:`ensure_callback`.

        Raises:
            ValueError: the URL is not ``http://`` or longer than 254 characters.
        """
        check_callback_url(url)
        await self._send("/callback/add", {"url": url})

    async def remove_callback(self, id: int) -> None:
        """Remove a callback by its id (``/callback/remove``)."""
        await self._send("/callback/remove", {"id": id})

    async def clear_log(self) -> None:
        """Clear the bridge's debug log (``/clearlog``)."""
        await self._send("/clearlog", expect_json=False)

    async def fw_update(
        self,
        *,
        scope: int = 0,
        nuki_id: int | None = None,
        device_type: DeviceType | int | None = None,
    ) -> None:
        """Check for and install firmware now (``/fwupdate``).

        ``scope``: 0 the bridge and all devices, 1 the bridge, 2 the devices only.
        """
        if scope not in (0, 1, 2):
            msg = f"scope must be 0, 1 or 2, got {scope!r}"
            raise ValueError(msg)
        params: dict[str, Any] = {"scope": scope}
        if nuki_id is not None:
            params.update(_device_params(nuki_id, device_type or DeviceType.SMARTLOCK))
        await self._send("/fwupdate", params, expect_json=False)

    async def reboot(self) -> None:
        """Reboot the bridge (``/reboot``)."""
        await self._send("/reboot", expect_json=False)

    async def factory_reset(self) -> None:
        """Reset the bridge to factory settings (``/factoryReset``); irreversible."""
        await self._send("/factoryReset", expect_json=False)

    # Callback registration

    async def ensure_callback(self, url: str, *, marker: str | None = None) -> bool:
        """Register ``url`` once, replacing our own stale registrations; True if added.

        Entries whose URL path starts with ``marker`` are ours (default
        ``/nukiasync/<bridge_id>/``, see :func:`callback_marker`); other tools' entries
        are never removed.

        Raises:
            ValueError: the URL is not ``http://`` or longer than 254 characters.
            NukiCallbackSlotsFullError: all slots belong to other tools.
        """
        check_callback_url(url)
        mark = check_marker(marker if marker is not None else callback_marker(self._bridge_id))
        entries = await self.callbacks()
        keep = next((entry for entry in entries if entry.url == url), None)
        stale = [e for e in entries if e is not keep and (e.url == url or is_ours(e.url, mark))]
        for entry in stale:
            _LOGGER.debug("%s: removing our stale callback #%s", self._log_name, entry.id)
            await self.remove_callback(entry.id)
        if keep is not None:
            return False
        others = [e for e in entries if e not in stale]
        if len(others) >= MAX_CALLBACKS:
            occupied = tuple(origin_of(entry.url) for entry in others)
            msg = (
                f"All {MAX_CALLBACKS} callback slots of {self._log_name} belong to "
                f"other tools ({', '.join(occupied)}); free one for nukiasync"
            )
            raise NukiCallbackSlotsFullError(msg, occupied=occupied)
        await self.add_callback(url)
        _LOGGER.info("%s: callback registered at %s", self._log_name, origin_of(url))
        return True

    async def remove_callback_url(self, url: str) -> int:
        """Remove every registration of ``url`` (for shutdown); return how many."""
        removed = 0
        for entry in await self.callbacks():
            if entry.url == url:
                await self.remove_callback(entry.id)
                removed += 1
        return removed

    # Internals

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop_after_attempt(READ_ATTEMPTS),
            wait=wait_random_exponential(multiplier=BACKOFF_BASE, max=BACKOFF_CAP),
            retry=retry_if_exception(_read_retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return await retrying(self._request, path, params or {}, expect_json=True)

    async def _send(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        expect_json: bool = True,
    ) -> Any:
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop_after_attempt(ACTION_ATTEMPTS),
            wait=wait_none(),
            retry=retry_if_exception(_not_sent),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return await retrying(self._request, path, params or {}, expect_json=expect_json)

    async def _request(self, path: str, params: dict[str, Any], *, expect_json: bool) -> Any:
        """Send one request under the lock, after the spacing, with fresh auth."""
        async with self._lock:
            transport = self._ensure_transport()
            if self._last_done is not None:
                wait = self._last_done + self._min_spacing - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            query = {**params, **auth_params(self._token, self._token_mode)}
            request = httpx.Request(
                "GET",
                self._base_url + path,
                params=query,
                extensions={"timeout": self._timeouts},
            )
            started = self._clock()
            try:
                status, body = await exchange(transport, request, path, self._log_name)
            finally:
                self._last_done = self._clock()
            _LOGGER.debug(
                "%s: GET %s %s -> %s in %.0f ms",
                self._log_name,
                path,
                redact_mapping(params),
                status,
                (self._last_done - started) * 1000,
            )
        return decode_response(
            path,
            status,
            body,
            log_name=self._log_name,
            time_based=is_time_based(self._token_mode),
            expect_json=expect_json,
        )

    def _ensure_transport(self) -> httpx.AsyncHTTPTransport:
        if self._closed:
            msg = "client closed"
            raise RuntimeError(msg)
        if self._transport is None:
            # No keep-alive: an idle connection of ours would hold the bridge's one slot.
            self._transport = httpx.AsyncHTTPTransport(
                verify=False,  # plain HTTP only; no TLS context is ever used
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._transport

    def _parse(self, path: str, build: Callable[[], _T]) -> _T:
        try:
            return build()
        except (KeyError, ValueError, TypeError, AttributeError) as err:
            kind = type(err).__name__
            msg = f"Unexpected answer from {self._log_name} (GET {path}): {kind}"
            raise NukiInvalidResponseError(msg) from err

    def _log_retry(self, state: RetryCallState) -> None:
        outcome = state.outcome
        error = type(outcome.exception()).__name__ if outcome is not None else "?"
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        _LOGGER.debug(
            "%s: attempt %d failed (%s), retrying in %.2f s",
            self._log_name,
            state.attempt_number,
            error,
            delay,
        )


def _device_params(nuki_id: int, device_type: DeviceType | int) -> dict[str, Any]:
    """Return ``nukiId`` and ``deviceType``; always sent (Openers get 404 without)."""
    code = int(device_type)
    if code < 0 or not 0 <= nuki_id <= 0xFFFFFFFF:
        msg = "nuki_id must be a 32-bit unsigned integer and device_type a known type"
        raise ValueError(msg)
    return {"nukiId": nuki_id, "deviceType": code}


def _check_action(action: Action, device_type: DeviceType | int) -> int:
    """Refuse an action enum of the other device family (other meanings)."""
    is_opener = int(device_type) == DeviceType.OPENER
    if (isinstance(action, LockAction) and is_opener) or (
        isinstance(action, OpenerAction) and not is_opener
    ):
        msg = f"{action!r} does not fit device type {int(device_type)}"
        raise ValueError(msg)
    code = int(action)
    if not 1 <= code <= 255:
        msg = f"action must be a known lock action, got {action!r}"
        raise ValueError(msg)
    return code
