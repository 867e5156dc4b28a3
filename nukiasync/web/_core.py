"""The Web API client's core: URLs, auth header, retries and the mapping of failures to errors.

Every tag module (smartlocks, logs, auths, account, ...) is a mixin over `WebApiCore` and
sends its requests through `_request`, so there is one place for timeouts, retries, error
mapping and the rules for a borrowed `httpx.AsyncClient` (never closed, never mutated).
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import aiohttp
import httpx
import tenacity
from httpx_aiohttp import AiohttpTransport

from nukiasync.clock import utcnow
from nukiasync.const import DEFAULT_TIMEOUT, DEFAULT_WEB_URL
from nukiasync.errors import (
    NukiConnectionError,
    NukiInvalidResponseError,
    NukiRateLimitError,
    NukiServerError,
    NukiTimeoutError,
)
from nukiasync.web._errors import body_text, error_for

if TYPE_CHECKING:
    from types import TracebackType

    from nukiasync.web.oauth import NukiOAuth2

_LOGGER = logging.getLogger(__name__)

# Reads are retried this many times in all: enough to ride out a gateway blip, few enough
# that a caller with its own deadline (the hub) is not kept waiting.
RETRY_ATTEMPTS = 4
# Full-jitter exponential backoff (seconds): spreads many clients out after an outage.
RETRY_WAIT_INITIAL = 0.5
RETRY_WAIT_MAX = 10.0
# A Retry-After longer than this is not slept through: the error goes to the caller, who
# knows whether waiting minutes is worth it.
RETRY_AFTER_CAP = 60.0
# Connections an owned client opens at most (httpx's and aiohttp's own default): a burst of
# reads goes out at once instead of waiting for a connection to come free.
OWNED_MAX_CONNECTIONS = 100
# Date headers kept to estimate the server's clock against ours (median of these).
CLOCK_SAMPLES = 15

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


class WebApiCore:
    """Holds the HTTP client and turns requests into JSON or `NukiError`s."""

    def __init__(
        self,
        token: str | NukiOAuth2,
        *,
        client: httpx.AsyncClient | None = None,
        base_url: str = DEFAULT_WEB_URL,
        timeout: float = DEFAULT_TIMEOUT,
        retry_attempts: int = RETRY_ATTEMPTS,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(token, str) and not token:
            msg = "token must not be empty"
            raise ValueError(msg)
        self._token = token
        self._client = client
        self._owns_client = client is None
        self._client_lock = asyncio.Lock()
        self._closed = False
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._retry_attempts = max(1, retry_attempts)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock: Clock = clock or utcnow
        self.request_count = 0
        self._offsets: collections.deque[timedelta] = collections.deque(maxlen=CLOCK_SAMPLES)

    def __repr__(self) -> str:
        owner = "owned" if self._owns_client else "borrowed"
        return f"{type(self).__name__}(base_url={self._base_url!r}, client={owner})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client if this object created it; a borrowed one stays open."""
        self._closed = True
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    @property
    def clock_offset(self) -> timedelta | None:
        """Server time minus ours, from the Date headers of recent answers (median).

        Log entries carry the lock's time, which follows Nuki's servers; the hub uses this
        to compare them with the times it observed callbacks at.
        """
        if not self._offsets:
            return None
        ordered = sorted(self._offsets)
        return ordered[len(ordered) // 2]

    @property
    def base_url(self) -> str:
        """The Web API's base URL."""
        return self._base_url

    async def _http(self) -> httpx.AsyncClient:
        if self._closed:
            msg = "client closed"
            raise RuntimeError(msg)
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    # Loading CA certificates reads files: never on the event loop.
                    context = await asyncio.to_thread(ssl.create_default_context)
                    # verify= too: a proxy from the environment gets httpx's own transport.
                    self._client = httpx.AsyncClient(
                        verify=context, transport=_owned_transport(context)
                    )
        return self._client

    async def _authorization(self, *, force_refresh: bool = False) -> str:
        if isinstance(self._token, str):
            return f"Bearer {self._token}"
        token = await self._token.access_token(self, force_refresh=force_refresh)
        return f"Bearer {token}"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        retry: bool | None = None,
    ) -> Any:
        """Send one API call and return its decoded JSON (None for an empty answer).

        Reads (GET) are retried on connection errors, timeouts, 5xx and 429; anything else
        is sent exactly once, because a repeated write or lock action may act twice.
        """
        if retry is None:
            retry = method == "GET"
        if not retry:
            return await self._send_once(method, path, params, json_body)
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(_is_retryable),
            wait=_wait_retry_after_or_backoff,
            stop=tenacity.stop_after_attempt(self._retry_attempts),
            sleep=self._sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(method, path, params, json_body)
        raise AssertionError  # pragma: no cover  (tenacity either returns or raises)

    async def _send_once(
        self, method: str, path: str, params: Mapping[str, Any] | None, json_body: Any
    ) -> Any:
        response = await self._send(method, path, params, json_body)
        if response.status_code == 401 and not isinstance(self._token, str):
            # An OAuth access token can expire early; 401 means nothing was done, so one
            # retry with a fresh token is safe for writes too.
            response = await self._send(method, path, params, json_body, force_refresh=True)
        return self._decode(method, path, response)

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        *,
        force_refresh: bool = False,
    ) -> httpx.Response:
        http = await self._http()
        headers = {
            "Authorization": await self._authorization(force_refresh=force_refresh),
            "Accept": "application/json",
        }
        what = f"{method} {path}"
        self.request_count += 1
        sent_at = self._clock()
        try:
            response = await http.request(
                method,
                self._base_url + path,
                params=_query(params),
                json=json_body,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as err:
            msg = f"Timeout talking to the Nuki Web API ({what})"
            raise NukiTimeoutError(msg) from err
        except httpx.TransportError as err:
            msg = f"Cannot reach the Nuki Web API ({what}): {type(err).__name__}"
            raise NukiConnectionError(msg) from err
        self._note_server_time(response, sent_at)
        return response

    async def _post_form(
        self, path: str, data: Mapping[str, str], headers: Mapping[str, str]
    ) -> Any:
        """POST a form (the OAuth2 token endpoint); never retried, never logged in clear."""
        http = await self._http()
        what = f"POST {path}"
        self.request_count += 1
        try:
            response = await http.post(
                self._base_url + path, data=dict(data), headers=dict(headers), timeout=self._timeout
            )
        except httpx.TimeoutException as err:
            msg = f"Timeout talking to the Nuki Web API ({what})"
            raise NukiTimeoutError(msg) from err
        except httpx.TransportError as err:
            msg = f"Cannot reach the Nuki Web API ({what}): {type(err).__name__}"
            raise NukiConnectionError(msg) from err
        return self._decode("POST", path, response)

    def _note_server_time(self, response: httpx.Response, sent_at: datetime) -> None:
        header = response.headers.get("date")
        if not header:
            return
        try:
            server = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        midpoint = sent_at + (self._clock() - sent_at) / 2
        # The header has whole seconds: on average half a second behind the true time.
        self._offsets.append(server + timedelta(milliseconds=500) - midpoint)

    def _decode(self, method: str, path: str, response: httpx.Response) -> Any:
        what = f"{method} {path}"
        status = response.status_code
        if status >= 400:  # now: the answer is in, so Retry-After counts from here
            raise error_for(what, response, self._clock())
        if status == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
            msg = f"The Nuki Web API answered {what} with a body that is not JSON"
            raise NukiInvalidResponseError(msg, status=status, body=body_text(response)) from err


def _owned_transport(context: ssl.SSLContext) -> httpx.AsyncBaseTransport:
    """The owned client's transport: aiohttp's pool behind httpx's API.

    Measured by bench B5 (200 concurrent log reads): httpcore's pool spends 3-12 ms of CPU
    per request scheduling its connections, aiohttp's well under 1 ms.
    """
    limits = httpx.Limits(max_connections=OWNED_MAX_CONNECTIONS)
    return _AiohttpTransport(verify=context, limits=limits)


class _AiohttpTransport(AiohttpTransport):
    """`AiohttpTransport` that does not call a refused or dropped connection a timeout.

    httpx-aiohttp maps every `aiohttp.ClientConnectionError` to `httpx.ConnectTimeout`;
    only real timeouts stay timeouts here, so errors say what happened.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as err:
            cause = err.__cause__
            if cause is None or isinstance(cause, TimeoutError):
                raise
            if isinstance(cause, aiohttp.ClientConnectorError):
                raise httpx.ConnectError(str(err), request=request) from cause
            raise httpx.ReadError(str(err), request=request) from cause


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Drop unset parameters and write values as the Web API expects them."""
    if not params:
        return None
    result: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            from nukiasync._parse import format_datetime  # noqa: PLC0415

            result[key] = format_datetime(value)
        elif isinstance(value, list | tuple | set | frozenset):
            result[key] = ",".join(str(int(v)) if isinstance(v, int) else str(v) for v in value)
        else:
            result[key] = str(int(value)) if isinstance(value, int) else str(value)
    return result or None


def _is_retryable(err: BaseException) -> bool:
    if isinstance(err, NukiRateLimitError):
        return err.retry_after is None or err.retry_after <= RETRY_AFTER_CAP
    return isinstance(err, NukiConnectionError | NukiServerError)


_backoff = tenacity.wait_random_exponential(multiplier=RETRY_WAIT_INITIAL, max=RETRY_WAIT_MAX)


def _wait_retry_after_or_backoff(state: tenacity.RetryCallState) -> float:
    """Honour the server's Retry-After exactly; otherwise full-jitter backoff."""
    outcome = state.outcome
    err = outcome.exception() if outcome is not None else None
    if isinstance(err, NukiRateLimitError) and err.retry_after is not None:
        return err.retry_after
    return float(_backoff(state))


def _log_retry(state: tenacity.RetryCallState) -> None:
    outcome = state.outcome
    err = outcome.exception() if outcome is not None else None
    _LOGGER.debug(
        "Retrying after %s (attempt %d), waiting %.2f s",
        type(err).__name__,
        state.attempt_number,
        state.upcoming_sleep,
    )
