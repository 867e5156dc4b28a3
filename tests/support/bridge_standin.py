"""A small real Nuki Bridge on 127.0.0.1 (aiohttp, port 0) for the client's tests.

It checks tokens on its own (no import of nukiasync.bridge): plain, hashed and
encrypted, with the 60 s window against its own clock (``clock_offset`` simulates skew)
and single use of every hash and nonce. It serves one request at a time (503 when
busy), keeps at most 3 http-only callbacks and answers 404 to an Opener asked without
``deviceType=2``. It records every request's path, start and end (monotonic) and the
largest number in flight.

``script`` injects faults per path: a list of HTTP statuses (int) or ``"hang"`` (hold
the request until the stand-in closes), consumed one per request.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Self

import attrs
from aiohttp import web
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from tests.support import paths

FIXTURES = paths.FIXTURES / "bridge"
WINDOW = 60.0
MAX_CALLBACKS = 3
HANG_LIMIT = 10.0  # a hung request gives up by itself if nobody closes the stand-in


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@attrs.define
class Recorded:
    path: str
    start: float
    end: float = 0.0
    status: int = 0


Handler = Callable[[dict[str, str]], Awaitable[web.StreamResponse]]


class BridgeStandIn:
    """One fake bridge: ``async with BridgeStandIn(token) as bridge``, then ``.port``."""

    def __init__(
        self,
        token: str,
        *,
        clock_offset: float = 0.0,
        handle_delay: float = 0.0,
        listen: bool = True,
    ) -> None:
        self.token = token
        self.clock_offset = clock_offset
        self.handle_delay = handle_delay
        self.devices: list[dict[str, Any]] = _fixture("list_go-nukibridgeapi.json")
        self.info: dict[str, Any] = _fixture("info_go-nukibridgeapi.json")
        self.log: list[dict[str, Any]] = _fixture("log_go-nukibridgeapi.json")
        self.callbacks: list[dict[str, Any]] = []
        self.script: dict[str, list[int | str]] = {}
        self.pairing = "accept"  # or "deny", "forbidden", "hang"
        self.requests: list[Recorded] = []
        self.rejected_busy = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.seen: set[str] = set()
        self.request_seen = asyncio.Event()
        self._release = asyncio.Event()
        self._listen_now = listen
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._runner: web.AppRunner | None = None
        self._routes: dict[str, Handler] = {
            "/list": self._list,
            "/info": self._info,
            "/lockState": self._lock_state,
            "/lockAction": self._lock_action,
            "/lock": self._simple_action,
            "/unlock": self._simple_action,
            "/unpair": self._unpair,
            "/configAuth": self._config_auth,
            "/callback/add": self._callback_add,
            "/callback/list": self._callback_list,
            "/callback/remove": self._callback_remove,
            "/log": self._log,
            "/clearlog": self._empty,
            "/fwupdate": self._empty,
            "/reboot": self._empty,
            "/factoryReset": self._empty,
        }

    async def __aenter__(self) -> Self:
        if self._listen_now:
            await self.listen()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def listen(self) -> None:
        """Start accepting connections; until then the bound port refuses them."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
        self._sock.close()

    def count(self, path: str) -> int:
        return sum(1 for rec in self.requests if rec.path == path)

    # Plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.in_flight:
            self.rejected_busy += 1
            return web.Response(status=503, text="HTTP 503 Service Unavailable")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        record = Recorded(path=request.path, start=time.monotonic())
        self.requests.append(record)
        self.request_seen.set()
        try:
            response = await self._answer(request)
        finally:
            self.in_flight -= 1
            record.end = time.monotonic()
        record.status = response.status
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        if self.handle_delay:
            await asyncio.sleep(self.handle_delay)
        step = self.script.get(request.path)
        if step:
            fault = step.pop(0)
            if fault == "hang":
                await asyncio.wait_for(self._release.wait(), HANG_LIMIT)
                return web.Response(status=500)
            return web.Response(status=int(fault), text=f"HTTP {fault}")
        if request.path == "/auth":
            return await self._auth()
        handler = self._routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="HTTP 404 Not Found")
        if not self._authorised(query):
            return web.Response(status=401, text="HTTP 401 Unauthorized")
        return await handler(query)

    def _now(self) -> float:
        return time.time() + self.clock_offset

    def _fresh(self, ts: str, once: str) -> bool:
        try:
            when = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return False
        if abs(self._now() - when.timestamp()) > WINDOW or once in self.seen:
            return False
        self.seen.add(once)
        return True

    def _authorised(self, query: dict[str, str]) -> bool:
        if "token" in query:
            return hmac.compare_digest(query["token"], self.token)
        if "ctoken" in query and "nonce" in query:
            key = hashlib.sha256(self.token.encode()).digest()
            try:
                nonce = bytes.fromhex(query["nonce"])
                plain = SecretBox(key).decrypt(bytes.fromhex(query["ctoken"]), nonce)
                ts, _rnr = plain.decode().split(",")
            except (ValueError, CryptoError):
                return False
            return self._fresh(ts, "nonce:" + query["nonce"])
        if {"ts", "rnr", "hash"} <= query.keys():
            text = f"{query['ts']},{query['rnr']},{self.token}"
            expected = hashlib.sha256(text.encode()).hexdigest()
            if not hmac.compare_digest(query["hash"], expected):
                return False
            return self._fresh(query["ts"], "hash:" + query["hash"])
        return False

    def _device(self, query: dict[str, str]) -> dict[str, Any] | None:
        try:
            nuki_id = int(query["nukiId"])
            device_type = int(query.get("deviceType", "0"))
        except (KeyError, ValueError):
            return None
        for device in self.devices:
            if device["nukiId"] == nuki_id and device["deviceType"] == device_type:
                return device
        return None

    # Endpoints

    async def _auth(self) -> web.StreamResponse:
        if self.pairing == "forbidden":
            return web.Response(status=403, text="HTTP 403 Forbidden")
        if self.pairing == "hang":
            await asyncio.wait_for(self._release.wait(), HANG_LIMIT)
        if self.pairing == "accept":
            return web.json_response({"token": self.token, "success": True})
        return web.json_response({"success": False})

    async def _list(self, _query: dict[str, str]) -> web.StreamResponse:
        return web.json_response(self.devices)

    async def _info(self, _query: dict[str, str]) -> web.StreamResponse:
        return web.json_response(self.info)

    async def _lock_state(self, query: dict[str, str]) -> web.StreamResponse:
        device = self._device(query)
        if device is None:
            return web.Response(status=404, text="HTTP 404 Not Found")
        return web.json_response({**device["lastKnownState"], "success": True})

    async def _lock_action(self, query: dict[str, str]) -> web.StreamResponse:
        device = self._device(query)
        if device is None:
            return web.Response(status=404, text="HTTP 404 Not Found")
        action = query.get("action", "")
        if action not in {"1", "2", "3", "4", "5"}:
            return web.Response(status=400, text="HTTP 400 Bad Request")
        result = {"1": 3, "2": 1, "3": 5, "4": 6, "5": 5}
        if device["deviceType"] == 2:
            result = {"1": 3, "2": 1, "3": 5, "4": 1, "5": 1}
        device["lastKnownState"]["state"] = result[action]
        return web.json_response({"success": True, "batteryCritical": False})

    async def _simple_action(self, query: dict[str, str]) -> web.StreamResponse:
        if self._device(query) is None:
            return web.Response(status=404, text="HTTP 404 Not Found")
        return web.json_response({"success": True, "batteryCritical": False})

    async def _unpair(self, query: dict[str, str]) -> web.StreamResponse:
        device = self._device(query)
        if device is None:
            return web.Response(status=404, text="HTTP 404 Not Found")
        self.devices.remove(device)
        return web.json_response({"success": True})

    async def _config_auth(self, query: dict[str, str]) -> web.StreamResponse:
        if query.get("enable") not in {"0", "1"}:
            return web.Response(status=400, text="HTTP 400 Bad Request")
        self.pairing = "accept" if query["enable"] == "1" else "forbidden"
        return web.json_response({"success": True})

    async def _callback_add(self, query: dict[str, str]) -> web.StreamResponse:
        url = query.get("url", "")
        if not url.startswith("http://") or len(url) > 254:
            return web.Response(status=400, text="HTTP 400 Bad Request")
        if len(self.callbacks) >= MAX_CALLBACKS:
            message = "too many callbacks registered"
            return web.json_response({"success": False, "message": message})
        used = {entry["id"] for entry in self.callbacks}
        free = min(set(range(MAX_CALLBACKS)) - used)
        self.callbacks.append({"id": free, "url": url})
        return web.json_response({"success": True})

    async def _callback_list(self, _query: dict[str, str]) -> web.StreamResponse:
        return web.json_response({"callbacks": copy.deepcopy(self.callbacks)})

    async def _callback_remove(self, query: dict[str, str]) -> web.StreamResponse:
        for entry in self.callbacks:
            if str(entry["id"]) == query.get("id"):
                self.callbacks.remove(entry)
                return web.json_response({"success": True})
        return web.json_response({"success": False, "message": "invalid callback id"})

    async def _log(self, query: dict[str, str]) -> web.StreamResponse:
        offset = int(query.get("offset", "0"))
        count = int(query.get("count", "100"))
        return web.json_response(self.log[offset : offset + count])

    async def _empty(self, _query: dict[str, str]) -> web.StreamResponse:
        return web.Response(status=200)
