"""The simulated Web API over real sockets: bearer check, actions, the lagging log, CRUD, faults."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support import canary
from tests.support.simulator import DEADLINE, make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import World

FRONT_ID = (4 << 32) | 0x1A2B3C4D
BACK_ID = 0x2B3C4D5E
OPENER_ID = (2 << 32) | 0x1E5FE23A


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


@pytest.fixture
async def api(world: World) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {canary.WEB_TOKEN}"}
    async with httpx.AsyncClient(base_url=world.web_url, headers=headers, timeout=5) as client:
        yield client


async def wait_for_log(
    world: World, api: httpx.AsyncClient, path: str, count: int
) -> list[dict[str, object]]:
    """Wait until ``count`` actions happened and their entries are uploaded, then read."""
    await world.wait_until(lambda: len(world.journal) >= count, deadline=DEADLINE)
    for record in world.journal:
        await world.wait_visible(record)
    return list((await api.get(path)).json())


async def test_bearer_token_is_checked(world: World, api: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=world.web_url) as anonymous:
        response = await anonymous.get("/smartlock")
        assert response.status_code == 401
        assert response.json() == {
            "code": 401,
            "description": "The request requires user authentication",
            "homeRef": "/",
            "reasonPhrase": "Unauthorized",
            "uri": "https://tools.ietf.org/html/rfc7235#section-3.1",
        }
        bad = await anonymous.get("/smartlock", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    assert (await api.get("/smartlock")).status_code == 200


async def test_smartlocks(api: httpx.AsyncClient) -> None:
    locks = (await api.get("/smartlock")).json()
    assert [lock["smartlockId"] for lock in locks] == [FRONT_ID, BACK_ID, OPENER_ID]
    assert [lock["type"] for lock in (await api.get("/smartlock", params={"type": 2})).json()] == [
        2
    ]
    front = (await api.get(f"/smartlock/{FRONT_ID}")).json()
    assert (front["state"]["state"], front["state"]["doorState"]) == (1, 2)
    missing = await api.get(f"/smartlock/{0x1A2B3C4D}")  # the bridge's nukiId is not the id
    assert missing.status_code == 404
    assert missing.json()["reasonPhrase"] == "Not Found"
    assert (await api.get("/nothing")).status_code == 404
    assert (await api.delete("/account")).status_code == 405
    assert (await api.get("/smartlock", params={"type": "x"})).status_code == 400


async def test_web_action_drives_the_world(world: World, api: httpx.AsyncClient) -> None:
    response = await api.post(f"/smartlock/{FRONT_ID}/action", json={"action": 1})
    assert response.status_code == 204
    entries = await wait_for_log(world, api, f"/smartlock/{FRONT_ID}/log", 1)
    alice_app = world.auth_of(world.person("Alice"), world.device("Front door"), 0)
    assert alice_app is not None
    assert entries[0]["trigger"] == 4
    assert entries[0]["authId"] == alice_app.id
    assert entries[0]["name"] == "Alice"
    assert entries[0]["accountUserId"] == world.person("Alice").account_user.account_user_id  # type: ignore[union-attr]
    assert world.device("Front door").state == 3
    assert world.journal[-1].via == "web"
    assert (await api.post(f"/smartlock/{FRONT_ID}/action/lock")).status_code == 204
    assert (await api.post(f"/smartlock/{OPENER_ID}/action/unlock")).status_code == 204
    await wait_for_log(world, api, "/smartlock/log", 3)
    assert {(e.action, e.smartlock_id) for e in world.logbook.entries} >= {
        (2, FRONT_ID),
        (3, OPENER_ID),
    }
    bad = [
        await api.post(f"/smartlock/{FRONT_ID}/action", json={"action": 7}),
        await api.post(f"/smartlock/{FRONT_ID}/action", content=b"{"),
        await api.post(f"/smartlock/{FRONT_ID}/action", json={}),
    ]
    assert [r.status_code for r in bad] == [400, 400, 400]
    assert (await api.post("/smartlock/5/action", json={"action": 1})).status_code == 404


async def test_web_action_needs_remote_access(world: World, api: httpx.AsyncClient) -> None:
    auth = world.auth_of(world.person("Alice"), world.device("Back door"), 0)
    assert auth is not None
    auth.remote_allowed = False
    response = await api.post(f"/smartlock/{BACK_ID}/action/unlock")
    assert response.status_code == 403


async def test_log_lag_and_pagination(world: World, api: httpx.AsyncClient) -> None:
    world.knobs.log_lag = (0.2, 0.3)
    alice = world.person("Alice")
    first = await alice.unlock("Back door")
    assert (await api.get(f"/smartlock/{BACK_ID}/log")).json() == []  # not uploaded yet
    await world.wait_visible(first)
    entries = (await api.get(f"/smartlock/{BACK_ID}/log")).json()
    assert [e["id"] for e in entries] == [first.log_id]
    world.knobs.log_lag = 0.0
    for _ in range(4):
        await alice.lock("Back door")
        await alice.unlock("Back door")
    newest_first = [r.log_id for r in reversed(world.journal)]
    page1 = (await api.get("/smartlock/log", params={"limit": 4})).json()
    assert [e["id"] for e in page1] == newest_first[:4]
    page2 = (await api.get("/smartlock/log", params={"limit": 4, "id": page1[-1]["id"]})).json()
    assert [e["id"] for e in page2] == newest_first[4:8]
    page3 = (await api.get("/smartlock/log", params={"limit": 4, "id": page2[-1]["id"]})).json()
    assert [e["id"] for e in page3] == newest_first[8:]
    assert (await api.get("/smartlock/log", params={"id": "0" * 24})).json() == []
    assert len((await api.get("/smartlock/log", params={"limit": 500})).json()) == 9
    assert len((await api.get("/smartlock/log", params={"limit": 0})).json()) == 9
    locks = (await api.get("/smartlock/log", params={"action": 2})).json()
    assert {e["action"] for e in locks} == {2}
    user = world.person("Alice").account_user
    assert user is not None
    mine = (await api.get("/smartlock/log", params={"accountUserId": user.account_user_id})).json()
    assert len(mine) == 9
    auth_id = page1[0]["authId"]
    by_auth = (await api.get(f"/smartlock/{BACK_ID}/log", params={"authId": auth_id})).json()
    assert len(by_auth) == 9
    assert (await api.get("/smartlock/99/log")).status_code == 404


async def test_log_date_filters(world: World, api: httpx.AsyncClient) -> None:
    world.knobs.log_lag = 0.0
    record = await world.person("Alice").unlock("Back door")
    assert record.device_date is not None
    when = record.device_date
    inside = {"fromDate": when.isoformat(), "toDate": (when + timedelta(seconds=1)).isoformat()}
    assert len((await api.get("/smartlock/log", params=inside)).json()) == 1
    later = {"fromDate": (when + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert (await api.get("/smartlock/log", params=later)).json() == []
    unix = await api.get("/smartlock/log", params={"fromDate": "1700000000"})
    assert unix.status_code == 400
    assert "parameter 'fromDate' is not valid" in unix.json()["description"]
    naive = await api.get("/smartlock/log", params={"toDate": "2026-01-01T00:00:00"})
    assert naive.status_code == 400


async def test_device_clock_skew(world: World, api: httpx.AsyncClient) -> None:
    world.knobs.log_lag = 0.0
    world.knobs.device_clock_skew = -3600.0
    record = await world.person("Alice").unlock("Back door")
    assert record.device_date is not None
    assert record.device_date < record.started_at - timedelta(minutes=59)


async def test_auth_crud(world: World, api: httpx.AsyncClient) -> None:
    auths = (await api.get("/smartlock/auth")).json()
    assert {a["type"] for a in auths} == {0, 1, 2, 3, 13}  # 3: the keypad itself
    assert all(len(a["id"]) == 24 for a in auths)
    assert {
        a["type"] for a in (await api.get("/smartlock/auth", params={"types": "2,13"})).json()
    } == {2, 13}
    without_user = (await api.get("/smartlock/auth", params={"accountUserId": -1})).json()
    assert {a["type"] for a in without_user} == {1, 3, 13}
    bob = world.person("Bob").account_user
    assert bob is not None
    create = {"name": "Courier code", "remoteAllowed": False, "type": 13, "code": 456789}
    assert (await api.put(f"/smartlock/{FRONT_ID}/auth", json=create)).status_code == 204
    again = await api.put(f"/smartlock/{FRONT_ID}/auth", json=create)
    assert again.status_code == 409
    record = await world.person("Courier").enter_code("Front door", 456789)
    assert (record.state, record.auth_name) == (0, "Courier code")
    mine = (await api.get(f"/smartlock/{FRONT_ID}/auth", params={"types": "13"})).json()
    courier = next(a for a in mine if a["name"] == "Courier code")
    one = await api.get(f"/smartlock/{FRONT_ID}/auth/{courier['id']}")
    assert one.json()["lockCount"] == 1
    update = {"name": "Parcel code", "enabled": False}
    assert (
        await api.post(f"/smartlock/{FRONT_ID}/auth/{courier['id']}", json=update)
    ).status_code == 204
    rejected = await world.person("Courier").enter_code("Front door", 456789)
    assert rejected.state == 9  # a disabled code is rejected
    bulk = [{"id": courier["id"], "name": "Parcel", "enabled": True}]
    assert (await api.post("/smartlock/auth", json=bulk)).status_code == 204
    assert world.auths[-1].name == "Parcel"
    many = {
        "name": "Spare fob",
        "remoteAllowed": True,
        "type": 2,
        "accountUserId": bob.account_user_id,
    }
    many["smartlockIds"] = [FRONT_ID, BACK_ID]  # type: ignore[assignment]
    assert (await api.put("/smartlock/auth", json=many)).status_code == 204
    fobs = [a for a in world.auths if a.name == "Spare fob"]
    assert len(fobs) == 2
    deleted = await api.request("DELETE", "/smartlock/auth", json=[fobs[0].id])
    assert deleted.status_code == 204
    assert (await api.delete(f"/smartlock/{BACK_ID}/auth/{fobs[1].id}")).status_code == 204
    assert not [a for a in world.auths if a.name == "Spare fob"]
    assert (await api.get(f"/smartlock/{FRONT_ID}/auth/{'f' * 24}")).status_code == 404


async def test_auth_writes_validate(world: World, api: httpx.AsyncClient) -> None:
    base = f"/smartlock/{FRONT_ID}/auth"
    cases = [
        {"name": "x", "remoteAllowed": True, "type": 13, "code": 123456},  # starts with 12
        {"name": "x", "remoteAllowed": True, "type": 13, "code": 405060},  # has a 0
        {"name": "x", "remoteAllowed": True, "type": 0},  # app needs accountUserId
        {"name": "x", "remoteAllowed": True, "type": 0, "accountUserId": 5},  # unknown user
        {"name": "x" * 33, "remoteAllowed": True, "type": 13, "code": 456789},
        {"name": "x", "remoteAllowed": True, "type": 1},
    ]
    statuses = [(await api.put(base, json=case)).status_code for case in cases]
    assert statuses == [400] * len(cases)
    assert (await api.put(base, content=b"[")).status_code == 400
    assert (await api.put(base, json=[])).status_code == 400
    assert (
        await api.put("/smartlock/auth", json={"name": "x", "remoteAllowed": True})
    ).status_code == 400
    assert (await api.put("/smartlock/77/auth", json=cases[0])).status_code == 404
    assert (
        await api.post("/smartlock/auth", json=[{"id": "nope", "name": "x"}])
    ).status_code == 400
    some = world.auths[0]
    assert (await api.post(f"/smartlock/{FRONT_ID}/auth/{some.id}", json={})).status_code == 400
    assert (
        await api.post(f"/smartlock/{FRONT_ID}/auth/{'0' * 24}", json={"name": "x"})
    ).status_code == 404
    assert (await api.delete(f"/smartlock/{FRONT_ID}/auth/{'0' * 24}")).status_code == 404
    bob_code = next(a for a in world.auths if a.type == 13)
    taken = {"name": "x", "code": bob_code.code}
    other = world.grant("Alice", "Front door", 13, code=567891)
    assert (await api.post(f"/smartlock/{FRONT_ID}/auth/{other.id}", json=taken)).status_code == 409
    assert (await api.get("/smartlock/99/auth")).status_code == 404


async def test_auth_writes_are_asynchronous(world: World, api: httpx.AsyncClient) -> None:
    world.knobs.auth_apply_delay = 0.1
    victim = world.auths[-1]
    assert (await api.delete(f"/smartlock/{FRONT_ID}/auth/{victim.id}")).status_code == 204
    assert victim in world.auths  # accepted, not yet done
    await world.wait_until(lambda: victim not in world.auths, deadline=DEADLINE)


async def test_account_and_users(world: World, api: httpx.AsyncClient) -> None:
    account = (await api.get("/account")).json()
    assert account["accountId"] == 100001
    users = (await api.get("/account/user")).json()
    assert [u["name"] for u in users] == ["Alice", "Bob"]
    assert len((await api.get("/account/user", params={"limit": 1, "offset": 1})).json()) == 1
    found = (await api.get("/account/user", params={"email": "bob@example.invalid"})).json()
    assert [u["name"] for u in found] == ["Bob"]
    created = await api.put(
        "/account/user", json={"email": "carol@example.invalid", "name": "Carol"}
    )
    assert created.status_code == 200
    carol = created.json()
    dup = await api.put("/account/user", json={"email": "carol@example.invalid", "name": "C"})
    assert dup.status_code == 409
    assert (await api.put("/account/user", json={"email": "nope", "name": "C"})).status_code == 400
    path = f"/account/user/{carol['accountUserId']}"
    assert (await api.get(path)).json()["name"] == "Carol"
    renamed = await api.post(path, json={"name": "Caroline", "language": "de"})
    assert (renamed.json()["name"], renamed.json()["language"]) == ("Caroline", "de")
    assert (await api.post(path, json={"email": "alice@example.invalid"})).status_code == 409
    assert (await api.post(path, json={"name": ""})).status_code == 400
    grant = {
        "name": "Carol",
        "remoteAllowed": True,
        "type": 0,
        "accountUserId": carol["accountUserId"],
    }
    assert (await api.put(f"/smartlock/{FRONT_ID}/auth", json=grant)).status_code == 204
    record = await world.person("Caroline").unlock("Front door", via="app")
    assert record.account_user_id == carol["accountUserId"]
    assert (await api.delete(path)).status_code == 204
    assert world.person("Caroline").account_user is None
    assert not [a for a in world.auths if a.account_user_id == carol["accountUserId"]]
    assert (await api.get(path)).status_code == 404
    assert (await api.post(path, json={"name": "x"})).status_code == 404
    assert (await api.delete(path)).status_code == 404
    # an account user whose name is taken by a person gets a distinct person
    other = (
        await api.put("/account/user", json={"email": "c2@example.invalid", "name": "Courier"})
    ).json()
    grant = {
        "name": "C2",
        "remoteAllowed": True,
        "type": 2,
        "accountUserId": other["accountUserId"],
    }
    assert (await api.put(f"/smartlock/{FRONT_ID}/auth", json=grant)).status_code == 204
    assert f"Courier ({other['accountUserId']})" in world.people


async def test_rate_limits_and_server_errors(world: World, api: httpx.AsyncClient) -> None:
    retry_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    world.knobs.fail_web(status=429)
    world.knobs.fail_web(status=429, retry_after=7)
    world.knobs.fail_web(status=429, retry_after=retry_at)
    world.knobs.fail_web(status=500)
    world.knobs.fail_web(status=502, html=True)
    responses = [await api.get("/smartlock") for _ in range(6)]
    assert [r.status_code for r in responses] == [429, 429, 429, 500, 502, 200]
    assert "Retry-After" not in responses[0].headers
    assert responses[0].json()["reasonPhrase"] == "Too Many Requests"
    assert responses[1].headers["Retry-After"] == "7"
    assert parsedate_to_datetime(responses[2].headers["Retry-After"]) == retry_at
    assert responses[3].json()["code"] == 500
    assert responses[4].headers["Content-Type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in responses[4].text
    world.knobs.web_error_rate = 1.0
    assert (await api.get("/smartlock")).status_code == 503
    world.knobs.web_error_rate = 0.0


async def test_hang_and_delay(world: World, api: httpx.AsyncClient) -> None:
    world.knobs.fail_web(hang=True)
    with pytest.raises(httpx.ReadTimeout):
        await api.get("/smartlock", timeout=0.2)
    world.knobs.web_hang = 0.1
    world.knobs.fail_web(hang=True)
    assert (await api.get("/smartlock")).status_code == 504
    world.knobs.web_delay = 0.15
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await api.get("/account")).status_code == 200
    assert loop.time() - started >= 0.15
    assert repr(world.web).startswith("SimulatedWebApi(url='http://127.0.0.1:")
