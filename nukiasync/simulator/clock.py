"""The simulator's clock: wall time that may run faster than real time.

The World reads every time (log dates, upload times, ring timestamps) from one clock and waits
through it, so a demo can run a day's timeline in minutes (``speed``) while tests use real
time with short delays (decision 0007). The Bridge token window never uses this clock: a real
bridge checks tokens against its own wall time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the World needs from a clock; inject your own for special tests."""

    def now(self) -> datetime:
        """Return the simulated wall time (aware, UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` of simulated time."""
        ...


class SimClock:
    """Real time, optionally accelerated by ``speed`` and started at ``start``.

    Simulated time is ``start + (monotonic elapsed) * speed``; with the defaults it is the
    host's wall time. Monotonic underneath, so host clock jumps do not reorder the log.
    """

    def __init__(self, *, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            msg = f"speed must be positive, got {speed}"
            raise ValueError(msg)
        self.speed = speed
        self._start = start if start is not None else datetime.now(UTC)
        self._mono0 = time.monotonic()

    def now(self) -> datetime:
        """Return the simulated wall time."""
        elapsed = (time.monotonic() - self._mono0) * self.speed
        return self._start + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time, i.e. ``seconds / speed`` of real time."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)
