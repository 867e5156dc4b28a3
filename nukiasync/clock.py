"""The hub's one clock pair: monotonic seconds to schedule by, wall time to stamp events with.

`NukiHub` takes one `ClockPair` and hands it to every part it builds (the bus, the outbox,
the bridge links, the confirmers, the log watcher), so a test or a simulated world drives
them all from one place (decision 0007). Scheduling that only measures intervals (the
confirmer's spacing, the bridge watch) runs on ``monotonic``, which never jumps when the
host's time is set; everything a user sees, or compares with a log entry's date, uses
``wall``. The bridge token's 60-second window keeps the real wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import attrs

__all__ = ["ClockPair", "utcnow"]


def utcnow() -> datetime:
    """The current wall time, aware, in UTC: the package's one definition of "now"."""
    return datetime.now(UTC)


@attrs.frozen(kw_only=True)
class ClockPair:
    """Monotonic seconds and wall time, and the sleep that waits on them.

    The default is the host's clocks. `following` builds a pair driven by one (fake or
    simulated) wall clock, so its monotonic seconds advance exactly as that clock does.
    """

    wall: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def of(
        cls,
        clock: ClockPair | Callable[[], datetime] | None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> ClockPair:
        """The pair for a constructor's ``clock`` (a pair, a wall clock, or none) and ``sleep``."""
        if isinstance(clock, ClockPair):
            return clock if sleep is None else attrs.evolve(clock, sleep=sleep)
        if clock is None:
            return cls(sleep=sleep or asyncio.sleep)
        return cls.following(clock, sleep)

    @classmethod
    def following(
        cls,
        wall: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> ClockPair:
        """A pair whose monotonic seconds are ``wall``'s timestamp (a fake or simulated clock)."""
        return cls(wall=wall, monotonic=lambda: wall().timestamp(), sleep=sleep or asyncio.sleep)
