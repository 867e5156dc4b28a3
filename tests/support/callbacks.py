"""Posting to a live CallbackServer the way the bridge does, and the G9 flood run: shared by the
callback-server test modules and the soak profile."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from tests.soak.harness import flood, watch
from tests.support import canary
from tests.support.paths import FIXTURES

if TYPE_CHECKING:
    from nukiasync.bridge.callbacks import BridgeCallback
    from nukiasync.bridge.server import CallbackServer
    from tests.soak.harness import Recorder

BRIDGE = "127.0.0.2"
STRANGER = "127.0.0.3"
BODY = (FIXTURES / "callbacks" / "smartlock4_union.json").read_bytes()
FAST = {"request_timeout": 0.5, "idle_timeout": 0.5, "shutdown_timeout": 2.0}


class Sink:
    """A consumer that records callbacks and lets tests wait for a count."""

    def __init__(self) -> None:
        self.items: list[BridgeCallback] = []
        self._changed = asyncio.Event()

    def __call__(self, callback: BridgeCallback) -> None:
        self.items.append(callback)
        self._changed.set()

    async def wait_for(self, count: int, limit: float = 5.0) -> None:
        async with asyncio.timeout(limit):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()


def secret_of(url: str) -> str:
    return canary.register(urlsplit(url).path.rsplit("/", 1)[1])


def session(source: str = BRIDGE) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))


async def post(url: str, data: Any = BODY, source: str = BRIDGE, **kwargs: Any) -> int:
    async with session(source) as client, client.post(url, data=data, **kwargs) as resp:
        await resp.read()
        return resp.status


async def open_raw(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


FLOOD_RATE = 200.0  # callbacks a second (G9)


async def run_flood(server: CallbackServer, recorder: Recorder, seconds: float) -> None:
    """G9: distinct-state callbacks at 200/s; accounting, no 5xx, p99 reported."""
    loop = asyncio.get_running_loop()
    with watch(loop) as seen:
        result = await flood(server.callback_url(), rate=FLOOD_RATE, duration=seconds)
        await recorder.wait_for(result.sent)
    print(f"\nG9 flood: {result.summary()}")  # noqa: T201
    stats = server.receiver().stats
    assert result.rate >= 0.95 * FLOOD_RATE
    assert not result.errors
    assert result.statuses == {200: result.sent}
    assert not [s for s in result.statuses if s >= 500]
    assert stats.received == stats.accepted + stats.rejected_total == result.sent
    assert stats.delivered == stats.accepted == len(recorder.items)
    assert len({(c.nuki_id, c.state_code) for c in recorder.items[:350]}) == 350
    assert result.p(0.99) < 1000  # sanity only; p99 is reported above
    assert not seen.records, seen.describe()
    assert not seen.unhandled, seen.describe()
