"""Simulated locks on a real MQTT broker: state at connect, who before the motor, losses, restarts.

Every test runs a broker process on 127.0.0.1 (amqtt; mosquitto too where marked) and reads it
with a bare aiomqtt subscriber or nukiasync's own `LockFeed`, never a mocked client.
"""

from __future__ import annotations

import argparse
import asyncio
import io
from typing import TYPE_CHECKING, Self

import aiomqtt
import pytest

from nukiasync.cli.simulate import run as simulate_run
from nukiasync.cli.simulate import simulate
from nukiasync.const import DeviceType, LockAction
from nukiasync.mqtt import DeviceMessage, LockActionEvent, LockFeed, MqttSettings, MqttTrigger
from nukiasync.simulator import Scenario, ScenarioError, World
from nukiasync.simulator.actions import Actor, SimulationError
from nukiasync.simulator.mqtt_out import BrokerAddress, MqttLock, action_event_payload
from nukiasync.web import NukiWebClient
from tests.support import canary
from tests.support.mqtt_broker import Broker, broker_kinds, running_broker
from tests.support.simulator import fast_knobs

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

pytestmark = pytest.mark.sockets
DEADLINE = 10.0
FRONT = 0x1A2B3C4D
ULTRA = 0x3C4D5E6F
FRONT_ROOT = f"nuki/{FRONT:08X}"


class Subscriber:
    """A bare aiomqtt client on ``nuki/#`` that keeps (topic, payload, retained) in order."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.messages: list[tuple[str, str, bool]] = []
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="test-mqtt-subscriber")
        async with asyncio.timeout(DEADLINE):
            await self._ready.wait()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
            await client.subscribe("nuki/#", qos=1)
            self._ready.set()
            async for message in client.messages:
                payload = message.payload
                text = payload.decode() if isinstance(payload, bytes) else str(payload)
                self.messages.append((str(message.topic), text, bool(message.retain)))
                self._changed.set()

    async def wait_for(self, predicate: Callable[[list[tuple[str, str, bool]]], bool]) -> None:
        async with asyncio.timeout(DEADLINE):
            while not predicate(self.messages):
                self._changed.clear()
                await self._changed.wait()

    def topics(self, name: str) -> list[str]:
        return [payload for topic, payload, _ in self.messages if topic.endswith("/" + name)]


def _seen(messages: list[tuple[str, str, bool]], topic: str, payload: str) -> bool:
    """Whether this value arrived (a live message has no retain flag; one at subscribe has)."""
    return any((t, p) == (topic, payload) for t, p, _ in messages)


def _world(broker: Broker, **knobs: object) -> World:
    world = World(
        seed=9,
        knobs=fast_knobs(mqtt_reconnect_wait=0.1, **knobs),
        web_token=canary.WEB_TOKEN,
        owner="Alice",
        mqtt_url=broker.url(),
    )
    world.add_lock("Front door", nuki_id=FRONT, door_sensor=True, keypad=True, mqtt=True)
    world.add_lock("Back door", device_type=DeviceType.SMARTLOCK, nuki_id=0x2B3C4D5E)
    world.add_lock(
        "Garden", device_type=DeviceType.SMARTLOCK_5, nuki_id=ULTRA, bridge=None, mqtt=True
    )
    world.add_person("Alice", email="alice@example.invalid", app=["Front door", "Garden"])
    world.add_person("Bob", fob=["Front door"], keypad=["Front door"], keypad_code=456789)
    return world


async def _started(world: World) -> World:
    await world.start()
    await world.wait_until(lambda: world.mqtt.connected, deadline=DEADLINE)
    return world


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with running_broker("amqtt", tmp_path) as running:
        yield running


@pytest.mark.parametrize("kind", broker_kinds())
async def test_state_is_retained_at_connect(kind: str, tmp_path: Path) -> None:
    async with running_broker(kind, tmp_path) as broker:
        world = _world(broker)
        try:
            await _started(world)
            async with Subscriber(broker) as sub:  # subscribes after the locks published
                await sub.wait_for(lambda m: _seen(m, f"nuki/{ULTRA:08X}/connected", "true"))
                await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/connected", "true"))
        finally:
            await world.close()
    front = {t.rsplit("/", 1)[1]: (p, r) for t, p, r in sub.messages if t.startswith(FRONT_ROOT)}
    assert front["state"] == ("1", True)
    assert front["mode"] == ("2", True)
    assert front["deviceType"] == ("4", True)
    assert front["doorsensorState"] == ("2", True)
    assert front["batteryCritical"] == ("false", True)
    assert front["batteryChargeState"] == ("87", True)
    assert front["keypadBatteryCritical"] == ("false", True)
    assert front["connected"] == ("true", True)
    assert front["name"] == ("Front door", True)
    garden = {t.rsplit("/", 1)[1] for t, _, _ in sub.messages if t.startswith(f"nuki/{ULTRA:08X}")}
    assert {"state", "deviceType", "connected"} <= garden
    assert not [t for t, _, _ in sub.messages if "2B3C4D5E" in t]  # a Smart Lock 2: no MQTT


async def test_who_comes_before_the_state_with_the_web_api_auth_id(broker: Broker) -> None:
    world = await _started(_world(broker))
    web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, retry_attempts=1)
    try:
        async with Subscriber(broker) as sub:
            await sub.wait_for(lambda m: "connected" in {t.rsplit("/", 1)[1] for t, _, _ in m})
            sub.messages.clear()
            record = await world.person("Alice").unlock("Front door", via="app")
            await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/state", "3"))
            auths = await web.auths()
    finally:
        await web.close()
        await world.close()
    order = [
        (t.rsplit("/", 1)[1], p) for t, p, _ in sub.messages if t.endswith(("/state", "Event"))
    ]
    assert [name for name, _ in order] == ["lockActionEvent", "state", "state"]
    assert [payload for _, payload in order[1:]] == ["2", "3"]  # unlocking, then unlocked
    event_payload = order[0][1]
    alice = next(a for a in auths if a.name == "Alice" and a.smartlock_id == record.smartlock_id)
    assert event_payload == f"1,0,{alice.auth_id},0,0"
    assert record.auth_id == alice.id  # the log names the same authorization
    retained = {p: r for t, p, r in sub.messages if t.endswith("/lockActionEvent")}
    assert retained == {event_payload: False}


async def test_keypad_fob_and_button_name_their_ids_and_a_wrong_code_publishes_nothing(
    broker: Broker,
) -> None:
    world = await _started(_world(broker))
    web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, retry_attempts=1)
    bob = world.person("Bob")
    try:
        async with Subscriber(broker) as sub:
            await sub.wait_for(bool)
            await bob.enter_code("Front door", 999999)  # wrong: logged, not published
            await bob.enter_code("Front door", 456789)
            await bob.lock("Front door", via="fob")
            await bob.press_button("Front door")
            await sub.wait_for(lambda m: len([t for t in m if t[0].endswith("Event")]) >= 3)
            await sub.wait_for(lambda m: _seen(m[-3:], f"{FRONT_ROOT}/state", "3"))
            auths = {(a.type_code, a.name): a.auth_id for a in await web.auths()}
    finally:
        await web.close()
        await world.close()
    keypad, code = auths[(3, "Keypad")], auths[(13, "Bob")]
    fob = auths[(2, "Bob")]
    assert sub.topics("lockActionEvent") == [
        f"1,0,{keypad},{code},1",
        f"2,3,{fob},0,1",
        "1,2,0,0,1",
    ]
    assert len({keypad, code, fob}) == 3


async def test_lock_feed_reads_the_simulated_lock(broker: Broker) -> None:
    world = await _started(_world(broker))
    received: list[DeviceMessage] = []
    changed = asyncio.Event()

    def handler(message: DeviceMessage) -> None:
        received.append(message)
        changed.set()

    feed = LockFeed(MqttSettings.from_url(broker.url()), handler)
    await feed.start()
    try:
        async with asyncio.timeout(DEADLINE):
            await feed.wait_subscribed()
        record = await world.person("Alice").lock("Garden", via="app")
        async with asyncio.timeout(DEADLINE):
            while not [m for m in received if m.name == "state" and not m.retained]:
                changed.clear()
                await changed.wait()
    finally:
        await feed.close()
        await world.close()
    who = next(m for m in received if m.name == "lockActionEvent")
    assert who.nuki_id == ULTRA
    assert isinstance(who.value, LockActionEvent)
    assert (who.value.action, who.value.trigger) == (LockAction.LOCK, MqttTrigger.SYSTEM)
    garden_auth = next(a for a in world.auths if a.id == record.auth_id)
    assert who.value.auth_id == garden_auth.auth_id
    assert feed.stats.malformed == 0


async def test_loss_knobs_lose_messages_and_count_them(broker: Broker) -> None:
    world = await _started(_world(broker, drop_next_mqtt=1))
    try:
        async with Subscriber(broker) as sub:
            await sub.wait_for(bool)
            await world.person("Alice").unlock("Front door")  # its lockActionEvent is lost
            await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/state", "3"))
            assert sub.topics("lockActionEvent") == []
            world.knobs.mqtt_loss = 1.0
            await world.person("Alice").lock("Front door")
            await world.wait_until(lambda: world.mqtt.stats.lost >= 4, deadline=DEADLINE)
            world.knobs.mqtt_loss = 0.0
            await world.person("Alice").unlock("Front door")
            await sub.wait_for(lambda m: len(sub.topics("lockActionEvent")) == 1)
    finally:
        await world.close()
    front = world.device("Front door").smartlock_id
    alice = next(a for a in world.auths if a.holder == "Alice" and a.smartlock_id == front)
    assert sub.topics("lockActionEvent") == [f"1,0,{alice.auth_id},0,0"]
    assert world.mqtt.stats.lost >= 4  # the first event, then the lock's event and states


async def test_delay_knob_keeps_the_order(broker: Broker) -> None:
    world = await _started(_world(broker, mqtt_delay=0.1, motor_time=0.0))
    try:
        async with Subscriber(broker) as sub:
            await sub.wait_for(bool)
            await world.person("Alice").unlock("Garden")
            await sub.wait_for(lambda m: _seen(m, f"nuki/{ULTRA:08X}/state", "3"))
    finally:
        await world.close()
    sent = [s for s in world.mqtt.sent if not s.retained or s.topic.endswith("/state")]
    names = [s.topic.rsplit("/", 1)[1] for s in sent[-3:]]
    assert names == ["lockActionEvent", "state", "state"]
    assert sent[-1].perf - sent[-3].perf >= 0.15  # two delays of 0.1 s between them


@pytest.mark.parametrize("kind", broker_kinds())
async def test_broker_restart_reconnects_and_republishes(kind: str, tmp_path: Path) -> None:
    async with running_broker(kind, tmp_path) as broker:
        world = await _started(_world(broker))
        try:
            await broker.stop()
            # Every lock noticed (not only one of them: under load the other may lag behind).
            locks = world.mqtt.locks.values()
            await world.wait_until(
                lambda: not any(lock.connected.is_set() for lock in locks), deadline=DEADLINE
            )
            await world.person("Alice").unlock("Front door")  # while the broker is away
            await broker.start()  # forgets every retained value (no persistence)
            await world.wait_until(lambda: world.mqtt.connected, deadline=DEADLINE)
            async with Subscriber(broker) as sub:
                await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/state", "3"))
                await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/connected", "true"))
        finally:
            await world.close()
    assert world.mqtt.stats.offline >= 2  # the event and the states while away
    assert world.mqtt.stats.sessions == 4  # two locks, two sessions each
    assert (f"{FRONT_ROOT}/connected", "true", True) in sub.messages


def test_manual_and_auto_lock_payloads() -> None:
    world = World(seed=1)
    device = world.add_lock("Door", mqtt=True)
    assert action_event_payload(world, device, 1, Actor(person=None, via="manual")) is None
    assert action_event_payload(world, device, 2, Actor(person=None, via="auto_lock")) == (
        "2,6,0,0,0"
    )


def test_models_and_bridges() -> None:
    world = World(seed=1)
    with pytest.raises(ValueError, match="cannot pair"):
        world.add_lock("Ultra", device_type=DeviceType.SMARTLOCK_5)
    with pytest.raises(ValueError, match="no MQTT"):
        world.add_lock("Old", device_type=DeviceType.SMARTLOCK, mqtt=True)
    ultra = world.add_lock("Ultra", device_type=DeviceType.SMARTLOCK_5, bridge=None, mqtt=True)
    assert ultra not in world.bridge.devices
    assert not [a for a in world.auths if a.smartlock_id == ultra.smartlock_id]
    assert "locks=0" in repr(world.mqtt)


SCENARIO = """
name = "MQTT morning"
[knobs]
motor_time = 0.05
mqtt_delay = 0.0
webhook_delay = [0.1, 0.2]
[[lock]]
name = "Garden"
type = 5
nuki_id = 0x3C4D5E6F
[[lock]]
name = "Front door"
type = 4
mqtt = false
[[person]]
name = "Alice"
app = ["Garden", "Front door"]
[[step]]
at = 1.0  # the lock has connected by then (what happens before is lost, as on a real one)
who = "Alice"
does = "unlock"
lock = "Garden"
"""


async def test_scenario_keys_and_the_cli_banner(broker: Broker) -> None:
    scenario = Scenario.from_toml(SCENARIO)
    world = scenario.build(mqtt_url=broker.url())
    garden, front = world.device("Garden"), world.device("Front door")
    assert (garden.mqtt, garden.bridge, front.mqtt, front.bridge) == (True, None, False, "bridge")
    assert world.knobs.webhook_delay == (0.1, 0.2)
    assert not scenario.build().device("Garden").mqtt  # no broker, no MQTT
    out = io.StringIO()
    async with Subscriber(broker) as sub:
        assert await simulate(scenario, duration=2.0, out=out, mqtt_url=broker.url()) == 0
        await sub.wait_for(lambda m: _seen(m, f"nuki/{ULTRA:08X}/state", "3"))
    assert f"MQTT        127.0.0.1:{broker.port}  publishing: Garden\n" in out.getvalue()
    assert sub.topics("lockActionEvent")[0].startswith("1,0,")
    with pytest.raises(ScenarioError, match="cannot pair"):
        Scenario.from_toml(SCENARIO.replace("type = 5\n", "type = 5\nbridge = true\n", 1))


def test_cli_refuses_a_bad_mqtt_url(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(scenario=None, speed=1.0, seed=1, duration=0.0, mqtt="http://x")
    assert simulate_run(args) == 2
    assert "mqtt://" in capsys.readouterr().err


@pytest.mark.parametrize("kind", broker_kinds())
async def test_a_lock_that_drops_off_leaves_its_will(kind: str, tmp_path: Path) -> None:
    async with running_broker(kind, tmp_path) as broker:
        world = await _started(_world(broker))
        front = world.device("Front door")
        try:
            async with Subscriber(broker) as sub:
                await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/connected", "true"))
                sub.messages.clear()
                assert world.mqtt.cut(front)
                await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/connected", "false"))
                await sub.wait_for(lambda m: _seen(m, f"{FRONT_ROOT}/connected", "true"))
        finally:
            await world.close()
    assert not world.mqtt.cut(world.device("Back door"))  # no MQTT
    connected = [p for t, p, _ in sub.messages if t == f"{FRONT_ROOT}/connected"]
    assert connected == ["false", "true"]  # the will, then the lock back with its state
    assert _seen(sub.messages, f"{FRONT_ROOT}/state", "1")


def test_a_lock_without_a_bridge_has_no_bridge_and_no_connection_to_cut() -> None:
    world = World(seed=1, mqtt_url="mqtt://127.0.0.1:1")
    ultra = world.add_lock("Ultra", device_type=DeviceType.SMARTLOCK_5, bridge=None, mqtt=True)
    with pytest.raises(SimulationError, match="no bridge"):
        world.bridge_of(ultra)
    world.mqtt.locks[ultra.nuki_id] = MqttLock(world, ultra, world.mqtt)
    assert not world.mqtt.cut(ultra)  # never connected


def test_broker_urls() -> None:
    address = BrokerAddress.from_url("mqtt://lock%40home:s3cret-pw@127.0.0.1:1884")
    assert (address.host, address.port, address.username) == ("127.0.0.1", 1884, "lock@home")
    assert address.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(address)
    assert BrokerAddress.from_url("mqtt://127.0.0.1").origin == "127.0.0.1:1883"
    for bad in ("http://127.0.0.1", "mqtt://", "mqtt://u:s3cret-pw@127.0.0.1:99999"):
        with pytest.raises(ValueError, match="mqtt://") as caught:
            BrokerAddress.from_url(bad)
        assert "s3cret-pw" not in str(caught.value)


def test_a_scenario_with_a_bad_broker_url_says_so() -> None:
    with pytest.raises(ScenarioError, match="mqtt://"):
        Scenario.from_toml('[world]\nmqtt_url = "http://127.0.0.1"\n' + SCENARIO.split("\n", 2)[2])
