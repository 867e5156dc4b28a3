"""The log-read scheduler with a fake clock and sleep: when it reads, and what it decides."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nukiasync.errors import NukiAuthenticationError, NukiRateLimitError, NukiServerError
from nukiasync.events import AttributionFailure
from nukiasync.hub.sources.log_watcher import AttributionTiming, LogWatcher, Outcome
from tests.support.log_watch import T0, TIMING, FakeTime, World, change, entry, make, run_until


async def test_first_read_near_the_lag_then_tight_reads() -> None:
    time = FakeTime()
    world = World(time)
    outcomes: list[Outcome] = []
    watcher = make(time, world, outcomes, report_after=T0)
    watcher.add(change("c1", T0), attributable=True)
    world.entries.append((T0 + timedelta(seconds=4.5), entry("a" * 24, T0 - timedelta(seconds=1))))
    await run_until(watcher, outcomes, lambda: any(o.attributed for o in outcomes))
    offsets = [(r - T0).total_seconds() for r in world.reads]
    # A background read at start, the first for the change at the lag guess, then every second.
    assert offsets == [0.0, 2.0, 3.0, 4.0, 5.0]
    attributed = next(o for o in outcomes if o.attributed).attributed
    assert attributed[0][1].entry.id == "a" * 24
    # The lag seen (5 s) now sets the first read of the next change.
    assert watcher.learnt_lag == 5.0
    watcher.add(change("c2", time.now), attributable=True)
    assert watcher._pending[0].due == time.now + timedelta(seconds=4.0)


async def test_no_entry_gives_timed_out_at_the_deadline_with_backoff() -> None:
    time = FakeTime()
    world = World(time)
    outcomes: list[Outcome] = []
    watcher = make(time, world, outcomes, report_after=T0)
    watcher.add(change("c1", T0), attributable=True)
    await run_until(watcher, outcomes, lambda: any(o.unavailable for o in outcomes))
    unavailable = next(o for o in outcomes if o.unavailable).unavailable
    assert unavailable[0][1] is AttributionFailure.TIMED_OUT
    gaps = [(b - a).total_seconds() for a, b in zip(world.reads[1:], world.reads[2:], strict=False)]
    assert max(gaps) <= TIMING.max_interval
    assert gaps[-2] > gaps[0]  # backed off after the tight phase
    assert len(world.reads) < 16  # not a read per second for 30 s
    assert time.now - T0 >= timedelta(seconds=TIMING.deadline)


async def test_log_moving_past_means_no_matching_entry() -> None:
    time = FakeTime()
    world = World(time)
    outcomes: list[Outcome] = []
    watcher = make(time, world, outcomes, report_after=T0)
    watcher.add(change("c1", T0), attributable=True)
    later = entry("b" * 24, T0 + timedelta(seconds=20), action=2)
    world.entries.append((T0 + timedelta(seconds=21), later))
    await run_until(watcher, outcomes, lambda: any(o.unavailable for o in outcomes))
    reason = next(o for o in outcomes if o.unavailable).unavailable[0][1]
    assert reason is AttributionFailure.NO_MATCHING_ENTRY


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NukiServerError("down", status=503), AttributionFailure.WEB_API_UNREACHABLE),
        (NukiAuthenticationError("no", status=401), AttributionFailure.UNAUTHORIZED),
    ],
)
async def test_outage_reason_and_health(error, reason) -> None:
    time = FakeTime()
    world = World(time)
    world.failures = [error] * 100
    outcomes: list[Outcome] = []
    health: list[bool] = []
    watcher = make(
        time, world, outcomes, report_after=T0, on_health=lambda ok, _detail: health.append(ok)
    )
    watcher.add(change("c1", T0), attributable=True)
    await run_until(watcher, outcomes, lambda: any(o.unavailable for o in outcomes))
    assert next(o for o in outcomes if o.unavailable).unavailable[0][1] is reason
    assert health == [False]
    assert watcher.read_failures == len(world.reads)


async def test_rate_limit_is_respected() -> None:
    time = FakeTime()
    world = World(time)
    world.failures = [NukiRateLimitError("slow", retry_after=7.0)]
    outcomes: list[Outcome] = []
    watcher = make(time, world, outcomes, report_after=T0)
    watcher.add(change("c1", T0), attributable=True)
    await run_until(watcher, outcomes, lambda: len(world.reads) >= 3)
    assert (world.reads[1] - world.reads[0]).total_seconds() >= 7.0


async def test_unclaimed_entries_after_grace_in_order_and_failed_attempts() -> None:
    time = FakeTime()
    world = World(time)
    outcomes: list[Outcome] = []
    claimed_before = {"c" * 24}
    watcher = make(time, world, outcomes, report_after=T0, is_claimed=lambda i: i in claimed_before)
    when: list[datetime] = []

    async def on_outcome(outcome: Outcome) -> None:
        if outcome.unclaimed:
            when.append(time.now)
        outcomes.append(outcome)

    watcher._on_outcome = on_outcome
    world.entries += [
        (T0, entry("e" * 24, T0 + timedelta(seconds=2), state=224)),
        (T0, entry("d" * 24, T0 + timedelta(seconds=1))),
        (T0, entry("c" * 24, T0 + timedelta(seconds=3))),  # emitted before a restart
        (T0, entry("0" * 24, T0 - timedelta(minutes=5))),  # before the hub started
    ]
    await run_until(watcher, outcomes, lambda: sum(bool(o.unclaimed) for o in outcomes) == 2)
    first, second = (o.unclaimed for o in outcomes if o.unclaimed)
    # The failed attempt can never be claimed: reported on the read that first sees it.
    assert [s.entry.id for s in first] == ["e" * 24]
    assert first[0].first_seen == T0
    # The success waited its grace for a late callback: reported when the grace ended.
    assert [s.entry.id for s in second] == ["d" * 24]
    assert when == [T0, T0 + timedelta(seconds=TIMING.grace)]  # not at the next slow read


async def test_catch_up_bound_announces_a_gap() -> None:
    time = FakeTime()
    world = World(time)
    outcomes: list[Outcome] = []
    timing = AttributionTiming(catch_up_limit=3)
    watcher = LogWatcher(
        world.fetch,
        lambda o: _append(outcomes, o),
        clock=time.clock,
        sleep=time.sleep,
        timing=timing,
        report_after=T0 - timedelta(hours=1),
    )
    world.entries += [(T0, entry(f"{i:024x}", T0 - timedelta(minutes=i))) for i in range(1, 4)]
    await run_until(watcher, outcomes, lambda: any(o.gap for o in outcomes))
    gap = next(o.gap for o in outcomes if o.gap)
    assert gap is not None
    assert gap.until == T0 - timedelta(minutes=3)


async def _append(outcomes: list[Outcome], outcome: Outcome) -> None:
    outcomes.append(outcome)


def test_interval_grows_only_after_the_tight_phase() -> None:
    assert TIMING.interval(0, 1) == 1.0
    assert TIMING.interval(0, 3) == 2.0
    assert TIMING.interval(5.0, 1) == 1.0
    assert TIMING.interval(7.0, 1) == 4.0
    assert TIMING.interval(1000, 1) == TIMING.max_interval
