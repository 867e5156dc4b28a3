"""The Web API core: error mapping, retries, borrowed vs owned clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
import tenacity
from aiohttp import web

from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBadRequestError,
    NukiConflictError,
    NukiConnectionError,
    NukiError,
    NukiInvalidResponseError,
    NukiNotFoundError,
    NukiObjectBusyError,
    NukiRateLimitError,
    NukiResponseError,
    NukiServerError,
    NukiTimeoutError,
)
from nukiasync.web import _core
from nukiasync.web._core import WebApiCore
from nukiasync.web._errors import parse_retry_after
from tests.support.canary import WEB_TOKEN

BASE = "https://api.nuki.test"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


class Sleeps:
    """An injected sleep that records what it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make(http: httpx.AsyncClient | None, sleeps: Sleeps | None = None, **kw: Any) -> WebApiCore:
    return WebApiCore(
        WEB_TOKEN,
        client=http,
        base_url=BASE,
        sleep=sleeps or Sleeps(),
        clock=lambda: NOW,
        **kw,
    )


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "text"),
    [
        (
            400,
            {"code": 400, "description": "bad fromDate"},
            {},
            NukiBadRequestError,
            "bad fromDate",
        ),
        (
            422,
            {"description": "code invalid", "reasonPhrase": "Unprocessable"},
            {},
            NukiBadRequestError,
            "code invalid",
        ),
        (401, {}, {}, NukiAuthenticationError, "invalid or expired"),
        (403, {}, {}, NukiAuthenticationError, "lacks a scope"),
        (404, {}, {}, NukiNotFoundError, "nukiId"),
        (409, {"detailMessage": "conflict!"}, {}, NukiConflictError, "conflict!"),
        (423, {}, {}, NukiObjectBusyError, "pending"),
        (418, {"message": "teapot"}, {}, NukiResponseError, "teapot"),
    ],
)
async def test_status_maps_to_error(http, status, body, headers, error, text) -> None:  # noqa: PLR0917
    with respx.mock(base_url=BASE) as router:
        router.post("/x").respond(status, json=body, headers=headers)
        with pytest.raises(error) as info:
            await make(http)._request("POST", "/x")
    assert text in str(info.value)
    assert info.value.status == status
    assert WEB_TOKEN not in str(info.value)


async def test_bad_request_keeps_description(http) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/x").respond(400, json={"description": "The supplied value"})
        with pytest.raises(NukiBadRequestError) as info:
            await make(http)._request("GET", "/x")
    assert info.value.description == "The supplied value"


async def test_html_gateway_page_is_server_error(http) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>" * 20
    with respx.mock(base_url=BASE) as router:
        router.post("/x").respond(502, text=page, headers={"content-type": "text/html"})
        with pytest.raises(NukiServerError) as info:
            await make(http)._request("POST", "/x")
    assert "HTML" in str(info.value)
    assert len(info.value.body) <= 200


@pytest.mark.parametrize("content", [b"<html>oops</html>", b"{not json", b"\xff\xfe\x00"])
async def test_success_without_json_is_invalid_response(http, content) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/x").respond(200, content=content)
        with pytest.raises(NukiInvalidResponseError):
            await make(http)._request("GET", "/x")


async def test_empty_and_204_answers_are_none(http) -> None:
    with respx.mock(base_url=BASE) as router:
        router.post("/a").respond(204)
        router.post("/b").respond(200, content=b"  ")
        core = make(http)
        assert await core._request("POST", "/a") is None
        assert await core._request("POST", "/b") is None


async def test_timeout_and_connect_errors(http) -> None:
    with respx.mock(base_url=BASE) as router:
        router.post("/t").mock(side_effect=httpx.ReadTimeout("slow"))
        router.post("/c").mock(side_effect=httpx.ConnectError("refused"))
        core = make(http)
        with pytest.raises(TimeoutError) as info:
            await core._request("POST", "/t")
        assert isinstance(info.value, NukiTimeoutError)
        with pytest.raises(NukiConnectionError) as info2:
            await core._request("POST", "/c")
    assert not isinstance(info2.value, NukiTimeoutError)


async def test_reads_retry_with_backoff_then_succeed(http) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=BASE) as router:
        route = router.get("/r")
        route.side_effect = [
            httpx.Response(503, text="busy"),
            httpx.ConnectError("refused"),
            httpx.Response(200, json=[1]),
        ]
        assert await make(http, sleeps)._request("GET", "/r") == [1]
    assert route.call_count == 3
    assert len(sleeps.waits) == 2
    assert all(0 <= w <= _core.RETRY_WAIT_MAX for w in sleeps.waits)


async def test_reads_give_up_after_attempts(http) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=BASE) as router:
        route = router.get("/r").respond(500)
        with pytest.raises(NukiServerError):
            await make(http, sleeps, retry_attempts=3)._request("GET", "/r")
    assert route.call_count == 3
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(500), httpx.ReadTimeout("t"), httpx.Response(429)],
)
async def test_writes_are_never_retried(http, method, failure) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=BASE) as router:
        route = router.route(method=method, path="/w").mock(side_effect=[failure])
        with pytest.raises(NukiError):
            await make(http, sleeps)._request(method, "/w")
    assert route.call_count == 1
    assert sleeps.waits == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 423])
async def test_client_errors_are_not_retried(http, status) -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.get("/r").respond(status)
        with pytest.raises(NukiResponseError):
            await make(http)._request("GET", "/r")
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=7), usegmt=True), 7.0),
    ],
)
async def test_retry_after_is_honoured_exactly(http, header, expected) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=BASE) as router:
        route = router.get("/r")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": header}),
            httpx.Response(429, headers={"Retry-After": header}),
            httpx.Response(200, json={"ok": True}),
        ]
        assert await make(http, sleeps)._request("GET", "/r") == {"ok": True}
    # No request goes out before the advertised time: each wait is exactly what was asked.
    assert sleeps.waits == [expected, expected]


async def test_retry_after_beyond_cap_is_raised_without_sleeping(http) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=BASE) as router:
        route = router.get("/r").respond(429, headers={"Retry-After": "3600"})
        with pytest.raises(NukiRateLimitError) as info:
            await make(http, sleeps)._request("GET", "/r")
    assert info.value.retry_after == 3600.0
    assert route.call_count == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("abc", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("1.5", 1.5),
        ("Mon, 23 Nov 2026 11:59:00 GMT", 0.0),  # in the past: go now
        ("Mon, 23 Nov 2026 12:00:30 GMT", 30.0),
        ("Mon, 23 Nov 2026 12:00:30", 30.0),
    ],
)
def test_parse_retry_after(value, expected) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_first_retry_delays_are_spread_out() -> None:
    """G17: 1,000 clients retrying after the same outage do not retry in step."""
    state = tenacity.RetryCallState(
        retry_object=tenacity.AsyncRetrying(), fn=None, args=(), kwargs={}
    )
    state.attempt_number = 3
    state.outcome = tenacity.Future.construct(1, NukiServerError("x", status=500), True)
    delays = [_core._wait_retry_after_or_backoff(state) for _ in range(1000)]
    assert statistics.pstdev(delays) / statistics.mean(delays) > 0.3
    assert max(delays) <= _core.RETRY_WAIT_MAX


async def test_borrowed_client_is_not_closed_or_changed(http) -> None:
    before = (str(http.base_url), dict(http.headers), dict(http.event_hooks), http.timeout)
    with respx.mock(base_url=BASE) as router:
        route = router.get("/r").respond(200, json=[])
        async with make(http) as core:
            await core._request("GET", "/r", params={"a": 1, "b": None})
    assert not http.is_closed
    assert (str(http.base_url), dict(http.headers), dict(http.event_hooks), http.timeout) == before
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {WEB_TOKEN}"
    assert sent.url.params == httpx.QueryParams({"a": "1"})


@contextlib.asynccontextmanager
async def loopback(handler: Any) -> Any:
    """A real server on 127.0.0.1: the owned client's aiohttp transport is not respx-mocked."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


async def test_owned_client_is_lazy_built_off_loop_and_closed(monkeypatch) -> None:
    threads: list[int] = []
    real = _core.ssl.create_default_context

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    async def answer(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"
        return web.json_response([])

    monkeypatch.setattr(_core.ssl, "create_default_context", spy)
    async with loopback(answer) as url:
        core = WebApiCore(WEB_TOKEN, base_url=url, sleep=Sleeps(), clock=lambda: NOW)
        assert core._client is None  # construction does no I/O
        assert await core._request("GET", "/r") == []
        owned = core._client
        await core._request("GET", "/r")
        assert owned is not None
        assert core._client is owned
        assert threads
        assert threading.get_ident() not in threads
        await core.close()
    assert owned.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await core._request("GET", "/r")


async def test_owned_client_calls_refused_and_dropped_connections_no_timeout() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    dropping_port = server.sockets[0].getsockname()[1]
    try:
        for port, kind in ((closed_port, "ConnectError"), (dropping_port, "ReadError")):
            core = WebApiCore(WEB_TOKEN, base_url=f"http://127.0.0.1:{port}", retry_attempts=1)
            with pytest.raises(NukiConnectionError, match=kind) as caught:
                await core._request("GET", "/r")
            assert not isinstance(caught.value, NukiTimeoutError)
            await core.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_owned_transport_keeps_real_timeouts(monkeypatch) -> None:
    async def time_out(self: Any, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request) from TimeoutError()

    monkeypatch.setattr(_core.AiohttpTransport, "handle_async_request", time_out)
    transport = _core._owned_transport(_core.ssl.create_default_context())
    with pytest.raises(httpx.ConnectTimeout):
        await transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    await transport.aclose()


def test_repr_and_validation() -> None:
    core = make(None)
    assert WEB_TOKEN not in repr(core)
    assert "owned" in repr(core)
    assert core.base_url == BASE
    with pytest.raises(ValueError, match="empty"):
        WebApiCore("")


def test_query_formatting() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert _core._query(None) is None
    assert _core._query({"x": None}) is None
    assert _core._query(
        {"b": True, "f": False, "d": when, "l": [1, 2], "s": ("a", "b"), "i": 3, "t": "x"}
    ) == {
        "b": "true",
        "f": "false",
        "d": "2026-01-02T03:04:05.678Z",
        "l": "1,2",
        "s": "a,b",
        "i": "3",
        "t": "x",
    }
