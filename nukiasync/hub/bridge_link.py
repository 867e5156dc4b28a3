"""One bridge as the hub sees it: its client, its callbacks, and keeping them flowing.

A `BridgeLink` owns everything that exists once per bridge: the `NukiBridgeClient`, the
`CallbackReceiver` that checks what the bridge posts, the registration of our callback URL,
and the watch that heals what goes wrong silently. Callbacks stop without a word: another tool
removes our registration, a reboot forgets it, the bridge cannot reach the URL we registered
(Docker, a proxy), or a POST is lost. So the link re-registers on a slow interval and whenever
the bridge comes back, reads ``/list`` when callbacks have been quiet or the bridge was away
(emitting what changed, marked as polled), and reports when the bridge showed a change whose
callback never came.

The link is the same whether callbacks arrive through `CallbackServer` or through
``hub.handle_callback`` from a Home Assistant webhook: registration takes a callback-URL
provider, so either way the bridge is told where to post and the hub notices when it stops.
Its state is two enums, like aioesphomeapi's connection state: `Reachability` and
`CallbackState`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from aiohttp import web

from nukiasync._encoding import is_identity
from nukiasync.bridge._serving import read_capped
from nukiasync.bridge.callbacks import BridgeCallback
from nukiasync.bridge.claims import DeviceSnapshot
from nukiasync.bridge.receiver import CallbackReceiver
from nukiasync.errors import NukiAuthenticationError, NukiError
from nukiasync.events import EventSource

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from nukiasync.bridge.client import NukiBridgeClient
    from nukiasync.bridge.models import BridgeDevice
    from nukiasync.bridge.server import CallbackServer
    from nukiasync.clock import ClockPair
    from nukiasync.hub.devices import CallbackDiff, DeviceTable
    from nukiasync.hub.outcomes import HealthBoard

_LOGGER = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class BridgeWatchTiming:
    """Tunables of self-healing; the defaults cost a bridge one cheap /list a minute at most."""

    poll_interval: float = 30.0  # s between looks at the bridge
    quiet_after: float = 60.0  # s without callbacks before /list is read
    reregister_interval: float = 600.0  # s between checks that our callback is registered
    callback_grace: float = 15.0  # s a change seen in /list may wait for its callback


class Reachability(enum.StrEnum):
    """Whether the bridge answers."""

    UNKNOWN = "unknown"  # not asked yet
    REACHABLE = "reachable"
    AWAY = "away"  # the last request failed; the watch reads and re-registers once it answers


class CallbackState(enum.StrEnum):
    """Whether the bridge is told to call us, and whether its calls arrive."""

    UNREGISTERED = "unregistered"  # no callback URL (bridge polled only), or not yet
    REGISTERED = "registered"
    SILENT = "silent"  # registered, but /list showed changes no callback reported


class BridgeLink:
    """One bridge's client, receiver, registration and watch; the hub holds one per bridge."""

    def __init__(
        self,
        bridge_id: str,
        client: NukiBridgeClient,
        *,
        devices: DeviceTable,
        health: HealthBoard,
        on_callback: Callable[[str, BridgeCallback], None],
        on_polled: Callable[[CallbackDiff, str], None],
        callback_url: Callable[[str], str] | None,
        allowed_sources: Sequence[str] | None,
        trusted_proxies: Iterable[str],
        clock: ClockPair,
        timing: BridgeWatchTiming,
    ) -> None:
        self.bridge_id = bridge_id
        self.client = client
        self._devices = devices
        self._health = health
        self._on_callback = on_callback
        self._on_polled = on_polled
        self._callback_url = callback_url
        self._clock = clock.wall  # stamps polled events
        self._monotonic = clock.monotonic  # the watch's schedule
        self._sleep = clock.sleep
        self.timing = timing
        allowed = allowed_sources if allowed_sources is not None else (client.host,)
        # Inline: each callback reaches the hub in the request's own call, no queue hop.
        self.receiver = CallbackReceiver(
            self.take,
            allowed_sources=allowed,
            trusted_proxies=trusted_proxies,
            bridge_id=bridge_id,
            inline=True,
        )
        self.reachability = Reachability.UNKNOWN
        self.callbacks = CallbackState.UNREGISTERED
        self.registered_url: str | None = None
        self.last_callback = self._last_register = clock.monotonic()
        self._waiting_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.polls = 0
        self.registrations = 0

    def __repr__(self) -> str:
        return f"BridgeLink({self.bridge_id!r}, {self.reachability.value}, {self.callbacks.value})"

    # Lifecycle

    async def start(self) -> None:
        """Read the devices, register our callback, start the watch.

        Raises:
            NukiAuthenticationError: the bridge refuses the token (nothing heals that).
        """
        try:
            await self.read_devices()
        except NukiAuthenticationError:
            raise
        except NukiError as err:
            _LOGGER.debug("bridge %s: away at start (%s)", self.bridge_id, type(err).__name__)
        if self._callback_url is not None:
            try:
                await self.register()
            except NukiAuthenticationError:
                raise
            except NukiError as err:
                self._health.callback(self.bridge_id, available=False, detail=str(err))
        self._task = asyncio.create_task(
            self._watch(), name=f"nukiasync.hub.bridge_watch[{self.bridge_id}]"
        )

    async def close(self) -> None:
        """Stop the watch and remove our registration (the hub closes the receiver last)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.registered_url is not None:
            try:
                await self.client.remove_callback_url(self.registered_url)
            except NukiError as err:
                _LOGGER.debug(
                    "bridge %s: could not remove callback: %s", self.bridge_id, type(err).__name__
                )
            self.registered_url = None
            self.callbacks = CallbackState.UNREGISTERED

    @property
    def watching(self) -> bool:
        """Whether the watch task runs."""
        return self._task is not None and not self._task.done()

    def diagnostics(self) -> dict[str, Any]:
        """The link's state and counters, JSON-ready and free of secrets."""
        return {
            "reachability": self.reachability.value,
            "callbacks": self.callbacks.value,
            "polls": self.polls,
            "registrations": self.registrations,
            "watch": "running" if self.watching else "done",
            "receiver": _plain(self.receiver.stats),
        }

    # Callbacks

    def handle(
        self,
        body: bytes,
        remote: str,
        *,
        forwarded_for: str | None = None,
        content_encoding: str | Iterable[str] | None = None,
    ) -> int:
        """Check one posted callback and hand it on; return the HTTP status to answer."""
        verdict = self.receiver.handle(
            body, remote, forwarded_for=forwarded_for, content_encoding=content_encoding
        )
        return int(verdict.status)

    async def handle_request(self, request: web.BaseRequest) -> web.Response:
        """Answer an aiohttp request carrying a callback, reading no body it would refuse."""
        encodings = request.headers.getall("Content-Encoding", [])
        cap = self.receiver.max_body_size
        body = b"" if not is_identity(encodings) else await read_capped(request, cap)
        status = self.handle(
            b"\0" * (cap + 1) if body is None else body,  # over the cap: refused as too large
            request.remote or "",
            forwarded_for=request.headers.get("X-Forwarded-For"),
            content_encoding=encodings,
        )
        return web.Response(status=status)

    def take(self, callback: BridgeCallback) -> None:
        """The receiver's consumer: note that callbacks arrive, then hand this one on."""
        self.last_callback = self._monotonic()
        self._waiting_since = None
        if self.callbacks is CallbackState.SILENT:
            self.callbacks = CallbackState.REGISTERED
            self._health.callback(self.bridge_id, available=True, detail="callbacks arrive again")
        self._on_callback(self.bridge_id, callback)

    # Requests to the bridge

    async def read_devices(self) -> list[BridgeDevice]:
        """Read ``/list``, note whether the bridge answered, and seed the device table."""
        try:
            devices = await self.client.devices()
        except NukiError as err:
            self._away(type(err).__name__)
            raise
        if self.reachability is not Reachability.REACHABLE:
            self.reachability = Reachability.REACHABLE
        self._health.bridge(self.bridge_id, available=True, detail="")
        self._devices.seed(self.bridge_id, devices)
        return devices

    async def read_states(self) -> Mapping[int, DeviceSnapshot]:
        """What ``/list`` says of each device, for the confirmer."""
        devices = await self.read_devices()
        snapshots = {d.smartlock_id: DeviceSnapshot.of(d) for d in devices}
        return {sid: snapshot for sid, snapshot in snapshots.items() if snapshot is not None}

    async def poll(self) -> int:
        """Read ``/list`` and emit what changed, marked as polled; return how many changed."""
        changed = 0
        for device in await self.read_devices():
            state = device.last_known_state
            if state is None or state.state_code is None:
                continue
            body = {**state.raw, "nukiId": device.nuki_id, "deviceType": device.device_type_code}
            try:
                polled = BridgeCallback.from_api(body)
            except NukiError:
                continue
            diff = self._devices.diff(
                polled, self.bridge_id, self._clock(), source=EventSource.BRIDGE_POLL
            )
            if diff.claims_change:
                changed += 1
                self._on_polled(diff, self.bridge_id)
        return changed

    async def register(self) -> bool:
        """Make sure the bridge calls us; True when the registration had to be added."""
        if self._callback_url is None:
            return False
        url = self._callback_url(self.bridge_id)
        first = self.registered_url is None
        if first:
            await self._drop_moved(url)
        added = await self.client.ensure_callback(url)
        self.registered_url = url
        if first or added:
            # Registered (again); whether callbacks really arrive, only a callback tells.
            self.callbacks = CallbackState.REGISTERED
            self._health.callback(
                self.bridge_id, available=True, detail="registered" if first else "re-registered"
            )
        return added

    async def _drop_moved(self, url: str) -> None:
        """Remove our URL's path registered under another origin (a new host or port)."""
        path = urlsplit(url).path
        for entry in await self.client.callbacks():
            if entry.url != url and urlsplit(entry.url).path == path:
                await self.client.remove_callback(entry.id)

    def _away(self, detail: str) -> None:
        self.reachability = Reachability.AWAY
        self._health.bridge(self.bridge_id, available=False, detail=detail)

    # The watch

    async def _watch(self) -> None:
        while True:
            await self._sleep(self.timing.poll_interval)
            await self.check()

    async def check(self) -> None:
        """One round: poll when quiet or after an absence, re-register when due."""
        now = self._monotonic()
        quiet = now - self.last_callback >= self.timing.quiet_after
        came_back = self.reachability is Reachability.AWAY
        if quiet or came_back:
            try:
                changed = await self.poll()
            except NukiError as err:
                _LOGGER.debug(
                    "bridge %s: still unreachable (%s)", self.bridge_id, type(err).__name__
                )
                return
            self.polls += 1
            self._note_missed(changed, now)
        due = now - self._last_register >= self.timing.reregister_interval
        if self._callback_url is not None and (came_back or due):
            self._last_register = now
            try:
                if await self.register():
                    self.registrations += 1
                    _LOGGER.info("bridge %s: callback registered again", self.bridge_id)
            except NukiError as err:
                _LOGGER.warning(
                    "bridge %s: cannot check the callback registration: %s",
                    self.bridge_id,
                    type(err).__name__,
                )

    def _note_missed(self, changed: int, now: float) -> None:
        """The bridge showed changes no callback told us about: say so once they are late."""
        if changed and self._waiting_since is None:
            self._waiting_since = now
        if self._waiting_since is None or self._callback_url is None:
            return
        late = now - self._waiting_since >= self.timing.callback_grace
        if late and self.last_callback < self._waiting_since:
            self.callbacks = CallbackState.SILENT
            self._health.callback(
                self.bridge_id,
                available=False,
                detail="the bridge reported changes by /list but no callback came: "
                "it may not reach the registered URL",
            )
            self._waiting_since = None


def url_provider(
    callback_url: str | Callable[[str], str] | None, server: CallbackServer | None
) -> Callable[[str], str] | None:
    """Where each bridge is told to post: given, or the callback server's URL for it."""
    if isinstance(callback_url, str):
        url = callback_url
        return lambda _bridge_id: url
    if callback_url is not None:
        return callback_url
    if server is not None:
        return server.callback_url
    return None


def server_running(server: CallbackServer) -> bool:
    """Whether a callback server already listens (the hub then leaves it to its owner)."""
    try:
        server.url  # noqa: B018  (raises until the server listens)
    except RuntimeError:
        return False
    return True


def _plain(stats: Any) -> dict[str, Any]:
    """Counters as JSON-ready data (enum keys and mapping proxies become plain dicts)."""
    return {
        key: {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else value
        for key, value in attrs.asdict(stats, recurse=False).items()
    }


def bridge_key(bridge: NukiBridgeClient, index: int, count: int) -> str:
    """The hub's name for a bridge: its own id, else ``bridge`` (or ``bridge2``, ...)."""
    if bridge.bridge_id:
        return bridge.bridge_id
    return "bridge" if count == 1 else f"bridge{index + 1}"
