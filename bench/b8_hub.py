"""B8's hub row: from the ``lockActionEvent`` publish to the hub's `ActionAttributed`.

The hub as a user without the cloud wires it: ``NukiHub(mqtt=MqttSource(settings,
auth_names=...))``, names from the owner's own mapping of device-side auth ids, no Web API,
no bridge. Each answer is matched to its publish by lock and order. The hub's MQTT source
comes with issue 17's hub part; on a tree without it this row is left out (``available``).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import tempfile
import time
from pathlib import Path
from typing import Any

from nukiasync.events import ActionAttributed, AttributionUnavailable
from nukiasync.hub import NukiHub
from nukiasync.mqtt import MqttSettings
from tests.support.mqtt_broker import running_broker

TIMEOUT = 5.0
GOAL_P95_MS = 100.0  # issue 17: publish to ActionAttributed, locally, p95


def hub_row_available() -> bool:
    """Whether this tree's hub takes an MQTT source."""
    try:
        importlib.import_module("nukiasync.hub.sources.mqtt_source")
    except ImportError:
        return False
    return "mqtt" in inspect.signature(NukiHub).parameters


async def _measure(kind: str, actions: int) -> dict[str, Any]:
    from bench import b8_mqtt  # noqa: PLC0415 - b8_mqtt imports this module

    source_module = importlib.import_module("nukiasync.hub.sources.mqtt_source")
    with tempfile.TemporaryDirectory(prefix="bench-b8-hub-") as workdir:
        async with running_broker(kind, Path(workdir)) as broker:
            world = b8_mqtt.world_for(broker, seed=9)
            names = {auth.auth_id: auth.name for auth in world.auths}
            settings = MqttSettings.from_url(broker.url(), client_id="bench-hub")
            source = source_module.MqttSource(settings, auth_names=names)
            answers: dict[int, list[tuple[float, str]]] = {}
            arrived = asyncio.Event()
            count = 0

            def subscriber(event: Any) -> None:
                nonlocal count
                name = event.actor.name if isinstance(event, ActionAttributed) else None
                answers.setdefault(event.smartlock_id, []).append((time.perf_counter(), name))
                count += 1
                arrived.set()

            async with world, NukiHub(mqtt=source) as hub:
                hub.subscribe(subscriber, types=[ActionAttributed, AttributionUnavailable])
                await world.wait_until(lambda: world.mqtt.connected, deadline=TIMEOUT)
                if source.feed is not None:  # the hub has the locks' retained state
                    async with asyncio.timeout(TIMEOUT):
                        await source.feed.wait_subscribed()
                ann = world.person("Ann")
                for n in range(actions + b8_mqtt.WARMUP):
                    device = world.devices[n % b8_mqtt.LOCKS]
                    await (ann.unlock(device) if device.state == 1 else ann.lock(device))
                    async with asyncio.timeout(TIMEOUT):
                        while count < n + 1:
                            arrived.clear()
                            await arrived.wait()
    pairs: list[tuple[float, float, float, str | None]] = []
    for device in world.devices:
        events, completions = _publishes(world, device.nuki_id)
        got = answers.get(device.smartlock_id, [])
        for (event, completed), (answered, who) in zip(
            zip(events, completions, strict=False), got, strict=False
        ):
            pairs.append((event, completed, answered, who))
    pairs.sort()
    pairs = pairs[b8_mqtt.WARMUP :]
    return {
        "latencies": [answered - event for event, _, answered, _ in pairs],
        "after_state": [answered - completed for _, completed, answered, _ in pairs],
        "right": sum(who == "Ann" for *_, who in pairs),
        "answers": len(pairs),
    }


def _publishes(world: Any, nuki_id: int) -> tuple[list[float], list[float]]:
    """A lock's lockActionEvent publish times, and those of the state that completed each."""
    events: list[float] = []
    completions: list[float] = []
    prefix = f"nuki/{nuki_id:08X}/"
    for message in world.mqtt.sent:
        if not message.topic.startswith(prefix):
            continue
        name = message.topic.removeprefix(prefix)
        if name == "lockActionEvent":
            events.append(message.perf)
        elif name == "state" and message.payload in {"1", "3"} and len(completions) < len(events):
            completions.append(message.perf)
    return events, completions


def run_hub_row(kind: str, actions: int, *, base: list[float]) -> dict[str, Any]:
    """Measure the hub on one broker; the table row, its goals and the detail for the JSON."""
    from bench import b8_mqtt  # noqa: PLC0415

    measured = asyncio.run(_measure(kind, actions))
    row = b8_mqtt.row_of(
        f"{kind}: NukiHub, publish -> ActionAttributed", measured["latencies"], base
    )
    p95 = row[3]
    goals = {
        f"{kind}: hub publish -> ActionAttributed p95 ms": {
            "value": p95,
            "goal": f"< {GOAL_P95_MS:g}",
            "met": p95 < GOAL_P95_MS and measured["right"] == measured["answers"],
        }
    }
    after = [v * 1000 for v in measured["after_state"]]
    detail = {
        "broker": kind,
        "after_state_publish_p50_ms": b8_mqtt.median(after),
        "after_state_publish_p95_ms": b8_mqtt.percentile(after, 95),
        "row": row[1:],
        "right": measured["right"],
        "answers": measured["answers"],
    }
    return {"row": row, "goals": goals, "detail": detail}
