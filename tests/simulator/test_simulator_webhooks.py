"""The simulated Web API's decentral webhooks: registered by our client, pushed signed, checked.

The pushes cross real loopback sockets into nukiasync's `WebhookReceiver` on an aiohttp
server; a receiver holding the wrong secret must refuse them.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import jsonschema
import pytest
from aiohttp import web

from nukiasync.web import NukiWebClient
from nukiasync.web.webhook_receiver import WebhookReceiver
from nukiasync.web.webhooks import DeviceStatusWebhook, WebhookEvent
from tests.support import canary
from tests.support.paths import FIXTURES
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import World
    from nukiasync.web.models.log import SmartlockLog

pytestmark = pytest.mark.sockets
DEADLINE = 5.0
SPEC = json.loads((FIXTURES / "spec" / "nuki-web-api-swagger.json").read_text("utf-8"))


class Endpoint:
    """An aiohttp server on 127.0.0.1 whose ``/hook`` a `WebhookReceiver` serves."""

    def __init__(self) -> None:
        self.receiver: WebhookReceiver | None = None
        self.logs: list[SmartlockLog] = []
        self.events: list[WebhookEvent] = []
        self.changed = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def listen(self, secret: str) -> WebhookReceiver:
        self.receiver = WebhookReceiver(canary.register(secret), self._log, on_event=self._event)
        return self.receiver

    def _log(self, log: SmartlockLog) -> None:
        self.logs.append(log)
        self.changed.set()

    def _event(self, event: WebhookEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def _handle(self, request: web.Request) -> web.Response:
        assert self.receiver is not None
        response = await self.receiver.aiohttp_handler(request)
        self.changed.set()
        return response

    async def wait_for(self, predicate: Any) -> None:
        async with asyncio.timeout(DEADLINE):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    point = Endpoint()
    await point.start()
    try:
        yield point
    finally:
        await point.close()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world(log_lag=0.1) as running:
        yield running


@pytest.fixture
async def client(world: World) -> AsyncIterator[NukiWebClient]:
    web_client = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, retry_attempts=1)
    try:
        yield web_client
    finally:
        await web_client.close()


def _validate(path: str, method: str, body: Any) -> None:
    schema = SPEC["paths"][path][method]["responses"]["200"]["schema"]
    jsonschema.Draft4Validator({**schema, "definitions": SPEC["definitions"]}).validate(body)


async def test_device_logs_arrive_signed_and_name_the_entry(
    world: World, client: NukiWebClient, endpoint: Endpoint
) -> None:
    hook = await client.register_decentral_webhook(
        webhook_url=endpoint.url, webhook_features=["DEVICE_LOGS", "DEVICE_STATUS"]
    )
    assert hook.secret
    receiver = endpoint.listen(hook.secret)
    record = await world.person("Alice").unlock("Front door", via="app")
    await endpoint.wait_for(lambda: any(log.id == record.log_id for log in endpoint.logs))
    log = next(log for log in endpoint.logs if log.id == record.log_id)
    assert (log.auth_id, log.name, log.smartlock_id) == (
        record.auth_id,
        "Alice",
        record.smartlock_id,
    )
    logs_sent = lambda: [s for s in world.web.hooks.sent if s.feature == "DEVICE_LOGS"]  # noqa: E731
    await world.wait_until(lambda: bool(logs_sent()), deadline=DEADLINE)  # its answer came
    pushed = logs_sent()[0]
    assert pushed.at >= record.visible_at  # pushed once the entry reached the cloud
    assert pushed.status == 200
    statuses = [e for e in endpoint.events if isinstance(e, DeviceStatusWebhook)]
    assert any(e.state.state_code == 3 for e in statuses if e.smartlock_id == record.smartlock_id)
    assert receiver.stats.rejected == {}
    listed = await client.decentral_webhooks()
    assert [(h.id, h.secret) for h in listed] == [(hook.id, None)]  # the secret only once


async def test_a_receiver_with_another_secret_refuses_the_push(
    world: World, client: NukiWebClient, endpoint: Endpoint
) -> None:
    await client.register_decentral_webhook(
        webhook_url=endpoint.url, webhook_features=["DEVICE_LOGS"]
    )
    receiver = endpoint.listen("not-the-secret-" + "x" * 20)
    await world.person("Alice").lock("Back door")
    await world.wait_until(lambda: bool(world.web.hooks.sent), deadline=DEADLINE)
    assert [s.status for s in world.web.hooks.sent] == [401]
    assert receiver.stats.rejected == {"signature": 1}
    assert endpoint.logs == []


async def test_loss_delay_and_unregister(
    world: World, client: NukiWebClient, endpoint: Endpoint
) -> None:
    hook = await client.register_decentral_webhook(
        webhook_url=endpoint.url, webhook_features=["DEVICE_LOGS"]
    )
    assert hook.secret is not None
    assert hook.id is not None
    endpoint.listen(hook.secret)
    world.knobs.drop_next_webhooks = 1
    world.knobs.webhook_delay = 0.2
    lost = await world.person("Alice").lock("Back door")
    kept = await world.person("Alice").unlock("Back door")
    await endpoint.wait_for(lambda: len(endpoint.logs) == 1)
    assert [log.id for log in endpoint.logs] == [kept.log_id]
    assert world.web.hooks.lost == 1
    assert lost.log_id not in {log.id for log in endpoint.logs}
    await world.wait_until(lambda: bool(world.web.hooks.sent), deadline=DEADLINE)
    (sent,) = world.web.hooks.sent
    assert kept.visible_at is not None
    assert (sent.at - kept.visible_at).total_seconds() >= 0.2  # the delay after visible_at
    await client.delete_decentral_webhook(hook.id)
    assert await client.decentral_webhooks() == []
    await world.person("Alice").lock("Back door")  # no registration: nothing is scheduled
    assert not [t for t in asyncio.all_tasks() if "webhook" in t.get_name()]


async def test_registration_is_checked_and_answers_in_the_spec_shape(world: World) -> None:
    headers = {"Authorization": f"Bearer {canary.WEB_TOKEN}"}
    async with httpx.AsyncClient(base_url=world.web_url, headers=headers) as api:
        good = {"webhookUrl": "https://example.invalid/hook", "webhookFeatures": ["DEVICE_LOGS"]}
        created = await api.put("/api/decentralWebhook", json=good)
        assert created.status_code == 200
        _validate("/api/decentralWebhook", "put", created.json())
        canary.register(created.json()["secret"])
        listed = await api.get("/api/decentralWebhook")
        _validate("/api/decentralWebhook", "get", listed.json())
        assert "secret" not in listed.json()[0]
        for bad in (
            {"webhookUrl": "http://example.invalid/hook", "webhookFeatures": ["DEVICE_LOGS"]},
            {"webhookUrl": "https://example.invalid/hook", "webhookFeatures": []},
            {"webhookUrl": "https://example.invalid/hook", "webhookFeatures": ["NOPE"]},
            {"webhookFeatures": ["DEVICE_LOGS"]},
            {"webhookUrl": "https://", "webhookFeatures": ["DEVICE_LOGS"]},
            {"webhookUrl": "https://x.invalid/" + "a" * 2048, "webhookFeatures": ["DEVICE_LOGS"]},
            ["not", "an", "object"],
        ):
            assert (await api.put("/api/decentralWebhook", json=bad)).status_code == 400
        assert (await api.put("/api/decentralWebhook", content=b"{")).status_code == 400
        assert (await api.delete("/api/decentralWebhook/99")).status_code == 404
        await world.person("Alice").lock("Back door")  # https, not loopback: never posted
        await world.wait_until(lambda: bool(world.web.hooks.sent), deadline=DEADLINE)
    assert [s.status for s in world.web.hooks.sent] == [None]
    assert "example.invalid/hook" not in repr(world.web.hooks.registrations[1])


async def test_a_push_nobody_answers_and_one_unregistered_before_it_goes(world: World) -> None:
    hooks = world.web.hooks
    refused = hooks.register("http://localhost:9/hook", ["DEVICE_LOGS"])  # nothing listens
    canary.register(refused.secret)
    await world.person("Alice").lock("Back door")
    await world.wait_until(lambda: bool(hooks.sent), deadline=DEADLINE)
    assert [(s.registration, s.status) for s in hooks.sent] == [(refused.id, None)]
    world.knobs.webhook_delay = 0.3
    await world.person("Alice").unlock("Back door")
    del hooks.registrations[refused.id]  # unregistered while the push waits
    pending = lambda: [t for t in asyncio.all_tasks() if "webhook" in t.get_name()]  # noqa: E731
    await world.wait_until(lambda: not pending(), deadline=DEADLINE)
    assert len(hooks.sent) == 1
