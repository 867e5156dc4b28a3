"""Lock actions are never re-sent after an ambiguous failure (G18), and bridge discipline
under 50 concurrent callers (G19), against the simulator's servers over loopback.

tests/bridge/test_bridge_client.py covers the same on its stand-in bridge; here the requests are
counted by the simulator, an independent reading of Nuki's documents.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.const import LockAction, WebLockAction
from nukiasync.errors import (
    NukiBridgeBusyError,
    NukiRateLimitError,
    NukiServerError,
    NukiTimeoutError,
)
from nukiasync.web.client import NukiWebClient
from tests.support import canary
from tests.support.simulator import DEADLINE, make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from aiohttp import web

    from nukiasync.simulator import World

FRONT_NUKI = 0x1A2B3C4D
FRONT_ID = (4 << 32) | FRONT_NUKI


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        w.knobs.web_hang = 2.0  # longer than the clients' timeouts below
        yield w


def bridge_client(world: World, **kwargs: Any) -> NukiBridgeClient:
    port = urlsplit(world.bridge_url).port
    assert port is not None
    options: dict[str, Any] = {"min_spacing": 0.0, "timeout": 0.3, **kwargs}
    return NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port, **options)


WEB_ACTIONS: dict[str, Callable[[NukiWebClient], Awaitable[None]]] = {
    "unlatch": lambda web: web.unlatch(FRONT_ID),
    "unlock": lambda web: web.unlock(FRONT_ID),
    "lock": lambda web: web.lock(FRONT_ID),
    "lock_n_go": lambda web: web.lock_n_go(FRONT_ID),
    "action": lambda web: web.action(FRONT_ID, WebLockAction.UNLATCH),
}
WEB_FAULTS: dict[str, tuple[dict[str, Any], type[Exception]]] = {
    "hang": ({"hang": True}, NukiTimeoutError),
    "500": ({"status": 500}, NukiServerError),
    "502 html": ({"status": 502, "html": True}, NukiServerError),
    "503": ({"status": 503}, NukiServerError),
    "429": ({"status": 429, "retry_after": 1}, NukiRateLimitError),
}


@pytest.mark.parametrize("fault", list(WEB_FAULTS))
@pytest.mark.parametrize("action", list(WEB_ACTIONS))
async def test_web_action_sent_once_after_ambiguous_failure(
    world: World, action: str, fault: str
) -> None:
    knobs, error = WEB_FAULTS[fault]
    world.knobs.fail_web(1, **knobs)
    web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, timeout=0.3)
    before = world.web.requests
    try:
        with pytest.raises(error):
            await WEB_ACTIONS[action](web)
    finally:
        await web.close()
    assert world.web.requests - before == 1
    assert not world.knobs.web_faults
    assert world.journal == []  # the failed request did nothing; nothing re-sent it


def lock_actions(world: World) -> int:
    return sum(1 for entry in world.bridge.debug_log if entry["type"] == "HTTP-lockAction")


@pytest.mark.parametrize("mode", ["plain", "hashed", "encrypted"])
async def test_bridge_action_sent_once_after_a_hang(world: World, mode: str) -> None:
    world.knobs.bridge_request_time = 0.6  # the bridge answers after the client gave up
    async with bridge_client(world, token_mode=mode) as client:
        with pytest.raises(NukiTimeoutError):
            await client.lock_action(FRONT_NUKI, LockAction.UNLATCH, device_type=4)
    await world.wait_until(lambda: not world.bridge.busy, deadline=DEADLINE)
    assert lock_actions(world) == 1


async def test_bridge_action_sent_once_after_503(world: World) -> None:
    """The bridge is busy with someone else's request: 503, and the action is not re-sent."""
    world.knobs.bridge_request_time = 0.5
    url = f"{world.bridge_url}/list?token={canary.BRIDGE_TOKEN}"
    async with aiohttp.ClientSession() as other:
        busy = asyncio.create_task(other.get(url), name="other-client")
        await world.wait_until(lambda: world.bridge.busy, deadline=DEADLINE)
        async with bridge_client(world, token_mode="plain") as client:
            with pytest.raises(NukiBridgeBusyError):
                await client.lock_action(FRONT_NUKI, LockAction.UNLATCH, device_type=4)
        (await busy).release()
    assert world.bridge.rejected_busy == 1
    assert lock_actions(world) == 0


async def test_fifty_concurrent_callers_against_the_simulator(world: World) -> None:
    """G19: <= 1 request in flight at the bridge, spacing >= the configured minimum."""
    spacing = 0.02
    spans: list[tuple[float, float]] = []
    in_flight = 0
    most = 0
    route = world.bridge._routes["/list"]

    async def timed(request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        start = time.monotonic()
        try:
            return await route(request, query)
        finally:
            in_flight -= 1
            spans.append((start, time.monotonic()))

    world.bridge._routes["/list"] = timed
    async with bridge_client(world, min_spacing=spacing, timeout=5.0) as client:
        started = time.monotonic()
        results = await asyncio.gather(*(client.devices() for _ in range(50)))
        elapsed = time.monotonic() - started
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(sorted(spans))]
    print(  # noqa: T201
        f"\nG19 vs simulator: 50 callers, {len(spans)} requests in {elapsed:.2f} s, "
        f"max in flight {most}, min gap {min(gaps) * 1000:.1f} ms, "
        f"503s {world.bridge.rejected_busy}"
    )
    assert all(len(devices) == 3 for devices in results)
    assert len(spans) == 50
    assert most == 1
    assert world.bridge.rejected_busy == 0
    assert min(gaps) >= spacing - 0.002  # the server sees the gap a little shorter
