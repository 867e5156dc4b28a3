"""Connection cap, per-connection deadlines (slowloris) and HTTP helpers for the server.

aiohttp has no deadline for reading a request's headers or body, and no connection cap,
so an idle or trickling client holds a connection forever.
`GuardedProtocol` wraps aiohttp's per-connection protocol and closes a connection that
has not delivered a complete request within ``request_timeout`` of its first byte (or
of being opened), or that stays idle past ``idle_timeout`` after an answer. It uses the
public `asyncio.Protocol` interface only, so it works with every aiohttp version.

Connections from allowed peers (the bridge, trusted proxies) have a pool of their own,
so a flood from other LAN hosts cannot lock the bridge out. A full bridge pool makes room by
closing its oldest connection that is not in a request (it has sent no complete request
head yet, or idles after an answer): a flood from the bridge's own address that only
opens connections cannot lock the bridge out either, because the bridge sends its request
head at once and is then never closed for a newcomer. The limit that remains: a flood
opening more than a pool's worth of connections within the time the bridge needs to send
its request head (under a millisecond on a LAN), or one that knows the path secret (it
travels in clear) and holds requests open, until ``request_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import sys
from typing import TYPE_CHECKING, Any, cast

import attrs
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

if TYPE_CHECKING:
    from collections.abc import Callable

    from nukiasync.bridge.receiver import Verdict

_LOGGER = logging.getLogger(__name__)


class _Phase(enum.Enum):
    READING = enum.auto()  # waiting for a complete request: the deadline runs
    HANDLING = enum.auto()  # body read, our handler is answering: no deadline
    IDLE = enum.auto()  # answered, keep-alive: the idle deadline runs


@attrs.frozen(kw_only=True)
class ConnectionStats:
    """Connection counters of a callback server."""

    open: int
    refused: int
    expired: int
    evicted: int = 0  # closed to make room for a newer connection


@attrs.frozen(kw_only=True)
class ServerStats:
    """Server-level counters; per-bridge ones are in each receiver's ``stats``."""

    connections: ConnectionStats
    unknown_path: int


class ConnectionTable:
    """The open guarded connections, their limits, and the tasks serving them."""

    def __init__(
        self,
        *,
        max_connections: int,
        bridge_connections: int,
        request_timeout: float,
        idle_timeout: float,
        is_bridge: Callable[[str | None], bool],
    ) -> None:
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self._limits = {False: max_connections, True: bridge_connections}
        self._is_bridge = is_bridge
        self._guards: dict[asyncio.Transport, GuardedProtocol] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._quiet: asyncio.Future[None] | None = None  # close() waits for requests in flight
        self.refused = 0
        self.expired = 0
        self.evicted = 0

    @property
    def stats(self) -> ConnectionStats:
        """A snapshot of the counters."""
        return ConnectionStats(
            open=len(self._guards),
            refused=self.refused,
            expired=self.expired,
            evicted=self.evicted,
        )

    def admit(self, guard: GuardedProtocol, transport: asyncio.Transport) -> bool:
        """Register a new connection, or refuse it when its pool is full.

        A full bridge pool closes its oldest connection not in a request instead.
        """
        peer = transport.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else None
        guard.bridge = self._is_bridge(host)
        pool = [(t, g) for t, g in self._guards.items() if g.bridge == guard.bridge]
        if len(pool) >= self._limits[guard.bridge]:
            idle = [(t, g) for t, g in pool if guard.bridge and not g.in_request]  # oldest first
            victim = next(((t, g) for t, g in idle if not g.sent_bytes), None) or next(
                iter(idle), None
            )
            if victim is None:  # a stranger, or every one is in a request
                self.refused += 1
                _LOGGER.debug("Refusing connection from %s: %d in requests", host, len(pool))
                return False
            self.evicted += 1
            del self._guards[victim[0]]  # before the abort lands: the next admit counts it
            victim[1].abort()
        self._guards[transport] = guard
        return True

    def track(self, task: object) -> None:
        """Keep the aiohttp task serving a connection, to await it on close."""
        if isinstance(task, asyncio.Task):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def forget(self, transport: asyncio.Transport) -> None:
        """Drop a closed connection."""
        self._guards.pop(transport, None)
        self.request_ended()

    def request_ended(self) -> None:
        """A request was answered or its connection lost: wake close() once none is left."""
        quiet = self._quiet
        if quiet is None or quiet.done():
            return
        if not any(guard.in_request for guard in self._guards.values()):
            quiet.set_result(None)

    def guard_for(self, transport: asyncio.Transport | None) -> GuardedProtocol | None:
        """The guard of the connection a request came on (None for borrowed apps)."""
        return None if transport is None else self._guards.get(transport)

    def close_idle(self) -> None:
        """Close every connection that is not in the middle of an answer."""
        for guard in list(self._guards.values()):
            if not guard.in_request:
                guard.abort()

    async def close(self, grace: float) -> None:
        """Let requests in flight finish (up to ``grace`` s), close every connection, wait.

        aiohttp's requests were waited for by its server's shutdown; this waits for the fast
        lane's, which have no task: a head read, its body still coming.
        """
        if any(guard.in_request for guard in self._guards.values()):
            self._quiet = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._quiet
        for guard in list(self._guards.values()):
            guard.abort()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for task in list(self._tasks):  # only after the timeout: a stuck handler
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class GuardedProtocol(asyncio.Protocol):
    """Wraps aiohttp's protocol for one connection and enforces the deadlines."""

    def __init__(self, inner: asyncio.Protocol, table: ConnectionTable) -> None:
        self._inner = inner
        self._table = table
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None  # loop time the current phase ends
        self._phase = _Phase.READING
        self._admitted = False
        self._lost = False
        self.bridge = False
        self.in_request = False
        self.sent_bytes = False  # since it opened, or since its last answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tcp = cast("asyncio.Transport", transport)  # a TCP server's transports
        self._transport = tcp
        if not self._table.admit(self, tcp):
            tcp.abort()
            return
        self._admitted = True
        self._inner.connection_made(tcp)
        self._table.track(getattr(self._inner, "_task_handler", None))
        self._arm(self._table.request_timeout)

    def data_received(self, data: bytes) -> None:
        self.sent_bytes = True
        if self._phase is _Phase.IDLE:
            self._phase = _Phase.READING
            self._arm(self._table.request_timeout)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._cancel_timer()
        if self._transport is not None:
            self._table.forget(self._transport)
        if self._admitted:
            self._inner.connection_lost(exc)

    def request_started(self) -> None:
        """Our handler got a request; its body must arrive before the deadline."""
        self.in_request = True
        if self._phase is _Phase.IDLE:  # pipelined: no new bytes announced it
            self._phase = _Phase.READING
            self._arm(self._table.request_timeout)

    def body_read(self) -> None:
        """The whole request is in; answering is up to us, not the client."""
        self._phase = _Phase.HANDLING
        self._deadline = None  # the timer stays; when it fires it finds nothing due

    def request_done(self) -> None:
        """The answer is out; the connection may idle until ``idle_timeout``."""
        self.in_request = self.sent_bytes = False
        self._phase = _Phase.IDLE
        self._arm(self._table.idle_timeout)
        self._table.request_ended()

    def abort(self) -> None:
        """Close the connection at once."""
        self._cancel_timer()
        if self._transport is not None:
            self._transport.abort()

    def _arm(self, delay: float) -> None:
        """Move the deadline; a timer is only made when none fires early enough.

        Two phases a request, each with its deadline: moving a number instead of
        replacing a timer keeps the loop's heap out of every request.
        """
        if self._lost:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        if self._timer is None or self._timer.when() > deadline:
            self._cancel_timer()
            self._timer = loop.call_at(deadline, self._expire)
        self._deadline = deadline

    def _cancel_timer(self) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._deadline is None:  # the phase had none (handling), or it was cancelled
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._deadline:  # the deadline moved on since this timer was made
            self._timer = loop.call_at(self._deadline, self._expire)
            return
        self._table.expired += 1
        peer = None if self._transport is None else self._transport.get_extra_info("peername")
        _LOGGER.debug("Closing connection from %s: deadline passed (%s)", peer, self._phase.name)
        self.abort()


async def read_capped(request: web.BaseRequest, cap: int) -> bytes | None:
    """Read the raw body, or None once it passes ``cap`` (however it is framed)."""
    content = request.content
    if content.is_eof():  # all of it is in (a bridge sends ~300 B in one go): no awaits
        data = content.read_nowait(cap + 1)
        return None if len(data) > cap else data
    body = bytearray()
    while chunk := await content.read(cap + 1 - len(body)):
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


async def answer_then_deliver(
    request: web.BaseRequest, deliver: Callable[[Verdict], None], verdict: Verdict
) -> web.StreamResponse:
    """Send the 200 first, then queue: confirmation never races the bridge's request."""
    response = web.Response(text="OK")
    try:
        await response.prepare(request)
        await response.write_eof()
    except OSError:  # the bridge hung up; it may still have seen the 200
        _LOGGER.debug("Callback answer to %s not sent: connection lost", request.remote)
    finally:
        deliver(verdict)
    return response


class ProtocolLog:
    """The logger aiohttp's protocol gets: malformed requests become one quiet DEBUG line.

    aiohttp logs every request it cannot parse at ERROR with a traceback, and the parser's
    message quotes the request line, path secret included (measured: an over-long or
    garbled request line to the callback path). Anyone on the LAN can
    send such bytes, so they must neither fill the log at ERROR nor reach it in clear.
    They get a DEBUG line naming the error type; anything else passes through unchanged,
    so a bug in a handler still shows at ERROR.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)  # whatever else an aiohttp version calls

    def debug(self, msg: str, *args: object, **kwargs: Any) -> None:
        if not self._quieted(kwargs.get("exc_info"), args):
            self._logger.debug(msg, *args, **kwargs)

    def exception(self, msg: str, *args: object, **kwargs: Any) -> None:
        if not self._quieted(kwargs.get("exc_info", True), args):
            self._logger.exception(msg, *args, **kwargs)  # noqa: LOG004 - aiohttp calls it in one

    def _quieted(self, exc_info: object, args: tuple[object, ...]) -> bool:
        if exc_info is True:
            exc_info = sys.exc_info()[1]
        elif isinstance(exc_info, tuple):
            exc_info = exc_info[1]
        if not isinstance(exc_info, HttpProcessingError):
            return False
        peer = args[0] if args else None
        self._logger.debug("Malformed request from %s: %s", peer, type(exc_info).__name__)
        return True


def answer(status: int, *, close: bool = False) -> web.Response:
    response = web.Response(status=status, text=ANSWER_TEXT.get(status, "Error"))
    if status == 405:
        response.headers["Allow"] = "POST"
    if close:  # the body was not read: do not parse its rest as the next request
        response.force_close()
    return response


ANSWER_TEXT = {  # also the fast lane's: both ways answer alike
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
}
