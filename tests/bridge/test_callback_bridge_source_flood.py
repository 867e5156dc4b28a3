"""A connection flood from the bridge's own address must not lock the bridge out.

Anyone who can send from the bridge's address passes the source check, so the bridge's
connection pool is theirs to fill. Measured before the fix: an attacker reconnecting
without ever sending a byte kept the 16-connection pool full and 1 of 95 genuine
callbacks got through. Now a full bridge pool closes its oldest connection that is not
in a request; the bridge sends its request at once, so it gets through. Real sockets on
127.0.0.1; the attacker and the bridge both bind 127.0.0.2 (the allowed source).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import pytest

from nukiasync.bridge.server import CallbackServer
from tests.support.callbacks import BRIDGE, FAST, Sink, open_raw, post, secret_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

pytestmark = pytest.mark.sockets

GENUINE = 60  # callbacks the bridge sends during the flood
HELD = 48  # connections the attacker keeps open (three pools' worth), reconnecting


async def attack(port: int, stop: asyncio.Event, full: asyncio.Event, opened: list[int]) -> None:
    """Open connections from the bridge's address and hold them, never sending a byte."""
    held: list[asyncio.StreamWriter] = []
    try:
        while not stop.is_set():
            try:
                _, writer = await open_raw(port, BRIDGE)
            except OSError:
                await asyncio.sleep(0)
                continue
            opened[0] += 1
            held.append(writer)
            if opened[0] >= HELD:
                full.set()
            if len(held) > HELD:  # reconnect: drop the oldest, as a flood would
                held.pop(0).close()
            await asyncio.sleep(0)
    finally:
        for writer in held:
            writer.close()


async def genuine(url: str) -> int:
    """One bridge callback on a fresh connection, as the bridge sends them; 0 on reset."""
    try:
        async with asyncio.timeout(2.0):
            return await post(url)
    except Exception:  # a reset, a refusal or a timeout: "not through"
        return 0


async def flood_run(
    make: Callable[[], CallbackServer], send: Callable[[str], Awaitable[int]]
) -> tuple[int, int, CallbackServer]:
    """Genuine callbacks through while the flood runs: (through, attacker connections)."""
    server = make()
    async with server:
        url = server.callback_url()
        secret_of(url)
        stop, full = asyncio.Event(), asyncio.Event()
        opened = [0]
        attacker = asyncio.create_task(
            attack(server.port, stop, full, opened), name="test.attacker"
        )
        try:
            async with asyncio.timeout(5):
                await full.wait()  # the pool is full before the bridge sends
            statuses = []
            for _ in range(GENUINE):
                statuses.append(await send(url))
                await asyncio.sleep(0)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await attacker
    return statuses.count(200), opened[0], server


async def test_genuine_callbacks_get_through_a_flood_from_the_bridge_address() -> None:
    sink = Sink()

    def make() -> CallbackServer:
        return CallbackServer(
            sink, host="127.0.0.1", allowed_sources=[BRIDGE], bridge_connections=16, **FAST
        )

    through, opened, server = await flood_run(make, genuine)
    stats = server.stats.connections
    evicted = getattr(stats, "evicted", 0)
    print(  # noqa: T201
        f"\nflood from the bridge's address: {through}/{GENUINE} genuine callbacks through, "
        f"{opened} attacker connections, {evicted} evicted, {stats.refused} refused"
    )
    assert through == GENUINE
    assert len(sink.items) == GENUINE
    assert stats.evicted >= opened - 16 - GENUINE  # the flood made room, not the bridge
