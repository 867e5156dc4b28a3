"""The fast lane: the plain requests a bridge sends, answered without aiohttp's per-request work.

A bridge posts the same small request again and again: ``POST <path> HTTP/1.1``, a few
headers, ``Content-Length`` and ~300 bytes of JSON. aiohttp spends a task, a request and a
response object on each, which costs more than all our checks together (bench B1,
decision 0016). The
lane reads only that shape, strictly, and answers with prebuilt bytes. The moment a
connection sends anything else (another method or version, chunked or compressed bodies,
``Expect``, a proxy's ``X-Forwarded-For``, an encoded or dotted path, an odd, long or missing
header) it hands the connection over, from that request on and for good, to aiohttp's
protocol, which answers it exactly as it did before the lane existed. So every oddity is
still judged by aiohttp's parser; the lane is never lenient, only narrow.

Both ways ask `RouteTable.check_head` before reading a body and `CallbackReceiver.accept`
after, and tell the connection's `GuardedProtocol` the same three moments (request
started, body read, answered), so the deadlines and connection caps hold on both.
"""

from __future__ import annotations

import asyncio
import re
import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Final

from nukiasync.bridge._serving import ANSWER_TEXT
from nukiasync.bridge.receiver import RejectReason

if TYPE_CHECKING:
    from collections.abc import Callable

    from nukiasync.bridge._serving import ConnectionTable, GuardedProtocol
    from nukiasync.bridge.receiver import CallbackReceiver
    from nukiasync.bridge.routes import RouteTable

MAX_LINE = 1024  # the lane's limits sit inside aiohttp's, so it never accepts what aiohttp refuses
MAX_FIELDS = 24
MAX_HEAD = MAX_LINE * (MAX_FIELDS + 1)
_PREFIX = b"POST /"
_REQUEST_LINE = re.compile(rb"POST (/[A-Za-z0-9._~/-]*) HTTP/1\.1")
_FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e]*)")
# Headers whose meaning the lane does not take on: their requests go to aiohttp.
_HANDED_OVER = frozenset(
    {b"transfer-encoding", b"content-encoding", b"expect", b"upgrade", b"x-forwarded-for"}
    | {b"te", b"trailer", b"forwarded"}
)
_NEED_MORE: Final = "need more"
_HAND_OVER: Final = "hand over"

Head = tuple[str, int, bool, int]  # path, body length, close after, head length


def parse_head(buffer: bytearray) -> Head | str:
    """The head of a plain callback request, `_NEED_MORE`, or `_HAND_OVER`."""
    if not buffer.startswith(_PREFIX):
        return _NEED_MORE if _PREFIX.startswith(buffer) else _HAND_OVER
    end = buffer.find(b"\r\n\r\n", 0, MAX_HEAD)
    if end < 0:
        return _NEED_MORE if len(buffer) < MAX_HEAD else _HAND_OVER
    lines = bytes(buffer[:end]).split(b"\r\n")
    request = _REQUEST_LINE.fullmatch(lines[0])
    if request is None or len(lines) > MAX_FIELDS + 1 or len(lines[0]) > MAX_LINE:
        return _HAND_OVER
    fields = _plain_fields(lines[1:])
    path = request[1].decode("ascii")
    if fields is None or "/." in path or "//" in path:  # dot segments: aiohttp normalises
        return _HAND_OVER
    return path, fields[0], fields[1], end + 4


def _plain_fields(lines: list[bytes]) -> tuple[int, bool] | None:
    """Content-Length and whether to close after, or None: not a plain request.

    Plain means each header once (aiohttp refuses a second Host, Content-Type, ...), a
    Host (HTTP/1.1 requires one; aiohttp refuses a request without), a decimal length.
    """
    length: int | None = None
    close = False
    seen: set[bytes] = set()
    for line in lines:
        field = _FIELD.fullmatch(line)
        if field is None or len(line) > MAX_LINE:
            return None
        name, value = field[1].lower(), field[2].strip(b" \t")
        if name in _HANDED_OVER or name in seen:
            return None
        seen.add(name)
        if name == b"content-length":
            if not value.isdigit() or len(value) > 9:
                return None
            length = int(value)
        elif name == b"connection":
            close = value.lower() == b"close"
            if not close and value.lower() != b"keep-alive":
                return None
    return None if length is None or b"host" not in seen else (length, close)


class _Answers:
    """Prebuilt answers, with a ``Date`` header renewed once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._cache: dict[tuple[int, bool], bytes] = {}

    def get(self, status: int, close: bool) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second, self._cache = second, {}
        answer = self._cache.get((status, close))
        if answer is None:
            answer = self._cache[status, close] = self._build(status, close, second)
        return answer

    @staticmethod
    def _build(status: int, close: bool, second: int) -> bytes:
        phrase = "OK" if status == 200 else ANSWER_TEXT.get(status, "Error")
        body = phrase.encode()
        connection = "Connection: close\r\n" if close else ""
        return (
            f"HTTP/1.1 {status} {phrase}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{connection}"
            f"Date: {formatdate(second, usegmt=True)}\r\n\r\n"
        ).encode() + body


ANSWERS = _Answers()


class FastLane(asyncio.Protocol):
    """One connection's requests: served here while they are plain, by aiohttp after."""

    def __init__(
        self,
        routes: RouteTable,
        table: ConnectionTable,
        aiohttp_protocol: Callable[[], asyncio.Protocol],
    ) -> None:
        self._routes = routes
        self._table = table
        self._make_slow = aiohttp_protocol
        self.guard: GuardedProtocol | None = None  # set by whoever wraps this lane
        self._slow: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._remote: str | None = None
        self._buffer = bytearray()
        self._pending: tuple[CallbackReceiver, int, bool] | None = None  # waits for its body
        self._done = False  # answered with "close": nothing more is read
        self._paused = False  # the peer does not read its answers: neither do we
        # Pipelined requests are served one per turn of the loop, as aiohttp's task does,
        # so a consumer's task keeps pace; reading waits meanwhile.
        self._next_turn: asyncio.Handle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - a TCP server's
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._remote = peer[0] if isinstance(peer, tuple) and peer else None  # as aiohttp

    def data_received(self, data: bytes) -> None:
        if self._slow is not None:
            self._slow.data_received(data)
        elif not self._done and self._transport is not None:  # None: refused at the cap
            self._buffer += data
            self._serve()

    def eof_received(self) -> bool | None:
        return None if self._slow is None else self._slow.eof_received()

    def pause_writing(self) -> None:
        if self._slow is not None:
            self._slow.pause_writing()
        elif self._transport is not None:
            self._paused = True
            self._transport.pause_reading()  # a second pause is a no-op

    def resume_writing(self) -> None:
        if self._slow is not None:
            self._slow.resume_writing()
        elif self._transport is not None and self._paused:
            self._paused = False
            if self._next_turn is None:
                self._transport.resume_reading()
                self._serve()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._next_turn is not None:
            self._next_turn.cancel()
        if self._slow is not None:
            self._slow.connection_lost(exc)
        elif self._pending is not None:  # cut off inside a body: as aiohttp's way counts it
            receiver, self._pending = self._pending[0], None
            receiver.reject(RejectReason.MALFORMED, self._remote)

    def _serve(self) -> None:
        """Answer every complete request in the buffer, in order."""
        buffer, guard, transport = self._buffer, self.guard, self._transport
        assert guard is not None  # noqa: S101 - set when the lane was made
        assert transport is not None  # noqa: S101 - set before any data
        while not self._done and not self._paused and self._next_turn is None:
            if self._pending is None:
                if not buffer:
                    return
                head = parse_head(buffer)
                if head == _NEED_MORE:
                    return
                if not isinstance(head, tuple):
                    self._hand_over()
                    return
                path, length, close, size = head
                guard.request_started()
                receiver, status = self._routes.check_head(
                    path,
                    self._remote,
                    method="POST",
                    content_length=length,
                    forwarded_for=None,
                    content_encoding=None,
                )
                if receiver is None or status:  # the body stays unread: close after
                    self._done = True
                    transport.write(ANSWERS.get(status, True))
                    guard.request_done()
                    transport.close()
                    return
                del buffer[:size]
                self._pending = (receiver, length, close)
            receiver, length, close = self._pending
            if len(buffer) < length:
                return
            body = bytes(buffer[:length])
            del buffer[:length]
            self._pending = None
            guard.body_read()
            verdict = receiver.accept(body, self._remote)
            transport.write(ANSWERS.get(verdict.status, close))
            receiver.deliver(verdict)  # after the answer, as `answer_then_deliver` does
            guard.request_done()
            if close:
                self._done = True
                transport.close()
            elif buffer:  # more pipelined: the next one in the loop's next turn
                transport.pause_reading()
                self._next_turn = asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self._next_turn = None
        if not self._done and not self._paused and self._transport is not None:
            self._transport.resume_reading()
            self._serve()

    def _hand_over(self) -> None:
        """From this request on, aiohttp's protocol serves the connection."""
        assert self._transport is not None  # noqa: S101 - only called with data
        slow = self._slow = self._make_slow()
        slow.connection_made(self._transport)
        self._table.track(getattr(slow, "_task_handler", None))
        data, self._buffer = bytes(self._buffer), bytearray()
        slow.data_received(data)
