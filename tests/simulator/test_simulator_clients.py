"""The library's own clients against the simulator: two independent readings of Nuki's docs."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.web.client import NukiWebClient
from tests.support import canary
from tests.support.simulator import DEADLINE, make_world, receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import World

FRONT_ID = (4 << 32) | 0x1A2B3C4D


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


@pytest.mark.parametrize("mode", ["plain", "hashed", "encrypted"])
async def test_bridge_client(world: World, mode: str) -> None:
    port = urlsplit(world.bridge_url).port
    assert port is not None
    bridge = NukiBridgeClient(
        "127.0.0.1",
        canary.BRIDGE_TOKEN,
        port=port,
        token_mode=mode,
        min_spacing=0.0,  # type: ignore[arg-type]
    )
    try:
        devices = await bridge.devices()
        assert [d.nuki_id for d in devices] == [0x1A2B3C4D, 0x2B3C4D5E, 0x1E5FE23A]
        state = await bridge.lock_state(0x1E5FE23A, 2)
        assert (state.state_code, state.state_name, state.ringaction_state) == (1, "online", False)
        await bridge.info()
        async with receiver() as rec:
            await bridge.add_callback(rec.url("/cb"))
            assert len(await bridge.callbacks()) == 1
            await bridge.lock_action(0x1A2B3C4D, 1, device_type=4)
            body = (await rec.wait_for(1))[0]
            assert (body["nukiId"], body["state"]) == (0x1A2B3C4D, 3)
    finally:
        await bridge.close()


async def test_web_client(world: World) -> None:
    world.knobs.log_lag = (0.1, 0.2)
    web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, retry_attempts=1)
    try:
        locks = await web.smartlocks()
        assert [lock.smartlock_id for lock in locks] == [d.smartlock_id for d in world.devices]
        await web.unlock(FRONT_ID)
        await world.wait_until(lambda: bool(world.journal), deadline=DEADLINE)
        truth = world.journal[-1]
        await world.wait_visible(truth)
        entries = await web.logs(FRONT_ID)
        assert (entries[0].id, entries[0].auth_id, truth.via) == (
            truth.log_id,
            truth.auth_id,
            "web",
        )
        await world.person("Bob").enter_code("Front door", 999999)
        await world.wait_visible(world.journal[-1])
        wrong = (await web.logs(FRONT_ID, limit=1))[0]
        assert (wrong.id, wrong.state_code, wrong.trigger_code, wrong.auth_id) == (
            world.journal[-1].log_id, 224, 255, None,
        )  # fmt: skip
    finally:
        await web.close()
