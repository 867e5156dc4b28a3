"""A simulated world and a `NukiHub` in this process, on loopback, for B2, B3, B4, B6 and B7.

The hub is wired as a user wires it: a `NukiWebClient`, a `NukiBridgeClient` and a
`CallbackServer` the simulated bridge posts to, the default `AttributionTiming` unless a
benchmark says otherwise. The hub keeps the simulation's clock (as the demo does), so a world
that runs faster than real time (``speed``) stays consistent with the hub's timing; the Web
client keeps wall time, as the simulated server's ``Date`` header does.

`Recorder` keeps every event with the simulated time and the `time.perf_counter` at which a
subscriber saw it, and lets a benchmark wait for a condition without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from aiohttp import web as aiohttp_web

from nukiasync import CallbackServer, NukiBridgeClient, NukiWebClient
from nukiasync.events import NukiEvent
from nukiasync.hub import ConfirmPolicy, NukiHub
from nukiasync.hub.sources.mqtt_source import MqttSource
from nukiasync.mqtt import MqttSettings
from nukiasync.simulator import Knobs, World

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.hub.sources.log_watcher import AttributionTiming

WEB_TOKEN = "bench-web-token-not-a-secret-0123456789abcdef"  # noqa: S105 - simulator only
BRIDGE_TOKEN = "benchtok42"  # noqa: S105 - simulator only


def quick_knobs(**overrides: Any) -> Knobs:
    """Real log lag (overridable), quick physics, no follow-ups that would blur the truth."""
    values: dict[str, Any] = {
        "log_lag": (2.0, 4.0),
        "motor_time": 0.3,
        "unlatch_hold": 0.5,
        "lock_n_go_delay": 1.0,
        "web_action_delay": 0.0,
        "callback_timeout": 1.0,
    }
    values.update(overrides)
    return Knobs(**values)


def build_world(*, locks: int, people: int, seed: int, knobs: Knobs, speed: float = 1.0) -> World:
    """``locks`` Smart Locks on one bridge; ``people`` account users with the app on each."""
    world = World(
        seed=seed,
        speed=speed,
        knobs=knobs,
        owner="Person 1",
        web_token=WEB_TOKEN,
        bridge_token=BRIDGE_TOKEN,
    )
    names = [f"Door {i + 1}" for i in range(locks)]
    for name in names:
        world.add_lock(name)
    for i in range(people):
        world.add_person(f"Person {i + 1}", email=f"p{i + 1}@example.invalid", app=names)
    return world


@attrs.define
class Seen:
    """One event as a subscriber saw it."""

    event: NukiEvent
    sim: datetime  # the world's clock
    perf: float  # time.perf_counter()


class Recorder:
    """Collects every event of a hub; `wait` blocks until a condition holds (no polling)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.seen: list[Seen] = []
        self._changed = asyncio.Event()

    def __call__(self, event: NukiEvent) -> None:
        self.seen.append(Seen(event, self._clock(), time.perf_counter()))
        self._changed.set()

    def of(self, cls: type[Any] | tuple[type[Any], ...]) -> list[Seen]:
        """The events of these types, in order."""
        return [s for s in self.seen if isinstance(s.event, cls)]

    async def wait(self, condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        """Return once ``condition()`` holds after some event; TimeoutError after ``timeout``."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@attrs.define
class Rig:
    """A running world and hub; `restart` replaces the hub by a new one on the same state."""

    world: World
    hub: NukiHub
    web: NukiWebClient
    recorder: Recorder
    speed: float
    bridge: NukiBridgeClient | None = None
    settings: dict[str, Any] = attrs.field(factory=dict)
    subscribers: list[Callable[[NukiEvent], Any]] = attrs.field(factory=list)
    hooks: list[NukiHub] = attrs.field(factory=list)  # the webhook route's hub is the last
    mqtt: MqttSettings | None = None  # the broker the hub's MQTT source reads
    restarts: int = 0

    def scaled_sleep(self, seconds: float) -> Any:
        """Sleep ``seconds`` of simulated time."""
        return asyncio.sleep(max(0.0, seconds) / self.speed)

    def subscribe(self, subscriber: Callable[[NukiEvent], Any]) -> None:
        """Subscribe to this hub and to every hub after a restart."""
        self.subscribers.append(subscriber)
        self.hub.subscribe(subscriber)

    async def restart(self, downtime: float) -> None:
        """Close the hub, stay down ``downtime`` simulated seconds, start a new one.

        The new hub has the same clients and state file and a new `CallbackServer` (a new
        port, registered again); the recorder and every `subscribe`d peer follow it.
        """
        await self.hub.close()
        await self.scaled_sleep(downtime)
        if self.mqtt is not None:  # a new hub, a new source (the old one is closed)
            self.settings["mqtt"] = MqttSource(self.mqtt, web=self.web)
        self.hub = _hub(self.world, self.web, self.bridge, self.speed, **self.settings)
        self.hooks.append(self.hub)
        self.hub.subscribe(self.recorder)
        for subscriber in self.subscribers:
            self.hub.subscribe(subscriber)
        self.restarts += 1
        await self.hub.start()

    async def subscribed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once the hub's MQTT source (if any) has subscribed to the broker."""
        source = self.settings.get("mqtt")
        if isinstance(source, MqttSource):
            async with asyncio.timeout(timeout):
                await source.wait_subscribed()


def _hub(
    world: World,
    web: NukiWebClient,
    bridge: NukiBridgeClient | None,
    speed: float,
    *,
    timing: AttributionTiming | None,
    server: bool,
    confirm: ConfirmPolicy,
    state_file: str | None,
    webhook_secret: str | None = None,
    mqtt: MqttSource | None = None,
    mqtt_only: bool = False,
) -> NukiHub:
    if mqtt_only:  # no bridge, no log: MQTT alone (its source reads names from ``web``)
        web, bridge, server = None, None, False  # type: ignore[assignment]
    return NukiHub(
        web=web,
        bridge=bridge,
        callback_server=CallbackServer(host="127.0.0.1", port=0) if server else None,
        timing=timing,
        confirm=confirm,
        state_file=state_file,
        clock=world.clock.now,
        sleep=lambda seconds: asyncio.sleep(max(0.0, seconds) / speed),
        webhook_secret=webhook_secret,
        mqtt=mqtt,
    )


@contextlib.asynccontextmanager
async def webhook_route() -> AsyncIterator[tuple[str, list[NukiHub]]]:
    """An aiohttp route on 127.0.0.1 for decentral webhooks, handed to the hub put in the list."""
    hubs: list[NukiHub] = []

    async def handle(request: aiohttp_web.Request) -> aiohttp_web.StreamResponse:
        if hubs[-1].state != "running":  # a restart's downtime: as if the host were away
            return aiohttp_web.Response(status=503)
        return await hubs[-1].handle_webhook(request)

    app = aiohttp_web.Application()
    app.router.add_post("/nuki/webhook", handle)
    runner = aiohttp_web.AppRunner(app)
    await runner.setup()
    site = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/nuki/webhook", hubs
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def running_hub(
    world: World,
    *,
    timing: AttributionTiming | None = None,
    speed: float = 1.0,
    server: bool = True,
    confirm: ConfirmPolicy = "background",
    state_file: str | None = None,
    webhooks: bool = False,
    mqtt: MqttSettings | None = None,
    mqtt_only: bool = False,
) -> AsyncIterator[Rig]:
    """Start ``world`` and a hub on it (callbacks through a `CallbackServer` unless told).

    ``webhooks``: the hub also takes decentral webhooks, registered with the simulated Web API.
    ``mqtt``: the hub also reads the locks' broker (names from the Web API); the rig returns
    once it has subscribed. ``mqtt_only``: the hub reads nothing else (the Web API client
    serves the MQTT source's names only).
    """
    async with world, webhook_route() as (url, hubs):
        port = urlsplit(world.bridge_url).port or 0
        web = NukiWebClient(WEB_TOKEN, base_url=world.web_url)
        bridge = NukiBridgeClient("127.0.0.1", BRIDGE_TOKEN, port=port)
        recorder = Recorder(world.clock.now)
        settings: dict[str, Any] = {
            "timing": timing,
            "server": server,
            "confirm": confirm,
            "state_file": state_file,
            # Names from the Web API's authorizations (the usual way with a token).
            "mqtt": None if mqtt is None else MqttSource(mqtt, web=web),
            "mqtt_only": mqtt_only,
        }
        if webhooks:
            hook = await web.register_decentral_webhook(
                webhook_url=url, webhook_features=["DEVICE_LOGS"]
            )
            settings["webhook_secret"] = hook.secret
        hub = _hub(world, web, bridge, speed, **settings)
        hubs.append(hub)
        hub.subscribe(recorder)
        rig = Rig(
            world=world,
            hub=hub,
            web=web,
            recorder=recorder,
            speed=speed,
            bridge=bridge,
            settings=settings,
            hooks=hubs,
            mqtt=mqtt,
        )
        try:
            if mqtt is not None:  # the locks' state is on the broker before the hub reads it
                await world.wait_until(lambda: world.mqtt.connected, deadline=10.0)
            await hub.start()
            await rig.subscribed()
            yield rig
        finally:
            await rig.hub.close()
            await web.close()
            await bridge.close()
