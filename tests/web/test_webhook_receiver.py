"""Decentral webhooks pushed to a real aiohttp route: signature, dedup, accounting."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiohttp import web

from nukiasync.web.webhook_receiver import WebhookReceiver
from nukiasync.web.webhooks import SIGNATURE_HEADER, DeviceStatusWebhook, WebhookEvent
from tests.support import canary
from tests.support.paths import load_fixture

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.web.models.log import SmartlockLog

pytestmark = pytest.mark.sockets
SECRET = canary.WEBHOOK_SECRET


def _sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Rig:
    def __init__(self) -> None:
        self.logs: list[SmartlockLog] = []
        self.events: list[WebhookEvent] = []
        self.receiver = WebhookReceiver(SECRET, self.logs.append, on_event=self.events.append)
        self.client: httpx.AsyncClient

    async def post(self, payload: Any, *, signature: str | None = None, **headers: str) -> int:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {SIGNATURE_HEADER: _sign(body) if signature is None else signature, **headers}
        if signature == "":
            del sent[SIGNATURE_HEADER]
        response = await self.client.post("/nuki/webhook", content=body, headers=sent)
        return response.status_code


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    app = web.Application()
    app.router.add_post("/nuki/webhook", rig.receiver.aiohttp_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        rig.client = client
        yield rig
    await runner.cleanup()


async def test_a_pushed_log_entry_is_handed_on_once(rig: Rig) -> None:
    nested = load_fixture("web/webhook_device_logs_nested.json")
    assert await rig.post(nested) == 200
    assert await rig.post(nested) == 200  # Nuki delivers at least once
    flat = load_fixture("web/webhook_device_logs_flat.json")  # no id: keyed by its facts
    assert await rig.post(flat) == 200
    assert await rig.post(flat) == 200
    assert [log.id for log in rig.logs] == ["65a1f0c2e4b0a1b2c3d4e5f6", ""]
    assert rig.logs[0].name == "Alice Example"
    stats = rig.receiver.stats
    assert (stats.received, stats.accepted, stats.duplicates, stats.rejected) == (4, 2, 2, {})


async def test_other_features_go_to_on_event(rig: Rig) -> None:
    assert await rig.post(load_fixture("web/webhook_device_status.json")) == 200
    assert isinstance(rig.events[0], DeviceStatusWebhook)
    quiet = WebhookReceiver(SECRET, rig.logs.append)
    body = json.dumps(load_fixture("web/webhook_device_status.json")).encode()
    assert quiet.handle(body, _sign(body)) == 200
    assert (quiet.stats.ignored, quiet.stats.accepted) == (1, 0)


@pytest.mark.parametrize(
    ("signature", "status"),
    [("", 401), ("0" * 64, 401), ("not-hex", 401), (_sign(b"other body"), 401)],
)
async def test_forged_or_unsigned_bodies_are_refused(rig: Rig, signature: str, status: int) -> None:
    assert (
        await rig.post(load_fixture("web/webhook_device_logs_nested.json"), signature=signature)
        == status
    )
    assert rig.logs == []
    assert rig.receiver.stats.rejected == {"signature": 1}


async def test_a_body_signed_with_another_secret_is_refused(rig: Rig) -> None:
    body = json.dumps(load_fixture("web/webhook_device_logs_nested.json")).encode()
    assert await rig.post(body, signature=_sign(body, "another-secret")) == 401
    assert rig.logs == []


async def test_bad_input_gets_a_4xx_and_a_count(rig: Rig) -> None:
    assert await rig.post(b"{not json") == 400
    assert await rig.post({"feature": "DEVICE_LOGS"}) == 400
    assert await rig.post(b"x" * (70 * 1024)) == 413
    gzip = {"Content-Encoding": "identity, gzip"}
    assert await rig.post(load_fixture("web/webhook_device_logs_nested.json"), **gzip) == 415
    assert rig.receiver.stats.rejected == {"malformed": 2, "size": 1, "encoding": 1}
    assert rig.receiver.stats.received == 4
    assert rig.logs == []


async def test_size_without_content_length_is_checked_on_the_bytes() -> None:
    receiver = WebhookReceiver(SECRET, lambda _log: None, max_body_size=10)
    assert receiver.handle(b"x" * 11, _sign(b"x" * 11)) == 413


async def test_a_failing_consumer_is_counted_and_the_sender_gets_its_200() -> None:
    def broken(_log: SmartlockLog) -> None:
        raise RuntimeError

    receiver = WebhookReceiver(SECRET, broken)
    body = json.dumps(load_fixture("web/webhook_device_logs_nested.json")).encode()
    assert receiver.handle(body, _sign(body)) == 200
    assert (receiver.stats.accepted, receiver.stats.undelivered) == (1, 1)
    assert "received=1" in repr(receiver)
    assert SECRET not in repr(receiver)


def test_dedup_memory_is_bounded() -> None:
    logs: list[SmartlockLog] = []
    receiver = WebhookReceiver(SECRET, logs.append, remember=2)
    entry = load_fixture("web/webhook_device_logs_nested.json")
    bodies = []
    for index in range(3):
        entry["smartlockLog"]["id"] = f"id-{index}"
        bodies.append(json.dumps(entry).encode())
    for body in [*bodies, bodies[0]]:  # id-0 was forgotten: handed on again
        receiver.handle(body, _sign(body))
    assert [log.id for log in logs] == ["id-0", "id-1", "id-2", "id-0"]
    with pytest.raises(ValueError, match="secret"):
        WebhookReceiver("", logs.append)
