"""Forged callbacks from the bridge's own address, under each confirm policy (issue 14).

Anyone on the LAN who can send from the bridge's address and knows the callback URL (the
path secret travels in clear) can POST a callback. Each forgery here is POSTed over a real
socket from 127.0.0.1 (the allowed source) to the hub's own `CallbackServer`, with the
simulated bridge behind it; each starts from the device's true callback body and lies
about one thing, as a careful forger would. The exact events a consumer sees for the
attacked device are asserted:

- ``off``: the lie, as it came;
- ``background``: the lie, then a correction naming it (per field, or "no such device");
- ``before_emit``: nothing at all.

A retracted change must never be attributed, nor answered "unavailable": after the hub
closes (which answers every change still pending), no outcome names a forged event except
under ``off``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    BatteryChanged,
    ClaimCorrected,
    DeviceRetracted,
    DoorSensorChanged,
    LockStateChanged,
    NukiEvent,
    RingActionReceived,
    StateCorrected,
)
from tests.support import canary
from tests.support.hub import BACK, ENTRANCE, FRONT, Recorder, counters, running, state_of

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.sockets

POLICIES = ("off", "background", "before_emit")
PHANTOM = (4 << 32) | 0x0BADBEEF
WRONG_TYPE = (2 << 32) | 0x1A2B3C4D  # the Front door's nukiId, claimed as an Opener
FACTS = (LockStateChanged, DoorSensorChanged, BatteryChanged, RingActionReceived)
CORRECTIONS = (StateCorrected, ClaimCorrected, DeviceRetracted)
RING_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def summary(events: list[NukiEvent], sid: int) -> list[tuple[Any, ...]]:
    """What a consumer saw about one device, facts and corrections, in order."""
    ids = {e.event_id for e in events if isinstance(e, FACTS) and e.smartlock_id == sid}
    out: list[tuple[Any, ...]] = []
    for e in events:
        if e.smartlock_id != sid:
            continue
        if isinstance(e, LockStateChanged):
            out.append(("state", e.state, e.mode, e.confirmed))
        elif isinstance(e, DoorSensorChanged):
            out.append(("door", e.state_code, e.confirmed))
        elif isinstance(e, BatteryChanged):
            out.append(("battery", e.battery_critical, e.battery_charge_state, e.confirmed))
        elif isinstance(e, RingActionReceived):
            out.append(("ring", e.confirmed))
        elif isinstance(e, DeviceRetracted):  # before StateCorrected: they derive from it
            assert (e.field, e.state, e.state_event_id) == ("device", -1, e.retracted_event_ids[0])
            out.append(("retracted", len(e.retracted_event_ids), set(e.retracted_event_ids) == ids))
        elif isinstance(e, ClaimCorrected):
            assert e.wrong_state == e.state  # the lock state was right
            named = e.state_event_id in ids
            out.append(("corrected", e.field, e.claimed, e.actual, named))
        elif isinstance(e, StateCorrected):
            assert (e.field, e.claimed, e.actual) == ("state", e.wrong_state, e.state)
            out.append(("corrected", "state", e.wrong_state, e.state, e.state_event_id in ids))
    return out


def outcomes_for(events: list[NukiEvent], event_ids: set[str]) -> list[NukiEvent]:
    return [
        e
        for e in events
        if isinstance(e, ActionAttributed | AttributionUnavailable)
        and e.state_event_id in event_ids
    ]


def body_of(world: Any, name: str, **changes: Any) -> dict[str, Any]:
    return {**world.device(name).callback_body(), **changes}


# name: (device, forged body, {policy: expected summary})
SCENARIOS: dict[str, tuple[int, Callable[[Any], dict[str, Any]], dict[str, list[Any]]]] = {
    "state": (
        FRONT,
        lambda w: body_of(w, "Front door", state=3, stateName="unlocked"),
        {
            "off": [("state", 3, 2, None)],
            "background": [("state", 3, 2, None), ("corrected", "state", 3, 1, True)],
        },
    ),
    "mode": (  # the Opener's true state, continuous mode: it opens for anyone who rings
        ENTRANCE,
        lambda w: body_of(w, "Entrance", mode=3),
        {
            "off": [("state", 1, 3, None)],
            "background": [("state", 1, 3, None), ("corrected", "mode", 3, 2, True)],
        },
    ),
    "door": (
        FRONT,
        lambda w: body_of(w, "Front door", doorsensorState=3, doorsensorStateName="door opened"),
        {
            "off": [("door", 3, None)],
            "background": [("door", 3, None), ("corrected", "door_sensor", 3, 2, True)],
        },
    ),
    "battery": (
        FRONT,
        lambda w: body_of(w, "Front door", batteryCritical=True, batteryChargeState=5),
        {
            "off": [("battery", True, 5, None)],
            "background": [
                ("battery", True, 5, None),
                ("corrected", "battery_charge_state", 5, 87, True),
                ("corrected", "battery_critical", True, False, True),
            ],
        },
    ),
    "keypad_battery": (
        FRONT,
        lambda w: body_of(w, "Front door", keypadBatteryCritical=True),
        {
            "off": [("battery", False, 87, None)],
            "background": [
                ("battery", False, 87, None),
                ("corrected", "keypad_battery_critical", True, False, True),
            ],
        },
    ),
    "ring": (
        ENTRANCE,
        lambda w: body_of(
            w, "Entrance", ringactionTimestamp="2026-01-01T12:00:00+00:00", ringactionState=True
        ),
        {
            "off": [("ring", None)],
            "background": [("ring", None), ("corrected", "ring", RING_AT, None, True)],
        },
    ),
    "phantom": (
        PHANTOM,
        lambda _w: {
            "deviceType": 4,
            "nukiId": 0x0BADBEEF,
            "mode": 2,
            "state": 3,
            "stateName": "unlocked",
            "batteryCritical": False,
        },
        {
            "off": [("state", 3, 2, None)],
            "background": [("state", 3, 2, None), ("retracted", 1, True)],
        },
    ),
    "wrong_device_type": (
        WRONG_TYPE,
        lambda w: body_of(w, "Front door", deviceType=2, state=3, stateName="rto active"),
        {
            "off": [("state", 3, 2, None), ("door", 2, None)],
            "background": [("state", 3, 2, None), ("door", 2, None), ("retracted", 2, True)],
        },
    ),
}


class Forger:
    """POSTs forged bodies to the hub's registered callback URL from the bridge's address."""

    def __init__(self, world: Any, session: aiohttp.ClientSession) -> None:
        self.url = world.bridge.callbacks[0][1]
        canary.register(urlsplit(self.url).path.rsplit("/", 1)[1])
        self.session = session

    async def post(self, body: dict[str, Any]) -> int:
        async with self.session.post(self.url, data=json.dumps(body).encode()) as response:
            await response.read()
            return response.status


def forger_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.1", 0), force_close=True)
    return aiohttp.ClientSession(connector=connector)


async def settle(world: Any, rec: Recorder, policy: str, sid: int) -> None:
    """Wait until the hub has dealt with the forgery: a real change on another door
    comes after it in the callback queue, and a background correction names it."""
    await world.person("Alice").unlock("Back door", via="app")
    await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == BACK)
    if policy == "background":
        await rec.wait(lambda e: isinstance(e, CORRECTIONS) and e.smartlock_id == sid)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_forgery(scenario: str, policy: str) -> None:
    sid, make_body, expected = SCENARIOS[scenario]
    async with running(confirm=policy) as (world, hub, rec), forger_session() as session:
        forger = Forger(world, session)
        assert await forger.post(make_body(world)) == 200
        await settle(world, rec, policy, sid)
    seen = summary(rec.events, sid)
    assert seen == expected.get(policy, []), seen
    forged_ids = {e.event_id for e in rec.events if isinstance(e, FACTS) and e.smartlock_id == sid}
    outcomes = outcomes_for(rec.events, forged_ids)
    if policy == "off":  # trusted: pending, then answered "unavailable" at the latest
        assert all(isinstance(o, AttributionUnavailable) for o in outcomes)
    else:
        assert outcomes == []  # retracted: never attributed, never "unavailable"
    if policy == "before_emit":
        assert counters(hub)["rejected_contradicted"] == 1
        assert counters(hub)["corrections"] == 0
    if policy == "background":
        assert counters(hub)["corrections"] == sum(s[0] in {"corrected", "retracted"} for s in seen)
    if scenario in {"phantom", "wrong_device_type"} and policy != "off":
        assert sid not in {d["smartlock_id"] for d in hub.diagnostics()["devices"]}


@pytest.mark.parametrize("policy", POLICIES)
async def test_forged_old_state_right_after_a_genuine_change(policy: str) -> None:
    """Alice unlocks; a forger then claims the door is locked again."""
    async with running(confirm=policy) as (world, hub, rec), forger_session() as session:
        forger = Forger(world, session)
        await world.person("Alice").unlock("Front door", via="app")
        real = await rec.wait(
            lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == FRONT and e.state == 3
        )
        assert await forger.post(body_of(world, "Front door", state=1, stateName="locked")) == 200
        await settle(world, rec, policy, FRONT)
        who = await rec.wait(
            lambda e: isinstance(e, ActionAttributed) and e.state_event_id == real.event_id
        )
        assert who.actor.name == "Alice"
    states = [s for s in summary(rec.events, FRONT) if s[0] in {"state", "corrected"}]
    tail = {
        "off": [("state", 1, 2, None)],
        "background": [("state", 1, 2, None), ("corrected", "state", 1, 3, True)],
        "before_emit": [("state", 3, 2, True)],  # the genuine change, nothing after it
    }[policy]
    assert states[len(states) - len(tail) :] == tail
    assert state_of(hub, FRONT) == ("locked" if policy == "off" else "unlocked")
    names = {e.actor.name for e in rec.events if isinstance(e, ActionAttributed)}
    assert names <= {"Alice"}


@pytest.mark.parametrize("policy", POLICIES)
async def test_forged_change_racing_a_genuine_one(policy: str) -> None:
    """A forger claims "unlocked" while Alice really unlocks: whichever the bridge shows
    first, the name goes to a true event, and no retracted event gets an outcome."""
    async with running(confirm=policy) as (world, hub, rec), forger_session() as session:
        forger = Forger(world, session)
        forged = body_of(world, "Front door", state=3, stateName="unlocked")
        statuses = await asyncio.gather(
            forger.post(forged), world.person("Alice").unlock("Front door", via="app")
        )
        assert statuses[0] == 200
        who = await rec.wait(lambda e: isinstance(e, ActionAttributed) and e.smartlock_id == FRONT)
        await settle(world, rec, "off", FRONT)
        assert state_of(hub, FRONT) == "unlocked"
    retracted = {e.state_event_id for e in rec.of(StateCorrected)}
    assert who.actor.name == "Alice"
    assert who.state_event_id not in retracted
    target = next(e for e in rec.events if e.event_id == who.state_event_id)
    assert isinstance(target, LockStateChanged)
    assert target.state in {2, 3}
    assert outcomes_for(rec.events, retracted - {None}) == []
    assert {e.actor.name for e in rec.of(ActionAttributed)} == {"Alice"}
    if policy == "before_emit":
        facts = [e for e in rec.events if isinstance(e, FACTS) and e.smartlock_id == FRONT]
        assert facts
        assert all(e.confirmed is True for e in facts)
        assert not [e for e in rec.events if isinstance(e, CORRECTIONS)]


async def test_without_web_api_a_forgery_gets_no_answer_but_a_real_change_does() -> None:
    async with running(web=False) as (world, _hub, rec), forger_session() as session:
        forger = Forger(world, session)
        assert await forger.post(body_of(world, "Front door", state=3, stateName="x")) == 200
        await settle(world, rec, "background", FRONT)
        real = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == BACK)
        answer = await rec.wait(
            lambda e: isinstance(e, AttributionUnavailable) and e.state_event_id == real.event_id
        )
    assert answer.reason.value == "no_web_api"
    forged = {e.event_id for e in rec.events if isinstance(e, FACTS) and e.smartlock_id == FRONT}
    assert forged
    assert outcomes_for(rec.events, forged) == []
