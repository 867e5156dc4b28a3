"""One link per bridge: the webhook path heals like the server path; a failed start unwinds."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web

from nukiasync import (
    CallbackServer,
    CallbackState,
    NukiBridgeAuthenticationError,
    NukiBridgeClient,
    NukiCallbackServerError,
    NukiHub,
    NukiWebClient,
    Reachability,
)
from nukiasync.bridge.confirm import MIN_INTERVAL
from nukiasync.clock import ClockPair
from nukiasync.events import CallbackRegistered, EventSource, LockStateChanged
from nukiasync.hub.bridge_link import BridgeWatchTiming
from tests.support import canary
from tests.support.hub import FRONT, Recorder, spoof
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.sockets

FAST_WATCH = BridgeWatchTiming(
    poll_interval=0.2, quiet_after=0.6, reregister_interval=0.5, callback_grace=0.5
)


@asynccontextmanager
async def webhook_app(hub_ref: list[NukiHub]) -> AsyncIterator[str]:
    """An app of ours (as Home Assistant's would be) whose route hands requests to the hub."""

    async def handle(request: web.Request) -> web.Response:
        return await hub_ref[0].handle_request(request)

    app = web.Application()
    app.router.add_post("/api/webhook/abc", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/api/webhook/abc"
    finally:
        await runner.cleanup()


def _bridge(world: Any, token: str = canary.BRIDGE_TOKEN) -> NukiBridgeClient:
    port = urlsplit(world.bridge_url).port or 0
    return NukiBridgeClient("127.0.0.1", token, port=port, min_spacing=0.02)


async def test_a_webhook_gets_registration_healing_and_state_at_once() -> None:
    async with make_world(log_lag=0.3) as world, _bridge(world) as bridge:
        hub_ref: list[NukiHub] = []
        async with webhook_app(hub_ref) as url:
            # An old registration of the same webhook under another address (HA moved).
            world.bridge.callbacks.append((7, "http://127.0.0.9:1/api/webhook/abc"))
            hub = NukiHub(bridge=bridge, callback_url=url, watch=FAST_WATCH)
            hub_ref.append(hub)
            rec = Recorder()
            hub.subscribe(rec)
            async with hub:
                assert _urls(world) == [url]  # ours, and the stale one gone
                link = hub._links["bridge"]
                assert (link.reachability, link.callbacks) == (
                    Reachability.REACHABLE,
                    CallbackState.REGISTERED,
                )
                await world.person("Alice").unlock("Front door", via="app")
                state = await rec.wait(
                    lambda e: (
                        isinstance(e, LockStateChanged) and e.source is EventSource.BRIDGE_CALLBACK
                    )
                )
                assert state.smartlock_id == FRONT
                world.bridge.callbacks.clear()  # another tool removed it
                await world.wait_until(lambda: _urls(world) == [url], deadline=5.0)
            assert world.bridge.callbacks == []  # removed on close


async def test_callbacks_that_never_come_are_reported_for_a_webhook() -> None:
    async with make_world(log_lag=0.3) as world, _bridge(world) as bridge:
        hub = NukiHub(bridge=bridge, callback_url="http://127.0.0.1:9/nowhere", watch=FAST_WATCH)
        rec = Recorder()
        hub.subscribe(rec)
        async with hub:
            await world.person("Alice").unlock("Front door", via="app")
            silent = await rec.wait(lambda e: isinstance(e, CallbackRegistered) and not e.available)
            assert "no callback came" in silent.detail
            assert hub._links["bridge"].callbacks is CallbackState.SILENT


async def test_handle_request_refuses_compressed_and_oversized_bodies_unread() -> None:
    async with make_world() as world, _bridge(world) as bridge:
        hub_ref: list[NukiHub] = []
        async with webhook_app(hub_ref) as url:
            hub = NukiHub(bridge=bridge)  # no registration: callbacks come from elsewhere
            hub_ref.append(hub)
            async with hub, httpx.AsyncClient() as client:
                gzip = {"Content-Encoding": "identity, gzip"}
                assert (await client.post(url, content=b"{}", headers=gzip)).status_code == 415
                assert (await client.post(url, content=b"x" * 5000)).status_code == 413
                assert (await client.post(url, content=b"{}")).status_code == 400
                stats = hub.diagnostics()["receivers"]["bridge"]
            assert stats["rejected"]["encoding"] == stats["rejected"]["size"] == 1
            assert world.bridge.callbacks == []


async def _no_tasks_of_ours() -> list[str]:
    await asyncio.sleep(0)  # let cancelled tasks finish
    return [
        t.get_name()
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task()
        and t.get_name().startswith(("nukiasync.hub", "nukiasync.callbacks", "nukiasync-"))
    ]


def _urls(world: Any) -> list[str]:
    return [url for _id, url in world.bridge.callbacks]


async def test_a_port_in_use_unwinds_the_start() -> None:
    async with make_world() as world, _bridge(world) as bridge:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            server = CallbackServer(host="127.0.0.1", port=port)
            web_client = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url)
            hub = NukiHub(web=web_client, bridge=bridge, callback_server=server)
            with pytest.raises(NukiCallbackServerError):
                await hub.start()
            await web_client.close()
        assert hub.state == "closed"
        assert await _no_tasks_of_ours() == []
        assert world.bridge.callbacks == []
        with pytest.raises(RuntimeError, match="closed"):
            await hub.start()


async def test_a_bridge_refusing_the_token_unwinds_the_start() -> None:
    async with make_world() as world, _bridge(world, token="wrong-token-1") as bridge:
        web_client = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url)
        server = CallbackServer(host="127.0.0.1", port=0)
        hub = NukiHub(web=web_client, bridge=bridge, callback_server=server)
        with pytest.raises(NukiBridgeAuthenticationError):
            await hub.start()
        assert hub.state == "closed"
        assert await _no_tasks_of_ours() == []
        port = urlsplit(server.url).port
        with pytest.raises(ConnectionRefusedError):  # the server the hub started is closed
            await asyncio.open_connection("127.0.0.1", port)
        await web_client.close()


class FakeClocks:
    """A clock pair that moves only when told; its sleep records what it was asked to wait."""

    def __init__(self) -> None:
        self.seconds = 1000.0
        self.slept: list[float] = []
        self.woke = asyncio.Event()

    def wall(self) -> datetime:
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.woke.set()
        await asyncio.sleep(0.005)  # lets the test move time; the fake decides what is due


async def test_one_clock_pair_drives_the_link_the_confirmer_and_the_stamps() -> None:
    fake = FakeClocks()
    pair = ClockPair(wall=fake.wall, monotonic=fake.monotonic, sleep=fake.sleep)
    async with make_world() as world, _bridge(world) as bridge:
        recorder = Recorder()
        async with NukiHub(bridge=bridge, clock=pair) as hub:
            hub.subscribe(recorder)
            polls = hub.diagnostics()["links"]["bridge"]["polls"]
            assert await hub.handle_callback(spoof(FRONT & 0xFFFFFFFF, 3), "127.0.0.1") == 200
            state = await recorder.wait(lambda e: isinstance(e, LockStateChanged))
            assert state.received_at == fake.wall()  # stamped by the pair's wall side
            # The confirmer spaces its read after the priming one on the pair's monotonic
            # side: frozen, so it asks to wait the whole interval (real time would have moved).
            async with asyncio.timeout(3):
                while MIN_INTERVAL not in fake.slept:
                    fake.woke.clear()
                    await fake.woke.wait()
            # The bridge watch reads /list once callbacks were quiet on the same clock.
            fake.seconds += BridgeWatchTiming().quiet_after
            async with asyncio.timeout(3):
                while hub.diagnostics()["links"]["bridge"]["polls"] == polls:
                    fake.woke.clear()
                    await fake.woke.wait()
