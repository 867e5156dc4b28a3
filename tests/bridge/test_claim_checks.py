"""Field-by-field verdicts (claims.py) and what the hub does with them (hub/confirm.py).

The rules are pure and tested on their own; `ClaimChecks` is driven with a stand-in for
the bridge's ``/list`` (the read is its only seam), so the cases that a forger cannot
stage deterministically over sockets are exact here: a ring older than the read, a field
the read does not report, a read that fails, a true state with a false battery.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from nukiasync.bridge.callbacks import BridgeCallback
from nukiasync.bridge.claims import (
    ClaimField,
    ClaimVerdict,
    Confirmation,
    DeviceSnapshot,
    StateClaim,
    verdict_of,
)
from nukiasync.bridge.models import BridgeDevice
from nukiasync.bridge.transitions import near_path, on_shortest_path
from nukiasync.cli.output import EventPrinter
from nukiasync.clock import ClockPair
from nukiasync.const import LockState as L
from nukiasync.errors import NukiConnectionError
from nukiasync.events import (
    BatteryChanged,
    ClaimCorrected,
    DeviceRetracted,
    EventSource,
    LockStateChanged,
    NukiEvent,
    RingActionReceived,
    StateCorrected,
    event_to_dict,
)
from nukiasync.hub.confirm import ClaimChecks
from nukiasync.hub.devices import DeviceTable, HubCounters
from nukiasync.hub.fields import record_value, set_record_value

OPENER_ID = 0x1E5FE23A
OPENER = (2 << 32) | OPENER_ID
LOCK_ID = 0x1A2B3C4D
LOCK = (4 << 32) | LOCK_ID
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
C = Confirmation


def ring_claim(at: datetime | None) -> StateClaim:
    return StateClaim(
        smartlock_id=OPENER, device_type=2, state=1, ringaction_timestamp=at,
        fields=frozenset({ClaimField.RING}),
    )  # fmt: skip


def snap(ring: datetime | None = None, **values: Any) -> DeviceSnapshot:
    return DeviceSnapshot(state=values.pop("state", 1), ringaction_timestamp=ring, **values)


@pytest.mark.parametrize(
    ("claimed", "before", "after", "expected"),
    [
        (T0, snap(None), snap(T0), C.CONFIRMED),
        (T0, snap(T0 - timedelta(minutes=1)), snap(T0 + timedelta(seconds=5)), C.SUPERSEDED),
        (T0, None, snap(T0 + timedelta(seconds=5)), C.SUPERSEDED),  # nothing known before
        (T0, snap(T0), snap(T0 + timedelta(seconds=5)), C.CONTRADICTED),  # not new
        (T0, snap(None), snap(None), C.CONTRADICTED),  # the bridge knows no ring
        (T0, snap(None), snap(T0 - timedelta(seconds=5)), C.CONTRADICTED),  # from the future
        (None, snap(None), snap(T0), C.CONTRADICTED),
    ],
)
def test_ring_verdicts(
    claimed: datetime | None,
    before: DeviceSnapshot | None,
    after: DeviceSnapshot,
    expected: Confirmation,
) -> None:
    verdict = verdict_of(ring_claim(claimed), before, after, on_shortest_path)
    assert verdict.fields == {ClaimField.RING: expected}


def test_each_field_on_its_own() -> None:
    claim = StateClaim(
        smartlock_id=LOCK, device_type=4, state=1, mode=3, door_sensor_state=2,
        battery_critical=False, battery_charge_state=87, keypad_battery_critical=True,
    )  # fmt: skip
    after = DeviceSnapshot(
        state=1, mode=2, door_sensor_state=2, battery_critical=False, battery_charge_state=87
    )
    verdict = verdict_of(claim, None, after, on_shortest_path)
    assert verdict.fields == {
        ClaimField.STATE: C.CONFIRMED,
        ClaimField.MODE: C.CONTRADICTED,  # a true state cannot carry a false mode
        ClaimField.DOOR_SENSOR: C.CONFIRMED,
        ClaimField.BATTERY_CRITICAL: C.CONFIRMED,
        ClaimField.BATTERY_CHARGE_STATE: C.CONFIRMED,
        ClaimField.KEYPAD_BATTERY_CRITICAL: C.UNCONFIRMED,  # the read does not report it
    }
    assert verdict.overall is C.CONTRADICTED
    assert verdict.with_result(C.CONTRADICTED) == {ClaimField.MODE}
    assert verdict_of(claim, None, None, on_shortest_path).listed is False


def test_overall_and_defaults() -> None:
    claim = StateClaim(smartlock_id=LOCK, device_type=4, state=1)
    assert claim.checked() == {ClaimField.STATE}
    assert ClaimVerdict.every(claim, C.SKIPPED).overall is C.SKIPPED
    assert ClaimVerdict.every(claim, C.UNCONFIRMED).overall is C.UNCONFIRMED
    assert ClaimVerdict(fields={ClaimField.RING: C.SUPERSEDED}).overall is C.UNCONFIRMED
    assert ClaimVerdict(fields={}).overall is C.CONFIRMED


def test_snapshot_of_a_list_entry() -> None:
    device = BridgeDevice.from_api(
        {"nukiId": OPENER_ID, "deviceType": 2, "name": "Entrance",
         "lastKnownState": {"mode": 2, "state": 1, "batteryCritical": False,
                            "ringactionTimestamp": "2026-01-01T12:00:00+00:00"}}
    )  # fmt: skip
    snapshot = DeviceSnapshot.of(device)
    assert snapshot == DeviceSnapshot(
        state=1, mode=2, battery_critical=False, ringaction_timestamp=T0
    )
    bare = BridgeDevice.from_api({"nukiId": OPENER_ID, "deviceType": 2, "name": "x"})
    assert DeviceSnapshot.of(bare) is None


class Bridge:
    """The bridge's truth, read as ``/list`` would show it."""

    def __init__(self, **devices: DeviceSnapshot) -> None:
        self.truth = {OPENER if k == "opener" else LOCK: v for k, v in devices.items()}
        self.fail = False
        self.reads = 0
        self.primed = asyncio.Event()

    async def read(self) -> dict[int, DeviceSnapshot]:
        self.reads += 1
        self.primed.set()
        if self.fail:
            raise NukiConnectionError("bridge away")
        return dict(self.truth)


class Rig:
    def __init__(self, policy: str, bridge: Bridge) -> None:
        self.bridge = bridge
        self.devices = DeviceTable()
        self.counters = HubCounters()
        self.events: list[NukiEvent] = []
        self.retracted: list[str] = []
        self.attributed: list[str] = []
        self.unconfirmed: list[str] = []
        self.changed = asyncio.Event()
        self.checks = ClaimChecks(
            policy,  # type: ignore[arg-type]
            self.devices,
            self.counters,
            publish=self.publish,  # ClaimChecks applies each diff to the table itself
            attribute=self.attribute,
            retract=lambda cid: self.retracted.append(cid) is None,
            on_unconfirmed=self.unconfirmed.append,
            clock=ClockPair(wall=self.now),
        )
        self.ticks = 0

    def now(self) -> datetime:
        """T0, then a millisecond later at each call: distinct event ids."""
        self.ticks += 1
        return T0 + timedelta(milliseconds=self.ticks - 1)

    def attribute(self, changes: Any) -> None:
        self.attributed.extend(change.change_id for change, _ in changes)
        self.changed.set()

    def publish(self, event: NukiEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def start(self, **seed: Any) -> None:
        for sid, snapshot in self.bridge.truth.items():
            record = self.devices.get(sid)
            record.state, record.mode = snapshot.state, snapshot.mode
            record.ring_at = snapshot.ringaction_timestamp
            record.battery = (snapshot.battery_critical, None, snapshot.battery_charge_state, None)
        await self.checks.add_bridge("b", self.bridge.read, min_interval=0.0)
        async with asyncio.timeout(3):
            await self.bridge.primed.wait()  # the snapshot "before" any claim
        await asyncio.sleep(0)  # and the confirmer took it in

    async def wait_for(self, cls: type[NukiEvent]) -> Any:
        async with asyncio.timeout(3):
            while not [e for e in self.events if isinstance(e, cls)]:
                self.changed.clear()
                await self.changed.wait()
        return next(e for e in self.events if isinstance(e, cls))


def callback(sid: int, **values: Any) -> BridgeCallback:
    nuki, kind = (OPENER_ID, 2) if sid == OPENER else (LOCK_ID, 4)
    return BridgeCallback.from_api({"nukiId": nuki, "deviceType": kind, **values})


async def test_before_emit_marks_a_superseded_ring_unconfirmed() -> None:
    bridge = Bridge(opener=snap(T0 - timedelta(minutes=5), mode=2))
    rig = Rig("before_emit", bridge)
    await rig.start()
    bridge.truth[OPENER] = snap(T0 + timedelta(seconds=3), mode=2)  # a later ring came
    rig.checks.take(
        "b", callback(OPENER, state=1, mode=2, ringactionTimestamp="2026-01-01T12:00:00+00:00",
                      ringactionState=True)
    )  # fmt: skip
    await rig.checks.settled()
    rings = [e for e in rig.events if isinstance(e, RingActionReceived)]
    assert [(r.ringaction_timestamp, r.confirmed) for r in rings] == [(T0, False)]
    assert rig.counters.rejected_contradicted == rig.counters.rejected_unconfirmed == 0
    await rig.checks.close()


async def test_before_emit_emits_the_true_state_without_the_false_battery() -> None:
    bridge = Bridge(lock=snap(state=1, mode=2, battery_critical=False, battery_charge_state=87))
    rig = Rig("before_emit", bridge)
    await rig.start()
    bridge.truth[LOCK] = attrs.evolve(bridge.truth[LOCK], state=3)  # really unlocked
    rig.checks.take(
        "b", callback(LOCK, state=3, mode=2, batteryCritical=True, batteryChargeState=5)
    )
    await rig.checks.settled()
    assert [(type(e), e.confirmed) for e in rig.events] == [(LockStateChanged, True)]  # type: ignore[attr-defined]
    assert rig.counters.rejected_contradicted == 1
    assert rig.devices.get(LOCK).battery == (False, None, 87, None)
    assert rig.devices.get(LOCK).state == 3
    await rig.checks.close()


async def test_before_emit_holds_back_when_the_bridge_does_not_answer() -> None:
    bridge = Bridge(lock=snap(state=1, mode=2))
    rig = Rig("before_emit", bridge)
    await rig.start()
    bridge.fail = True
    rig.checks.take("b", callback(LOCK, state=3, mode=2))
    await rig.checks.settled()
    assert rig.events == []
    assert rig.counters.rejected_unconfirmed == 1
    assert rig.unconfirmed == ["b"]
    await rig.checks.close()


async def test_background_corrects_a_field_and_names_the_event() -> None:
    bridge = Bridge(lock=snap(state=1, mode=2, battery_critical=False, battery_charge_state=87))
    rig = Rig("background", bridge)
    await rig.start()
    rig.checks.take("b", callback(LOCK, state=1, mode=2, batteryChargeState=5))
    correction = await rig.wait_for(ClaimCorrected)
    battery = next(e for e in rig.events if isinstance(e, BatteryChanged))
    assert correction.state_event_id == battery.event_id
    assert isinstance(correction, StateCorrected)  # one type to match for every correction
    assert correction.wrong_state == correction.state == 1
    assert (correction.field, correction.claimed, correction.actual) == (
        "battery_charge_state", 5, 87
    )  # fmt: skip
    assert rig.retracted == [battery.event_id]
    assert rig.devices.get(LOCK).battery == (False, None, 87, None)
    await rig.checks.close()


async def test_background_leaves_what_the_read_does_not_report() -> None:
    bridge = Bridge(lock=snap(state=1, mode=2))  # no keypad battery in /list
    rig = Rig("background", bridge)
    await rig.start()
    rig.devices.get(LOCK).battery = (None, None, None, False)
    rig.checks.take("b", callback(LOCK, state=1, mode=2, keypadBatteryCritical=True))
    rig.checks.take("b", callback(LOCK, state=3, mode=2))  # a later claim, contradicted
    await rig.wait_for(StateCorrected)  # read after both claims
    assert not [e for e in rig.events if isinstance(e, ClaimCorrected)]
    assert rig.counters.corrections == 1  # the state only
    await rig.checks.close()


def test_record_values() -> None:
    devices = DeviceTable()
    record = devices.get(LOCK)
    assert record_value(record, ClaimField.BATTERY_CRITICAL) is None
    set_record_value(record, ClaimField.BATTERY_CHARGE_STATE, 40)
    assert record.battery == (None, None, 40, None)
    set_record_value(record, ClaimField.MODE, 3)
    assert record_value(record, ClaimField.MODE) == 3


def test_corrections_print_and_serialise() -> None:
    printer = EventPrinter(io.StringIO())
    common: dict[str, Any] = {
        "event_id": "x", "received_at": T0, "source": EventSource.BRIDGE_POLL,
        "smartlock_id": OPENER, "device_name": "Entrance",
    }  # fmt: skip
    truth = {"wrong_state": 1, "state": 1, "state_name": "online"}
    ring = ClaimCorrected(
        field="ring", claimed=T0, actual=None, state_event_id="ring-1", **truth, **common
    )
    gone = DeviceRetracted(
        field="device", state_event_id="state-1", retracted_event_ids=("state-1", "door-1"),
        wrong_state=1, state=-1, state_name="no_such_device", **common,
    )  # fmt: skip
    assert "ring corrected" in printer.describe(ring)
    assert "no such device" in printer.describe(gone)
    assert json.loads(json.dumps(event_to_dict(ring)))["claimed"] == T0.isoformat()
    assert json.loads(json.dumps(event_to_dict(gone)))["retracted_event_ids"] == [
        "state-1", "door-1"
    ]  # fmt: skip


async def test_before_emit_a_field_list_does_not_report_is_not_the_bridges_fault() -> None:
    bridge = Bridge(lock=snap(state=1, mode=2))  # no keypad battery in /list
    rig = Rig("before_emit", bridge)
    await rig.start()
    bridge.truth[LOCK] = attrs.evolve(bridge.truth[LOCK], state=3)
    rig.checks.take("b", callback(LOCK, state=3, mode=2, keypadBatteryCritical=True))
    await rig.checks.settled()
    assert [(type(e), e.confirmed) for e in rig.events] == [(LockStateChanged, True)]  # type: ignore[attr-defined]
    assert rig.counters.unverifiable == 1
    assert rig.counters.rejected_unconfirmed == rig.counters.rejected_contradicted == 0
    assert rig.unconfirmed == []  # no "bridge unavailable" for a field it never reports
    await rig.checks.close()


async def test_background_asks_who_only_after_the_bridge_agrees() -> None:
    bridge = Bridge(lock=snap(state=1, mode=2))
    rig = Rig("background", bridge)
    await rig.start()
    rig.checks.take("b", callback(LOCK, state=3, mode=2))  # forged: the bridge says locked
    false = await rig.wait_for(LockStateChanged)
    assert rig.attributed == []  # not before the read
    await rig.wait_for(StateCorrected)
    assert rig.attributed == []  # and never: it was false
    bridge.truth[LOCK] = snap(state=3, mode=2)  # then Alice really unlocks
    rig.checks.take("b", callback(LOCK, state=3, mode=2))
    async with asyncio.timeout(3):
        while not rig.attributed:
            rig.changed.clear()
            await rig.changed.wait()
    true = [e for e in rig.events if isinstance(e, LockStateChanged)][-1]
    assert rig.attributed == [true.event_id] != [false.event_id]
    await rig.checks.close()


@pytest.mark.parametrize(
    ("old", "claimed", "new", "expected"),
    [
        (L.LOCKED, L.UNLATCHED, L.UNLOCKED, True),  # an unlatch, seen when it ended
        (L.LOCKED, L.UNLATCHING, L.UNLOCKED, True),
        (L.LOCKED, L.UNLOCKED, L.LOCKED, False),  # nothing changed: a lie
        (L.LOCKED, L.LOCKED, L.UNLOCKED, False),
        (L.LOCKED, 42, L.UNLOCKED, False),
        (L.UNLOCKED, L.UNLATCHED, L.LOCKED, False),  # far off any way there
    ],
)
def test_near_path(old: int, claimed: int, new: int, expected: bool) -> None:
    assert near_path(4, old, claimed, new) is expected


async def test_an_unlatch_seen_when_it_ended_is_neither_emitted_nor_corrected() -> None:
    for policy in ("before_emit", "background"):
        bridge = Bridge(lock=snap(state=L.LOCKED, mode=2))
        rig = Rig(policy, bridge)
        await rig.start()
        bridge.truth[LOCK] = snap(state=L.UNLOCKED, mode=2)  # the unlatch is over
        rig.checks.take("b", callback(LOCK, state=L.UNLATCHED, mode=2))
        await rig.checks.settled()
        if policy == "background":  # asked once the read answered
            async with asyncio.timeout(3):
                while not rig.attributed:
                    rig.changed.clear()
                    await rig.changed.wait()
        assert bridge.reads == 2
        assert rig.checks.confirmers["b"].stats.contradicted == 0
        await rig.checks.close()
        states = [e for e in rig.events if isinstance(e, LockStateChanged)]
        assert len(states) == (0 if policy == "before_emit" else 1), policy
        assert rig.counters.corrections == 0
        assert rig.attributed == [s.event_id for s in states]  # background: still asked


async def test_background_a_claim_the_device_moved_on_from_is_never_corrected() -> None:
    # Unlocked, locked, unlocked again within the correction grace: the read for the first
    # claim already shows "locked". The hub holds "unlocked" again, but from a later change:
    # the first claim is not "still held", so nothing is corrected and each change is asked.
    bridge = Bridge(lock=snap(state=1, mode=2))
    rig = Rig("background", bridge)
    await rig.start()
    bridge.primed.clear()
    rig.checks.take("b", callback(LOCK, state=3, mode=2))  # the bridge is at "locked" again
    async with asyncio.timeout(3):
        await bridge.primed.wait()  # the read for the first claim
    rig.checks.take("b", callback(LOCK, state=1, mode=2))
    bridge.truth[LOCK] = snap(state=3, mode=2)
    rig.checks.take("b", callback(LOCK, state=3, mode=2))
    states = [e.event_id for e in rig.events if isinstance(e, LockStateChanged)]
    async with asyncio.timeout(3):
        while len(rig.attributed) < len(states):
            rig.changed.clear()
            await rig.changed.wait()
    assert rig.attributed == states  # in the order seen, none dropped as false
    assert not [e for e in rig.events if isinstance(e, StateCorrected)]
    assert rig.counters.corrections == 0
    await rig.checks.close()
