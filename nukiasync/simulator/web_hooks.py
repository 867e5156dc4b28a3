"""Decentral webhooks of the simulated Web API: registration, then signed pushes to each URL.

``PUT``/``GET``/``DELETE /api/decentralWebhook`` as the spec (v4.4.1) has them: a
registration answers with its id and its ``secret`` (only there). The cloud then POSTs each
feature asked for: ``DEVICE_LOGS`` (the ``SmartlockLog`` nested under ``smartlockLog``) when
an entry reaches the cloud, i.e. at its ``visible_at``, and ``DEVICE_STATUS`` when a device
reports a state. Each body is signed as Nuki signs it: ``X-Nuki-Signature-SHA256``, the hex
HMAC-SHA256 of the raw body keyed with the secret. ``Knobs.webhook_delay`` delays and
``webhook_loss`` / ``drop_next_webhooks`` lose POSTs (Nuki documents no re-delivery).

Nuki accepts https URLs only; the simulator accepts those and, for a loopback host, http (tests
run without TLS), and it POSTs to loopback addresses only, logging a URL by its origin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import attrs
from aiohttp import web

from nukiasync.const import AuthType
from nukiasync.simulator.bridge_callbacks import is_loopback, safe_url
from nukiasync.simulator.knobs import draw_lag
from nukiasync.simulator.people import ACCOUNT_ID
from nukiasync.simulator.web_faults import restlet_error

if TYPE_CHECKING:
    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.logbook import LogEntry
    from nukiasync.simulator.web_server import SimulatedWebApi

_LOGGER = logging.getLogger(__name__)

PATH = "/api/decentralWebhook"
SIGNATURE_HEADER = "X-Nuki-Signature-SHA256"
FEATURES = frozenset(
    {"DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_CONFIG", "DEVICE_LOGS", "DEVICE_AUTHS"}
    | {"ACCOUNT_USER"}
)
PUSH_TIMEOUT = 10.0


def sign(body: bytes, secret: str) -> str:
    """Nuki's signature of a webhook body: lowercase hex HMAC-SHA256."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _acceptable(url: object) -> bool:
    if not isinstance(url, str) or len(url) > 2048:
        return False
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(url))


@attrs.define(kw_only=True)
class Registration:
    """One registered decentral webhook."""

    id: int
    url: str = attrs.field(repr=safe_url)
    features: tuple[str, ...]
    secret: str = attrs.field(repr=False)

    def web_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The spec's ``DecentralWebhook`` object (the secret only in the PUT answer)."""
        body: dict[str, Any] = {"id": self.id}
        if with_secret:
            body["secret"] = self.secret
        body.update(webhookUrl=self.url, webhookFeatures=list(self.features))
        return body


@attrs.frozen(kw_only=True)
class SentWebhook:
    """One POST the simulated cloud made (``status`` None: no answer)."""

    registration: int
    feature: str
    body: bytes = attrs.field(repr=False)
    signature: str = attrs.field(repr=False)
    status: int | None
    at: datetime
    perf: float  # time.perf_counter() just before the POST


class WebHooks:
    """The simulated cloud's decentral webhooks: what is registered, what was pushed."""

    def __init__(self, api: SimulatedWebApi) -> None:
        self.api = api
        self.world = api.world
        self.registrations: dict[int, Registration] = {}
        self.sent: list[SentWebhook] = []
        self.lost = 0
        self._next_id = 1
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"WebHooks(registered={len(self.registrations)}, sent={len(self.sent)})"

    def add_routes(self, app: web.Application) -> None:
        """Register the AdvancedApi decentral webhook operations."""
        app.router.add_route("GET", PATH, self._list)
        app.router.add_route("PUT", PATH, self._register)
        app.router.add_route("DELETE", PATH + r"/{id:\d+}", self._delete)

    async def close(self) -> None:
        """Close the HTTP session the pushes use."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def register(self, url: str, features: list[str] | tuple[str, ...]) -> Registration:
        """Register a webhook directly (what the PUT does); returns it with its secret."""
        registration = Registration(
            id=self._next_id, url=url, features=tuple(features), secret=secrets.token_hex(24)
        )
        self._next_id += 1
        self.registrations[registration.id] = registration
        return registration

    # What the World tells the cloud

    def log_written(self, entry: LogEntry) -> None:
        """A log entry was recorded: push DEVICE_LOGS once it reaches the cloud."""
        body = {"feature": "DEVICE_LOGS", "smartlockLog": entry.web_json()}
        self._push_all("DEVICE_LOGS", body, entry.visible_at)

    def status(self, device: Device) -> None:
        """A device reported its state: push DEVICE_STATUS."""
        if not any("DEVICE_STATUS" in r.features for r in self.registrations.values()):
            return
        bridge = self.world.auth_of(None, device, AuthType.BRIDGE)
        smartlock = device.web_smartlock(
            account_id=ACCOUNT_ID, auth_id=bridge.auth_id if bridge is not None else 0
        )
        body = {
            "feature": "DEVICE_STATUS",
            "smartlockId": device.smartlock_id,
            "state": smartlock["state"],
            "serverState": smartlock["serverState"],
            "adminPinState": smartlock["adminPinState"],
        }
        self._push_all("DEVICE_STATUS", body, None)

    def _push_all(self, feature: str, body: dict[str, Any], not_before: datetime | None) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode()
        for registration in list(self.registrations.values()):
            if feature in registration.features:
                push = self._push(registration, feature, raw, not_before)
                self.world.spawn(push, None, f"webhook.{feature.lower()}")

    async def _push(
        self, registration: Registration, feature: str, raw: bytes, not_before: datetime | None
    ) -> None:
        clock, knobs = self.world.clock, self.world.knobs
        wait = (not_before - clock.now()).total_seconds() if not_before is not None else 0.0
        wait += draw_lag(knobs.webhook_delay, self.world.rng)
        if wait > 0:
            await clock.sleep(wait)
        if registration.id not in self.registrations:
            self.world.changed()
            return  # unregistered meanwhile
        if knobs.take_webhook_loss(self.world.rng):
            self.lost += 1
            self.world.changed()
            return
        signature = sign(raw, registration.secret)
        perf = time.perf_counter()
        status = await self._post(registration.url, raw, signature)
        self.sent.append(
            SentWebhook(
                registration=registration.id, feature=feature, body=raw, signature=signature,
                status=status, at=clock.now(), perf=perf,
            )
        )  # fmt: skip
        self.world.changed()

    async def _post(self, url: str, raw: bytes, signature: str) -> int | None:
        if not is_loopback(url):
            _LOGGER.debug("not pushing to %s (the simulator stays on loopback)", safe_url(url))
            return None
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            SIGNATURE_HEADER: signature,
        }
        timeout = aiohttp.ClientTimeout(total=PUSH_TIMEOUT)
        try:
            async with self._session.post(
                url, data=raw, headers=headers, timeout=timeout, ssl=False
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            _LOGGER.debug("webhook to %s failed", safe_url(url))
            return None

    # Routes

    async def _list(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response([r.web_json() for r in self.registrations.values()])

    async def _register(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return restlet_error(400, "The request body is not valid JSON")
        if not isinstance(body, dict) or not _acceptable(body.get("webhookUrl")):
            return restlet_error(400, "webhookUrl must be an https URL")
        features = body.get("webhookFeatures")
        if (
            not isinstance(features, list)
            or not features
            or not all(isinstance(f, str) and f in FEATURES for f in features)
        ):
            return restlet_error(400, "webhookFeatures must list known features")
        registration = self.register(body["webhookUrl"], list(dict.fromkeys(features)))
        self.world.changed()
        return web.json_response(registration.web_json(with_secret=True))

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        if self.registrations.pop(int(request.match_info["id"]), None) is None:
            return restlet_error(404)
        self.world.changed()
        return web.Response(status=204)
