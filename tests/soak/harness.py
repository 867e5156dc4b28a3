"""Shared pieces of the reliability suite: a recording consumer, a paced loopback load
generator, and watchers for ERROR records and unhandled loop exceptions.

Both profiles use them: the fast tests in tests/{bridge,hub}/test_reliability_*.py and the
long ones in tests/soak/. Addresses are loopback only: the bridge posts from 127.0.0.2
(allowed), a stranger from 127.0.0.3 (not allowed), as decision 0009 says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from nukiasync.bridge.callbacks import BridgeCallback

BRIDGE = "127.0.0.2"  # the bridge's address: on the allow-list
STRANGER = "127.0.0.3"  # anyone else on the LAN
SOAK = os.environ.get("NUKIASYNC_SOAK") == "1"


def soak_seconds(default: float = 1800.0) -> float:
    """The soak duration: NUKIASYNC_SOAK_SECONDS, or 30 minutes."""
    return float(os.environ.get("NUKIASYNC_SOAK_SECONDS", default))


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def callback_body(n: int, *, devices: int = 50) -> bytes:
    """The n-th body of a flood: every one a different (device, state) pair.

    Device ids cycle through ``devices`` Smart Locks 4.0; states cycle through the
    stable and moving lock states, so consecutive bodies never repeat a state.
    """
    states = (1, 2, 3, 4, 5, 6, 7)
    body: dict[str, Any] = {
        "deviceType": 4,
        "nukiId": 0x10000000 + n % devices,
        "mode": 2,
        "state": states[(n // devices) % len(states)],
        "stateName": "x",
        "batteryCritical": False,
        "batteryCharging": False,
        "batteryChargeState": 50 + n % 50,
        "doorsensorState": 2,
        "doorsensorStateName": "door closed",
    }
    return json.dumps(body).encode()


class Recorder:
    """A consumer that records every callback and lets a test wait for a count."""

    def __init__(self) -> None:
        self.items: list[BridgeCallback] = []
        self._changed = asyncio.Event()

    def __call__(self, callback: BridgeCallback) -> None:
        self.items.append(callback)
        self._changed.set()

    async def wait_for(self, count: int, limit: float = 10.0) -> None:
        async with asyncio.timeout(limit):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()


@attrs.frozen(kw_only=True)
class FloodResult:
    """What a paced flood did: counts by status, client-side latencies, the rate held."""

    sent: int
    statuses: Counter[int]
    errors: Counter[str]
    latencies: list[float] = attrs.field(repr=False)
    elapsed: float

    @property
    def rate(self) -> float:
        """Requests per second actually sent."""
        return self.sent / self.elapsed

    def p(self, share: float) -> float:
        """A latency percentile in milliseconds."""
        return percentile(self.latencies, share) * 1000

    def summary(self) -> str:
        """One line for the test output (run pytest with -s to see it)."""
        return (
            f"{self.sent} requests in {self.elapsed:.1f} s ({self.rate:.0f}/s): "
            f"statuses {dict(self.statuses)}, errors {dict(self.errors)}, "
            f"p50 {self.p(0.5):.1f} ms, p99 {self.p(0.99):.1f} ms, max {self.p(1.0):.1f} ms"
        )


async def flood(
    url: str,
    *,
    rate: float,
    duration: float,
    source: str = BRIDGE,
    body: Any = callback_body,
    pool: int = 16,
) -> FloodResult:
    """POST ``rate`` requests a second for ``duration`` seconds from ``source``, paced.

    The count is bounded (rate x duration) and so is concurrency (``pool`` connections);
    each request starts at its scheduled time, so a slow server shows up as latency, not
    as a lower rate. ``body(n)`` makes the n-th body.
    """
    total = round(rate * duration)
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    gate = asyncio.Semaphore(pool)
    connector = aiohttp.TCPConnector(limit=pool, local_addr=(source, 0))
    timeout = aiohttp.ClientTimeout(total=10)

    async def one(client: aiohttp.ClientSession, n: int) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                async with client.post(url, data=body(n)) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
            except (aiohttp.ClientError, TimeoutError) as err:
                errors[type(err).__name__] += 1
            latencies.append(time.perf_counter() - started)

    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        start = time.perf_counter()
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the generator, not waiting for a result
            task = asyncio.create_task(one(client, n), name=f"flood[{n}]")
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return FloodResult(
        sent=total, statuses=statuses, errors=errors, latencies=latencies, elapsed=elapsed
    )


class _Collect(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level=level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@attrs.define
class Watch:
    """Log records at or above a level, and exceptions the loop saw nobody handle."""

    records: list[logging.LogRecord]
    unhandled: list[dict[str, Any]]

    def describe(self) -> str:
        lines = [f"{r.name} {r.levelname} {r.getMessage()[:200]}" for r in self.records[:5]]
        lines += [
            str(ctx.get("message")) + " " + repr(ctx.get("exception")) for ctx in self.unhandled[:5]
        ]
        return "\n".join(lines)


@contextmanager
def watch(
    loop: asyncio.AbstractEventLoop | None = None, level: int = logging.ERROR
) -> Iterator[Watch]:
    """Collect ERROR records (every logger) and the loop's unhandled exceptions."""
    handler = _Collect(level)
    result = Watch(records=handler.records, unhandled=[])
    root = logging.getLogger()
    root.addHandler(handler)
    previous = None
    if loop is not None:
        previous = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, context: result.unhandled.append(context))
    try:
        yield result
    finally:
        root.removeHandler(handler)
        if loop is not None:
            loop.set_exception_handler(previous)


class Progress:
    """Wake a waiting test whenever sync code reports progress; wait for a condition."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def bump(self, *_args: object) -> None:
        self._changed.set()

    async def until(self, predicate: Callable[[], bool], limit: float = 10.0) -> None:
        async with asyncio.timeout(limit):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


async def rerun_without_coverage(nodeid: str) -> bool:
    """Under coverage, run one test in a child pytest without it; True if that happened.

    Measured (aiohttp 3.14.5 C parser, Python 3.11, pytest-cov 7 / coverage 7.17): inside
    a pytest-cov run, a request aiohttp cannot parse escapes ``data_received`` as "Fatal
    error: protocol.data_received() call failed" (asyncio logs it at ERROR, request line
    included) instead of getting its 400. Outside coverage, or with the pure-Python parser,
    aiohttp answers 400. So the bad-input tests judge the server in a child without it.
    """
    if sys.gettrace() is None or os.environ.get("NUKIASYNC_NO_RERUN") == "1":
        return False
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        nodeid,
        "-q",
        "-p",
        "no:cov",
        "-p",
        "no:randomly",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NUKIASYNC_NO_RERUN": "1"},
    )
    out, _ = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, out.decode(errors="replace")[-3000:]
    return True
