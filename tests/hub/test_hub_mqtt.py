"""The hub with MQTT as a source, over a real broker process: state, who, and never a guess."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiomqtt
import pytest

from nukiasync.events import (
    ActionAttributed,
    AttributionFailure,
    AttributionUnavailable,
    BatteryChanged,
    DoorSensorChanged,
    EventSource,
    HealthChanged,
    LockStateChanged,
)
from nukiasync.hub import NukiHub
from nukiasync.hub.sources.mqtt_source import MqttSource
from nukiasync.hub.sources.push_match import PushTiming
from nukiasync.mqtt.broker import MqttSettings
from tests.support.hub import Recorder
from tests.support.mqtt_broker import Broker, broker_kinds, running_broker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.sockets
WAIT = 10.0
NUKI_ID = 0x2BB28570
SMARTLOCK = (4 << 32) | NUKI_ID
TOPIC = "nuki/2BB28570"
FAST = PushTiming(deadline=0.6, follow_on_deadline=0.3, settle=0.2)
RETAINED = (
    ("deviceType", "4"),
    ("name", "Garage"),
    ("state", "1"),
    ("mode", "2"),
    ("doorsensorState", "2"),
    ("batteryCritical", "false"),
)


async def publish(broker: Broker, *messages: tuple[str, str], retain: bool = False) -> None:
    """Publish as the lock would (the lock is an MQTT client of the same broker)."""
    async with aiomqtt.Client(broker.host, broker.port, identifier="lock-2bb28570") as lock:
        for name, payload in messages:
            await lock.publish(f"{TOPIC}/{name}", payload, qos=1, retain=retain)


@asynccontextmanager
async def mqtt_hub(
    broker: Broker, **source_kw: Any
) -> AsyncIterator[tuple[NukiHub, MqttSource, Recorder]]:
    settings = MqttSettings(host=broker.host, port=broker.port, client_id="hub-under-test")
    source = MqttSource(settings, timing=source_kw.pop("timing", FAST), **source_kw)
    hub = NukiHub(mqtt=source)
    recorder = Recorder()
    hub.subscribe(recorder)
    async with hub:
        async with asyncio.timeout(WAIT):
            await source.wait_subscribed()
        yield hub, source, recorder


@pytest.fixture(params=broker_kinds())
async def broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Broker]:
    async with running_broker(request.param, tmp_path) as running:
        await publish(running, *RETAINED, retain=True)
        yield running


def answer_for(recorder: Recorder, state: LockStateChanged) -> Any:
    return recorder.wait(
        lambda e: (
            isinstance(e, ActionAttributed | AttributionUnavailable)
            and e.state_event_id == state.event_id
        ),
        timeout=WAIT,
    )


async def test_a_lock_without_bridge_gets_state_events_and_the_right_name(broker: Broker) -> None:
    async with mqtt_hub(broker, auth_names={54321: "Alice", 54322: "Bob"}) as (hub, _src, rec):
        await publish(broker, ("lockActionEvent", "1,0,54321,0,0"), ("state", "2"), ("state", "3"))
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        answer = await answer_for(rec, unlocked)
        await publish(broker, ("doorsensorState", "3"))
        door = await rec.wait(lambda e: isinstance(e, DoorSensorChanged), timeout=WAIT)
        diag = hub.diagnostics()
    assert isinstance(answer, ActionAttributed)
    assert answer.actor.name == "Alice"
    assert answer.source is EventSource.MQTT
    assert answer.smartlock_id == SMARTLOCK
    assert answer.device_name == "Garage"
    assert answer.how.value == "bluetooth"  # no authorization type without the Web API
    states = rec.of(LockStateChanged)
    # The retained state was the lock's state already: the first change starts from it.
    assert [(e.previous_state, e.state) for e in states] == [(1, 2), (2, 3)]
    assert {e.source for e in states} == {EventSource.MQTT}
    assert unlocked.bridge_id is None
    assert door.previous_state == 2
    assert not rec.of(AttributionUnavailable)
    health = [e for e in rec.of(HealthChanged) if e.component == "mqtt"]
    assert health
    assert health[0].available
    assert diag["sources"]["mqtt"]["locks"] == 1
    assert "password" not in repr(diag)


async def test_an_unknown_auth_id_is_unavailable_never_a_guess(broker: Broker) -> None:
    async with mqtt_hub(broker, auth_names={54321: "Alice"}) as (hub, _src, rec):
        await publish(broker, ("lockActionEvent", "1,0,99999,0,0"), ("state", "3"))
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        answer = await answer_for(rec, unlocked)
        diag = hub.diagnostics()
    assert isinstance(answer, AttributionUnavailable)
    assert answer.reason is AttributionFailure.UNKNOWN_ACTOR
    assert not rec.of(ActionAttributed)
    assert diag["sources"]["mqtt"]["unknown_actors"] == 1


async def test_a_change_nobody_announced_times_out(broker: Broker) -> None:
    async with mqtt_hub(broker, auth_names={54321: "Alice"}) as (_hub, _src, rec):
        await publish(broker, ("state", "3"))
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        answer = await answer_for(rec, unlocked)
    assert isinstance(answer, AttributionUnavailable)
    assert answer.reason is AttributionFailure.TIMED_OUT


async def test_an_announcement_the_lock_did_not_carry_out_names_nobody_later(
    broker: Broker,
) -> None:
    async with mqtt_hub(broker, auth_names={54321: "Alice"}) as (_hub, _src, rec):
        # Alice's unlock jams the motor; then someone turns the knob by hand (no announcement).
        await publish(broker, ("lockActionEvent", "1,0,54321,0,0"), ("state", "254"))
        await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 254)
        await publish(broker, ("state", "3"))
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        answer = await answer_for(rec, unlocked)
    assert isinstance(answer, AttributionUnavailable)
    assert not rec.of(ActionAttributed)


async def test_a_button_press_is_attributed_to_nobody_with_how(broker: Broker) -> None:
    async with mqtt_hub(broker) as (_hub, _src, rec):
        await publish(broker, ("lockActionEvent", "2,2,0,0,1"), ("state", "4"), ("state", "1"))
        locked = await rec.wait(
            lambda e: isinstance(e, LockStateChanged) and e.state == 1 and e.previous_state == 4
        )
        answer = await answer_for(rec, locked)
    assert isinstance(answer, ActionAttributed)
    assert answer.actor.name == ""
    assert answer.how.value == "button"


async def test_a_retained_announcement_and_bare_presses_are_not_actions(broker: Broker) -> None:
    await publish(broker, ("lockActionEvent", "1,0,54321,0,0"), retain=True)
    async with mqtt_hub(broker, auth_names={54321: "Alice"}) as (hub, _src, rec):
        await publish(broker, ("lockActionEvent", "90,2,0,0,2"), ("state", "3"))
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        answer = await answer_for(rec, unlocked)
        stats = hub.diagnostics()["sources"]["mqtt"]["source"]
    assert isinstance(answer, AttributionUnavailable)
    assert stats["stale"] == 1
    assert stats["bare"] == 1


async def test_broker_restart_reconnects_with_health_events(broker: Broker) -> None:
    async with mqtt_hub(broker, auth_names={54321: "Alice"}) as (hub, source, rec):
        # The retained state is in (the brokers keep none across a restart) once a live
        # value shows as a change of it.
        await publish(broker, ("batteryCritical", "true"))
        await rec.wait(lambda e: isinstance(e, BatteryChanged), timeout=WAIT)
        await broker.restart()
        await rec.wait(
            lambda e: isinstance(e, HealthChanged) and e.component == "mqtt" and not e.available,
            timeout=WAIT,
        )
        up = [e for e in rec.of(HealthChanged) if e.component == "mqtt"]
        await rec.wait(
            lambda e: (
                isinstance(e, HealthChanged)
                and e.component == "mqtt"
                and e.available
                and e not in up
            ),
            timeout=WAIT * 3,
        )
        # A loaded machine may need a few attempts (with their backoff) to subscribe again.
        async with asyncio.timeout(WAIT * 3):
            await source.wait_subscribed()
        await publish(broker, ("lockActionEvent", "1,0,54321,0,0"), ("state", "3"))
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        answer = await answer_for(rec, unlocked)
        link = hub.diagnostics()["sources"]["mqtt"]["link"]
    assert isinstance(answer, ActionAttributed)
    assert answer.actor.name == "Alice"
    assert link["reconnects"] >= 1


async def test_values_before_the_device_type_wait_for_it(broker: Broker) -> None:
    async with mqtt_hub(broker) as (hub, source, rec):
        assert source.feed is not None
        feed = source.feed.feed
        feed("nuki/0000BEEF/state", b"1", retained=True)
        feed("nuki/0000BEEF/name", b"Gate", retained=True)
        feed("nuki/0000BEEF/lockActionEvent", b"3,0,1,0,0")  # whose lock? not known yet
        feed("nuki/0000BEEF/connected", b"true", retained=True)
        feed("nuki/0000BEEF/deviceType", b"2", retained=True)  # an Opener
        feed("nuki/0000BEEF/deviceType", b"4", retained=True)  # a lock keeps its kind
        feed("nuki/0000BEEF/state", b"3")
        opened = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        diag = hub.diagnostics()["sources"]["mqtt"]
    assert opened.smartlock_id == (2 << 32) | 0xBEEF
    assert opened.previous_state == 1  # the value before the type was the state at start
    assert opened.state_name == "rto_active"
    assert opened.device_name == "Gate"
    assert diag["source"]["unplaced"] == 1


async def test_closing_with_a_change_waiting_answers_it_once(broker: Broker) -> None:
    slow = PushTiming(deadline=60.0)
    async with mqtt_hub(broker, timing=slow) as (_hub, source, rec):
        assert source.feed is not None
        source.feed.feed("nuki/0000CAFE/deviceType", b"4", retained=True)
        source.feed.feed("nuki/0000CAFE/state", b"1", retained=True)
        source.feed.feed("nuki/0000CAFE/state", b"3")
        unlocked = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
    answers = [e for e in rec.of(AttributionUnavailable) if e.state_event_id == unlocked.event_id]
    assert [a.reason for a in answers] == [AttributionFailure.HUB_CLOSED]
    assert source.diagnostics()["tasks"] == {}


async def test_a_lock_leaving_the_broker_is_a_health_event(broker: Broker) -> None:
    async with mqtt_hub(broker) as (_hub, source, rec):
        assert source.feed is not None
        source.feed.feed("nuki/0000F00D/name", b"Shed", retained=True)
        source.feed.feed("nuki/0000F00D/connected", b"true", retained=True)
        source.feed.feed("nuki/0000F00D/connected", b"true")  # no news
        source.feed.feed("nuki/0000F00D/connected", b"false")  # its last will
        gone = await rec.wait(
            lambda e: (
                isinstance(e, HealthChanged) and e.component == "mqtt_lock" and not e.available
            )
        )
    reports = [e for e in rec.of(HealthChanged) if e.component == "mqtt_lock"]
    assert [e.available for e in reports] == [True, False]
    assert gone.detail == "Shed is gone from the MQTT broker"
