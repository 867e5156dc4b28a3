"""Pushed entries (decentral webhooks) in the log watcher, on a fake clock."""

from __future__ import annotations

from datetime import timedelta

from nukiasync.hub.sources.log_watcher import Outcome
from tests.support.log_watch import TIMING, FakeTime, World, change, entry, make, run_until


async def test_a_pushed_entry_answers_without_a_read() -> None:
    time, outcomes = FakeTime(), list[Outcome]()
    world = World(time)
    watcher = make(time, world, outcomes)
    time.now += timedelta(seconds=5)
    watcher.add(change("c1", time.now), attributable=True)
    reads_before = len(world.reads)
    assert watcher.push(entry("e1", time.now - timedelta(seconds=1)))
    assert not watcher.push(entry("e1", time.now - timedelta(seconds=1)))  # pushed twice
    await run_until(watcher, outcomes, lambda: any(o.attributed for o in outcomes))
    [(pending, seen)] = next(o.attributed for o in outcomes if o.attributed)
    assert (pending.change.change_id, seen.entry.id) == ("c1", "e1")
    assert watcher.pushed == 1
    assert len(world.reads) <= reads_before + 1  # at most the background read at start


async def test_while_pushes_arrive_a_change_waits_for_one_last_read() -> None:
    time, outcomes = FakeTime(), list[Outcome]()
    watcher = make(time, World(time), outcomes)
    watcher.add(change("before", time.now), attributable=True)
    assert watcher.push(entry("e0", time.now))
    watcher.add(change("during", time.now), attributable=True)
    time.now += timedelta(seconds=TIMING.push_quiet + 1)
    watcher.add(change("after", time.now), attributable=True)
    due = {p.change.change_id: p.due - p.change.observed_at for p in watcher.pending()}
    deadline = timedelta(seconds=TIMING.deadline)
    assert due["before"] < deadline
    assert due["during"] == deadline
    assert due["after"] < deadline  # pushes stopped: reads tighten again


async def test_an_entry_without_id_is_left_to_the_read() -> None:
    time, outcomes = FakeTime(), list[Outcome]()
    watcher = make(time, World(time), outcomes)
    assert not watcher.push(entry("", time.now))
    assert watcher.pushed == 0
