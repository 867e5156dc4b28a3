"""B7's situation generator and ground-truth scoring, played fast on a real simulated world.

A smoke version of the benchmark's timeline: every situation once, then a few drawn ones,
with quick physics; a plain receiver takes the callbacks (no hub). Then the scoring is
checked on two correlators whose verdicts are known: an oracle that names the entry of the
change each state event reports, and a "newest entry before" guesser that falls into the
traps the situations set. No timing is asserted.
"""

from __future__ import annotations

import random
from datetime import timedelta

from bench._situations import SITUATIONS, Timeline, play
from bench._truth_score import Named, judge, map_state_events, tally
from nukiasync.const import LockState
from tests.support.bench_world import events_of, fast_world
from tests.support.simulator import DEADLINE, receiver

UNSETTLED = frozenset({LockState.UNLATCHED, LockState.UNLOCKED_LOCK_N_GO})  # Opener open is 5


async def test_situations_play_and_the_ground_truth_scores_them() -> None:
    world = fast_world(seed=5)
    async with world, receiver() as rec:
        believed = {d.nuki_id: d.state for d in world.devices}  # the receiver's start
        world.bridge.callbacks.append((0, rec.url("/cb")))
        restarts: list[float] = []

        async def restarter(downtime: float) -> None:  # stands in for a correlator's restart
            restarts.append(downtime)
            await world.clock.sleep(downtime)

        timeline = Timeline(world, random.Random(5), world.clock.sleep, restarter)
        for kind in SITUATIONS:
            await timeline.step(kind)
        await timeline.step("follow_on")
        await play(timeline, 6, (0.0, 1.0))
        await world.wait_until(
            lambda: not any(d.state in UNSETTLED for d in world.devices if not d.is_opener),
            deadline=DEADLINE,
        )
        await world.wait_until(lambda: world.devices[-1].state != 5, deadline=DEADLINE)
        await world.bridge.drain()
        bodies = [body for _, body, _ in rec.received]

    assert restarts
    changes = world.changes
    assert {timeline.kinds[c.record_seq] for c in changes if c.record_seq} >= set(SITUATIONS)
    for change in changes:
        if change.kind == "action":
            assert change.log_id is not None
            assert change.record_seq is not None
            record = world.journal[change.record_seq - 1]
            assert (record.log_id, record.person) == (change.log_id, change.person)
        if change.follow_on:
            assert change.log_id is None
    assert any(c.callbacks_lost for c in changes)  # cascade and undo lose callbacks

    # The receiver's view: one state event per change whose callback came and moved a state.
    events = events_of(world, believed, bodies)
    mapped = map_state_events(world, events)
    assert len(mapped) == len(events)
    for event in events:
        assert world.changes[mapped[event.event_id] - 1].after == event.state
    seen = [(event, event.received_at) for event in events]
    deadline = timedelta(seconds=45)

    oracle = {}
    for event in events:
        change = world.changes[mapped[event.event_id] - 1]
        if change.log_id is not None:
            oracle[event.event_id] = Named(entry_id=change.log_id, at=event.received_at)
    verdicts, loose = judge(world, seen, oracle, deadline=deadline, situations=timeline.kinds)
    right = tally(verdicts, loose_wrong=loose)
    assert (right.precision, right.wrong, loose) == (1.0, 0, 0)
    assert right.counted == sum(c.attributable for c in changes)
    carried = set(mapped.values())
    lost = sum(c.attributable and not c.callbacks_posted for c in changes)
    assert right.hidden == sum(c.attributable and c.seq not in carried for c in changes) > lost > 0
    assert right.right == right.counted - right.hidden
    assert right.false_unavailable == 0

    # A guesser that names the newest entry of the device dated before the event's change
    # but one: it is wrong exactly where a change came between.
    guesses = {}
    for event in events:
        change = world.changes[mapped[event.event_id] - 1]
        older = [
            c.log_id
            for c in changes
            if c.smartlock_id == change.smartlock_id and c.seq < change.seq and c.log_id
        ]
        if older:
            guesses[event.event_id] = Named(entry_id=older[-1], at=event.received_at)
    verdicts, _ = judge(world, seen, guesses, deadline=deadline, situations=timeline.kinds)
    wrong = tally(verdicts)
    assert wrong.wrong == len(guesses) > 0
    assert wrong.precision == 0.0
    assert tally(v for v in verdicts if v.situation == "cascade").wrong > 0
