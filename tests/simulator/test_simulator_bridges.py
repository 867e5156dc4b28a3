"""Several simulated bridges in one World: own servers, tokens, devices and callbacks."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from nukiasync.bridge import NukiBridgeClient
from nukiasync.const import AuthType
from nukiasync.simulator import World
from tests.support import canary
from tests.support.simulator import make_world, receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import SimulatedBridge

HOST = "127.0.0.1"
GARAGE_TOKEN = canary.register("garageTok91")


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = make_world()
    garage = w.add_bridge("Garage", token=GARAGE_TOKEN)
    w.add_lock("Garage door", nuki_id=0x3C4D5E6F, bridge=garage)
    w.add_opener("Garage gate", nuki_id=0x4D5E6F70, bridge="Garage")
    w.grant("Alice", "Garage door", AuthType.APP)
    async with w:
        yield w


async def _get(session: aiohttp.ClientSession, bridge: SimulatedBridge, path: str, **q: str) -> Any:
    async with session.get(bridge.url + path, params={"token": bridge.token, **q}) as response:
        return response.status, await response.json() if response.status == 200 else None


async def test_each_bridge_serves_its_own_devices_with_its_own_token(world: World) -> None:
    house, garage = world.bridge, world.bridges["Garage"]
    assert house.port != garage.port
    assert house.bridge_id != garage.bridge_id
    assert world.bridge_of("Garage door") is garage
    assert world.bridge_of("Front door") is house
    async with aiohttp.ClientSession() as session:
        _, listed = await _get(session, garage, "/list")
        assert [d["name"] for d in listed] == ["Garage door", "Garage gate"]
        _, info = await _get(session, garage, "/info")
        assert info["ids"]["serverId"] == garage.bridge_id
        assert {r["name"] for r in info["scanResults"]} == {"Nuki_3C4D5E6F", "Nuki_Opener_4D5E6F70"}
        front = {"nukiId": str(0x1A2B3C4D), "deviceType": "4"}
        status, _ = await _get(session, garage, "/lockState", **front)
        assert status == 404  # the house's lock is not paired to the garage bridge
        async with session.get(garage.url + "/list", params={"token": house.token}) as response:
            assert response.status == 401
    async with NukiBridgeClient(HOST, GARAGE_TOKEN, port=garage.port) as client:
        await client.lock_action(0x3C4D5E6F, 1, device_type=4)
    assert world.device("Garage door").state == 3


async def test_callbacks_go_out_from_the_devices_bridge_only(world: World) -> None:
    house, garage = world.bridge, world.bridges["Garage"]
    async with receiver() as rec, aiohttp.ClientSession() as session:
        await _get(session, house, "/callback/add", url=rec.url("/house"))
        await _get(session, garage, "/callback/add", url=rec.url("/garage"))
        alice = world.person("Alice")
        await alice.unlock("Garage door")
        await alice.unlock("Front door")
        await rec.wait_for(2)
        await asyncio.gather(house.drain(), garage.drain())
    by_path = {path: body["nukiId"] for path, body, _ in rec.received}
    assert by_path == {"/garage": 0x3C4D5E6F, "/house": 0x1A2B3C4D}
    assert [s.body["nukiId"] for s in garage.sent] == [0x3C4D5E6F]
    assert [s.body["nukiId"] for s in house.sent] == [0x1A2B3C4D]
    names = {t.get_name() for t in world._tasks}
    assert {"nukiasync.simulator.bridge.callbacks"} <= names
    assert "nukiasync.simulator.bridge[Garage].callbacks" in names


async def test_the_web_api_spans_every_bridge(world: World) -> None:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {world.web_token}"}
        async with session.get(world.web_url + "/smartlock", headers=headers) as response:
            names = {lock["name"] for lock in await response.json()}
    assert names == {"Front door", "Back door", "Entrance", "Garage door", "Garage gate"}


async def test_one_bridge_reboots_the_other_keeps_serving(world: World) -> None:
    house, garage = world.bridge, world.bridges["Garage"]
    async with aiohttp.ClientSession() as session:
        await _get(session, garage, "/callback/add", url="http://127.0.0.1:9/x")
        await _get(session, house, "/callback/add", url="http://127.0.0.1:9/y")
        await _get(session, garage, "/reboot")
        await world.wait_until(lambda: garage.rebooting)
        assert (await _get(session, house, "/list"))[0] == 200
        await world.wait_until(lambda: not garage.rebooting)
    assert garage.callbacks == []
    assert len(house.callbacks) == 1


def test_building_rules() -> None:
    world = World(seed=1)
    garage = world.add_bridge("Garage")
    assert repr(garage) == "SimulatedBridge(name='Garage', url='http://127.0.0.1:0')"
    assert garage.token != world.bridge.token
    with pytest.raises(ValueError, match="exists already"):
        world.add_bridge("Garage")
    with pytest.raises(ValueError, match="no bridge 'Shed'"):
        world.add_lock("Shed door", bridge="Shed")
    other = World(seed=2).add_bridge("Garage")
    with pytest.raises(ValueError, match="no bridge 'Garage'"):
        world.add_opener("Gate", bridge=other)


async def test_no_bridges_after_start() -> None:
    async with World(seed=1) as world:
        with pytest.raises(RuntimeError, match="before the world starts"):
            world.add_bridge("Late")
