"""Retry-After counts from the moment the 429 arrived, not from when the request went out.

A slow 429 (the server takes 2 s to answer) with ``Retry-After: 3`` must be followed by the
next request 3 s after the answer, 5 s after the first request went out; measured before
the fix, the hub's log reader sent it 1 s after the answer. Both forms are tested
(delta-seconds and HTTP-date), in the Web client's own retries and in the hub's log
reader, over a real loopback server. Time is a fake clock both sides share: the server
"takes 2 s" by advancing it, and the client's injected sleep advances it too, so the test
is exact and takes milliseconds.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from nukiasync.errors import NukiRateLimitError
from nukiasync.hub.sources.log_watcher import AttributionTiming, LogWatcher
from nukiasync.web.client import NukiWebClient
from tests.support import canary

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.sockets

SLOW = timedelta(seconds=2)  # how long the server takes to answer the 429
WAIT = timedelta(seconds=3)  # what its Retry-After asks for


class FakeTime:
    """A clock both the stub server and the client read; sleeping advances it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)  # whole seconds: HTTP-dates

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class SlowLimiter:
    """Answers the first request with a slow 429, the rest with an empty list."""

    def __init__(self, time: FakeTime, form: str) -> None:
        self.time = time
        self.form = form
        self.arrived: list[datetime] = []
        self.answered_429: datetime | None = None
        self.second = asyncio.Event()

    async def handle(self, _request: web.Request) -> web.Response:
        self.arrived.append(self.time())
        if len(self.arrived) > 1:
            self.second.set()
            return web.json_response([])
        self.time.now += SLOW  # the answer takes this long
        self.answered_429 = self.time()
        value = (
            str(int(WAIT.total_seconds()))
            if self.form == "seconds"
            else format_datetime(self.answered_429 + WAIT, usegmt=True)
        )
        return web.Response(status=429, headers={"Retry-After": value})


@asynccontextmanager
async def stub(limiter: SlowLimiter) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/smartlock", limiter.handle)
    app.router.add_get("/smartlock/log", limiter.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("form", ["seconds", "http_date"])
async def test_web_client_waits_from_the_answer(form: str) -> None:
    time = FakeTime()
    limiter = SlowLimiter(time, form)
    async with (
        stub(limiter) as url,
        NukiWebClient(canary.WEB_TOKEN, base_url=url, clock=time, sleep=time.sleep) as client,
    ):
        assert await client.smartlocks() == []
    assert limiter.answered_429 is not None
    first, second = limiter.arrived
    assert second - limiter.answered_429 == WAIT  # not early, not late
    assert second - first == SLOW + WAIT


@pytest.mark.parametrize("form", ["seconds", "http_date"])
async def test_log_reader_waits_from_the_answer(form: str) -> None:
    time = FakeTime()
    limiter = SlowLimiter(time, form)
    # Short intervals: the Retry-After, not the watcher's own pace, decides the next read.
    timing = AttributionTiming(poll_interval=0.2, max_interval=0.4, background_interval=0.5)
    async with (
        stub(limiter) as url,
        NukiWebClient(canary.WEB_TOKEN, base_url=url, clock=time, sleep=time.sleep) as client,
    ):

        async def fetch(since: datetime) -> list[object]:
            return [e async for e in client.iter_logs(from_date=since, retry=False)]

        async def ignore(_outcome: object) -> None:
            return None

        watcher = LogWatcher(fetch, ignore, clock=time, sleep=time.sleep, timing=timing)  # type: ignore[arg-type]
        task = asyncio.create_task(watcher.run(), name="test.log_watcher")
        try:
            async with asyncio.timeout(5):
                await limiter.second.wait()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert limiter.answered_429 is not None
    first, second = limiter.arrived[:2]
    assert watcher.read_failures == 1
    assert second - limiter.answered_429 >= WAIT  # never before the server allows
    assert second - limiter.answered_429 < WAIT + timedelta(seconds=0.6)  # nor much after
    assert second - first >= SLOW + WAIT


@pytest.mark.parametrize("form", ["seconds", "http_date"])
async def test_rate_limit_error_says_when_to_send_again(form: str) -> None:
    time = FakeTime()
    limiter = SlowLimiter(time, form)
    async with (
        stub(limiter) as url,
        NukiWebClient(canary.WEB_TOKEN, base_url=url, clock=time, sleep=time.sleep) as client,
    ):
        with pytest.raises(NukiRateLimitError) as caught:
            await client.logs(retry=False)
    assert caught.value.received_at == limiter.answered_429
    assert caught.value.retry_after == WAIT.total_seconds()
    assert caught.value.retry_at == limiter.arrived[0] + SLOW + WAIT
