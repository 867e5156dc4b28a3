"""One bridge's request line: one request at a time, spaced, retried only when safe.

The bridge serves one request at a time (503 otherwise), so a session holds an
:class:`asyncio.Lock` per bridge and leaves ``min_spacing`` seconds between requests.
Reads that meet a 503 or a refused connection are retried with capped, jittered backoff.
Writes are re-sent only when the connection was refused, which proves nothing reached the
bridge, and at most once (docs/decisions/0006-actions-are-never-sent-twice.md): after a
read timeout or a 5xx the door may already be open.

The session owns its HTTP transport: the bridge expects its credentials in the query
string, and httpx's client logs every request URL at INFO, so requests are built here and
logged redacted (docs/decisions/0004-secrets.md).
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

from nukiasync._redact import redact_mapping
from nukiasync.bridge._http import (
    CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    build_url,
    decode_response,
    exchange,
)
from nukiasync.bridge.token import TokenMode, auth_params, check_token_mode, is_time_based
from nukiasync.const import DEFAULT_BRIDGE_PORT
from nukiasync.errors import (
    NukiBridgeBusyError,
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
# A lock action is re-sent once at most, and only after a refused connection.
ACTION_ATTEMPTS = 2

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
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


class BridgeSession:
    """The transport, the lock and the retry rules under `NukiBridgeClient`."""

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
