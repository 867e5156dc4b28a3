"""`CallbackServer`: the aiohttp endpoint a Nuki Bridge POSTs its state changes to.

Each bridge gets its own path, ``/nukiasync/<bridge_id>/<path_secret>``, with a secret
of 192 bits from `secrets` compared in constant time. The secret is defence in depth,
not authentication: it travels in clear over the LAN and anyone with the bridge token
can read it from ``/callback/list``. So the source address is checked too, and the
hub confirms callbacks against the bridge (decision 0001).

The server answers before anyone acts on a callback: a parsed body gets its 200 at
once and reaches the consumer afterwards (in the same call for an inline receiver, the
hub's; else through the `CallbackReceiver`'s queue). Bad input gets a clear 4xx, never a
500; the body is read raw with a cap and never inflated; the access log is off, because
its request line would show the secret. The plain requests a bridge sends take a fast
lane (`nukiasync.bridge._fastlane`); any other request is served by aiohttp's protocol,
with the same checks (`nukiasync.bridge.routes`) and deadlines (decision 0016).

It runs standalone (``async with CallbackServer(consumer, host=..., ...)``) or inside
an application you own (:meth:`CallbackServer.add_routes`), and Home Assistant can
feed a webhook body to :meth:`CallbackServer.handle`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Self

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from nukiasync.bridge._fastlane import FastLane
from nukiasync.bridge._serving import (
    ConnectionTable,
    GuardedProtocol,
    ProtocolLog,
    ServerStats,
    answer,
    answer_then_deliver,
    read_capped,
)
from nukiasync.bridge.callback_urls import CALLBACK_PATH_ROOT
from nukiasync.bridge.receiver import CallbackReceiver, Consumer, RejectReason
from nukiasync.bridge.routes import MIN_SECRET_LENGTH, SECRET_BYTES, RouteTable
from nukiasync.errors import NukiCallbackServerError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_LOGGER = logging.getLogger(__name__)

__all__ = ["MIN_SECRET_LENGTH", "SECRET_BYTES", "CallbackServer"]

REQUEST_TIMEOUT = 10.0  # s for headers + body; the bridge sends ~300 B in one go
IDLE_TIMEOUT = 5.0  # s a keep-alive connection may idle; the bridge reconnects anyway
MAX_CONNECTIONS = 64  # open connections from hosts outside the allow-list
BRIDGE_CONNECTIONS = 16  # a separate pool for allowed sources, so floods cannot starve it
SHUTDOWN_TIMEOUT = 10.0  # s close() waits for requests in flight to get their answer
_MAX_LINE = 2048  # request line and header limits: a callback needs far less
_MAX_HEADERS = 32
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - to refuse them as URLs


class CallbackServer:
    """Receive bridge callbacks over HTTP, one path per bridge."""

    def __init__(
        self,
        target: CallbackReceiver | Consumer | None = None,
        *,
        host: str | None = None,
        port: int = 0,
        advertise_url: str | None = None,
        bridge_id: str = "bridge",
        allowed_sources: Iterable[str] | None = None,
        trusted_proxies: Iterable[str] = (),
        path_secret: str | None = None,
        max_connections: int = MAX_CONNECTIONS,
        bridge_connections: int = BRIDGE_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    ) -> None:
        """Create the server; nothing listens until :meth:`start`.

        Args:
            target: a `CallbackReceiver`, or a consumer for which the server builds
                (and owns) one from ``bridge_id``, ``allowed_sources`` and
                ``trusted_proxies``; None when receivers come later through
                :meth:`add_receiver` (the hub adds one per bridge).
            host: the address to listen on; None mounts into an app you own
                (:meth:`add_routes`) and needs ``advertise_url``.
            port: the port; 0 picks a free one (read it back from :attr:`url`).
            advertise_url: the base URL the bridge must use, when it differs from the
                bind address (Docker, a reverse proxy).
            bridge_id: the path segment and log name of the bridge.
            allowed_sources: the bridge's address(es); required with a consumer.
            trusted_proxies: peers whose ``X-Forwarded-For`` is believed.
            path_secret: keep the URL stable across restarts (>= 22 URL-safe chars).
            max_connections: cap for peers outside the allow-list; more are closed.
            bridge_connections: cap for allowed peers.
            request_timeout: seconds a connection has to deliver a complete request.
            idle_timeout: seconds a connection may idle after an answer.
            shutdown_timeout: seconds close() waits for requests in flight.

        Raises:
            ValueError: inconsistent arguments or a weak path secret.
        """
        receiver: CallbackReceiver | None
        if target is None or isinstance(target, CallbackReceiver):
            if allowed_sources is not None or tuple(trusted_proxies):
                msg = "allowed_sources/trusted_proxies belong to the receivers"
                raise ValueError(msg)
            receiver, owned = target, False
        else:
            if allowed_sources is None:
                msg = "allowed_sources is required: the bridge's address(es)"
                raise ValueError(msg)
            receiver = CallbackReceiver(
                target,
                allowed_sources=allowed_sources,
                trusted_proxies=trusted_proxies,
                bridge_id=bridge_id,
            )
            owned = True
        if min(request_timeout, idle_timeout) <= 0 or min(max_connections, bridge_connections) < 1:
            msg = "timeouts must be > 0 and connection caps >= 1"
            raise ValueError(msg)
        self._host = host
        self._port = port
        self._advertise_url = None if advertise_url is None else advertise_url.rstrip("/")
        self._shutdown_timeout = shutdown_timeout
        self._routes = RouteTable()
        self._connections = ConnectionTable(
            max_connections=max_connections,
            bridge_connections=bridge_connections,
            request_timeout=request_timeout,
            idle_timeout=idle_timeout,
            is_bridge=self._routes.is_bridge_peer,
        )
        self._web_server: web.Server | None = None
        self._server: asyncio.Server | None = None
        self._started = False
        self._closed = False
        if receiver is not None:
            self._routes.add(receiver, path_secret=path_secret, owned=owned)

    def __repr__(self) -> str:
        bridges = list(self._routes)
        return f"CallbackServer(host={self._host!r}, port={self._port}, bridges={bridges})"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def bridge_ids(self) -> tuple[str, ...]:
        """The bridges this server has a path for."""
        return tuple(self._routes)

    @property
    def stats(self) -> ServerStats:
        """Server-level counters."""
        stats = self._connections.stats
        return ServerStats(connections=stats, unknown_path=self._routes.unknown_path)

    @property
    def port(self) -> int:
        """The port listened on (the real one after start, when 0 was asked)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL the bridge reaches this server at.

        Raises:
            RuntimeError: listening on a wildcard address without ``advertise_url``.
        """
        if self._advertise_url is not None:
            return self._advertise_url
        if self._host is None or self._host in _WILDCARDS:
            msg = "cannot tell the bridge a wildcard address; pass advertise_url="
            raise RuntimeError(msg)
        if not self._started:
            msg = "server not started: the port is not known yet"
            raise RuntimeError(msg)
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def callback_url(self, bridge_id: str | None = None) -> str:
        """The URL to register with a bridge; it contains the secret, never log it.

        Raises:
            KeyError: no such bridge.
            RuntimeError: see :attr:`url`.
        """
        path = self._routes.path(bridge_id)  # KeyError first
        return f"{self.url}{path}"

    def receiver(self, bridge_id: str | None = None) -> CallbackReceiver:
        """The receiver of a bridge (the only one when ``bridge_id`` is None).

        Raises:
            KeyError: no such bridge.
        """
        return self._routes.get(bridge_id).receiver

    async def add_receiver(
        self, receiver: CallbackReceiver, *, path_secret: str | None = None
    ) -> None:
        """Serve another bridge; its receiver stays yours to close.

        Raises:
            ValueError: the bridge id is taken or invalid, or the secret is weak.
        """
        self._routes.add(receiver, path_secret=path_secret, owned=False)
        if self._started and not receiver.running:
            await receiver.start()

    async def start(self) -> None:
        """Start the receivers and, with a host, listen.

        Raises:
            NukiCallbackServerError: the address cannot be bound.
            RuntimeError: started twice or after close.
        """
        if self._started or self._closed:
            msg = "server closed" if self._closed else "server already started"
            raise RuntimeError(msg)
        self._started = True
        for route in self._routes.routes():
            if not route.receiver.running:
                await route.receiver.start()
        if self._host is not None:
            await self._listen(self._host)

    async def close(self) -> None:
        """Stop listening, answer requests in flight, deliver what got a 200, stop."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
            self._connections.close_idle()
        if self._web_server is not None:
            await self._web_server.shutdown(self._shutdown_timeout)
        await self._connections.close(self._shutdown_timeout)
        if self._server is not None:
            await self._server.wait_closed()
        for route in self._routes.routes():
            if route.owned:
                await route.receiver.close()

    def add_routes(self, app: web.Application) -> None:
        """Add the callback route to an application you own (before it starts).

        The app stays yours: it is not closed, and nothing but the route is added.
        Its access log, body limits and decompression are yours too, so disable the
        access log (it would show the path secret) or use :meth:`handle` instead.
        """
        app.router.add_route("*", CALLBACK_PATH_ROOT + "{bridge_id}/{secret}", self.handle_request)

    async def handle(
        self,
        body: bytes,
        remote: str | None,
        *,
        bridge_id: str | None = None,
        content_encoding: str | Sequence[str] | None = None,
    ) -> int:
        """Feed a body received elsewhere (a Home Assistant webhook); return the status.

        The webhook's own id stands in for the path secret here. Pass every
        Content-Encoding header: any coding but identity in any of them gets 415.
        """
        try:
            receiver = self._routes.get(bridge_id).receiver
        except KeyError:
            self._routes.unknown_path += 1
            return 404
        return receiver.handle(body, remote, content_encoding=content_encoding).status

    async def handle_request(self, request: web.BaseRequest) -> web.StreamResponse:
        """The aiohttp handler: route, check, read, answer, then deliver."""
        guard = self._connections.guard_for(request.transport)
        if guard is not None:
            guard.request_started()
        try:
            return await self._respond(request, guard)
        finally:
            if guard is not None:
                guard.request_done()

    async def _respond(
        self, request: web.BaseRequest, guard: GuardedProtocol | None
    ) -> web.StreamResponse:
        remote = request.remote
        headers = request.headers  # a bridge sends neither header: skip the lists then
        forwarded = (
            ",".join(headers.getall("X-Forwarded-For")) or None
            if "X-Forwarded-For" in headers
            else None
        )
        encoding = headers.getall("Content-Encoding") if "Content-Encoding" in headers else None
        receiver, status = self._routes.check_head(
            request.path,
            remote,
            method=request.method,
            content_length=request.content_length,
            forwarded_for=forwarded,
            content_encoding=encoding,  # each header counts
        )
        if receiver is None or status:
            return answer(status, close=True)
        try:
            body = await read_capped(request, receiver.max_body_size)
        except (OSError, RequestPayloadError) as err:  # client gone, or bad chunking
            _LOGGER.debug("Callback body from %s incomplete: %s", remote, type(err).__name__)
            reason = RejectReason.MALFORMED  # nobody may be left to read the answer
            return answer(receiver.reject(reason, remote).status, close=True)
        if guard is not None:
            guard.body_read()
        if body is None:
            return answer(receiver.reject(RejectReason.SIZE, remote).status, close=True)
        verdict = receiver.accept(body, remote)  # the head's checks passed, body within the cap
        if not verdict.accepted:
            return answer(verdict.status)
        return await answer_then_deliver(request, receiver.deliver, verdict)

    async def _listen(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        self._web_server = web_server = web.Server(
            self.handle_request,
            access_log=None,  # its request line would show the path secret
            logger=ProtocolLog(logging.getLogger("aiohttp.server")),  # parse errors: quiet
            keepalive_timeout=self._connections.idle_timeout * 2,  # ours fires first
            auto_decompress=False,  # we refuse compressed bodies; never inflate one
            lingering_time=min(self._connections.request_timeout, 2.0),
            max_line_size=_MAX_LINE,
            max_field_size=_MAX_LINE,
            max_headers=_MAX_HEADERS,
        )
        routes, table = self._routes, self._connections

        def connection() -> GuardedProtocol:
            lane = FastLane(routes, table, web_server)  # aiohttp's takes what the lane does not
            lane.guard = GuardedProtocol(lane, table)
            return lane.guard

        try:
            self._server = await loop.create_server(connection, host, self._port)
        except OSError as err:
            reason = err.strerror or err
            msg = f"Cannot listen for callbacks on {host}:{self._port}: {reason}"
            raise NukiCallbackServerError(err.errno, msg) from err
        self._port = self._server.sockets[0].getsockname()[1]
        _LOGGER.info("Listening for bridge callbacks on %s port %d", host, self._port)
