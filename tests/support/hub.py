"""The hub on a simulated world, its recorder and timing: shared by the hub-level test modules."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from nukiasync import CallbackServer, NukiBridgeClient, NukiWebClient
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    LockStateChanged,
    NukiEvent,
)
from nukiasync.hub import NukiHub
from nukiasync.hub.sources.log_watcher import AttributionTiming
from tests.support import canary
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

FRONT = (4 << 32) | 0x1A2B3C4D
BACK = 0x2B3C4D5E
ENTRANCE = (2 << 32) | 0x1E5FE23A
TIMING = AttributionTiming(
    first_delay=0.3, poll_interval=0.2, burst_interval=0.3, deadline=3.0, grace=0.8,
    tight_phase=2.0, max_interval=0.5, background_interval=2.0,
)  # fmt: skip
WAIT = 6.0


class Recorder:
    """Collects every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[NukiEvent] = []
        self.changed = asyncio.Event()

    def __call__(self, event: NukiEvent) -> None:
        self.events.append(event)
        self.changed.set()

    def of(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    async def wait(self, predicate: Any, timeout: float = WAIT) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def running(
    *,
    web: bool = True,
    bridge: bool = True,
    confirm: str = "background",
    state_file: Any = None,
    watch: Any = None,
    **knobs: Any,
) -> AsyncIterator[tuple[Any, NukiHub, Recorder]]:
    async with make_world(**{"log_lag": 0.3, **knobs}) as world:
        port = urlsplit(world.bridge_url).port
        web_client = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url) if web else None
        bridge_client = (
            NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port or 0, min_spacing=0.02)
            if bridge
            else None
        )
        server = CallbackServer(host="127.0.0.1", port=0) if bridge else None
        recorder = Recorder()
        hub = NukiHub(
            web=web_client,
            bridge=bridge_client,
            callback_server=server,
            confirm=confirm,  # type: ignore[arg-type]
            state_file=state_file,
            timing=TIMING,
            watch=watch,
        )
        hub.subscribe(recorder)
        try:
            async with hub:
                yield world, hub, recorder
        finally:
            if web_client is not None:
                await web_client.close()
            if bridge_client is not None:
                await bridge_client.close()


def attributed_to(recorder: Recorder, state_event: LockStateChanged) -> Any:
    return recorder.wait(
        lambda e: (
            isinstance(e, ActionAttributed | AttributionUnavailable)
            and e.state_event_id == state_event.event_id
        )
    )


def spoof(nuki_id: int, state: int, device_type: int = 4) -> bytes:
    return json.dumps(
        {"deviceType": device_type, "nukiId": nuki_id, "mode": 2, "state": state,
         "stateName": "x", "batteryCritical": False}
    ).encode()  # fmt: skip


def counters(hub: NukiHub) -> dict[str, int]:
    """The hub's accounting, read as users read it: through ``diagnostics()``."""
    result: dict[str, int] = hub.diagnostics()["counters"]
    return result


def state_of(hub: NukiHub, smartlock_id: int) -> str | None:
    """The state the hub believes a device is in (its name, e.g. ``"locked"``), from diagnostics."""
    for device in hub.diagnostics()["devices"]:
        if device["smartlock_id"] == smartlock_id:
            state: str | None = device["state"]
            return state
    return None
