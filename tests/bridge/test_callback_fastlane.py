"""The fast lane of `CallbackServer`, over real sockets: what it serves, and what it hands over.

A plain ``POST <path> HTTP/1.1`` with ``Content-Length`` is answered by the lane (aiohttp's
server counts no request); anything else goes to aiohttp's protocol for the rest of the
connection. Both must answer alike: the hand-over is tested mid-connection, with pipelined,
split and refused requests, back-pressure, and a shutdown with a lane request in flight.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from nukiasync.bridge._fastlane import _HAND_OVER, _NEED_MORE, MAX_HEAD, parse_head
from nukiasync.bridge.server import CallbackServer
from tests.support.callbacks import BODY, BRIDGE, FAST, Sink, open_raw, secret_of

pytestmark = pytest.mark.sockets


def plain(path: str, body: bytes = BODY, *, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def chunked(path: str, body: bytes = BODY) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head.encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def state(value: int) -> bytes:
    return json.dumps({"deviceType": 4, "nukiId": 77, "state": value}).encode()


async def answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One answer: its status and head (the body is read and dropped)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    await reader.readexactly(length)
    return int(head.split()[1]), head


def path_of(server: CallbackServer) -> str:
    return urlsplit(server.callback_url()).path


def heads_read(server: CallbackServer, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once the server has read a request's head (and waits for its body)."""
    read = asyncio.Event()
    check_head = server._routes.check_head

    def spy(*args: Any, **kwargs: Any) -> Any:
        read.set()
        return check_head(*args, **kwargs)

    monkeypatch.setattr(server._routes, "check_head", spy)
    return read


def aiohttp_requests(server: CallbackServer) -> int:
    web_server = server._web_server
    assert web_server is not None
    return web_server.requests_count


HEAD = b"POST /a HTTP/1.1\r\nHost: h\r\n"  # plain so far
LENGTH = b"Content-Length: 2\r\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", _NEED_MORE),
        (b"PO", _NEED_MORE),
        (HEAD + LENGTH, _NEED_MORE),
        (b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", _HAND_OVER),
        (b"POST /a HTTP/1.0\r\nHost: h\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (b"POST /a%2F HTTP/1.1\r\nHost: h\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (b"POST /a?x=1 HTTP/1.1\r\nHost: h\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (b"POST /a/../b HTTP/1.1\r\nHost: h\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (b"POST //a HTTP/1.1\r\nHost: h\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (b"POST /a HTTP/1.1\r\n" + LENGTH + b"\r\n", _HAND_OVER),  # no Host
        (HEAD + b"\r\n", _HAND_OVER),  # no length
        (HEAD + b"Host: i\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (HEAD + LENGTH + LENGTH + b"\r\n", _HAND_OVER),
        (HEAD + b"X: a\r\nx: b\r\n" + LENGTH + b"\r\n", _HAND_OVER),
        (HEAD + b"Content-Length: +2\r\n\r\n", _HAND_OVER),
        (HEAD + b"Content-Length: 1234567890\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"Transfer-Encoding: chunked\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"Content-Encoding: gzip\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"Expect: 100-continue\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"X-Forwarded-For: 1.2.3.4\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"Connection: upgrade\r\n\r\n", _HAND_OVER),
        (HEAD + b"Content-Length : 2\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b" folded\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"X: a\nb\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"X: a\x01b\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"X: \x7f\r\n\r\n", _HAND_OVER),
        (HEAD + LENGTH + b"X: \xc3\xa4\r\n\r\n", _HAND_OVER),
        (HEAD + b"X: " + b"v" * 2000 + b"\r\n\r\n", _HAND_OVER),
        (HEAD + b"".join(b"X%d: v\r\n" % i for i in range(30)) + b"\r\n", _HAND_OVER),
        (b"POST /" + b"a" * MAX_HEAD, _HAND_OVER),  # no end of head in sight
    ],
)
def test_parse_head_waits_or_hands_over(raw: bytes, expected: object) -> None:
    assert parse_head(bytearray(raw)) == expected


def test_parse_head_reads_a_plain_head() -> None:
    head = b"POST /a/b HTTP/1.1\r\ncontent-length:  7 \r\nHOST:\r\n\r\n"
    got = parse_head(bytearray(head + b"{body}!" + b"POST /next"))
    assert got == ("/a/b", 7, False, len(head))
    head = b"POST /a HTTP/1.1\r\nHost: h\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n"
    assert parse_head(bytearray(head)) == ("/a", 0, True, len(head))


async def test_plain_requests_are_the_lanes_pipelined_or_split(
    server: CallbackServer, sink: Sink
) -> None:
    path = path_of(server)
    reader, writer = await open_raw(server.port, BRIDGE)
    writer.write(plain(path, state(1)) + plain(path, state(2)))  # pipelined
    first, second = await answer(reader), await answer(reader)
    assert first[0] == second[0] == 200
    assert b"Connection" not in first[1]  # kept alive
    request = plain(path, state(3))
    for part in (request[:7], request[7:60], request[60:-5], request[-5:]):  # trickled
        writer.write(part)
        await writer.drain()
    assert (await answer(reader))[0] == 200
    await sink.wait_for(3)
    assert [cb.state_code for cb in sink.items] == [1, 2, 3]
    assert aiohttp_requests(server) == 0  # none of them reached aiohttp's protocol
    writer.close()


async def test_an_odd_request_hands_the_connection_to_aiohttp_for_good(
    server: CallbackServer, sink: Sink
) -> None:
    path = path_of(server)
    reader, writer = await open_raw(server.port, BRIDGE)
    writer.write(plain(path, state(1)))
    assert (await answer(reader))[0] == 200
    writer.write(chunked(path, state(2)) + plain(path, state(3)))
    assert (await answer(reader))[0] == 200
    assert (await answer(reader))[0] == 200
    assert aiohttp_requests(server) == 2  # the chunked one, and every one after it
    writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    status, head = await answer(reader)
    assert status == 405
    assert b"Allow: POST" in head
    await sink.wait_for(3)
    assert [cb.state_code for cb in sink.items] == [1, 2, 3]
    writer.close()


async def test_refusals_in_the_lane(server: CallbackServer, sink: Sink) -> None:
    path = path_of(server)
    reader, writer = await open_raw(server.port, BRIDGE)
    writer.write(plain(path, b"{nope") + plain(path, state(4)))  # read, refused, kept alive
    assert (await answer(reader))[0] == 400
    assert (await answer(reader))[0] == 200
    writer.write(plain(path[:-1] + "x", state(5)) + plain(path, state(6)))  # wrong secret
    status, head = await answer(reader)
    assert status == 404
    assert b"Connection: close" in head
    assert await reader.read() == b""  # closed: the next request is never read
    writer.close()
    for raw, expected in [
        (plain("/elsewhere") + plain(path), 404),
        (plain(path, b" " * 5000), 413),  # over the cap: refused unread
        (plain(path, state(7), extra="Connection: close\r\n"), 200),
    ]:
        reader, writer = await open_raw(server.port, BRIDGE)
        writer.write(raw)
        status, head = await answer(reader)
        assert status == expected
        assert b"Connection: close" in head
        assert await reader.read() == b""
        writer.close()
    await sink.wait_for(2)
    stats = server.receiver().stats
    assert dict(stats.rejected) | {"secret": 1, "malformed": 1, "size": 1} == dict(stats.rejected)
    assert stats.received == stats.accepted + stats.rejected_total
    assert server.stats.unknown_path == 1
    assert aiohttp_requests(server) == 0


@pytest.mark.parametrize("handed_over", [False, True])
async def test_a_peer_that_reads_no_answers_is_not_served_ahead(
    server: CallbackServer, sink: Sink, handed_over: bool
) -> None:
    """Back-pressure: pipelined requests wait while the peer's answers pile up unread."""
    path = path_of(server)
    count = 3000
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((BRIDGE, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    first = chunked(path, state(0)) if handed_over else b""
    writer.write(first + b"".join(plain(path, state(i % 8)) for i in range(count)))
    drained = asyncio.create_task(writer.drain())
    statuses = [(await answer(reader))[0] for _ in range(count + bool(handed_over))]
    await drained
    assert set(statuses) == {200}
    await sink.wait_for(count + handed_over, limit=10.0)
    writer.write_eof()  # a half-close: either way answers it by closing
    assert await asyncio.wait_for(reader.read(), 2.0) == b""
    writer.close()


async def test_close_answers_a_lane_request_in_flight(
    sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = CallbackServer(sink, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST)
    await srv.start()
    request = plain(urlsplit(srv.callback_url()).path, state(2))
    secret_of(srv.callback_url())
    head_read = heads_read(srv, monkeypatch)
    reader, writer = await open_raw(srv.port, BRIDGE)
    writer.write(request[:-4])
    await asyncio.wait_for(head_read.wait(), 2.0)
    closing = asyncio.create_task(srv.close())
    done, _ = await asyncio.wait([closing], timeout=0.1)
    assert not done  # it waits for the body
    writer.write(request[-4:])
    assert (await answer(reader))[0] == 200
    await asyncio.wait_for(closing, 2.0)
    await sink.wait_for(1)
    writer.close()


@pytest.mark.parametrize("handed_over", [False, True])
async def test_paused_writing_holds_the_next_answers_until_resumed(
    server: CallbackServer, sink: Sink, handed_over: bool
) -> None:
    """What the transport does when the peer's window is full, called as it would call it."""
    path = path_of(server)
    reader, writer = await open_raw(server.port, BRIDGE)
    writer.write(chunked(path, state(0)) if handed_over else plain(path, state(0)))
    assert (await answer(reader))[0] == 200
    (guard,) = server._connections._guards.values()
    guard.pause_writing()
    writer.write(plain(path, state(1)) + plain(path, state(2)))
    if not handed_over:  # the lane reads no request while its answers cannot go out
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(1), 0.1)
    guard.resume_writing()
    assert [(await answer(reader))[0] for _ in range(2)] == [200, 200]
    await sink.wait_for(3)
    assert [cb.state_code for cb in sink.items] == [0, 1, 2]
    writer.close()


@pytest.mark.parametrize(("size", "expected"), [(len(BODY), 200), (5000, 413)])
async def test_a_handed_over_body_that_comes_in_pieces_is_read_up_to_the_cap(
    server: CallbackServer, monkeypatch: pytest.MonkeyPatch, size: int, expected: int
) -> None:
    """aiohttp's way reads what is not there yet in a loop, stopping past the cap."""
    head_read = heads_read(server, monkeypatch)
    body = BODY if size == len(BODY) else b" " * size
    raw = chunked(path_of(server), body)
    cut = raw.index(b"\r\n\r\n") + 4 + 10  # the head and a few bytes of the first chunk
    reader, writer = await open_raw(server.port, BRIDGE)
    writer.write(raw[:cut])
    await asyncio.wait_for(head_read.wait(), 2.0)  # the handler now waits for the body
    writer.write(raw[cut:])
    assert (await answer(reader))[0] == expected
    assert aiohttp_requests(server) == 1
    writer.close()
