"""Helpers for the simulator tests: fast knobs, a world with a few devices, a callback receiver."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nukiasync.simulator import Knobs, World
from tests.support import canary

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DEADLINE = 3.0  # seconds any awaited condition may take


def fast_knobs(**overrides: Any) -> Knobs:
    values: dict[str, Any] = {
        "log_lag": 0.2,
        "motor_time": 0.05,
        "unlatch_hold": 0.1,
        "lock_n_go_delay": 0.2,
        "opener_open_time": 0.1,
        "ring_reset": 0.2,
        "web_action_delay": 0.0,
        "auth_window": 0.3,
        "reboot_downtime": 0.3,
        "callback_timeout": 0.5,
    }
    values.update(overrides)
    return Knobs(**values)


def make_world(**knob_overrides: Any) -> World:
    world = World(
        seed=4,
        knobs=fast_knobs(**knob_overrides),
        bridge_token=canary.BRIDGE_TOKEN,
        web_token=canary.WEB_TOKEN,
        owner="Alice",
    )
    world.add_lock("Front door", nuki_id=0x1A2B3C4D, door_sensor=True, keypad=True)
    world.add_lock("Back door", device_type=0, nuki_id=0x2B3C4D5E)
    world.add_opener("Entrance", nuki_id=0x1E5FE23A)
    world.add_person(
        "Alice",
        email="alice@example.invalid",
        app=["Front door", "Back door", "Entrance"],
        fob=["Front door"],
    )
    world.add_person(
        "Bob",
        email="bob@example.invalid",
        app=["Front door"],
        keypad=["Front door"],
        keypad_code=canary.KEYPAD_CODE,
    )
    world.add_person("Courier")
    return world


class Receiver:
    """A loopback callback receiver that records every POST."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], str]] = []
        self.status: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self.release = asyncio.Event()
        self._changed = asyncio.Condition()
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        if request.path in self.delay:
            try:
                async with asyncio.timeout(self.delay[request.path]):
                    await self.release.wait()
            except TimeoutError:
                pass
        async with self._changed:
            self.received.append((request.path, json.loads(raw), raw))
            self._changed.notify_all()
        return web.Response(status=self.status.get(request.path, 200))

    async def wait_for(self, count: int, deadline: float = DEADLINE) -> list[dict[str, Any]]:
        async with asyncio.timeout(deadline), self._changed:
            await self._changed.wait_for(lambda: len(self.received) >= count)
        return [body for _, body, _ in self.received]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    await rec.start()
    try:
        yield rec
    finally:
        await rec.close()
