"""`NukiHub`: state changes the moment the bridge reports them, then who did it.

The hub wires the parts: a bridge callback becomes a `LockStateChanged` at once (no network
I/O on that path), a pending attribution goes to the `LogWatcher`, and the answer comes as
`ActionAttributed` or `AttributionUnavailable`. Log entries no callback claimed become
`LogEntryObserved`. The hub owns its tasks, and the optional state file makes delivery after
a crash at least once with stable event ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

import attrs

from nukiasync import hub_events
from nukiasync.bridge.callbacks import BridgeCallback
from nukiasync.bridge.confirm import Confirmation, Confirmer, DeviceSnapshot, StateClaim
from nukiasync.bridge.receiver import CallbackReceiver
from nukiasync.bridge_watch import BridgeWatcher, BridgeWatchTiming
from nukiasync.bus import EventBus, EventCallback
from nukiasync.checkpoint import Checkpoint, Outbox, StateFile
from nukiasync.errors import NukiAuthenticationError, NukiError
from nukiasync.events import (
    AttributionFailure,
    EventSource,
    NukiEvent,
)
from nukiasync.hub_devices import CallbackDiff, DeviceTable, HubCounters, state_name
from nukiasync.hub_web import Outcomes, WebSide
from nukiasync.log_watcher import AttributionTiming

if TYPE_CHECKING:
    import os
    from types import TracebackType

    from nukiasync.bridge.client import NukiBridgeClient
    from nukiasync.bridge.confirm import Correction
    from nukiasync.bridge.models import BridgeDevice
    from nukiasync.bridge.server import CallbackServer
    from nukiasync.web.client import NukiWebClient

_LOGGER = logging.getLogger(__name__)

ConfirmPolicy = Literal["background", "before_emit", "off"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NukiHub:
    """Joins Bridge callbacks and Web API logs into one stream of events.

    Give it a `NukiWebClient`, a `NukiBridgeClient` (with a `CallbackServer`, or feed it
    webhooks through `handle_callback`), or both. With only a bridge, state events come
    and attribution answers "unavailable"; with only the Web API, events come from
    reading its log.
    """

    def __init__(
        self,
        *,
        web: NukiWebClient | None = None,
        bridge: NukiBridgeClient | Sequence[NukiBridgeClient] | None = None,
        callback_server: CallbackServer | None = None,
        confirm: ConfirmPolicy = "background",
        state_file: str | os.PathLike[str] | None = None,
        allowed_sources: Iterable[str] | None = None,
        trusted_proxies: Iterable[str] = (),
        timing: AttributionTiming | None = None,
        watch: BridgeWatchTiming | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        if web is None and bridge is None:
            msg = "NukiHub needs a web client, a bridge, or both"
            raise ValueError(msg)
        self._web = web
        bridges = (
            [] if bridge is None else [bridge] if not isinstance(bridge, Sequence) else list(bridge)
        )
        self._bridges = {_bridge_key(b, i, len(bridges)): b for i, b in enumerate(bridges)}
        if len(self._bridges) != len(bridges):
            msg = "every bridge needs a distinct bridge_id"
            raise ValueError(msg)
        self._server = callback_server
        self._policy: ConfirmPolicy = confirm
        self._clock = clock or _utcnow
        self._sleep = sleep or asyncio.sleep
        self._allowed_sources = None if allowed_sources is None else tuple(allowed_sources)
        self._trusted_proxies = tuple(trusted_proxies)
        self._timing = timing or AttributionTiming()
        self._watch_timing = watch or BridgeWatchTiming()
        self._watchers: dict[str, BridgeWatcher] = {}
        self._chains: dict[int, asyncio.Task[None]] = {}  # before_emit: last task per device
        self._confirming: set[asyncio.Task[None]] = set()
        self.bus = EventBus(clock=self._clock)
        self._outbox = Outbox(
            self.bus, StateFile(state_file) if state_file is not None else None, self._clock
        )
        self.counters = HubCounters()
        self.devices = DeviceTable()
        self.last_error: NukiError | None = None
        self._outcomes = Outcomes(self.bus, self._outbox, self.devices, self.counters, self._clock)
        self._web_side: WebSide | None = None
        self._receivers: dict[str, CallbackReceiver] = {}
        self._health = hub_events.HealthBoard(self.bus.publish, self._clock)
        self._confirmers: dict[str, Confirmer] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._registered: dict[str, str] = {}
        self._started_server = False
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
        return self.bus.subscribe(callback, smartlock_id=smartlock_id, types=types)

    def events(
        self,
        *,
        smartlock_id: int | None = None,
        types: Collection[type[NukiEvent]] | None = None,
        maxsize: int = 1000,
    ) -> AsyncIterator[NukiEvent]:
        """Iterate matching events; a slow consumer gets a `Gap` instead of blocking the hub."""
        return self.bus.events(smartlock_id=smartlock_id, types=types, maxsize=maxsize)

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
        return await self.bus.wait_for(predicate, timeout=timeout, smartlock_id=smartlock_id)

    # Lifecycle

    async def start(self) -> None:
        """Load the state file, read the devices, start the tasks, register callbacks.

        Raises:
            RuntimeError: started twice, or after close.
        """
        if self._state != "new":
            msg = "hub already started" if self._state == "running" else "hub closed"
            raise RuntimeError(msg)
        self._state = "running"
        await self._outbox.load()
        if self._web is not None:
            self._web_side = WebSide(
                self._web,
                self._outcomes,
                self._outbox,
                self.devices,
                self.counters,
                clock=self._clock,
                sleep=self._sleep,
                timing=self._timing,
                on_health=lambda ok, detail: self._web_health(available=ok, detail=detail),
            )
            error = await self._web_side.load_names()
            if error is not None:
                self._web_health(available=False, detail=type(error).__name__)
                self._note_error(error)
        for bridge_id, bridge in self._bridges.items():
            await self._start_bridge(bridge_id, bridge)
        if self._web_side is not None:
            self._tasks["log_watcher"] = asyncio.create_task(
                self._web_side.watcher.run(), name="nukiasync.hub.log_watcher"
            )
        if self._server is not None:
            await self._start_server()
        for bridge_id, watcher in self._watchers.items():
            self._tasks[f"bridge_watch[{bridge_id}]"] = asyncio.create_task(
                watcher.run(), name=f"nukiasync.hub.bridge_watch[{bridge_id}]"
            )

    async def close(self) -> None:
        """Stop the tasks, unregister callbacks, deliver what was accepted, save the state."""
        if self._state != "running":
            self._state = "closed"
            return
        self._state = "closed"
        for bridge_id, url in list(self._registered.items()):
            try:
                await self._bridges[bridge_id].remove_callback_url(url)
            except NukiError as err:
                _LOGGER.debug(
                    "bridge %s: could not remove callback: %s", bridge_id, type(err).__name__
                )
        self._registered.clear()
        if self._server is not None and self._started_server:
            await self._server.close()
        for receiver in self._receivers.values():
            await receiver.close()
        for confirmer in self._confirmers.values():
            await confirmer.close()  # waiting confirmations end as "unconfirmed"
        await asyncio.gather(*self._confirming, return_exceptions=True)
        tasks, self._tasks = self._tasks, {}
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        if self._web_side is not None:
            self._web_side.close(AttributionFailure.HUB_CLOSED)
        await self._outbox.settle(force_save=True)

    # Feeding callbacks

    async def handle_callback(
        self,
        body: bytes,
        remote: str,
        *,
        bridge_id: str | None = None,
        content_encoding: str | None = None,
        forwarded_for: str | None = None,
    ) -> int:
        """Take a callback received elsewhere (a Home Assistant webhook); return the status.

        The same checks apply as in `CallbackServer`: source (``forwarded_for`` is believed
        only from trusted proxies), size, encoding (pass the request's Content-Encoding; any
        but identity gets 415, so check it before reading the body), shape. Each refusal is
        counted.

        Raises:
            RuntimeError: the hub is not running, or has no such bridge.
        """
        if self._state != "running":
            msg = "hub not running"
            raise RuntimeError(msg)
        receiver = self._receiver_for(bridge_id)
        verdict = receiver.handle(
            body, remote, forwarded_for=forwarded_for, content_encoding=content_encoding
        )
        return int(verdict.status)

    def diagnostics(self) -> dict[str, Any]:
        """A redacted snapshot for Home Assistant's diagnostics: no tokens, no secrets."""
        watcher = self._web_side.watcher if self._web_side is not None else None
        return {
            "state": self._state,
            "confirm": self._policy,
            "bridges": list(self._bridges),
            "web_api": self._web is not None,
            "counters": self.counters.as_dict(),
            "bus": attrs.asdict(self.bus.stats),
            "devices": self.devices.summary(),
            "receivers": {k: _plain(r.stats) for k, r in self._receivers.items()},
            "confirmers": {k: attrs.asdict(c.stats) for k, c in self._confirmers.items()},
            "log_watcher": None
            if watcher is None
            else {
                "reads": watcher.reads,
                "read_failures": watcher.read_failures,
                "pending": watcher.pending_count,
                "learnt_lag": watcher.learnt_lag,
            },
            "tasks": {name: ("done" if t.done() else "running") for name, t in self._tasks.items()},
            "last_error": None if self.last_error is None else type(self.last_error).__name__,
        }

    # Start-up

    async def _start_bridge(self, bridge_id: str, bridge: NukiBridgeClient) -> None:
        allowed = self._allowed_sources if self._allowed_sources is not None else (bridge.host,)
        receiver = CallbackReceiver(
            lambda callback: self._on_callback(bridge_id, callback),
            allowed_sources=allowed,
            trusted_proxies=self._trusted_proxies,
            bridge_id=bridge_id,
        )
        self._receivers[bridge_id] = receiver
        watcher = BridgeWatcher(
            bridge_id,
            poll=lambda: self._poll_bridge(bridge_id),
            register=(lambda: self._register(bridge_id)) if self._server is not None else None,
            on_unreached=lambda reason: self._callback_health(bridge_id, ok=False, detail=reason),
            clock=self._clock,
            sleep=self._sleep,
            timing=self._watch_timing,
        )
        self._watchers[bridge_id] = watcher
        try:
            self.devices.seed(bridge_id, await bridge.devices())
            self._bridge_health(bridge_id, available=True, detail="")
        except NukiError as err:
            self._bridge_health(bridge_id, available=False, detail=type(err).__name__)
            self._note_error(err)
            watcher.bridge_away()
        confirmer = Confirmer(
            lambda: self._read_states(bridge_id),
            policy=self._policy,
            on_correction=self._on_correction,
            name=bridge_id,
        )
        self._confirmers[bridge_id] = confirmer
        await confirmer.start()
        if self._server is None:
            await receiver.start()

    async def _start_server(self) -> None:
        server = self._server
        assert server is not None  # noqa: S101  (checked by the caller)
        for receiver in self._receivers.values():
            await server.add_receiver(receiver)
        if not self._server_running(server):
            await server.start()
            self._started_server = True
        for bridge_id in self._bridges:
            try:
                await self._register(bridge_id)
            except NukiError as err:
                self._note_error(err)
                self._callback_health(bridge_id, ok=False, detail=str(err))

    async def _register(self, bridge_id: str) -> bool:
        """Make sure the bridge calls us; True when the registration had to be added."""
        assert self._server is not None  # noqa: S101  (only called with a server)
        url = self._server.callback_url(bridge_id)
        first = bridge_id not in self._registered
        added = await self._bridges[bridge_id].ensure_callback(url)
        self._registered[bridge_id] = url
        if first or added:
            # Registered (again); whether callbacks really arrive, only a callback tells.
            self._callback_health(
                bridge_id, ok=True, detail="registered" if first else "re-registered"
            )
        return added

    @staticmethod
    def _server_running(server: CallbackServer) -> bool:
        try:
            server.url  # noqa: B018  (raises until the server listens)
        except RuntimeError:
            return False
        return True

    # Bridge side

    async def _read_devices(self, bridge_id: str) -> list[BridgeDevice]:
        try:
            devices = await self._bridges[bridge_id].devices()
        except NukiError as err:
            self._bridge_health(bridge_id, available=False, detail=type(err).__name__)
            self._watchers[bridge_id].bridge_away()
            raise
        self._bridge_health(bridge_id, available=True, detail="")
        self.devices.seed(bridge_id, devices)
        return devices

    async def _read_states(self, bridge_id: str) -> Mapping[int, DeviceSnapshot]:
        devices = await self._read_devices(bridge_id)
        return {
            d.smartlock_id: DeviceSnapshot(
                state=d.last_known_state.state_code,
                door_sensor_state=d.last_known_state.doorsensor_state_code,
            )
            for d in devices
            if d.last_known_state is not None and d.last_known_state.state_code is not None
        }

    async def _poll_bridge(self, bridge_id: str) -> int:
        """Read /list and emit what changed, marked as polled; return how many changed."""
        changed = 0
        for device in await self._read_devices(bridge_id):
            state = device.last_known_state
            if state is None or state.state_code is None:
                continue
            body = {**state.raw, "nukiId": device.nuki_id, "deviceType": device.device_type_code}
            try:
                polled = BridgeCallback.from_api(body)
            except NukiError:
                continue
            diff = self.devices.diff(
                polled, bridge_id, self._clock(), source=EventSource.BRIDGE_POLL
            )
            if diff.claims_change:
                changed += 1
                self._emit(diff, bridge_id)
        return changed

    async def _on_callback(self, bridge_id: str, callback: BridgeCallback) -> None:
        """One callback, off the request path: state events at once, then attribution."""
        now = self._clock()
        self._watchers[bridge_id].callback_seen()
        if self._health.is_down(f"callback:{bridge_id}"):
            self._callback_health(bridge_id, ok=True, detail="callbacks arrive again")
        self.devices.remember_battery(callback)
        sid = callback.smartlock_id
        if self._policy == "before_emit" and (
            sid in self._chains or self.devices.diff(callback, bridge_id, now).claims_change
        ):
            # Confirm beside the callback queue, so a flood shares one coalesced read; a
            # chain per device keeps each device's order.
            previous = self._chains.get(sid)
            task = asyncio.create_task(
                self._confirm_then_emit(bridge_id, callback, previous),
                name=f"nukiasync.hub.confirm[{sid}]",
            )
            self._chains[sid] = task
            self._confirming.add(task)
            task.add_done_callback(lambda done: self._chain_done(sid, done))
            return
        diff = self.devices.diff(callback, bridge_id, now)
        if diff.duplicate:
            self.counters.deduplicated += 1
            return
        self._emit(diff, bridge_id)
        # Only a claimed change can be confirmed: a ring or battery report repeats the state,
        # and the device may have moved on by the time the bridge is read.
        if self._policy == "background" and diff.claims_change:
            self._confirmers[bridge_id].observe(StateClaim.from_callback(callback))

    async def _confirm_then_emit(
        self, bridge_id: str, callback: BridgeCallback, previous: asyncio.Task[None] | None
    ) -> None:
        verdict = await self._confirmers[bridge_id].confirm(StateClaim.from_callback(callback))
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        diff = self.devices.diff(callback, bridge_id, self._clock())
        if diff.duplicate:
            self.counters.deduplicated += 1
        elif verdict is Confirmation.CONTRADICTED and diff.claims_change:
            self.counters.rejected_contradicted += 1
            _LOGGER.warning("bridge %s: a callback the bridge contradicts was refused", bridge_id)
        elif verdict is Confirmation.UNCONFIRMED and diff.claims_change:
            self.counters.rejected_unconfirmed += 1
            self._bridge_health(bridge_id, available=False, detail="no answer to confirm")
        else:
            self._emit(diff, bridge_id)

    def _chain_done(self, smartlock_id: int, task: asyncio.Task[None]) -> None:
        self._confirming.discard(task)
        if self._chains.get(smartlock_id) is task:
            del self._chains[smartlock_id]

    def _emit(self, diff: CallbackDiff, bridge_id: str) -> None:
        """Publish a change's events and open its pending attributions."""
        self.devices.apply(diff, bridge_id)
        self.counters.emitted += 1
        for event in diff.events:
            self.bus.publish(event)
        for change, attributable in diff.changes:
            if self._web_side is not None:
                self._web_side.add(change, attributable=attributable)
            elif attributable:
                self._outcomes.unavailable(change, AttributionFailure.NO_WEB_API)

    def _on_correction(self, correction: Correction) -> None:
        snapshot = correction.snapshot
        device = self.devices.get(correction.smartlock_id)
        if snapshot is None or device.state == snapshot.state or device.moving(snapshot.state):
            return  # a moving state is no truth: the next callback or read settles it
        self.counters.corrections += 1
        _LOGGER.warning(
            "Device %s: the bridge reports state %s, not the %s a callback claimed",
            correction.smartlock_id,
            snapshot.state,
            device.state,
        )
        wrong = self.devices.correct(correction.smartlock_id, snapshot.state, self._clock())
        name = state_name(device.device_type, snapshot.state)
        self.bus.publish(
            hub_events.corrected(wrong, snapshot.state, name, device.identity(), self._clock())
        )

    # Health

    def _bridge_health(self, bridge_id: str, *, available: bool, detail: str) -> None:
        self._health.bridge(bridge_id, available=available, detail=detail)

    def _callback_health(self, bridge_id: str, *, ok: bool, detail: str) -> None:
        self._health.callback(bridge_id, available=ok, detail=detail)

    def _web_health(self, *, available: bool, detail: str) -> None:
        self._health.web(available=available, detail=detail)

    def _note_error(self, err: NukiError) -> None:
        self.last_error = err
        if isinstance(err, NukiAuthenticationError):
            _LOGGER.warning("Authentication failed (%s): reauthenticate", type(err).__name__)

    def _receiver_for(self, bridge_id: str | None) -> CallbackReceiver:
        if bridge_id is None and len(self._receivers) == 1:
            return next(iter(self._receivers.values()))
        if bridge_id is None or bridge_id not in self._receivers:
            msg = f"no bridge {bridge_id!r} in this hub"
            raise RuntimeError(msg)
        return self._receivers[bridge_id]


def _plain(stats: Any) -> dict[str, Any]:
    """Counters as JSON-ready data (enum keys and mapping proxies become plain dicts)."""
    return {
        key: {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else value
        for key, value in attrs.asdict(stats, recurse=False).items()
    }


def _bridge_key(bridge: NukiBridgeClient, index: int, count: int) -> str:
    if bridge.bridge_id:
        return bridge.bridge_id
    return "bridge" if count == 1 else f"bridge{index + 1}"
