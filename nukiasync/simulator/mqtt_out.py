"""Simulated locks as MQTT clients: what a Smart Lock 3.0 Pro or 4th/5th gen publishes.

Each lock with ``mqtt=True`` is its own client of the broker at ``World(mqtt_url=...)`` (Nuki
MQTT API 1.5), with a last will of ``connected`` = ``false``. At every connect it publishes
its whole state on retained topics under ``nuki/<NUKI-ID-HEX>/`` and ``connected`` = ``true``;
afterwards each changed value (transitional states too) as it changes. When an action is about
to run, before the motor turns, it publishes ``lockActionEvent`` (``LockAction,Trigger,AuthID,
CodeID,Extra``) with the device-side integer ids the Web API serves as ``SmartlockAuth.authId``;
a keypad action names the keypad's authorization and, as code id, the code's. Rejected keypad
codes and refused authorizations publish nothing, as on the device.

Knobs: ``mqtt_delay`` before each publish, ``mqtt_loss`` and ``drop_next_mqtt`` lose messages
(never the state published at connect). While the broker is away, changes are lost (counted);
the lock reconnects and publishes its current state again. ``cut`` drops a lock off the
network without a goodbye, so the broker publishes its will. ``sent`` keeps every publish with
its ``time.perf_counter()`` for latency measurements, and a ``state`` or ``mode`` message that
completes a ground-truth change (``truth.py``) with that change's number, as the bridge's
callbacks are tagged, so a benchmark can tell which change a state event reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import socket
import time
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import attrs

from nukiasync.const import AuthType
from nukiasync.simulator.devices import bridge_time
from nukiasync.simulator.knobs import draw_lag

if TYPE_CHECKING:
    import aiomqtt

    from nukiasync.simulator.actions import Actor
    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.truth import StateChange
    from nukiasync.simulator.world import World

_LOGGER = logging.getLogger(__name__)

LOCK_ACTION_EVENT = "lockActionEvent"
CHANGE_TOPICS = frozenset({"state", "mode"})  # the values a ground-truth change moves
# lockActionEvent triggers (MQTT API 1.5), by the simulator's ways of acting. A knob turned by
# hand is no action the lock executes: it publishes the new state, no lockActionEvent.
MQTT_TRIGGERS = {
    "app": 0,
    "web": 0,
    "bridge": 0,
    "keypad": 0,  # Nuki's own keypad example uses 0
    "fob": 3,  # Nuki's own fob example uses 3 (automatic)
    "button": 2,
    "auto_lock": 6,
}
KEEPALIVE = 10  # seconds; a lock notices a dead broker soon
KEYPAD_SOURCE_CODE = 1  # Extra of a keypad action: 0 back key, 1 code, 2 fingerprint


def _flag(value: bool) -> str:
    return "true" if value else "false"


def state_topics(device: Device, now: datetime) -> dict[str, str]:
    """The retained values a lock publishes, by topic name (payloads as the lock sends them)."""
    values = {
        "deviceType": str(int(device.device_type)),
        "name": device.name,
        "firmware": device.firmware,
        "mode": str(device.mode),
        "state": str(device.state),
        "batteryCritical": _flag(device.battery_critical),
        "batteryChargeState": str(device.battery_charge),
        "batteryCharging": _flag(device.battery_charging),
    }
    if device.keypad:
        values["keypadBatteryCritical"] = _flag(device.keypad_battery_critical)
    if device.door_sensor:
        values["doorsensorState"] = str(device.door_state)
        values["doorsensorBatteryCritical"] = "false"
    values["serverConnected"] = "true"
    values["timestamp"] = bridge_time(device.updated or now)
    return values


def action_event_payload(world: World, device: Device, action: int, actor: Actor) -> str | None:
    """The ``lockActionEvent`` CSV for an action about to run; None when none is published."""
    trigger = MQTT_TRIGGERS.get(actor.via)
    if trigger is None:
        return None
    auth_id = code_id = extra = 0
    if actor.via == "keypad":
        mine = (a for a in world.auths if a.smartlock_id == device.smartlock_id)
        keypad = next((a for a in mine if a.type == AuthType.KEYPAD), None)
        auth_id = keypad.auth_id if keypad is not None else 0
        code_id = actor.auth.auth_id if actor.auth is not None else 0
        extra = KEYPAD_SOURCE_CODE
    elif actor.auth is not None:
        auth_id = actor.auth.auth_id
    if actor.via in {"button", "fob"}:
        extra = 1  # presses
    return f"{int(action)},{trigger},{auth_id},{code_id},{extra}"


def _honour_cancel() -> None:
    """Raise a cancel that was swallowed on the way here.

    aiomqtt waits for a broker's acknowledgement with ``asyncio.wait_for``, which on Python
    3.11 returns the result instead of raising when a cancel meets a finished wait; the task
    then stays "cancelling" and would wait for its next message forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@attrs.frozen(kw_only=True)
class BrokerAddress:
    """Where the locks publish: ``mqtt://[user[:password]@]host[:port]``.

    Read here, not by the library's own parser, so the simulator does not share its mistakes.
    """

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """Read a broker URL.

        Raises:
            ValueError: not an ``mqtt://`` URL with a host (the text never shows a password).
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            port, parts = None, urlsplit("")
        if parts.scheme != "mqtt" or not parts.hostname:
            msg = "the simulator's MQTT URL must look like mqtt://[user:password@]host[:port]"
            raise ValueError(msg)
        return cls(
            host=parts.hostname,
            port=port or 1883,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def origin(self) -> str:
        """Host and port, for banners and logs."""
        return f"{self.host}:{self.port}"


@attrs.frozen(kw_only=True)
class SentMqtt:
    """One message a simulated lock handed to the broker."""

    topic: str
    payload: str
    retained: bool
    at: datetime  # simulated time just before the publish (a subscriber has it after this)
    perf: float  # time.perf_counter() just before the publish
    change: int | None = None  # the ground-truth change (truth.py) this message completes


@attrs.define(kw_only=True)
class MqttStats:
    """What the simulated locks did with their messages."""

    published: int = 0
    lost: int = 0  # by the loss knobs
    offline: int = 0  # changes while the broker was away
    sessions: int = 0


class MqttLock:
    """One lock's client: its session loop, its queue of changes, its last published values."""

    def __init__(self, world: World, device: Device, owner: MqttLocks) -> None:
        self.world = world
        self.device = device
        self.owner = owner
        self.values: dict[str, str] = {}
        self.connected = asyncio.Event()  # changes are queued (else lost)
        self.ready = asyncio.Event()  # the state at connect is on the broker
        self._queue: asyncio.Queue[tuple[str, str, bool, int | None]] = asyncio.Queue()
        self._client: aiomqtt.Client | None = None
        self._name = f"nukiasync.simulator.mqtt[{device.name}]"

    def root(self, name: str) -> str:
        """The full topic of one of this lock's values."""
        return f"nuki/{self.device.nuki_id:08X}/{name}"  # upper-case hex, as Nuki prints it

    def sync(self, change: StateChange | None = None) -> None:
        """Publish each state value that differs from the last one published.

        ``change``: the ground-truth change the device's values complete (tags the message).
        """
        seq = change.seq if change is not None else None
        for name, value in state_topics(self.device, self.world.clock.now()).items():
            if self.values.get(name) != value:
                self.values[name] = value
                tag = seq if name in CHANGE_TOPICS else None
                self.offer(name, value, retain=True, change=tag)

    def offer(self, name: str, payload: str, *, retain: bool, change: int | None = None) -> None:
        """Queue a message, or count it lost when the broker is away."""
        if not self.connected.is_set():
            self.owner.stats.offline += 1
            self.world.changed()
            return
        self._queue.put_nowait((name, payload, retain, change))

    async def run(self, broker: BrokerAddress) -> None:
        """Stay connected (until cancelled), publishing the whole state at each connect."""
        aiomqtt = importlib.import_module("aiomqtt")
        will = aiomqtt.Will(self.root("connected"), "false", qos=1, retain=True)
        client_id = f"nuki-sim-{self.device.nuki_id:08X}"
        while not self.world.closing.is_set():
            try:
                async with aiomqtt.Client(
                    broker.host,
                    broker.port,
                    username=broker.username,
                    password=broker.password,
                    identifier=client_id,
                    will=will,
                    keepalive=KEEPALIVE,
                ) as client:
                    await self._session(client)
            except aiomqtt.MqttError:
                _LOGGER.debug("%s: MQTT session lost", self.device.name)
            self.connected.clear()
            self.ready.clear()
            self.world.changed()
            _honour_cancel()
            await asyncio.sleep(self.world.knobs.mqtt_reconnect_wait)

    def cut(self) -> bool:
        """Drop off the network without a DISCONNECT: the broker publishes the last will."""
        client = self._client
        paho = getattr(client, "_client", None)  # aiomqtt keeps paho's client here
        sock = paho.socket() if paho is not None else None
        if sock is None:
            return False
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return True

    async def _session(self, client: aiomqtt.Client) -> None:
        self._client = client
        self.owner.stats.sessions += 1
        self._queue = asyncio.Queue()
        # Connected first: a change while the snapshot goes out is queued behind it.
        self.values = state_topics(self.device, self.world.clock.now())
        self.connected.set()
        for name, value in (*self.values.items(), ("connected", "true")):
            await self._publish(client, name, value, retain=True)
            _honour_cancel()
        self.ready.set()
        self.world.changed()
        # Two tasks, not a TaskGroup: on Python 3.11 a TaskGroup whose child fails can leave
        # its parent "cancelling", and this task must tell a lost broker from close().
        watch = asyncio.create_task(self._watch(client), name=f"{self._name}-watch")
        drain = asyncio.create_task(self._drain(client), name=f"{self._name}-out")
        try:
            done, _pending = await asyncio.wait({watch, drain}, return_when="FIRST_COMPLETED")
            for task in done:
                task.result()  # the MqttError that ended the session
        finally:
            for task in (watch, drain):
                task.cancel()
            await asyncio.gather(watch, drain, return_exceptions=True)

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        """Raise MqttError when the broker goes away (the message iterator notices)."""
        async for _message in client.messages:
            pass

    async def _drain(self, client: aiomqtt.Client) -> None:
        knobs = self.world.knobs
        while True:
            name, payload, retain, change = await self._queue.get()
            delay = draw_lag(knobs.mqtt_delay, self.world.rng)
            if delay > 0:
                await self.world.clock.sleep(delay)
            if knobs.take_mqtt_loss(self.world.rng):
                self.owner.stats.lost += 1
                self.world.changed()
                continue
            await self._publish(client, name, payload, retain=retain, change=change)
            _honour_cancel()

    async def _publish(
        self,
        client: aiomqtt.Client,
        name: str,
        payload: str,
        *,
        retain: bool,
        change: int | None = None,
    ) -> None:
        topic = self.root(name)
        at = self.world.clock.now()
        perf = time.perf_counter()
        await client.publish(topic, payload, qos=1, retain=retain)
        self.owner.stats.published += 1
        sent = SentMqtt(
            topic=topic,
            payload=payload,
            retained=retain,
            at=at,
            perf=perf,
            change=change,
        )
        self.owner.sent.append(sent)
        self.world.changed()


class MqttLocks:
    """The World's MQTT side: one client per lock with ``mqtt=True``, when a URL is set."""

    def __init__(self, world: World, url: str | None) -> None:
        self.world = world
        self.settings = BrokerAddress.from_url(url) if url else None
        self.locks: dict[int, MqttLock] = {}  # by nukiId
        self.sent: list[SentMqtt] = []
        self.stats = MqttStats()

    def __repr__(self) -> str:
        where = self.settings.origin if self.settings is not None else None
        return f"MqttLocks(broker={where!r}, locks={len(self.locks)})"

    def start(self) -> None:
        """Connect every MQTT lock (a World task each); nothing without a broker URL."""
        if self.settings is None:
            return
        for device in self.world.devices:
            if device.mqtt and device.nuki_id not in self.locks:
                lock = MqttLock(self.world, device, self)
                self.locks[device.nuki_id] = lock
                self.world.spawn(lock.run(self.settings), device, "mqtt")

    @property
    def connected(self) -> bool:
        """Whether every MQTT lock is connected and has published its state."""
        return all(lock.ready.is_set() for lock in self.locks.values())

    def touch(self, device: Device, change: StateChange | None = None) -> None:
        """A device changed (completing ``change``): its client publishes what differs."""
        lock = self.locks.get(device.nuki_id)
        if lock is not None and lock.device is device:
            lock.sync(change)

    def action_started(self, device: Device, action: int, actor: Actor) -> None:
        """An action is about to run: publish ``lockActionEvent`` first."""
        lock = self.locks.get(device.nuki_id)
        if lock is None or lock.device is not device:
            return
        payload = action_event_payload(self.world, device, action, actor)
        if payload is not None:
            lock.offer(LOCK_ACTION_EVENT, payload, retain=False)

    def cut(self, device: Device) -> bool:
        """A lock loses its network (Wi-Fi, power): its will says ``connected`` = false."""
        lock = self.locks.get(device.nuki_id)
        return lock is not None and lock.device is device and lock.cut()

    def action_events(self) -> list[SentMqtt]:
        """Every ``lockActionEvent`` published so far."""
        return [sent for sent in self.sent if sent.topic.endswith("/" + LOCK_ACTION_EVENT)]
