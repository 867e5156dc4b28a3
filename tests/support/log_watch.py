"""The log watcher on a fake clock: a world of entries, a fake time, a watcher to drive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nukiasync.attribution import ChangeKind, ObservedChange
from nukiasync.const import DeviceType, LockState
from nukiasync.hub.sources.log_watcher import AttributionTiming, LogWatcher, Outcome
from nukiasync.web.models.log import SmartlockLog

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SL = 17618910285
TIMING = AttributionTiming(
    first_delay=2.0, poll_interval=1.0, burst_interval=2.0, burst_size=3, tight_phase=5.0,
    backoff=2.0, max_interval=8.0, deadline=30.0, grace=5.0, background_interval=60.0,
)  # fmt: skip


class FakeTime:
    """A clock that only moves when the watcher sleeps."""

    def __init__(self) -> None:
        self.now = T0

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def entry(log_id: str, at: datetime, *, action: int = 1, state: int = 0) -> SmartlockLog:
    return SmartlockLog.from_api(
        {
            "id": log_id,
            "smartlockId": SL,
            "action": action,
            "trigger": 5,
            "state": state,
            "name": "Alice",
            "date": at.isoformat(),
        }
    )


class World:
    """Log entries that become visible at given times; records every read."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.entries: list[tuple[datetime, SmartlockLog]] = []
        self.reads: list[datetime] = []
        self.failures: list[Exception] = []

    async def fetch(self, since: datetime) -> list[SmartlockLog]:
        self.reads.append(self.time.now)
        if self.failures:
            raise self.failures.pop(0)
        return [e for visible, e in self.entries if visible <= self.time.now and e.date >= since]


def change(cid: str, at: datetime, state: int = LockState.UNLOCKED) -> ObservedChange:
    return ObservedChange(
        change_id=cid,
        smartlock_id=SL,
        device_type=DeviceType.SMARTLOCK_3,
        kind=ChangeKind.LOCK_STATE,
        previous=LockState.LOCKED,
        current=state,
        observed_at=at,
    )


async def run_until(
    watcher: LogWatcher, outcomes: list[Outcome], done: Any, limit: int = 500
) -> None:
    task = asyncio.create_task(watcher.run())
    try:
        for _ in range(limit):
            await asyncio.sleep(0)
            if done():
                return
        pytest.fail("condition not reached")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def make(time: FakeTime, world: World, outcomes: list[Outcome], **kw: Any) -> LogWatcher:
    async def on_outcome(outcome: Outcome) -> None:
        outcomes.append(outcome)

    return LogWatcher(
        world.fetch, on_outcome, clock=time.clock, sleep=time.sleep, timing=TIMING, **kw
    )
