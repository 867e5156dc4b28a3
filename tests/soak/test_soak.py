"""The long profile (``make soak``): skipped unless NUKIASYNC_SOAK=1.

NUKIASYNC_SOAK_SECONDS sets the duration (default 1800 s: 30 minutes).
"""

from __future__ import annotations

import pytest

from nukiasync.bridge.server import CallbackServer
from tests.soak.harness import SOAK, Recorder, soak_seconds
from tests.soak.traffic import run_traffic
from tests.test_reliability_flood import run_flood, secret_of

pytestmark = pytest.mark.skipif(not SOAK, reason="soak profile: set NUKIASYNC_SOAK=1")


async def test_soak_realistic_traffic() -> None:
    """G24: RSS growth < 10%, fds and tasks stable, 0 ERROR records, accounting holds."""
    recorder = Recorder()
    duration = soak_seconds()
    report = await run_traffic(duration, recorder)
    print(f"\nG24 soak {duration:.0f} s: {report.summary()}")  # noqa: T201
    samples = report.samples
    warm = samples[min(len(samples) - 1, max(1, len(samples) // 10))]  # after warm-up
    last = samples[-1]
    assert last.rss < warm.rss * 1.10
    assert abs(last.fds - warm.fds) <= 5
    assert abs(last.tasks - warm.tasks) <= 5
    stats = report.receiver
    assert stats is not None
    assert stats.received == stats.accepted + stats.rejected_total
    assert stats.delivered == stats.accepted == len(recorder.items) > 0
    assert report.seen is not None
    assert not report.seen.records, report.seen.describe()
    assert not report.seen.unhandled, report.seen.describe()
    assert report.log_reads > 0


async def test_soak_callback_flood() -> None:
    """G9, soak length: 200 distinct-state callbacks/s for 60 s."""
    recorder = Recorder()
    async with CallbackServer(
        recorder, host="127.0.0.1", allowed_sources=["127.0.0.2"], request_timeout=2.0
    ) as server:
        secret_of(server.callback_url())
        await run_flood(server, recorder, 60.0)
