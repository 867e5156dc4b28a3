"""The simulated Bridge over real sockets: token modes, one request at a time, callbacks."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from nacl.secret import SecretBox

from tests.support import canary
from tests.support.simulator import DEADLINE, Receiver, make_world, receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import World

FRONT = {"nukiId": str(0x1A2B3C4D), "deviceType": "4"}
OPENER = {"nukiId": str(0x1E5FE23A), "deviceType": "2"}


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def rec() -> AsyncIterator[Receiver]:
    async with receiver() as r:
        yield r


def _ts(offset: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")


def hashed(token: str, *, ts: str | None = None, rnr: int | None = None) -> dict[str, str]:
    ts = ts or _ts()
    rnr = rnr if rnr is not None else secrets.randbelow(65536)
    digest = hashlib.sha256(f"{ts},{rnr},{token}".encode()).hexdigest()
    return {"ts": ts, "rnr": str(rnr), "hash": canary.register(digest)}


def encrypted(token: str, *, ts: str | None = None, nonce: bytes | None = None) -> dict[str, str]:
    nonce = nonce or secrets.token_bytes(24)
    box = SecretBox(hashlib.sha256(token.encode()).digest())
    plain = f"{ts or _ts()},{secrets.randbelow(65536)}".encode()
    ctoken = box.encrypt(plain, nonce).ciphertext.hex()
    return {"ctoken": canary.register(ctoken), "nonce": nonce.hex()}


async def get(
    session: aiohttp.ClientSession, world: World, path: str, **params: str
) -> tuple[int, Any]:
    query = {"token": world.bridge.token, **params}
    async with session.get(world.bridge_url + path, params=query) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def get_raw(
    session: aiohttp.ClientSession, world: World, path: str, params: dict[str, str]
) -> int:
    async with session.get(world.bridge_url + path, params=params) as response:
        await response.read()
        return response.status


async def test_token_modes(world: World, session: aiohttp.ClientSession) -> None:
    token = world.bridge.token
    assert await get_raw(session, world, "/list", {"token": token}) == 200
    assert await get_raw(session, world, "/list", {"token": "wrong"}) == 401
    assert await get_raw(session, world, "/list", {}) == 401
    assert await get_raw(session, world, "/list", hashed(token)) == 200
    assert await get_raw(session, world, "/list", encrypted(token)) == 200


async def test_time_based_tokens_are_single_use_and_fresh(
    world: World, session: aiohttp.ClientSession
) -> None:
    token = world.bridge.token
    once = hashed(token, rnr=4711)
    assert await get_raw(session, world, "/info", once) == 200
    assert await get_raw(session, world, "/info", once) == 401  # reused rnr
    assert await get_raw(session, world, "/info", hashed(token, ts=_ts(-90))) == 401  # old
    wrong = hashed(token)
    wrong["hash"] = "0" * 64
    assert await get_raw(session, world, "/info", wrong) == 401
    assert await get_raw(session, world, "/info", hashed(token, ts="yesterday")) == 401
    nonce = secrets.token_bytes(24)
    assert await get_raw(session, world, "/info", encrypted(token, nonce=nonce)) == 200
    assert await get_raw(session, world, "/info", encrypted(token, nonce=nonce)) == 401
    assert await get_raw(session, world, "/info", encrypted(token, ts=_ts(-61))) == 401
    assert await get_raw(session, world, "/info", encrypted("other-token")) == 401
    assert await get_raw(session, world, "/info", {"ctoken": "zz", "nonce": "00"}) == 401


async def test_bridge_clock_skew(world: World, session: aiohttp.ClientSession) -> None:
    world.knobs.bridge_clock_skew = 120.0
    assert await get_raw(session, world, "/info", hashed(world.bridge.token)) == 401
    assert await get_raw(session, world, "/info", hashed(world.bridge.token, ts=_ts(120))) == 200


async def test_one_request_at_a_time(world: World, session: aiohttp.ClientSession) -> None:
    world.knobs.bridge_request_time = 0.3
    first = asyncio.create_task(get(session, world, "/list"))
    await world.wait_until(lambda: world.bridge.busy, deadline=DEADLINE)
    status, _ = await get(session, world, "/info")
    assert status == 503
    assert (await first)[0] == 200
    assert world.bridge.rejected_busy == 1
    world.knobs.bridge_request_time = 0.0
    world.knobs.bridge_busy_next = 2
    assert [(await get(session, world, "/list"))[0] for _ in range(3)] == [503, 503, 200]


async def test_list_info_lock_state(world: World, session: aiohttp.ClientSession) -> None:
    status, listed = await get(session, world, "/list")
    assert status == 200
    front, back, opener = listed
    assert front["nukiId"] == 0x1A2B3C4D
    assert front["deviceType"] == 4
    assert front["lastKnownState"]["stateName"] == "locked"
    assert front["lastKnownState"]["doorsensorStateName"] == "door closed"
    assert "keypadBatteryCritical" in front["lastKnownState"]
    assert "doorsensorState" not in back["lastKnownState"]
    assert opener["lastKnownState"]["stateName"] == "online"
    assert opener["lastKnownState"]["ringactionState"] is False
    status, info = await get(session, world, "/info")
    assert info["scanResults"][2]["name"] == "Nuki_Opener_1E5FE23A"
    assert info["bridgeType"] == 1
    status, state = await get(session, world, "/lockState", **FRONT)
    assert (status, state["state"], state["success"]) == (200, 1, True)
    assert (await get(session, world, "/lockState", nukiId=FRONT["nukiId"]))[0] == 404
    assert (await get(session, world, "/lockState"))[0] == 400
    assert (await get(session, world, "/nope"))[0] == 404


async def test_opener_needs_device_type_2(world: World, session: aiohttp.ClientSession) -> None:
    assert (await get(session, world, "/lockState", nukiId=OPENER["nukiId"]))[0] == 404
    assert (await get(session, world, "/lockState", **OPENER))[0] == 200
    status, body = await get(session, world, "/lockAction", **OPENER, action="4")
    assert (status, body) == (200, {"success": True, "batteryCritical": False})
    entrance = world.device("Entrance")
    assert (entrance.mode, entrance.state, entrance.continuous) == (3, 3, True)
    assert world.logbook.entries[-1].action == 6  # activate continuous mode
    await get(session, world, "/lock", **OPENER)  # deactivates continuous mode
    assert (entrance.mode, entrance.state) == (2, 1)
    await get(session, world, "/unlock", **OPENER)  # opens
    assert world.logbook.entries[-1].action == 3


async def test_lock_action_waits_or_not(world: World, session: aiohttp.ClientSession) -> None:
    front = world.device("Front door")
    status, _ = await get(session, world, "/lockAction", **FRONT, action="1")
    assert status == 200
    assert front.state == 3
    entry = world.logbook.entries[-1]
    assert (entry.action, entry.trigger, entry.name) == (1, 0, "Nuki Bridge")
    world.knobs.motor_time = 0.3
    status, _ = await get(session, world, "/lockAction", **FRONT, action="2", nowait="1")
    assert status == 200
    assert front.state == 4  # locking: answered before completion
    assert (await get(session, world, "/lockAction", **FRONT, action="9"))[0] == 400
    assert (await get(session, world, "/lockAction", **FRONT))[0] == 400
    await get(session, world, "/unlock", **FRONT)
    assert front.state == 3
    front.knob = True
    await get(session, world, "/unlock", **FRONT)
    assert world.logbook.entries[-1].action == 3  # a door with a knob unlatches
    await get(session, world, "/lock", **FRONT)
    assert front.state == 1


async def test_auth_needs_the_button(world: World, session: aiohttp.ClientSession) -> None:
    async with session.get(world.bridge_url + "/auth") as response:
        assert await response.json() == {"success": False}
    pending = asyncio.create_task(session.get(world.bridge_url + "/auth"))
    await world.wait_until(lambda: world.bridge.busy, deadline=DEADLINE)
    world.bridge.press_button()
    async with await pending as response:
        assert await response.json() == {"token": world.bridge.token, "success": True}
    assert (await get(session, world, "/configAuth", enable="0"))[0] == 200
    async with session.get(world.bridge_url + "/auth") as response:
        assert response.status == 403
    assert (await get(session, world, "/configAuth", enable="7"))[0] == 400


async def test_callback_registration_rules(world: World, session: aiohttp.ClientSession) -> None:
    assert (await get(session, world, "/callback/add", url="https://127.0.0.1/x"))[0] == 400
    long_url = "http://127.0.0.1/" + "a" * 240
    assert (await get(session, world, "/callback/add", url=long_url))[0] == 400
    for index in range(3):
        status, body = await get(session, world, "/callback/add", url=f"http://127.0.0.1:9/{index}")
        assert (status, body) == (200, {"success": True})
    status, body = await get(session, world, "/callback/add", url="http://127.0.0.1:9/3")
    assert body["success"] is False
    _, listed = await get(session, world, "/callback/list")
    assert [c["id"] for c in listed["callbacks"]] == [0, 1, 2]
    assert (await get(session, world, "/callback/remove", id="1"))[1] == {"success": True}
    assert (await get(session, world, "/callback/remove", id="1"))[1]["success"] is False
    assert (await get(session, world, "/callback/remove"))[0] == 400
    await get(session, world, "/callback/add", url="http://127.0.0.1:9/again")
    _, listed = await get(session, world, "/callback/list")
    assert [c["id"] for c in listed["callbacks"]] == [0, 2, 1]


async def test_callbacks_in_the_real_shape(
    world: World, session: aiohttp.ClientSession, rec: Receiver
) -> None:
    await get(session, world, "/callback/add", url=rec.url("/cb"))
    alice = world.person("Alice")
    await alice.unlock("Front door")
    await alice.open_door("Front door")
    await alice.lock("Back door")
    await alice.activate_rto("Entrance")
    bodies = await rec.wait_for(4)
    assert bodies[0] == {
        "deviceType": 4,
        "nukiId": 0x1A2B3C4D,
        "mode": 2,
        "state": 3,
        "stateName": "unlocked",
        "batteryCritical": False,
        "batteryCharging": False,
        "batteryChargeState": 87,
        "keypadBatteryCritical": False,
        "doorsensorState": 2,
        "doorsensorStateName": "door closed",
    }
    assert list(bodies[0])[:2] == ["deviceType", "nukiId"]  # 4th gen: deviceType first
    assert (bodies[1]["state"], bodies[1]["doorsensorState"]) == (3, 3)
    assert list(bodies[2]) == [
        "nukiId", "deviceType", "mode", "state", "stateName",
        "batteryCritical", "batteryCharging", "batteryChargeState",
    ]  # fmt: skip
    assert list(bodies[3]) == [
        "nukiId", "deviceType", "mode", "state", "stateName",
        "batteryCritical", "ringactionTimestamp", "ringactionState",
    ]  # fmt: skip
    assert bodies[3]["state"] == 3
    world.set_battery("Back door", charge=12, critical=True)
    body = (await rec.wait_for(5))[4]
    assert (body["batteryChargeState"], body["batteryCritical"]) == (12, True)
    assert all(sent.status == 200 for sent in world.bridge.sent)


async def test_callbacks_sequential_and_faulty(
    world: World, session: aiohttp.ClientSession, rec: Receiver
) -> None:
    for path in ("/slow", "/fast"):
        await get(session, world, "/callback/add", url=rec.url(path))
    rec.delay["/slow"] = 0.2
    await world.person("Alice").unlock("Back door")
    await rec.wait_for(2)
    assert [path for path, _, _ in rec.received] == ["/slow", "/fast"]  # in order, one at a time
    world.knobs.drop_next_callbacks = 2
    world.knobs.duplicate_next_callbacks = 1
    rec.delay.clear()
    await world.person("Alice").lock("Back door")
    await world.person("Alice").unlock("Back door")
    bodies = await rec.wait_for(5)
    assert [b["state"] for b in bodies[2:]] == [3, 3, 3]  # lock lost twice, unlock doubled
    world.knobs.callback_loss = 1.0
    await world.person("Alice").lock("Back door")
    await world.bridge.drain()
    assert world.bridge.lost == 4
    world.knobs.callback_loss = 0.0
    world.knobs.callback_duplicates = 1.0
    await world.person("Alice").unlock("Back door")
    bodies = await rec.wait_for(9)
    assert [b["state"] for b in bodies[5:]] == [3, 3, 3, 3]


async def test_failing_first_url_delays_the_rest(
    world: World, session: aiohttp.ClientSession, rec: Receiver
) -> None:
    world.knobs.callback_timeout = 0.2
    rec.delay["/hang"] = 5.0
    await get(session, world, "/callback/add", url=rec.url("/hang"))
    await get(session, world, "/callback/add", url="http://192.0.2.1/elsewhere")
    await get(session, world, "/callback/add", url=rec.url("/ok"))
    started = asyncio.get_running_loop().time()
    await world.person("Alice").unlock("Back door")
    await world.wait_until(lambda: len(world.bridge.sent) == 3, deadline=DEADLINE)
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert [s.status for s in world.bridge.sent] == [None, None, 200]  # timeout, not loopback


async def test_reboot_forgets_callbacks(world: World, session: aiohttp.ClientSession) -> None:
    await get(session, world, "/callback/add", url="http://127.0.0.1:9/cb")
    assert (await get(session, world, "/reboot"))[1] == {"success": True}
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as fresh:
            await get(fresh, world, "/list")
    await world.wait_until(lambda: not world.bridge.rebooting, deadline=DEADLINE)
    async with aiohttp.ClientSession() as fresh:
        status, listed = await get(fresh, world, "/callback/list")
    assert (status, listed) == (200, {"callbacks": []})
    await get(session, world, "/configAuth", enable="0")
    await get(session, world, "/factoryReset")
    assert world.bridge.auth_enabled


async def test_maintenance_endpoints(world: World, session: aiohttp.ClientSession) -> None:
    status, log = await get(session, world, "/log", count="2")
    assert status == 200
    assert log[0]["type"] == "HTTP-log"
    assert (await get(session, world, "/log", offset="x"))[0] == 400
    assert (await get(session, world, "/clearlog"))[1] == {"success": True}
    cleared = (await get(session, world, "/log"))[1]  # only the request that reads it
    assert [entry["type"] for entry in cleared] == ["HTTP-log"]
    assert cleared[0]["timestamp"] >= log[0]["timestamp"]  # a second may have passed
    assert (await get(session, world, "/fwupdate"))[1] == {"success": True}
    assert (await get(session, world, "/unpair", **FRONT))[1] == {"success": True}
    assert (await get(session, world, "/unpair", **FRONT))[0] == 404
    _, listed = await get(session, world, "/list")
    assert len(listed) == 2
    assert repr(world.bridge).startswith("SimulatedBridge(url='http://127.0.0.1:")
    assert "cnry" not in repr(world.bridge.tokens)
