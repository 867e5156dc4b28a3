"""Pairing (``request_token`` on ``/auth``) against the simulated bridge's button."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from nukiasync.bridge import NukiBridgeClient, request_token
from nukiasync.errors import NukiPairingError
from tests.support import canary
from tests.support.simulator import DEADLINE, make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import SimulatedBridge, World

pytestmark = pytest.mark.sockets

HOST = "127.0.0.1"
GARAGE_TOKEN = canary.register("garageTok77")


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = make_world()
    w.add_bridge("Garage", token=GARAGE_TOKEN)
    w.add_lock("Garage door", nuki_id=0x3C4D5E6F, bridge="Garage")
    async with w:
        yield w


async def _pair_pressing(world: World, bridge: SimulatedBridge) -> str:
    pairing = asyncio.create_task(request_token(HOST, bridge.port, timeout=DEADLINE))
    try:
        await world.wait_until(lambda: bridge.busy, deadline=DEADLINE)  # /auth is waiting
        bridge.press_button()
        return await pairing
    finally:
        pairing.cancel()


async def test_button_pressed_in_time_gives_the_token(world: World) -> None:
    token = await _pair_pressing(world, world.bridge)
    assert token == world.bridge.token
    async with NukiBridgeClient(HOST, token, port=world.bridge.port) as client:
        assert {d.name for d in await client.devices()} == {"Front door", "Back door", "Entrance"}


async def test_each_bridge_hands_out_its_own_token(world: World) -> None:
    garage = world.bridges["Garage"]
    assert await _pair_pressing(world, garage) == GARAGE_TOKEN
    assert not world.bridge.busy  # the other bridge saw nothing


async def test_button_not_pressed_is_a_clear_error(world: World) -> None:
    with pytest.raises(NukiPairingError, match="press the bridge button within 30 s") as info:
        await request_token(HOST, world.bridge.port, timeout=DEADLINE)
    assert info.value.reason == "button not pressed"
    assert "127.0.0.1" in str(info.value)


async def test_client_timeout_before_the_bridge_gives_up(world: World) -> None:
    world.knobs.auth_window = 5.0  # the bridge would wait longer than we do
    with pytest.raises(NukiPairingError, match="within 30 s") as info:
        await request_token(HOST, world.bridge.port, timeout=0.2)
    assert info.value.reason == "timeout"


async def test_pairing_refused_when_auth_is_disabled(world: World) -> None:
    async with NukiBridgeClient(HOST, world.bridge.token, port=world.bridge.port) as client:
        await client.config_auth(False)
    with pytest.raises(NukiPairingError, match="disabled") as info:
        await request_token(HOST, world.bridge.port, timeout=DEADLINE)
    assert info.value.reason == "auth disabled"


async def test_a_press_before_the_request_counts_once(world: World) -> None:
    world.bridge.press_button()
    assert await request_token(HOST, world.bridge.port, timeout=DEADLINE) == world.bridge.token
    with pytest.raises(NukiPairingError):
        await request_token(HOST, world.bridge.port, timeout=DEADLINE)
