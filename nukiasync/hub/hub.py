"""`NukiHub`: state changes the moment the bridge reports them, then who did it.

A bridge callback becomes a `LockStateChanged` at once (no network I/O on that path); the
sources answer who, as `ActionAttributed` or `AttributionUnavailable`, and report log entries
no callback claimed. The hub owns its tasks; the optional state file makes delivery after a
crash at least once with stable event ids.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

import attrs
from aiohttp import web

from nukiasync.clock import ClockPair
from nukiasync.errors import NukiAuthenticationError, NukiError
from nukiasync.hub import outcomes
from nukiasync.hub.bridge_link import (
    BridgeLink,
    BridgeWatchTiming,
    bridge_key,
    server_running,
    url_provider,
)
from nukiasync.hub.bus import EventBus, EventCallback
from nukiasync.hub.confirm import ClaimChecks
from nukiasync.hub.delivery import Checkpoint, Outbox, StateFile
from nukiasync.hub.devices import CallbackDiff, DeviceTable, HubCounters
from nukiasync.hub.sources.base import ActionSource, Outcomes, SourceHost, SourceSet
from nukiasync.hub.sources.log_watcher import AttributionTiming
from nukiasync.hub.sources.plugins import extra_sources
from nukiasync.hub.sources.web_log import WEB_LOG, WebLogSource
from nukiasync.hub.sources.webhook_source import WEBHOOK, WebhookSource

if TYPE_CHECKING:
    import os
    from datetime import datetime
    from types import TracebackType

    from nukiasync.bridge.client import NukiBridgeClient
    from nukiasync.bridge.server import CallbackServer
    from nukiasync.events import NukiEvent
    from nukiasync.hub.sources.mqtt_source import MqttSource
    from nukiasync.mqtt.broker import MqttSettings
    from nukiasync.web.client import NukiWebClient

_LOGGER = logging.getLogger(__name__)

ConfirmPolicy = Literal["background", "before_emit", "off"]


class NukiHub:
    """Joins Bridge callbacks and Web API logs into one stream of events.

    Give it a `NukiWebClient`, a `NukiBridgeClient` (with a `CallbackServer`, or feed it
    webhooks through `handle_callback` and say where they arrive with ``callback_url``), or
    both. With only a bridge, state events come and attribution answers "unavailable"; with
    only the Web API, events come from reading its log. ``mqtt`` (a broker, or an
    `MqttSource` with your own names) adds locks' own state and "who"; ``webhook_secret``
    takes pushed log entries through `handle_webhook`; ``sources`` adds any other
    `ActionSource`. It never closes the clients; ``clock`` and ``sleep`` drive every part.
    """

    def __init__(
        self,
        *,
        web: NukiWebClient | None = None,
        bridge: NukiBridgeClient | Sequence[NukiBridgeClient] | None = None,
        callback_server: CallbackServer | None = None,
        callback_url: str | Callable[[str], str] | None = None,
        confirm: ConfirmPolicy = "background",
        state_file: str | os.PathLike[str] | None = None,
        allowed_sources: Iterable[str] | None = None,
        trusted_proxies: Iterable[str] = (),
        timing: AttributionTiming | None = None,
        watch: BridgeWatchTiming | None = None,
        clock: ClockPair | Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        mqtt: MqttSettings | MqttSource | None = None,
        webhook_secret: str | None = None,
        sources: Sequence[ActionSource] = (),
    ) -> None:
        if web is None and bridge is None and mqtt is None and not sources:
            msg = "NukiHub needs a web client, a bridge, MQTT, or a source"
            raise ValueError(msg)
        self._web = web
        bridges = (
            [] if bridge is None else [bridge] if not isinstance(bridge, Sequence) else list(bridge)
        )
        self._bridges = {bridge_key(b, i, len(bridges)): b for i, b in enumerate(bridges)}
        if len(self._bridges) != len(bridges):
            msg = "every bridge needs a distinct bridge_id"
            raise ValueError(msg)
        self._server = callback_server
        self._callback_url = url_provider(callback_url, callback_server)
        self._policy: ConfirmPolicy = confirm
        self._clocks = ClockPair.of(clock, sleep)  # the one pair every part gets
        self._clock = self._clocks.wall
        self._sleep = self._clocks.sleep
        self._allowed_sources = None if allowed_sources is None else tuple(allowed_sources)
        self._trusted_proxies = tuple(trusted_proxies)
        self._watch_timing = watch or BridgeWatchTiming()
        self._bus = EventBus(clock=self._clock)
        self._outbox = Outbox(
            self._bus, StateFile(state_file) if state_file is not None else None, self._clock
        )
        self._counters = HubCounters()
        self._devices = DeviceTable()
        self.last_error: NukiError | None = None
        self._outcomes = Outcomes(
            self._bus, self._outbox, self._devices, self._counters, self._clock
        )
        self._timing = timing or AttributionTiming()
        self._web_log = None if web is None else WebLogSource(web, self._timing)
        self._sources = SourceSet(
            [
                *([] if self._web_log is None else [self._web_log]),
                *extra_sources(web, self._web_log, mqtt=mqtt, webhook_secret=webhook_secret),
                *sources,
            ],
            self._outcomes,
        )
        self._health = outcomes.HealthBoard(self._bus.publish, self._clock)
        self._checks = ClaimChecks(
            confirm,
            self._devices,
            self._counters,
            publish=self._bus.publish,
            attribute=self._sources.attribute,
            retract=self._sources.retract,
            on_unconfirmed=lambda b: self._health.bridge(b, available=False, detail="unconfirmed"),
            clock=self._clocks,
        )
        self._links = {
            bridge_id: BridgeLink(
                bridge_id,
                client,
                devices=self._devices,
                health=self._health,
                on_callback=self._checks.take,  # a bound method: no frame of its own
                on_polled=self._emit,
                callback_url=self._callback_url,
                allowed_sources=self._allowed_sources,
                trusted_proxies=self._trusted_proxies,
                clock=self._clocks,
                timing=self._watch_timing,
            )
            for bridge_id, client in self._bridges.items()
        }
        self._stack = contextlib.AsyncExitStack()
        self._state = "new"

    def __repr__(self) -> str:
        web = self._web is not None
        return f"NukiHub(state={self._state!r}, bridges={list(self._bridges)}, web={web})"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def checkpoint(self) -> Checkpoint:
        """Where the log was read up to and what was emitted (saved with ``state_file``)."""
        return self._outbox.checkpoint

    @property
    def state(self) -> str:
        """Lifecycle: ``new``, ``running`` or ``closed``."""
        return self._state

    # Consuming events

    def subscribe(
        self,
        callback: EventCallback,
        *,
        smartlock_id: int | None = None,
        types: Collection[type[NukiEvent]] | None = None,
    ) -> Callable[[], None]:
        """Call a plain function for each matching event; returns the unsubscribe function."""
        return self._bus.subscribe(callback, smartlock_id=smartlock_id, types=types)

    def events(
        self,
        *,
        smartlock_id: int | None = None,
        types: Collection[type[NukiEvent]] | None = None,
        maxsize: int = 1000,
    ) -> AsyncIterator[NukiEvent]:
        """Iterate matching events; a slow consumer gets a `Gap` instead of blocking the hub."""
        return self._bus.events(smartlock_id=smartlock_id, types=types, maxsize=maxsize)

    async def wait_for(
        self,
        predicate: Callable[[NukiEvent], bool],
        *,
        timeout: float,  # noqa: ASYNC109  (the documented API)
        smartlock_id: int | None = None,
    ) -> NukiEvent:
        """Wait for the next event matching ``predicate``.

        Raises:
            TimeoutError: nothing matched in time.
        """
        return await self._bus.wait_for(predicate, timeout=timeout, smartlock_id=smartlock_id)

    # Lifecycle

    async def start(self) -> None:
        """Load the state file, read the devices, start the tasks, register callbacks.

        A failure unwinds whatever had started: no task is left and the hub is closed.

        Raises:
            RuntimeError: started twice, or after close.
            NukiAuthenticationError: a bridge refuses its token.
            NukiCallbackServerError: the callback server cannot listen.
        """
        if self._state != "new":
            msg = "hub already started" if self._state == "running" else "hub closed"
            raise RuntimeError(msg)
        self._state = "starting"
        try:
            async with contextlib.AsyncExitStack() as stack:
                await self._start_parts(stack)
                self._stack = stack.pop_all()
        except BaseException:
            self._state = "closed"
            raise
        self._state = "running"

    async def _start_parts(self, stack: contextlib.AsyncExitStack) -> None:
        """Start each part and push how to stop it, so `close` stops them in reverse."""
        await self._outbox.load()
        stack.push_async_callback(self._outbox.settle, force_save=True)
        host = SourceHost(
            devices=self._devices,
            counters=self._counters,
            outbox=self._outbox,
            outcomes=self._outcomes,
            health=self._health,
            clock=self._clock,
            sleep=self._sleep,
            emit=self._emit,
            note_error=self._note_error,
            confirm=self._policy,
            undecided=self._checks.undecided,
        )
        await self._sources.prepare(host, stack)
        stack.push_async_callback(self._checks.close)  # held confirmations end unconfirmed
        for link in self._links.values():
            stack.push_async_callback(link.receiver.close)
        if self._server is not None:
            for link in self._links.values():
                await self._server.add_receiver(link.receiver)
            if not server_running(self._server):
                await self._server.start()
                stack.push_async_callback(self._server.close)
        for bridge_id, link in self._links.items():
            try:
                await link.start()
            except NukiError as err:
                self._note_error(err)
                raise
            stack.push_async_callback(link.close)
            await self._checks.add_bridge(bridge_id, link.read_states)
        await self._sources.start(host, stack)

    async def close(self) -> None:
        """Unregister callbacks, stop the tasks, deliver what was accepted, save the state."""
        if self._state != "running":
            self._state = "closed"
            return
        self._state = "closed"
        await self._stack.aclose()

    # Feeding callbacks

    async def handle_callback(
        self,
        body: bytes,
        remote: str,
        *,
        bridge_id: str | None = None,
        content_encoding: str | Sequence[str] | None = None,
        forwarded_for: str | None = None,
    ) -> int:
        """Take a callback received elsewhere (a Home Assistant webhook); return the status.

        The same checks apply as in `CallbackServer`: source (``forwarded_for`` is believed
        only from trusted proxies), size, encoding (pass every Content-Encoding header of
        the request, e.g. ``request.headers.getall("Content-Encoding", [])``, or their
        values joined by commas; any coding but identity in any of them gets 415), shape.
        Each refusal is counted.

        An accepted callback reaches the subscribers before this returns, through four
        calls (`CallbackReceiver.deliver`, `BridgeLink.take`, `ClaimChecks.take`,
        `EventBus.publish`) and no queue: a test pins the depth.

        Raises:
            RuntimeError: the hub is not running, or has no such bridge.
        """
        receiver = self._link_for(bridge_id).receiver
        verdict = receiver.admit(
            body, remote, forwarded_for=forwarded_for, content_encoding=content_encoding
        )
        receiver.deliver(verdict)
        return verdict.status

    async def handle_request(
        self, request: web.BaseRequest, *, bridge_id: str | None = None
    ) -> web.Response:
        """Answer an aiohttp request that carries a callback (a Home Assistant webhook).

        Reads no body it would refuse (a compressed one gets 415 unread, one over the size
        limit 413 after that many bytes), then checks it as `handle_callback` does; 503
        while the hub is not running (starting or stopping).

        Raises:
            RuntimeError: the hub has no such bridge.
        """
        if self._state != "running":
            return web.Response(status=503)
        return await self._link_for(bridge_id).handle_request(request)

    async def handle_webhook(self, request: web.BaseRequest) -> web.Response:
        """Answer a decentral webhook (Home Assistant's, or any aiohttp route; see README).

        503 while the hub is not running. Raises RuntimeError without a ``webhook_secret``.
        """
        source = self._sources.find(WEBHOOK)
        if not isinstance(source, WebhookSource):
            raise RuntimeError("hub has no webhook_secret")  # noqa: EM101, TRY004
        if self._state != "running":
            return web.Response(status=503)
        return await source.handle_request(request)

    def diagnostics(self) -> dict[str, Any]:
        """A redacted snapshot for Home Assistant's diagnostics: no tokens, no secrets."""
        links = {k: link.diagnostics() for k, link in self._links.items()}
        sources, tasks = self._sources.diagnostics()
        return {
            "state": self._state,
            "confirm": self._policy,
            "bridges": list(self._bridges),
            "web_api": self._web is not None,
            "counters": self._counters.as_dict(),
            "bus": attrs.asdict(self._bus.stats),
            "devices": self._devices.summary(),
            "links": links,
            "receivers": {k: link.pop("receiver") for k, link in links.items()},
            "confirmers": self._checks.stats(),
            "log_watcher": sources.pop(WEB_LOG, None),
            "sources": sources,
            "tasks": {
                **tasks,
                **{f"bridge_watch[{k}]": link.pop("watch") for k, link in links.items()},
            },
            "last_error": None if self.last_error is None else type(self.last_error).__name__,
        }

    # Events

    def _emit(self, diff: CallbackDiff, bridge_id: str | None) -> None:
        """Publish a change's events (a poll's, a source's) and open its attributions."""
        self._devices.apply(diff, bridge_id)
        self._counters.emitted += 1
        for event in diff.events:
            self._bus.publish(event)
        self._sources.attribute(diff.changes)

    # Errors

    def _note_error(self, err: NukiError) -> None:
        self.last_error = err
        if isinstance(err, NukiAuthenticationError):
            _LOGGER.warning("Authentication failed (%s): reauthenticate", type(err).__name__)

    def _link_for(self, bridge_id: str | None) -> BridgeLink:
        if self._state != "running":
            msg = "hub not running"
            raise RuntimeError(msg)
        if bridge_id is None and len(self._links) == 1:
            return next(iter(self._links.values()))
        if bridge_id is None or bridge_id not in self._links:
            msg = f"no bridge {bridge_id!r} in this hub"
            raise RuntimeError(msg)
        return self._links[bridge_id]
