"""Nuki's Web API on 127.0.0.1: smartlocks, actions, logs, authorizations and account users.

A real aiohttp server answering the operations of Nuki's Swagger 2.0 spec (v4.4.1) that a
"who did it" client needs, in the spec's shapes (the tests validate every 200 against the
spec's schemas). Actions are accepted with 204 and then drive the World (trigger 4, the token
owner's authorization); the log shows entries only after their upload lag. Bearer tokens are
checked on every request but ``GET /discover/bridges`` (Nuki's bridge discovery, which lists
the World's bridges on 127.0.0.1); scripted faults (``Knobs.fail_web``) come before the check,
as a gateway's would. Registered decentral webhooks get signed pushes (``web_hooks.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nukiasync.const import AuthType, LockAction, LogAction
from nukiasync.simulator import web_admin
from nukiasync.simulator.actions import LOCK_ACTIONS, OPENER_ACTIONS, SimulationError
from nukiasync.simulator.devices import web_time
from nukiasync.simulator.logbook import DEFAULT_PAGE
from nukiasync.simulator.people import ACCOUNT_ID
from nukiasync.simulator.web_faults import bad_parameter, fault_response, restlet_error
from nukiasync.simulator.web_hooks import WebHooks

if TYPE_CHECKING:
    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.people import Person
    from nukiasync.simulator.world import World

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DISCOVERY_PATH = "/discover/bridges"  # needs no token


class BadParameterError(Exception):
    """A query or path value that Nuki would refuse with 400."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(name)
        self.name = name
        self.value = value


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    """Parse an optional integer query parameter."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadParameterError(name, raw) from None


def date_param(request: web.Request, name: str) -> datetime | None:
    """Parse an optional RFC 3339 date (with offset or ``Z``)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadParameterError(name, raw) from None
    if parsed.tzinfo is None:
        raise BadParameterError(name, raw)
    return parsed


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


class SimulatedWebApi:
    """The World's cloud; reach it at ``url`` with ``Authorization: Bearer <token>``."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.port = 0
        self.requests = 0
        self.hooks = WebHooks(self)
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"SimulatedWebApi(url={self.url!r})"

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on 127.0.0.1, port 0."""
        app = web.Application(middlewares=[self._middleware])
        add = app.router.add_route
        add("GET", "/smartlock", self._smartlocks)
        add("GET", "/smartlock/log", self._account_log)
        web_admin.add_routes(app, self)
        self.hooks.add_routes(app)
        add("GET", r"/smartlock/{smartlockId:\d+}", self._smartlock)
        add("POST", r"/smartlock/{smartlockId:\d+}/action", self._action)
        add("POST", r"/smartlock/{smartlockId:\d+}/action/lock", self._simple_action)
        add("POST", r"/smartlock/{smartlockId:\d+}/action/unlock", self._simple_action)
        add("GET", r"/smartlock/{smartlockId:\d+}/log", self._device_log)
        add("GET", "/account", self._account)
        add("GET", DISCOVERY_PATH, self._discover)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # noqa: SLF001 - the only way to read back port 0
        self.port = (getattr(server, "sockets", None) or [])[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening (and pushing webhooks)."""
        await self.hooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def device(self, request: web.Request) -> Device | None:
        """The device named by the ``smartlockId`` path parameter."""
        smartlock_id = int(request.match_info["smartlockId"])
        return next((d for d in self.world.devices if d.smartlock_id == smartlock_id), None)

    def owner(self, request: web.Request) -> Person | None:
        """The person whose token made this request."""
        return self.world.token_owner(_bearer(request) or "")

    def apply(self, change: Callable[[], None]) -> None:
        """Apply an authorization write now, or later when auth writes are asynchronous."""
        delay = self.world.knobs.auth_apply_delay
        if delay <= 0:
            change()
            self.world.changed()
            return

        async def later() -> None:
            await self.world.clock.sleep(delay)
            change()
            self.world.changed()

        self.world.spawn(later(), None, "web.auth_write")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests += 1
        knobs = self.world.knobs
        if knobs.web_delay:
            await asyncio.sleep(knobs.web_delay)
        fault = knobs.take_web_fault(self.world.rng)
        if fault is not None:
            return await fault_response(fault, closing=self.world.closing, hang=knobs.web_hang)
        if request.path != DISCOVERY_PATH and _bearer(request) not in self.world.web_tokens:
            return restlet_error(401)
        try:
            return await handler(request)
        except BadParameterError as err:
            return bad_parameter(err.name, err.value)
        except web.HTTPException as err:
            return restlet_error(err.status)

    # Smartlocks and actions

    async def _smartlocks(self, request: web.Request) -> web.StreamResponse:
        wanted = int_param(request, "type")
        listed = [
            self._smartlock_json(d) for d in self.world.devices if wanted in {None, d.device_type}
        ]
        return web.json_response(listed)

    async def _smartlock(self, request: web.Request) -> web.StreamResponse:
        device = self.device(request)
        if device is None:
            return restlet_error(404)
        return web.json_response(self._smartlock_json(device))

    def _smartlock_json(self, device: Device) -> dict[str, Any]:
        bridge_auth = self.world.auth_of(None, device, AuthType.BRIDGE)
        auth_id = bridge_auth.auth_id if bridge_auth is not None else 0
        return device.web_smartlock(account_id=ACCOUNT_ID, auth_id=auth_id)

    async def _action(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            action = int(body["action"])
        except (ValueError, KeyError, TypeError):
            return restlet_error(400, "The request body is not a valid SmartlockAction")
        return await self._start_action(request, action)

    async def _simple_action(self, request: web.Request) -> web.StreamResponse:
        device = self.device(request)
        unlock = request.path.endswith("/unlock")
        action: int = LockAction.UNLOCK if unlock else LockAction.LOCK
        if device is not None and device.is_opener and unlock:
            action = LogAction.UNLATCH  # Opener: open, like the bridge's simple /unlock
        return await self._start_action(request, action)

    async def _start_action(self, request: web.Request, action: int) -> web.StreamResponse:
        device = self.device(request)
        if device is None:
            return restlet_error(404)
        if action not in (OPENER_ACTIONS if device.is_opener else LOCK_ACTIONS):
            return restlet_error(400, f"Action {action} is not valid for this device")
        person = self.owner(request)
        auth = self.world.auth_of(person, device, AuthType.APP)
        if auth is None or not auth.remote_allowed:
            return restlet_error(403, "No remote access to this smartlock")
        self.world.spawn(self._act_later(person, device, action), device, "web.action")
        return web.Response(status=204)

    async def _act_later(self, person: Person | None, device: Device, action: int) -> None:
        """Cloud to bridge to lock: the action starts a moment after the 204."""
        await self.world.clock.sleep(self.world.knobs.web_action_delay)
        try:
            await self.world.act(person, device, action, via="web")
        except SimulationError as err:  # the authorization went away meanwhile
            _LOGGER.debug("web action dropped: %s", err)

    # Logs

    async def _account_log(self, request: web.Request) -> web.StreamResponse:
        return self._log_page(request, smartlock_id=None, auth_id=None)

    async def _device_log(self, request: web.Request) -> web.StreamResponse:
        device = self.device(request)
        if device is None:
            return restlet_error(404)
        return self._log_page(
            request, smartlock_id=device.smartlock_id, auth_id=request.query.get("authId")
        )

    def _log_page(
        self, request: web.Request, *, smartlock_id: int | None, auth_id: str | None
    ) -> web.Response:
        limit = int_param(request, "limit", DEFAULT_PAGE)
        entries = self.world.logbook.query(
            self.world.clock.now(),
            smartlock_id=smartlock_id,
            auth_id=auth_id,
            account_user_id=int_param(request, "accountUserId"),
            action=int_param(request, "action"),
            from_date=date_param(request, "fromDate"),
            to_date=date_param(request, "toDate"),
            older_than=request.query.get("id") or None,
            limit=limit if limit is not None and limit > 0 else DEFAULT_PAGE,
        )
        return web.json_response([entry.web_json() for entry in entries])

    # Discovery

    async def _discover(self, _request: web.Request) -> web.StreamResponse:
        bridges = [bridge.discovery_entry() for bridge in self.world.bridges.values()]
        return web.json_response({"bridges": bridges, "errorCode": 0})

    # Account

    async def _account(self, _request: web.Request) -> web.StreamResponse:
        created = web_time(self.world.created)
        return web.json_response(
            {
                "accountId": ACCOUNT_ID,
                "type": 0,
                "email": self.world.account_email,
                "name": self.world.account_name,
                "language": "en",
                "emailVerified": True,
                "creationDate": created,
                "updateDate": created,
            }
        )
