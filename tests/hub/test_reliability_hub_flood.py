"""Floods into a running hub (G7, G8, G9): spoofs from the allowed source that the bridge
contradicts, and a legit flood of distinct states, through `hub.handle_callback` and the
hub's own `CallbackServer`. Bridge reads are counted at the simulated bridge (its debug log
has one line per request served; ``rejected_busy`` counts requests that met another).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from urllib.parse import urlsplit

import pytest

from nukiasync.events import BatteryChanged, LockStateChanged, StateCorrected
from tests.soak.harness import flood, watch
from tests.soak.hub_harness import hub_on_world
from tests.support import canary
from tests.support.hub import FRONT, TIMING, counters, state_of

pytestmark = pytest.mark.sockets

FLOOD_SECONDS = float(os.environ.get("NUKIASYNC_FLOOD_SECONDS", "10"))
FRONT_NUKI = 0x1A2B3C4D
BACK_NUKI = 0x2B3C4D5E
HUB_SOURCE = "127.0.0.1"  # the hub allows the bridge's own address


def spoof(n: int) -> bytes:
    """The Front door unlocked / unlatched: the bridge says locked."""
    state = (3, 5)[n % 2]
    return json.dumps(
        {"deviceType": 4, "nukiId": FRONT_NUKI, "mode": 2, "state": state, "stateName": "x",
         "batteryCritical": False}
    ).encode()  # fmt: skip


def list_calls(world) -> int:
    return sum(1 for entry in world.bridge.debug_log if entry["type"] == "HTTP-list")


def callback_url(world) -> str:
    url = world.bridge.callbacks[0][1]
    canary.register(urlsplit(url).path.rsplit("/", 1)[1])
    return url


def corrected_last(events) -> bool:
    """The last Front door event is a correction: the bridge's word stands."""
    front = [e for e in events.events if getattr(e, "smartlock_id", None) == FRONT]
    return bool(front) and isinstance(front[-1], StateCorrected)


async def test_spoof_flood_background_is_corrected_per_read() -> None:
    """G7/G8, default policy: coalesced reads, at most one correction per read, each naming
    the false event the hub still believed (earlier ones were moved on from by later ones)."""
    async with hub_on_world(timing=TIMING) as rig:
        world, hub, events = rig.world, rig.hub, rig.events
        reads_before = list_calls(world)
        direct = [await hub.handle_callback(spoof(n), "127.0.0.1") for n in range(100)]
        result = await flood(callback_url(world), rate=200, duration=1.5, body=spoof,
                             source=HUB_SOURCE)  # fmt: skip
        sent = len(direct) + result.sent
        await events.until(
            lambda: (
                counters(hub)["emitted"] + counters(hub)["deduplicated"] >= sent
                and corrected_last(events)
            ),
            8.0,
        )
        reads = list_calls(world) - reads_before
        corrected = events.of(StateCorrected)
    print(  # noqa: T201
        f"\nG7/G8 hub spoof flood (background): {sent} spoofs, {reads} /list reads, "
        f"{len(corrected)} StateCorrected, busy answers {world.bridge.rejected_busy}"
    )
    assert direct == [200] * 100
    assert result.statuses == {200: result.sent}
    assert world.bridge.rejected_busy == 0  # never two requests at the bridge at once
    assert reads <= (1.5 + 2.0) / 0.5 + 3  # coalesced: one read per interval at most
    states = {e.event_id for e in events.of(LockStateChanged) if e.smartlock_id == FRONT}
    assert counters(hub)["corrections"] == len(corrected) <= reads
    assert {c.state_event_id for c in corrected} <= states
    assert all(c.state == 1 and c.smartlock_id == FRONT for c in corrected)
    assert state_of(hub, FRONT) == "locked"  # the bridge's word stands at the end


async def test_spoof_flood_before_emit_emits_nothing_contradicted() -> None:
    """G7/G8 with before_emit: no contradicted state emitted, reads coalesced."""
    async with hub_on_world(timing=TIMING, confirm="before_emit") as rig:
        world, hub = rig.world, rig.hub
        reads_before = list_calls(world)
        result = await flood(callback_url(world), rate=200, duration=0.5, body=spoof,
                             source=HUB_SOURCE)  # fmt: skip
        with contextlib.suppress(TimeoutError):
            await rig.events.until(
                lambda: (
                    counters(hub)["rejected_contradicted"] + counters(hub)["deduplicated"]
                    >= result.sent
                ),
                3.0,
            )
        reads = list_calls(world) - reads_before
        print(  # noqa: T201
            f"\nG7/G8 hub spoof flood (before_emit): {result.sent} spoofs, {reads} reads, "
            f"{counters(hub)}"
        )
        assert not [e for e in rig.events.of(LockStateChanged) if e.smartlock_id == FRONT]
        assert counters(hub)["rejected_contradicted"] + counters(hub)["deduplicated"] == result.sent
        assert reads <= (0.5 + 3.0) / 0.5 + 3


async def test_before_emit_few_spoofs_are_refused() -> None:
    """G7 with before_emit at a bridge's pace: contradicted states are never emitted."""
    async with hub_on_world(timing=TIMING, confirm="before_emit") as rig:
        world, hub = rig.world, rig.hub
        statuses = [await hub.handle_callback(spoof(n), "127.0.0.1") for n in range(4)]
        await world.person("Alice").unlock("Back door", via="app")  # a real one, after
        await rig.events.until(
            lambda: any(e.smartlock_id != FRONT for e in rig.events.of(LockStateChanged)), 8.0
        )
    assert statuses == [200] * 4
    assert not [e for e in rig.events.of(LockStateChanged) if e.smartlock_id == FRONT]
    assert counters(hub)["rejected_contradicted"] == 4
    assert world.bridge.rejected_busy == 0


def distinct(n: int) -> bytes:
    """The n-th legit body: Front and Back door take turns, each never repeating its state."""
    nuki, device_type = ((FRONT_NUKI, 4), (BACK_NUKI, 0))[n % 2]
    state = (1, 2, 3, 4, 5, 6, 7)[(n // 2) % 7]
    return json.dumps(
        {"deviceType": device_type, "nukiId": nuki, "mode": 2, "state": state,
         "stateName": "x", "batteryCritical": False, "batteryChargeState": 60}
    ).encode()  # fmt: skip


async def test_legit_flood_accounting_holds_through_the_hub() -> None:
    """G9 at hub level: 200 distinct-state callbacks/s for 10 s through the CallbackServer."""
    loop = asyncio.get_running_loop()
    async with hub_on_world(timing=TIMING) as rig:
        hub = rig.hub
        with watch(loop) as seen:
            result = await flood(callback_url(rig.world), rate=200, duration=FLOOD_SECONDS,
                                 body=distinct, source=HUB_SOURCE)  # fmt: skip
            taken = ("emitted", "deduplicated", "rejected_contradicted", "rejected_unconfirmed")
            await rig.events.until(
                lambda: sum(counters(hub)[k] for k in taken) >= result.sent,
                10.0,
            )
        assert rig.server is not None
        stats = rig.server.receiver("bridge").stats
        counted = counters(hub)
        reads = list_calls(rig.world)
    print(  # noqa: T201
        f"\nG9 hub flood: {result.summary()}; receiver {stats}; hub {counted}; {reads} /list reads"
    )
    assert result.rate >= 0.95 * 200
    assert result.statuses == {200: result.sent}
    assert not result.errors
    assert stats.received == stats.accepted + stats.rejected_total == result.sent
    handled = (
        counted["emitted"] + counted["deduplicated"] + counted["rejected_contradicted"]
        + counted["rejected_unconfirmed"]
    )  # fmt: skip
    assert stats.accepted == handled == result.sent
    # A callback emits a state and/or a battery event (60 % here, 87 % on the bridge).
    states, batteries = len(rig.events.of(LockStateChanged)), len(rig.events.of(BatteryChanged))
    assert states <= counted["emitted"] <= states + batteries
    assert not seen.unhandled, seen.describe()
    assert not list(seen.records), seen.describe()
