"""One B7 seed: a world, a hub with one set of sources, the peers, and every change judged.

The sources (``SOURCES``) are the hub's ways of learning who acted, as users combine them:

- ``web_log``: bridge callbacks and the polled Web API log (any account);
- ``webhook``: the same, plus decentral webhooks: the simulated Web API pushes each log entry
  signed (``DEVICE_LOGS``) as it becomes visible, to the hub's ``handle_webhook``;
- ``mqtt``: the same as ``web_log``, plus MQTT: the four locks (Smart Lock 3.0 Pro / 4th
  generation) publish their state and ``lockActionEvent`` to a broker process on 127.0.0.1
  (mosquitto when installed, else amqtt); the hub's MQTT source takes names from the Web API's
  authorizations. The Opener has no Wi-Fi: only the bridge and the log report it. This is the
  combination the hub is built for (sources combine: the first to name someone answers).
- ``mqtt_only``: MQTT alone, as for locks without a bridge and with the internet down: no
  bridge, no log; the Web API client only lists the authorizations (names). Only the four
  locks are judged (the hub cannot see the Opener). This one tests the MQTT matching itself:
  no log answers in its place. A knob turned by hand announces nothing, so it ends
  "unavailable" here (the log would name nobody).

The peers' strategies run in ``web_log`` worlds only: they read the log, whatever else the
hub is given. Answers from the log are judged by their entry, MQTT's by who they name
(`bench._truth_score`, `bench._truth_who`).
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._rig import WEB_TOKEN, running_hub
from bench._situations import Timeline, b7_knobs, build_world, play
from bench._strategies import HassNukiNg, Strategy, Yalexs
from bench._truth_score import Named, Verdict, failed_entry_delays, hub_answers, judge
from nukiasync import NukiWebClient
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    EventSource,
    LockStateChanged,
    LogEntryObserved,
    StateCorrected,
)
from nukiasync.hub.sources.log_watcher import AttributionTiming
from nukiasync.mqtt import MqttSettings
from tests.support.mqtt_broker import available, running_broker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bench._rig import Recorder, Rig
    from nukiasync.simulator import World

SOURCES = {
    "web_log": "bridge + Web API log (polled)",
    "webhook": "bridge + Web API log + webhooks",
    "mqtt": "bridge + Web API log + MQTT",
    "mqtt_only": "MQTT alone (Web API for names)",
}
SPEED = 10.0
SPACING = (6.0, 12.0)  # simulated s between steps
SETTLE = 120.0  # simulated s after the last step for every answer
DEADLINE = timedelta(seconds=AttributionTiming().deadline)
MOVING = frozenset({2, 4, 7})  # unlocking, locking, unlatching (Opener: opening)
PEERS = ("hass_nuki_ng", "yalexs")
STATE_SOURCES = frozenset({EventSource.BRIDGE_CALLBACK, EventSource.MQTT})


def broker_kind() -> str:
    """mosquitto when installed (fast, what users run), else the test extra's amqtt."""
    return "mosquitto" if available("mosquitto") else "amqtt"


def _hub_done(world: World, recorder: Recorder, *, log: bool = True) -> bool:
    """Every callback or MQTT state event answered and (``log``) every entry told or named."""
    wanted = {
        s.event.event_id
        for s in recorder.of(LockStateChanged)
        if s.event.attributable and s.event.source in STATE_SOURCES
    }
    answered = {
        s.event.state_event_id for s in recorder.of((ActionAttributed, AttributionUnavailable))
    }
    told = {s.event.log_entry_id for s in recorder.of((LogEntryObserved, ActionAttributed))}
    now = world.clock.now()
    entries = {r.log_id for r in world.journal if r.visible_at and r.visible_at <= now}
    return wanted <= answered and (not log or entries <= told)


@contextlib.asynccontextmanager
async def _broker(source: str, folder: str) -> AsyncIterator[str | None]:
    """A broker of its own for an MQTT world (hubs of other seeds would see its locks)."""
    if source not in {"mqtt", "mqtt_only"}:
        yield None
        return
    async with running_broker(broker_kind(), Path(folder)) as broker:
        yield broker.url()


async def run_seed(seed: int, steps: int, source: str) -> dict[str, Any]:
    """Play one seed's timeline against a hub with ``source``'s sources; verdicts and counts."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nukiasync-b7-") as folder:
        async with _broker(source, folder) as url:
            world = build_world(seed=seed, knobs=b7_knobs(), speed=SPEED, mqtt_url=url)
            mqtt = None if url is None else MqttSettings.from_url(url, client_id=f"b7-hub-{seed}")
            async with running_hub(
                world,
                speed=SPEED,
                state_file=str(Path(folder) / "state.json"),
                webhooks=source == "webhook",
                mqtt=mqtt,
                mqtt_only=source == "mqtt_only",
            ) as rig:
                found = await _in_world(world, rig, seed, steps, source)
    found["wall_s"] = time.perf_counter() - started
    return found


async def _in_world(world: World, rig: Rig, seed: int, steps: int, source: str) -> dict[str, Any]:
    common: dict[str, Any] = {"clock": world.clock.now, "sleep": rig.scaled_sleep}

    def client() -> NukiWebClient:
        return NukiWebClient(WEB_TOKEN, base_url=world.web_url)

    peers: dict[str, Strategy] = {}
    if source == "web_log":
        hass = HassNukiNg(client(), locks=[d.smartlock_id for d in world.devices], **common)
        peers = {"hass_nuki_ng": hass, "yalexs": Yalexs(client(), **common)}
        hass.start()
    for peer in peers.values():
        rig.subscribe(peer)
    requests_before = rig.web.request_count
    timeline = Timeline(world, random.Random(seed * 7919), rig.scaled_sleep, rig.restart)
    unsettled: list[str] = []
    try:
        await play(timeline, steps, SPACING)
        # Follow-ons still due (lock 'n' go) happen, then every answer comes.
        await rig.scaled_sleep(world.knobs.lock_n_go_delay + 5.0)
        recorder = rig.recorder
        try:
            log = source != "mqtt_only"
            await recorder.wait(lambda: _hub_done(world, recorder, log=log), SETTLE / SPEED)
        except TimeoutError:
            unsettled.append("hub")
        hub_requests = rig.web.request_count - requests_before
        for name, peer in peers.items():
            try:
                await peer.wait_answered(SETTLE / SPEED)
            except TimeoutError:
                unsettled.append(name)
    finally:
        for peer in peers.values():
            await peer.close()
    kinds = timeline.kinds
    states = [(s.event, s.sim) for s in recorder.of((LockStateChanged, StateCorrected))]
    observed = [s.event.log_entry_id for s in recorder.of(LogEntryObserved)]
    seen_by_hub = None
    if source == "mqtt_only":
        seen_by_hub = frozenset(d.smartlock_id for d in world.devices if d.mqtt)
    verdicts: dict[str, tuple[list[Verdict], int]] = {
        "hub": judge(
            world,
            states,
            hub_answers(recorder.seen),
            deadline=DEADLINE,
            situations=kinds,
            observed=observed,
            devices=seen_by_hub,
        )
    }
    requests = {"hub": hub_requests}
    for name, peer in peers.items():
        answers = {k: Named(entry_id=a.entry_id, at=a.at) for k, a in peer.answers.items()}
        seen = [(e, e.received_at) for e in peer.events]
        verdicts[name] = judge(world, seen, answers, deadline=DEADLINE, situations=kinds)
        requests[name] = peer.requests
    return {
        "seed": seed,
        "source": source,
        "verdicts": verdicts,
        "requests": requests,
        "actions": sum(1 for r in world.journal if r.state == 0),
        "failed_delays": failed_entry_delays(world, recorder.seen),
        "unsettled": unsettled,
        "restarts": rig.restarts,
        "unavailable_reasons": Counter(
            str(s.event.reason) for s in recorder.of(AttributionUnavailable)
        ),
        "answered_by": Counter(str(s.event.source) for s in recorder.of(ActionAttributed)),
        "corrections": Counter(
            "to a moving state" if s.event.state in MOVING else "settled"
            for s in recorder.of(StateCorrected)
        ),
        "misses": misses(world, verdicts["hub"][0]),
        "simulated_s": (world.clock.now() - world.created).total_seconds(),
    }


def misses(world: World, verdicts: list[Verdict]) -> list[str]:
    """The hub's wrong names and counted misses, told so that a reader can replay them."""
    records = {r.log_id: r for r in world.journal}
    told = []
    for verdict in verdicts:
        told_anyway = verdict.verdict in {"wrong", "repeat"}
        if verdict.verdict == "right" or not (verdict.counted or told_anyway):
            continue
        change = world.changes[verdict.change - 1]
        named = records.get(verdict.named)
        what = f"named seq {named.seq} ({named.person}, action {named.action})" if named else ""
        if verdict.by == "actor":
            what = f"named {verdict.named} (judged by who)"
        told.append(
            f"{verdict.verdict} [{verdict.situation}] change {change.seq} {change.lock} "
            f"{change.before}->{change.after} ({change.kind}, {change.person}, record "
            f"{change.record_seq}, callbacks {change.callbacks_posted}/lost "
            f"{change.callbacks_lost}) {what}".rstrip()
        )
    return told
