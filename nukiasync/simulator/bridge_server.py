"""A Nuki Bridge on 127.0.0.1: the HTTP API 1.13.3 over a real aiohttp server.

It behaves as a hardware bridge does: every endpoint is a GET with query parameters; one
request at a time (503 while busy, also while it is posting a callback); tokens in three modes
(``bridge_auth``); ``/auth`` waits for ``press_button()``; at most three http-only callback
URLs, posted sequentially in registration order, so a slow first URL delays the others;
``/reboot`` forgets the callbacks and refuses connections for a while; an Opener is found only
with ``deviceType=2``. Callback registration and delivery live in ``bridge_callbacks``. A
World may hold several bridges, each with its own server, token, callbacks and paired
devices; they share the World's knobs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nukiasync.const import AuthType, LockAction, LogAction
from nukiasync.simulator import actions
from nukiasync.simulator.actions import Actor
from nukiasync.simulator.bridge_auth import TokenChecker
from nukiasync.simulator.bridge_callbacks import CallbackDelivery, error
from nukiasync.simulator.devices import DEFAULT_BRIDGE, bridge_time

if TYPE_CHECKING:
    from nukiasync.simulator.bridge_callbacks import SentCallback
    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.truth import StateChange
    from nukiasync.simulator.world import World

_LOGGER = logging.getLogger(__name__)

# Bridge /lockAction numbers for an Opener -> the Web API log action they produce.
OPENER_BRIDGE_ACTIONS = {1: 1, 2: 2, 3: 3, 4: 6, 5: 7}

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


class SimulatedBridge(CallbackDelivery):
    """The World's bridge; reach it at ``url`` with the ``token``."""

    def __init__(self, world: World, token: str, *, name: str = DEFAULT_BRIDGE) -> None:
        self.world = world
        self.name = name
        self.tokens = TokenChecker(token)
        self.callbacks: list[tuple[int, str]] = []
        self.sent: list[SentCallback] = []
        self.debug_log: list[dict[str, Any]] = []
        self.auth_enabled = True
        self.http_api = True  # off: discovery lists 0.0.0.0:0 and every request gets 403
        self.rejected_busy = 0
        self.rebooting = False
        self.lost = 0  # callback POSTs lost on purpose (Knobs)
        self.port = 0
        self.hardware_id = 0x20000000 + world.rng.getrandbits(24)
        self.server_id = 0x1A000000 + world.rng.getrandbits(24)
        self._booted = time.time()
        self.reported = world.clock.now()  # when it last told Nuki's server its address
        self._queue: asyncio.Queue[tuple[dict[str, Any], StateChange | None]] = asyncio.Queue()
        self._serving = asyncio.Lock()
        self._button = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._routes: dict[str, Handler] = {
            "/configAuth": self._config_auth,
            "/list": self._list,
            "/info": self._info,
            "/lockState": self._lock_state,
            "/lockAction": self._lock_action,
            "/lock": self._simple_action,
            "/unlock": self._simple_action,
            "/unpair": self._unpair,
            "/callback/add": self._callback_add,
            "/callback/list": self._callback_list,
            "/callback/remove": self._callback_remove,
            "/log": self._log,
            "/clearlog": self._maintenance,
            "/fwupdate": self._maintenance,
            "/reboot": self._maintenance,
            "/factoryReset": self._maintenance,
        }

    def __repr__(self) -> str:
        if self.name == DEFAULT_BRIDGE:
            return f"SimulatedBridge(url={self.url!r})"
        return f"SimulatedBridge(name={self.name!r}, url={self.url!r})"

    @property
    def bridge_id(self) -> int:
        """The id Nuki's discovery lists (the ``serverId`` of ``/info``)."""
        return self.server_id

    @property
    def devices(self) -> list[Device]:
        """The World's devices that belong to this bridge (paired or not)."""
        return [d for d in self.world.devices if d.bridge == self.name]

    @property
    def token(self) -> str:
        """The API token (what ``/auth`` hands out)."""
        return self.tokens.token

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def busy(self) -> bool:
        """Whether the bridge is serving a request or posting a callback right now."""
        return self._serving.locked()

    def press_button(self) -> None:
        """Press the bridge's button: grants the pending (or the next) ``/auth`` request."""
        self._button.set()

    async def start(self) -> None:
        """Listen on 127.0.0.1 (port 0) and start delivering callbacks."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await self._listen()
        self.world.spawn(self._deliver(), None, self._kind("callbacks"))

    async def stop(self) -> None:
        """Stop listening (tasks are the World's to cancel); a waiting ``/auth`` gets 503."""
        self._stopping = True
        self._button.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def discovery_entry(self) -> dict[str, Any]:
        """This bridge as ``GET /discover/bridges`` lists it.

        ``/configAuth`` with ``enable=0`` also stops the bridge publishing its address, so a
        bridge with pairing off is listed like one with its HTTP API off: ``0.0.0.0``, port 0.
        """
        on = self.http_api and self.auth_enabled
        return {
            "bridgeId": self.bridge_id,
            "ip": "127.0.0.1" if on else "0.0.0.0",  # noqa: S104 - Nuki's "API off" marker
            "port": self.port if on else 0,
            "dateUpdated": self.reported.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _kind(self, what: str) -> str:
        """A task kind: ``bridge.<what>``, with the name for any bridge but the first."""
        return f"bridge.{what}" if self.name == DEFAULT_BRIDGE else f"bridge[{self.name}].{what}"

    # Serving

    async def _listen(self) -> None:
        assert self._runner is not None  # noqa: S101 - start() set it
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()
        if not self.port:
            server = self._site._server  # noqa: SLF001 - the only way to read back port 0
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        knobs = self.world.knobs
        if knobs.bridge_busy_next > 0:
            knobs.bridge_busy_next -= 1
            return error(503)
        if not self.http_api:
            return error(403)
        if self._serving.locked():
            self.rejected_busy += 1
            return error(503)
        async with self._serving:
            self.world.changed()
            if knobs.bridge_request_time:
                await self.world.clock.sleep(knobs.bridge_request_time)
            query = dict(request.query)
            endpoint = request.path[1:].replace("/", "-")
            self.debug_log.insert(
                0, {"timestamp": bridge_time(self._now()), "type": f"HTTP-{endpoint}"}
            )
            try:
                return await self._handle(request, query)
            finally:
                self.world.changed()  # what the handler changed (callbacks, pairing) is seen

    async def _handle(self, request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        if request.path == "/auth":
            return await self._auth()
        handler = self._routes.get(request.path)
        if handler is None:
            return error(404)
        if not self.tokens.check(query, time.time() + self.world.knobs.bridge_clock_skew):
            return error(401)
        return await handler(request, query)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.world.knobs.bridge_clock_skew, UTC)

    def _device(self, query: dict[str, str]) -> Device | None:
        nuki_id = int(query["nukiId"])
        device_type = int(query.get("deviceType", "0"))
        for device in self.devices:
            if device.paired and (device.nuki_id, device.device_type) == (nuki_id, device_type):
                return device
        return None

    async def _auth(self) -> web.StreamResponse:
        if not self.auth_enabled:
            return error(403)
        try:
            async with asyncio.timeout(self.world.knobs.auth_window):
                await self._button.wait()
        except TimeoutError:
            return web.json_response({"success": False})
        if self._stopping:
            return error(503)
        self._button.clear()
        return web.json_response({"token": self.token, "success": True})

    async def _config_auth(
        self, _request: web.Request, query: dict[str, str]
    ) -> web.StreamResponse:
        if query.get("enable") not in {"0", "1"}:
            return error(400)
        self.auth_enabled = query["enable"] == "1"
        return web.json_response({"success": True})

    async def _list(self, _request: web.Request, _query: dict[str, str]) -> web.StreamResponse:
        return web.json_response([d.list_entry() for d in self.devices if d.paired])

    async def _info(self, _request: web.Request, _query: dict[str, str]) -> web.StreamResponse:
        scan = [
            {
                "deviceType": int(d.device_type),
                "nukiId": d.nuki_id,
                "name": d.scan_name(),
                "rssi": -55 - 3 * index,
                "paired": d.paired,
            }
            for index, d in enumerate(self.devices)
        ]
        return web.json_response(
            {
                "bridgeType": 1,
                "ids": {"hardwareId": self.hardware_id, "serverId": self.server_id},
                "versions": {"firmwareVersion": "2.19.1", "wifiFirmwareVersion": "2.5.0"},
                "uptime": int(time.time() - self._booted),
                "currentTime": bridge_time(self._now()),
                "wlanConnected": True,
                "serverConnected": True,
                "scanResults": scan,
            }
        )

    async def _lock_state(self, _request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        device = await self._target(query)
        if isinstance(device, web.Response):
            return device
        return web.json_response({**device.bridge_state(), "success": True})

    async def _lock_action(
        self, _request: web.Request, query: dict[str, str]
    ) -> web.StreamResponse:
        device = await self._target(query)
        if isinstance(device, web.Response):
            return device
        number = query.get("action", "")
        table = OPENER_BRIDGE_ACTIONS if device.is_opener else {n: n for n in range(1, 6)}
        if not number.isdigit() or int(number) not in table:
            return error(400)
        return await self._run(device, table[int(number)], nowait=query.get("nowait") == "1")

    async def _simple_action(
        self, request: web.Request, query: dict[str, str]
    ) -> web.StreamResponse:
        device = await self._target(query)
        if isinstance(device, web.Response):
            return device
        if request.path == "/lock":
            action: int = LockAction.LOCK
            if device.is_opener and device.continuous:
                action = LogAction.DEACTIVATE_CONTINUOUS_MODE
        else:
            action = LockAction.UNLATCH if device.knob or device.is_opener else LockAction.UNLOCK
        return await self._run(device, action, nowait=False)

    async def _target(self, query: dict[str, str]) -> Device | web.Response:
        try:
            device = self._device(query)
        except (KeyError, ValueError):
            return error(400)
        return device if device is not None else error(404)

    async def _run(self, device: Device, action: int, *, nowait: bool) -> web.StreamResponse:
        actor = Actor(
            person=None, via="bridge", auth=self.world.auth_of(None, device, AuthType.BRIDGE)
        )
        run = actions.perform(self.world, device, action, actor, 0)
        if nowait:
            self.world.spawn(run, device, self._kind("lock_action"))
        else:
            await run
        return web.json_response({"success": True, "batteryCritical": device.battery_critical})

    async def _unpair(self, _request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        device = await self._target(query)
        if isinstance(device, web.Response):
            return device
        device.paired = False
        return web.json_response({"success": True})

    async def _log(self, _request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        try:
            offset = int(query.get("offset", "0"))
            count = int(query.get("count", "100"))
        except ValueError:
            return error(400)
        return web.json_response(self.debug_log[offset : offset + count])

    async def _maintenance(
        self, request: web.Request, _query: dict[str, str]
    ) -> web.StreamResponse:
        if request.path == "/clearlog":
            self.debug_log.clear()
        response = web.json_response({"success": True})
        if request.path in {"/reboot", "/factoryReset"}:
            if request.path == "/factoryReset":
                self.auth_enabled = True
            await response.prepare(request)
            await response.write_eof()
            self.world.spawn(self._reboot(), None, self._kind("reboot"))
        return response

    async def _reboot(self) -> None:
        """Forget callbacks, refuse connections for ``reboot_downtime``, then listen again."""
        async with self._serving:
            self.rebooting = True
            self.callbacks.clear()
            assert self._site is not None  # noqa: S101 - set while listening
            await self._site.stop()
            assert self._runner is not None  # noqa: S101 - set while listening
            for connection in list(self._runner.server.connections if self._runner.server else ()):
                connection.force_close()
            await self.world.clock.sleep(self.world.knobs.reboot_downtime)
            self._booted = time.time()
            await self._listen()
            self.rebooting = False
            self.world.changed()
