"""The hub's clock pair: what a constructor's ``clock`` and ``sleep`` become."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from nukiasync.clock import ClockPair, utcnow

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _nap(_seconds: float) -> None:
    return None


def test_no_clock_is_the_hosts() -> None:
    pair = ClockPair.of(None)
    assert (pair.wall, pair.monotonic, pair.sleep) == (utcnow, time.monotonic, asyncio.sleep)
    assert ClockPair.of(None, _nap).sleep is _nap
    assert utcnow().tzinfo is UTC


def test_a_wall_clock_alone_drives_both_sides() -> None:
    now = [T0]
    pair = ClockPair.of(lambda: now[0], _nap)
    before = pair.monotonic()
    now[0] += timedelta(seconds=90)
    assert pair.monotonic() - before == 90.0  # intervals follow the simulated wall clock
    assert pair.wall() == T0 + timedelta(seconds=90)
    assert pair.sleep is _nap


def test_a_pair_is_kept_and_sleep_replaces_its_own() -> None:
    pair = ClockPair(wall=lambda: T0, monotonic=lambda: 5.0)
    assert ClockPair.of(pair) is pair
    replaced = ClockPair.of(pair, _nap)
    assert (replaced.wall(), replaced.monotonic(), replaced.sleep) == (T0, 5.0, _nap)
