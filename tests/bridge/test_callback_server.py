"""CallbackServer over real sockets on 127.0.0.1: routing, status codes, slowloris, shutdown.

Sources 127.0.0.2 (the bridge) and 127.0.0.3 (anyone else) are bound on the client side.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from nukiasync.bridge.receiver import CallbackReceiver
from nukiasync.bridge.server import MIN_SECRET_LENGTH, CallbackServer
from nukiasync.errors import NukiCallbackServerError
from tests.support.callbacks import (
    BODY,
    BRIDGE,
    FAST,
    STRANGER,
    Sink,
    open_raw,
    post,
    secret_of,
    session,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from nukiasync.bridge.callbacks import BridgeCallback


async def test_accepts_and_delivers(server: CallbackServer, sink: Sink) -> None:
    url = server.callback_url()
    assert url.startswith(f"http://127.0.0.1:{server.port}/nukiasync/bridge/")
    assert len(secret_of(url)) >= MIN_SECRET_LENGTH
    assert await post(url) == 200
    await sink.wait_for(1)
    assert sink.items[0].nuki_id == 1234567890
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert secret_of(url) not in repr(server)
    assert server.bridge_ids == ("bridge",)


async def test_status_codes(server: CallbackServer, sink: Sink) -> None:
    url = server.callback_url()
    base = server.url

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    cases: list[tuple[int, Callable[[], Any]]] = [
        (404, lambda: post(url[:-1] + ("A" if url[-1] != "A" else "B"))),
        (404, lambda: post(url + "/extra")),
        (404, lambda: post(f"{base}/nukiasync/other/{'x' * 32}")),
        (404, lambda: post(f"{base}/elsewhere")),
        (403, lambda: post(url, source=STRANGER)),
        (413, lambda: post(url, data=b" " * 5000)),
        (413, lambda: post(url, data=chunks())),
        (415, lambda: post(url, data=gzip.compress(BODY), headers={"Content-Encoding": "gzip"})),
        (400, lambda: post(url, data=b"not json")),
        (400, lambda: post(url, data=b"[" * 2000)),
        (400, lambda: post(url, data=b'{"nukiId": 1}')),
    ]
    for expected, call in cases:
        assert await call() == expected
    async with session() as client, client.get(url) as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "POST"
    stats = server.receiver().stats
    assert stats.received == stats.accepted + stats.rejected_total == 10
    assert dict(stats.rejected) == {
        "source": 1,
        "secret": 2,
        "method": 1,
        "size": 2,
        "encoding": 1,
        "malformed": 3,
        "overload": 0,
    }
    assert server.stats.unknown_path == 2
    assert sink.items == []


async def test_gzip_bomb_is_refused_unread(server: CallbackServer) -> None:
    bomb = gzip.compress(b"{" + b" " * (20 * 1024 * 1024))
    assert await post(server.callback_url(), data=bomb, headers={"Content-Encoding": "gzip"}) in {
        413,
        415,
    }


async def test_forwarded_for_only_from_trusted_proxy(sink: Sink) -> None:
    srv = CallbackServer(
        sink, host="127.0.0.1", allowed_sources=[BRIDGE], trusted_proxies=["127.0.0.1"], **FAST
    )
    async with srv:
        url = srv.callback_url()
        secret_of(url)
        xff = {"X-Forwarded-For": BRIDGE}
        assert await post(url, source="127.0.0.1", headers=xff) == 200
        assert await post(url, source="127.0.0.1") == 403
        assert await post(url, source=STRANGER, headers=xff) == 403


async def test_no_access_log_shows_the_secret(
    server: CallbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.callback_url()
    with caplog.at_level(logging.DEBUG):
        assert await post(url) == 200
        assert await post(url, data=b"[]") == 400
    secret = secret_of(url)
    assert all(secret not in record.getMessage() for record in caplog.records)


# slowloris (G10)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(1024):
                pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


async def test_slowloris(sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    srv = CallbackServer(
        sink,
        host="127.0.0.1",
        allowed_sources=[BRIDGE],
        max_connections=20,
        bridge_connections=8,
        **FAST,
    )
    async with srv:
        url = srv.callback_url()
        path = urlsplit(url).path
        secret_of(url)
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(BODY)}\r\n"
        # 10 idle and 10 header-tricklers from a stranger, 15 more over the cap, and
        # 5 body-tricklers from the bridge's own address (they pass the source check)
        strangers = [await open_raw(srv.port, STRANGER) for _ in range(35)]
        tricklers = [await open_raw(srv.port, BRIDGE) for _ in range(5)]
        for _, writer in strangers[10:20]:
            writer.write(head[:10].encode())
        for _, writer in tricklers:
            writer.write((head + "\r\n").encode() + BODY[:5])
        over_cap = await asyncio.gather(*(closed_within(r, 0.3) for r, _ in strangers[20:]))
        assert all(over_cap)
        assert srv.stats.connections.refused == 15

        started = time.monotonic()
        with caplog.at_level(logging.DEBUG):
            assert await post(url) == 200  # the bridge still gets through at once
            legit = time.monotonic() - started
            slow = strangers[:20] + tricklers
            for _, writer in strangers[10:20] + tricklers:  # keep trickling
                writer.write(b"X")
            results = await asyncio.gather(*(closed_within(r, 1.5) for r, _ in slow))
        elapsed = time.monotonic() - started
        assert all(results)
        assert legit < 0.3
        assert elapsed < 1.5  # request_timeout 0.5 s + margin
        assert srv.stats.connections.expired >= 25
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        for _, writer in strangers + tricklers:
            writer.close()
        await sink.wait_for(1)
    stats = srv.receiver().stats
    assert stats.rejected["malformed"] == 5  # the body-tricklers, cut off
    assert stats.received == stats.accepted + stats.rejected_total


# shutdown (G12)


async def test_graceful_shutdown_delivers_everything_answered() -> None:
    got: list[int] = []
    slow = asyncio.Event()

    async def consume(cb: BridgeCallback) -> None:
        await slow.wait()
        got.append(cb.state_code)

    srv = CallbackServer(consume, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST)
    await srv.start()
    url = srv.callback_url()
    secret_of(url)
    async with session() as client:
        for state in range(20):
            body = json.dumps({"nukiId": 5, "state": state % 8}).encode()
            async with client.post(url, data=body) as resp:
                assert resp.status == 200
        closing = asyncio.create_task(srv.close())
        slow.set()
        await asyncio.wait_for(closing, 5)
    assert len(got) == 20
    assert srv.receiver().stats.delivered == 20
    assert asyncio.all_tasks() == {asyncio.current_task()}
    await srv.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await srv.start()


async def test_close_aborts_idle_connections(server: CallbackServer) -> None:
    reader, writer = await open_raw(server.port, BRIDGE)
    await server.close()
    assert await closed_within(reader, 1.0)
    writer.close()


async def test_bind_failure(server: CallbackServer, sink: Sink) -> None:
    clash = CallbackServer(sink, host="127.0.0.1", port=server.port, allowed_sources=[BRIDGE])
    with pytest.raises(NukiCallbackServerError) as info:
        await clash.start()
    assert isinstance(info.value, OSError)
    assert info.value.errno is not None
    assert str(server.port) in str(info.value)
    await clash.close()


# mounting, webhooks, several bridges


async def test_mounted_in_a_borrowed_app(sink: Sink) -> None:
    srv = CallbackServer(sink, advertise_url="http://127.0.0.1:1/base/", allowed_sources=[BRIDGE])
    app = web.Application()
    srv.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with srv:
        url = srv.callback_url()
        assert url.startswith("http://127.0.0.1:1/base/nukiasync/bridge/")
        local = f"http://127.0.0.1:{port}" + urlsplit(url).path.removeprefix("/base")
        secret_of(url)
        assert await post(local) == 200
        await sink.wait_for(1)
    assert await post(local) == 429  # the app still serves: ours closed, not the app
    await runner.cleanup()


async def test_webhook_handle_and_several_bridges(sink: Sink) -> None:
    other = Sink()
    srv = CallbackServer(sink, host="127.0.0.1", bridge_id="one", allowed_sources=[BRIDGE])
    second = CallbackReceiver(other, allowed_sources=[BRIDGE], bridge_id="two")
    await srv.add_receiver(second, path_secret="s" * 22)
    async with srv:
        assert srv.callback_url("two").endswith("/nukiasync/two/" + "s" * 22)
        secret_of(srv.callback_url("one"))
        assert await srv.handle(BODY, BRIDGE, bridge_id="two") == 200
        assert await srv.handle(BODY, STRANGER, bridge_id="one") == 403
        assert await srv.handle(BODY, BRIDGE) == 404  # two bridges: say which
        assert await srv.handle(BODY, BRIDGE, bridge_id="three") == 404
        third = CallbackReceiver(sink, allowed_sources=[BRIDGE], bridge_id="three")
        await srv.add_receiver(third)
        assert third.running
        assert await post(srv.callback_url("three")) == 200
        secret_of(srv.callback_url("three"))
        await other.wait_for(1)
        await sink.wait_for(1)
        assert srv.receiver("two") is second
    await second.close()
    await third.close()


async def test_url_errors_and_arguments(sink: Sink) -> None:
    srv = CallbackServer(sink, host="127.0.0.1", allowed_sources=[BRIDGE])
    with pytest.raises(RuntimeError, match="not started"):
        _ = srv.url
    wildcard = CallbackServer(sink, host="0.0.0.0", allowed_sources=[BRIDGE])  # noqa: S104
    with pytest.raises(RuntimeError, match="advertise_url"):
        _ = wildcard.url
    with pytest.raises(KeyError):
        srv.callback_url("nope")
    with pytest.raises(ValueError, match="required"):
        CallbackServer(sink, host="127.0.0.1")
    rcv = CallbackReceiver(sink, allowed_sources=[BRIDGE])
    with pytest.raises(ValueError, match="belong to the receiver"):
        CallbackServer(rcv, host="127.0.0.1", allowed_sources=[BRIDGE])
    with pytest.raises(ValueError, match="path_secret"):
        CallbackServer(rcv, host="127.0.0.1", path_secret="short")
    with pytest.raises(ValueError, match="bridge_id"):
        CallbackServer(sink, host="127.0.0.1", allowed_sources=[BRIDGE], bridge_id="a/b")
    with pytest.raises(ValueError, match="timeouts"):
        CallbackServer(rcv, host="127.0.0.1", request_timeout=0)
    started = CallbackServer(rcv, host="127.0.0.1")
    async with started:
        with pytest.raises(RuntimeError, match="already started"):
            await started.start()
        with pytest.raises(ValueError, match="unique"):
            await started.add_receiver(rcv)
        assert started.url.startswith("http://127.0.0.1:")
    await rcv.close()  # borrowed: the server did not close it
    ipv6 = CallbackServer(sink, host="::1", allowed_sources=["::1"])
    ipv6._started = True
    assert ipv6.url == "http://[::1]:0"


async def test_each_request_moves_the_deadline_and_an_idle_connection_closes(sink: Sink) -> None:
    """A keep-alive bridge posting more often than the idle limit stays connected for longer
    than one request's deadline; once it stops, the idle limit closes the connection."""
    timing = {"request_timeout": 0.6, "idle_timeout": 0.3, "shutdown_timeout": 2.0}
    srv = CallbackServer(sink, host="127.0.0.1", allowed_sources=[BRIDGE], **timing)
    async with srv:
        path = urlsplit(srv.callback_url()).path
        request = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(BODY)}\r\n\r\n"
        reader, writer = await open_raw(srv.port, BRIDGE)
        started = time.monotonic()
        for _ in range(5):  # 0.8 s in all: past the first request's deadline
            writer.write(request.encode() + BODY)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1.0)
            assert head.startswith(b"HTTP/1.1 200")
            assert await reader.readexactly(2) == b"OK"
            await asyncio.sleep(0.2)  # the bridge's pace, under the idle limit
        assert time.monotonic() - started >= timing["request_timeout"]
        assert srv.stats.connections.expired == 0
        idle_from = time.monotonic()
        assert await closed_within(reader, 1.0)
        assert time.monotonic() - idle_from >= 0.3 - 0.2 - 0.05  # not before the idle limit
        assert srv.stats.connections.expired == 1
        writer.close()
        await sink.wait_for(5)
