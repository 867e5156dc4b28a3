"""The simulated bridge's callbacks: the three URLs it keeps and how it POSTs to them.

A mixin of ``SimulatedBridge``: ``/callback/add``, ``/list`` and ``/remove``, and delivery as a
World task, each queued body posted to every URL in registration order, one POST at a time
and never while the bridge serves a request (the bridge's one lock), so a slow first URL
delays the others. It POSTs only to loopback addresses and logs a URL by scheme, host and
port only. Each POST is kept in ``sent`` with the ground-truth change it reports.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import attrs
from aiohttp import web

if TYPE_CHECKING:
    import asyncio

    from nukiasync.simulator.truth import StateChange
    from nukiasync.simulator.world import World

_LOGGER = logging.getLogger(__name__)

MAX_CALLBACKS = 3  # Bridge API 1.13.3
MAX_URL_LENGTH = 254  # Bridge API 1.13.3


def safe_url(url: str) -> str:
    """A URL as logged: its origin, without a path (secrets live there) or credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def is_loopback(url: str) -> bool:
    """Whether the simulator may post to ``url``: it never contacts anything else."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def error(status: int) -> web.Response:
    """A bridge's plain-text error answer."""
    reasons = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    reasons[503] = "Service Unavailable"
    return web.Response(status=status, text=f"HTTP {status} {reasons[status]}")


@attrs.frozen(kw_only=True)
class SentCallback:
    """One callback POST the bridge attempted; ``status`` is ``None`` when it failed."""

    callback_id: int
    url: str = attrs.field(repr=False)
    body: dict[str, Any]
    status: int | None
    at: datetime  # when the POST ended (its answer came, or it failed)
    change: int | None = None  # the ground-truth StateChange.seq; None: it repeats the state
    posted_at: datetime | None = None  # when the POST began (a receiver has it after this)


class CallbackDelivery:
    """Callback registration and delivery; ``SimulatedBridge.__init__`` sets the attributes."""

    world: World
    name: str
    callbacks: list[tuple[int, str]]
    sent: list[SentCallback]
    lost: int
    _queue: asyncio.Queue[tuple[dict[str, Any], StateChange | None]]
    _serving: asyncio.Lock

    def enqueue(self, body: dict[str, Any], change: StateChange | None = None) -> None:
        """Queue a callback body for every registered URL (devices call this on a change)."""
        self._queue.put_nowait((body, change))

    async def drain(self) -> None:
        """Wait until every queued callback has been posted (or lost, or has failed)."""
        await self._queue.join()

    async def _callback_add(
        self, _request: web.Request, query: dict[str, str]
    ) -> web.StreamResponse:
        url = query.get("url", "")
        if not url.startswith("http://") or len(url) > MAX_URL_LENGTH:
            return error(400)
        if len(self.callbacks) >= MAX_CALLBACKS:
            return web.json_response({"success": False, "message": "too many callbacks registered"})
        free = min(set(range(MAX_CALLBACKS)) - {cid for cid, _ in self.callbacks})
        self.callbacks.append((free, url))
        _LOGGER.debug("%s: callback %s added for %s", self.name, free, safe_url(url))
        return web.json_response({"success": True})

    async def _callback_list(
        self, _request: web.Request, _query: dict[str, str]
    ) -> web.StreamResponse:
        listed = [{"id": cid, "url": url} for cid, url in self.callbacks]
        return web.json_response({"callbacks": listed})

    async def _callback_remove(
        self, _request: web.Request, query: dict[str, str]
    ) -> web.StreamResponse:
        if "id" not in query:
            return error(400)
        for entry in self.callbacks:
            if str(entry[0]) == query["id"]:
                self.callbacks.remove(entry)
                return web.json_response({"success": True})
        return web.json_response({"success": False, "message": "invalid callback id"})

    # Callbacks

    async def _deliver(self) -> None:
        """Post each queued body to every URL in registration order, one POST at a time."""
        async with aiohttp.ClientSession() as session:
            while True:
                body, change = await self._queue.get()
                try:
                    await self._post_all(session, body, change)
                finally:
                    self._queue.task_done()

    async def _post_all(
        self, session: aiohttp.ClientSession, body: dict[str, Any], change: StateChange | None
    ) -> None:
        seq = change.seq if change is not None else None
        for callback_id, url in list(self.callbacks):
            copies = self.world.knobs.callback_copies(self.world.rng, body.get("nukiId"))
            if not copies:
                self.lost += 1
                if change is not None:
                    change.callbacks_lost += 1
            for _ in range(copies):
                async with self._serving:
                    posted_at = self.world.clock.now()
                    status = await self._post(session, url, body)
                at = self.world.clock.now()
                if change is not None and status is not None:
                    change.callbacks_posted += 1
                sent = SentCallback(
                    callback_id=callback_id,
                    url=url,
                    body=body,
                    status=status,
                    at=at,
                    change=seq,
                    posted_at=posted_at,
                )
                self.sent.append(sent)
                self.world.changed()

    async def _post(
        self, session: aiohttp.ClientSession, url: str, body: dict[str, Any]
    ) -> int | None:
        if not is_loopback(url):
            _LOGGER.debug(
                "%s: not posting to %s (the simulator stays on loopback)", self.name, safe_url(url)
            )
            return None
        timeout = aiohttp.ClientTimeout(total=self.world.knobs.callback_timeout)
        data = json.dumps(body, separators=(",", ":"))
        try:
            async with session.post(
                url, data=data, headers={"Content-Type": "application/json"}, timeout=timeout
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            _LOGGER.debug("%s: callback to %s failed", self.name, safe_url(url))
            return None
