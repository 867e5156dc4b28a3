"""The MQTT link over a real broker process: the lock feed, the event export, reconnects."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiomqtt
import pytest

from nukiasync import NukiError
from nukiasync.const import LockAction, LockMode
from nukiasync.events import EventSource, Gap, LockStateChanged
from nukiasync.mqtt.broker import LinkStats, MqttSettings, run_sessions
from nukiasync.mqtt.feed import DeviceMessage, LockFeed
from nukiasync.mqtt.messages import LockActionEvent
from nukiasync.mqtt.publisher import EventPublisher
from tests.support.mqtt_broker import Broker, broker_kinds, running_broker

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.sockets
DEADLINE = 10.0
PASSWORD = "canary-mqtt-pw-7e1"
LOCK = "nuki/2BB28570"


class Health:
    """Collects (available, detail) reports and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.reports: list[tuple[bool, str]] = []
        self._changed = asyncio.Event()

    def __call__(self, available: bool, detail: str) -> None:
        self.reports.append((available, detail))
        self._changed.set()

    async def wait_for(self, available: bool) -> None:
        async with asyncio.timeout(DEADLINE):
            while not self.reports or self.reports[-1][0] is not available:
                self._changed.clear()
                await self._changed.wait()


class Inbox:
    """Collects what a handler was given and lets a test wait for a count."""

    def __init__(self) -> None:
        self.items: list[DeviceMessage] = []
        self._changed = asyncio.Event()

    def __call__(self, item: DeviceMessage) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait_for(self, count: int) -> list[DeviceMessage]:
        async with asyncio.timeout(DEADLINE):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


async def _publish(broker: Broker, *messages: tuple[str, str, bool]) -> None:
    async with aiomqtt.Client(broker.host, broker.port, username="lock", password=PASSWORD) as lock:
        for topic, payload, retain in messages:
            await lock.publish(topic, payload, qos=1, retain=retain)


def _state_event(state: int, *, when: datetime | None = None) -> LockStateChanged:
    now = when or datetime.now(UTC)
    return LockStateChanged(
        event_id=f"state-{state}-{now.timestamp()}",
        received_at=now,
        source=EventSource.BRIDGE_CALLBACK,
        smartlock_id=0x4_2BB28570,
        previous_state=None,
        state=state,
        state_name="locked" if state == 1 else "unlocked",
    )


def test_settings_from_url_keep_the_password_out_of_sight() -> None:
    settings = MqttSettings.from_url(f"mqtt://home%40x:{PASSWORD}@127.0.0.1:1884")
    assert (settings.host, settings.port, settings.username) == ("127.0.0.1", 1884, "home@x")
    assert settings.password == PASSWORD
    assert PASSWORD not in repr(settings)
    assert MqttSettings.from_url("mqtt://127.0.0.1").port == 1883
    for bad in ("http://127.0.0.1", "mqtt://", f"mqtt://u:{PASSWORD}@127.0.0.1:99999"):
        with pytest.raises(NukiError) as caught:
            MqttSettings.from_url(bad)
        assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("kind", broker_kinds())
async def test_feed_reads_retained_state_then_changes_and_who(kind: str, tmp_path: Path) -> None:
    users = {"lock": PASSWORD, "hub": PASSWORD}
    async with running_broker(kind, tmp_path, users=users) as broker:
        await _publish(broker, (f"{LOCK}/state", "1", True), (f"{LOCK}/mode", "2", True))
        inbox, health = Inbox(), Health()
        settings = MqttSettings.from_url(broker.url("hub", PASSWORD))
        feed = LockFeed(settings, inbox, on_health=health)
        await feed.start()
        try:
            start = await inbox.wait_for(2)
            assert {(m.name, m.value, m.retained) for m in start} == {
                ("state", 1, True),
                ("mode", LockMode.DOOR, True),
            }
            await _publish(
                broker,
                (f"{LOCK}/lockActionEvent", "1,0,54321,0,0", False),
                (f"{LOCK}/state", "3", True),
                (f"{LOCK}/commandResponse", "0", False),  # not read: ignored
                (f"{LOCK}/state", "not a state", True),  # malformed: counted
                ("nuki/NOTHEX/state", "1", False),  # malformed topic: counted
                (f"{LOCK}/batteryCritical", "false", True),
            )
            messages = await inbox.wait_for(5)
        finally:
            await feed.close()
    who, state, battery = messages[2:5]
    assert who.value == LockActionEvent(
        action=LockAction.UNLOCK,
        action_code=1,
        trigger=who.value.trigger,
        trigger_code=0,
        auth_id=54321,
        code_id=None,
        extra=0,
    )
    assert (who.nuki_id, who.retained) == (0x2BB28570, False)
    assert (state.value, state.retained, battery.value) == (3, False, False)
    assert (feed.stats.received, feed.stats.delivered) == (8, 5)
    assert (feed.stats.malformed, feed.stats.ignored) == (2, 1)
    assert health.reports[0][0] is True


@pytest.mark.parametrize("kind", broker_kinds())
async def test_feed_reconnects_after_a_broker_restart(kind: str, tmp_path: Path) -> None:
    async with running_broker(kind, tmp_path) as broker:
        inbox, health = Inbox(), Health()
        feed = LockFeed(MqttSettings.from_url(broker.url()), inbox, on_health=health)
        await feed.start()
        try:
            async with asyncio.timeout(DEADLINE):
                await feed.wait_subscribed()
            await broker.stop()
            await health.wait_for(available=False)
            await broker.start()
            await health.wait_for(available=True)
            async with asyncio.timeout(DEADLINE):
                await feed.wait_subscribed()
            await _publish(broker, (f"{LOCK}/state", "1", False))
            await inbox.wait_for(1)
        finally:
            await feed.close()
    assert feed.link.reconnects == 1
    assert feed.link.failures >= 1
    assert [ok for ok, _ in health.reports][:3] == [True, False, True]


async def test_wrong_password_is_reported_not_raised(tmp_path: Path) -> None:
    async with running_broker("amqtt", tmp_path, users={"hub": PASSWORD}) as broker:
        health = Health()
        settings = MqttSettings.from_url(broker.url("hub", "wrong-password"))
        feed = LockFeed(settings, Inbox(), on_health=health)
        await feed.start()
        try:
            await health.wait_for(available=False)
        finally:
            await feed.close()
    assert health.reports == [(False, f"cannot reach the MQTT broker at {settings.origin}")]
    assert feed.link.sessions == 0


async def test_feed_without_a_payload_counts_it() -> None:
    feed = LockFeed(MqttSettings(host="127.0.0.1"), Inbox())
    assert feed.feed(f"{LOCK}/state", None) is None
    assert feed.feed(f"{LOCK}/batteryChargeState", 55) is not None
    assert (feed.stats.malformed, feed.stats.delivered) == (1, 1)
    assert "127.0.0.1:1883" in repr(feed)


async def _collect(broker: Broker, topic: str, count: int) -> list[aiomqtt.Message]:
    received: list[aiomqtt.Message] = []
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(DEADLINE):
            async for message in client.messages:
                received.append(message)
                if len(received) == count:
                    break
    return received


@pytest.mark.parametrize("kind", broker_kinds())
async def test_publisher_exports_events_and_retains_the_last_state(
    kind: str, tmp_path: Path
) -> None:
    async with running_broker(kind, tmp_path) as broker:
        publisher = EventPublisher(MqttSettings.from_url(broker.url()), prefix="house")
        await publisher.start()
        try:
            publisher(_state_event(1))
            publisher(_state_event(3))
            publisher(
                Gap(
                    event_id="gap-1",
                    received_at=datetime.now(UTC),
                    source=EventSource.HUB,
                    reason="consumer_overflow",
                )
            )
            async with asyncio.timeout(DEADLINE):
                await publisher.wait_drained()
            # A consumer that comes later reads the last state at once (retained).
            late = await _collect(broker, "house/+/state", 1)
        finally:
            await publisher.close()
    assert str(late[0].topic) == f"house/{0x4_2BB28570}/state"
    assert late[0].retain
    assert json.loads(late[0].payload)["state"] == 3  # type: ignore[arg-type]
    assert publisher.stats.published == 5  # three events, two of them also as state
    assert (publisher.stats.taken, publisher.stats.dropped, publisher.buffered) == (3, 0, 0)


async def test_publisher_keeps_what_it_holds_across_a_broker_restart(tmp_path: Path) -> None:
    async with running_broker("amqtt", tmp_path) as broker:
        health = Health()
        publisher = EventPublisher(MqttSettings.from_url(broker.url()), buffer=50, on_health=health)
        await publisher.start()
        try:
            await health.wait_for(available=True)
            await broker.stop()
            await health.wait_for(available=False)
            for state in (1, 3, 1):
                publisher(_state_event(state))
            assert publisher.buffered == 6
            collector = asyncio.create_task(_wait_then_collect(broker, "nukiasync/+/event", 3))
            await broker.start()
            events = await collector
        finally:
            await publisher.close()
    assert [json.loads(m.payload)["state"] for m in events] == [1, 3, 1]  # type: ignore[arg-type]
    assert (publisher.stats.dropped, publisher.buffered) == (0, 0)


async def _wait_then_collect(broker: Broker, topic: str, count: int) -> list[aiomqtt.Message]:
    async with asyncio.timeout(DEADLINE):
        while True:
            try:
                return await _collect(broker, topic, count)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)  # the broker is still starting


async def test_publisher_buffer_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    publisher = EventPublisher(MqttSettings(host="127.0.0.1", port=1), buffer=2)
    for state in (1, 3, 1, 3):
        publisher(_state_event(state))
    assert (publisher.stats.taken, publisher.stats.dropped, publisher.buffered) == (4, 6, 2)
    await publisher.start()
    await publisher.close(flush_timeout=0.05)
    assert (publisher.stats.dropped, publisher.buffered) == (8, 0)
    with pytest.raises(ValueError, match="at least one"):
        EventPublisher(MqttSettings(host="127.0.0.1"), buffer=0)


async def test_publisher_never_drops_the_event_in_flight() -> None:
    publisher = EventPublisher(MqttSettings(host="127.0.0.1", port=1), buffer=2)
    assert "127.0.0.1:1" in repr(publisher)
    await publisher.close()  # never started: nothing to do
    publisher(_state_event(1))  # the event and its state: the buffer is full
    publisher._in_flight = True  # as while the broker acknowledges the first
    publisher(Gap(event_id="g", received_at=datetime.now(UTC), source=EventSource.HUB, reason="x"))
    assert json.loads(publisher._buffer[0][1])["state"] == 1
    assert publisher._buffer[1][0] == "nukiasync/hub/event"
    small = EventPublisher(MqttSettings(host="127.0.0.1", port=1), buffer=1)
    small(_state_event(3))
    small._in_flight = True
    small(_state_event(1))
    assert json.loads(small._buffer[0][1])["state"] == 3
    assert (small.stats.dropped, small.buffered) == (3, 1)


async def test_a_session_that_ends_by_itself_ends_the_link(tmp_path: Path) -> None:
    async with running_broker("amqtt", tmp_path) as broker:
        settings = MqttSettings.from_url(broker.url())
        stats = LinkStats()
        seen: list[bool] = []

        async def one_session(client: aiomqtt.Client) -> None:
            await client.publish("nukiasync/hub/event", b"{}", qos=1)

        await run_sessions(settings, one_session, stats, on_health=lambda ok, _: seen.append(ok))
    assert (stats.sessions, stats.connected, seen) == (1, False, [True])


def test_without_the_extra_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def refuse(name: str, *args: object) -> object:
        if name == "aiomqtt":
            raise ImportError(name)
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", refuse)
    with pytest.raises(NukiError, match=r"nukiasync\[mqtt\]"):
        MqttSettings(host="127.0.0.1").client()
