"""The long profile (``make soak``): skipped unless NUKIASYNC_SOAK=1.

NUKIASYNC_SOAK_SECONDS sets the duration (default 1800 s: 30 minutes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from nukiasync.bridge.server import CallbackServer
from tests.soak.harness import SOAK, Recorder, soak_seconds
from tests.soak.hub_harness import restart_trials
from tests.soak.traffic import run_hub_traffic, run_traffic
from tests.support.callbacks import run_flood, secret_of

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


async def test_soak_hub_realistic_traffic() -> None:
    """G24 with the hub: RSS growth < 10%, fds and tasks stable, 0 ERROR records,
    accounting holds (receiver and hub)."""
    duration = soak_seconds()
    report = await run_hub_traffic(duration)
    print(  # noqa: T201
        f"\nG24 hub soak {duration:.0f} s: {report.summary()}; hub {report.hub}; "
        f"{report.web_requests} Web API requests {report.web_statuses}"
    )
    samples = report.samples
    warm = samples[min(len(samples) - 1, max(1, len(samples) // 10))]  # after warm-up
    last = samples[-1]
    assert last.rss < warm.rss * 1.10
    assert abs(last.fds - warm.fds) <= 5
    assert abs(last.tasks - warm.tasks) <= 5
    stats = report.receiver
    assert stats is not None
    assert stats.received == stats.accepted + stats.rejected_total
    hub = report.hub
    handled = (
        hub["emitted"] + hub["deduplicated"] + hub["rejected_contradicted"]
        + hub["rejected_unconfirmed"]
    )  # fmt: skip
    assert stats.accepted == stats.delivered == handled > 0
    assert report.seen is not None
    assert not report.seen.records, report.seen.describe()
    assert not report.seen.unhandled, report.seen.describe()
    assert report.log_reads > 0
    assert hub["attributed"] > 0


async def test_soak_listen_restarts() -> None:
    """G13/G23, soak length: 20 SIGKILLs of the stock ``nukiasync listen``."""
    with tempfile.TemporaryDirectory() as folder:
        report = await restart_trials(
            str(Path(folder) / "state.json"), trials=20, seed=23, stock=True, catch_up=90.0
        )
    print(f"\nG13/G23 soak restart: {report.summary()}")  # noqa: T201
    assert report.kills == 20
    assert not report.missing, report.missing
    assert not report.mixed_ids, report.mixed_ids
    assert not report.unknown, report.unknown
