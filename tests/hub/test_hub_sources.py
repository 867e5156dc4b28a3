"""Sources combined on one hub: the same action from two sources is one outcome."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiomqtt
import pytest

from nukiasync import CallbackServer, NukiBridgeClient, NukiWebClient
from nukiasync.const import AuthType
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    EventSource,
    LockStateChanged,
)
from nukiasync.hub import NukiHub
from nukiasync.mqtt.broker import MqttSettings
from tests.support import canary
from tests.support.hub import FRONT, TIMING, Recorder
from tests.support.mqtt_broker import Broker, running_broker
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from nukiasync.simulator.world import World

pytestmark = pytest.mark.sockets
WAIT = 10.0
FRONT_TOPIC = "nuki/1A2B3C4D"


async def publish(broker: Broker, *messages: tuple[str, str], retain: bool = False) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="front-door") as lock:
        for name, payload in messages:
            await lock.publish(f"{FRONT_TOPIC}/{name}", payload, qos=1, retain=retain)


async def until(condition: Any, timeout: float = WAIT) -> None:
    """Wait for a condition only the hub's counters show (no event marks it)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@asynccontextmanager
async def bridge_and_mqtt(
    tmp_path: Path,
) -> AsyncIterator[tuple[World, Broker, NukiHub, Recorder, int]]:
    async with running_broker("amqtt", tmp_path) as broker, make_world(log_lag=0.3) as world:
        port = urlsplit(world.bridge_url).port or 0
        web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url)
        bridge = NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port, min_spacing=0.02)
        auths = await web.auths()
        alice = next(
            a
            for a in auths
            if a.smartlock_id == FRONT and a.name == "Alice" and a.type is AuthType.APP
        )
        assert alice.auth_id is not None
        await publish(broker, ("deviceType", "4"), ("state", "1"), retain=True)
        hub = NukiHub(
            web=web,
            bridge=bridge,
            callback_server=CallbackServer(host="127.0.0.1", port=0),
            timing=TIMING,
            mqtt=MqttSettings(host=broker.host, port=broker.port),
        )
        recorder = Recorder()
        hub.subscribe(recorder)
        try:
            async with hub:
                await until(lambda: hub.diagnostics()["sources"]["mqtt"]["locks"] == 1)
                yield world, broker, hub, recorder, alice.auth_id
        finally:
            await web.close()
            await bridge.close()


async def test_bridge_callback_and_mqtt_report_one_action_once(tmp_path: Path) -> None:
    async with bridge_and_mqtt(tmp_path) as (world, broker, hub, rec, alice):
        await publish(broker, ("lockActionEvent", f"1,0,{alice},0,0"))
        await world.person("Alice").unlock("Front door", via="app")
        unlocked = await rec.wait(
            lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == FRONT and e.state == 3
        )
        await publish(broker, ("state", "2"), ("state", "3"))
        answer = await rec.wait(
            lambda e: isinstance(e, ActionAttributed) and e.state_event_id == unlocked.event_id
        )
        # The Web API log names Alice too, later: counted as the same answer, not emitted.
        await until(lambda: hub.diagnostics()["sources"]["verdicts"]["duplicates"] == 1)
        verdicts = hub.diagnostics()["sources"]["verdicts"]
    assert unlocked.source is EventSource.BRIDGE_CALLBACK
    assert answer.source is EventSource.MQTT
    assert answer.actor.name == "Alice"
    assert answer.actor.auth_type == "app"
    assert [e for e in rec.of(LockStateChanged) if e.state == 3] == [unlocked]
    assert [e.state_event_id for e in rec.of(ActionAttributed)] == [unlocked.event_id]
    assert not rec.of(AttributionUnavailable)
    assert verdicts["conflicts"] == 0
