"""Every 200 the simulated Web API gives validates against the spec copy's schemas."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import jsonschema

from tests.support import canary
from tests.support.paths import FIXTURES
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from nukiasync.simulator import World

SPEC = json.loads((FIXTURES / "spec" / "nuki-web-api-swagger.json").read_text("utf-8"))
FRONT_ID = (4 << 32) | 0x1A2B3C4D


def validate(path: str, method: str, body: Any) -> None:
    """Validate ``body`` against the 200 schema of one operation, resolving ``definitions``."""
    schema = SPEC["paths"][path][method]["responses"]["200"]["schema"]
    jsonschema.Draft4Validator({**schema, "definitions": SPEC["definitions"]}).validate(body)


async def busy_world(world: World) -> None:
    world.knobs.log_lag = 0.0
    alice, bob, courier = (world.person(n) for n in ("Alice", "Bob", "Courier"))
    await alice.unlatch("Front door")
    await bob.unlock("Front door", via="keypad")
    await courier.enter_code("Front door", 999999)
    await alice.open_door("Front door")
    await alice.lock("Back door", via="manual")
    await alice.activate_rto("Entrance")
    await courier.ring("Entrance")
    await alice.continuous_mode("Entrance")


async def test_every_implemented_operation_validates() -> None:
    async with make_world() as world:
        await busy_world(world)
        headers = {"Authorization": f"Bearer {canary.WEB_TOKEN}"}
        async with httpx.AsyncClient(base_url=world.web_url, headers=headers) as api:
            auth_id = world.auths[-1].id
            user = world.person("Alice").account_user
            assert user is not None
            reads = {
                ("/smartlock", "get"): "/smartlock",
                ("/smartlock/{smartlockId}", "get"): f"/smartlock/{FRONT_ID}",
                ("/smartlock/log", "get"): "/smartlock/log",
                ("/smartlock/{smartlockId}/log", "get"): f"/smartlock/{FRONT_ID}/log",
                ("/smartlock/auth", "get"): "/smartlock/auth",
                ("/smartlock/{smartlockId}/auth", "get"): f"/smartlock/{FRONT_ID}/auth",
                (
                    "/smartlock/{smartlockId}/auth/{id}",
                    "get",
                ): f"/smartlock/{FRONT_ID}/auth/{auth_id}",
                ("/account", "get"): "/account",
                ("/account/user", "get"): "/account/user",
                ("/account/user/{accountUserId}", "get"): "/account/user/"
                + str(user.account_user_id),
            }
            for (path, method), url in reads.items():
                response = await api.get(url)
                assert response.status_code == 200, url
                validate(path, method, response.json())
            for device in world.devices:
                body = (await api.get(f"/smartlock/{device.smartlock_id}")).json()
                validate("/smartlock/{smartlockId}", "get", body)
            entries = (await api.get("/smartlock/log", params={"limit": 50})).json()
            assert {e["action"] for e in entries} >= {1, 2, 3, 6, 224, 240}
            created = await api.put(
                "/account/user", json={"email": "d@example.invalid", "name": "D"}
            )
            validate("/account/user", "put", created.json())
            path = f"/account/user/{created.json()['accountUserId']}"
            updated = await api.post(path, json={"name": "Dee"})
            validate("/account/user/{accountUserId}", "post", updated.json())


def test_implemented_routes_are_in_the_spec() -> None:
    implemented = {
        ("/smartlock", "get"), ("/smartlock/{smartlockId}", "get"),
        ("/smartlock/{smartlockId}/action", "post"),
        ("/smartlock/{smartlockId}/action/lock", "post"),
        ("/smartlock/{smartlockId}/action/unlock", "post"), ("/smartlock/log", "get"),
        ("/smartlock/{smartlockId}/log", "get"), ("/smartlock/auth", "get"),
        ("/smartlock/auth", "put"), ("/smartlock/auth", "post"), ("/smartlock/auth", "delete"),
        ("/smartlock/{smartlockId}/auth", "get"), ("/smartlock/{smartlockId}/auth", "put"),
        ("/smartlock/{smartlockId}/auth/{id}", "get"),
        ("/smartlock/{smartlockId}/auth/{id}", "post"),
        ("/smartlock/{smartlockId}/auth/{id}", "delete"), ("/account", "get"),
        ("/account/user", "get"), ("/account/user", "put"),
        ("/account/user/{accountUserId}", "get"), ("/account/user/{accountUserId}", "post"),
        ("/account/user/{accountUserId}", "delete"),
    }  # fmt: skip
    for path, method in implemented:
        assert method in SPEC["paths"][path], (path, method)
