"""Floods against the live CallbackServer: legit (G9), spoofed (G7, G8), and the source and
path-secret checks (G5, G6). Figures are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import string
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from nukiasync.bridge import routes as routes_module
from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.confirm import (
    Confirmation,
    Confirmer,
    Correction,
    DeviceSnapshot,
    StateClaim,
)
from nukiasync.bridge.server import MIN_SECRET_LENGTH, CallbackServer
from tests.soak.harness import BRIDGE, STRANGER, Progress, Recorder, flood
from tests.support import canary
from tests.support.callbacks import run_flood, secret_of
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from nukiasync.bridge.callbacks import BridgeCallback

FLOOD_SECONDS = float(os.environ.get("NUKIASYNC_FLOOD_SECONDS", "10"))
FAST = {"request_timeout": 2.0, "idle_timeout": 2.0, "shutdown_timeout": 5.0}


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def server(recorder: Recorder) -> AsyncIterator[CallbackServer]:
    async with CallbackServer(recorder, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST) as srv:
        secret_of(srv.callback_url())
        yield srv


async def test_legit_flood_accounting_holds(server: CallbackServer, recorder: Recorder) -> None:
    await run_flood(server, recorder, FLOOD_SECONDS)


# Source and path secret (G5, G6)


async def test_stranger_and_wrong_secrets_are_refused(
    server: CallbackServer, recorder: Recorder
) -> None:
    url = server.callback_url()
    secret = secret_of(url)
    base = url.removesuffix(secret)
    stranger = await flood(url, rate=100, duration=0.5, source=STRANGER)
    assert stranger.statuses == {403: 50}
    wrong = [
        "",
        secret[:-1],
        secret + "A",
        secret[:MIN_SECRET_LENGTH],
        secret.upper() if secret.upper() != secret else secret.lower(),
        "%C3%A9" + secret[2:],
        "x" * 32,
    ]
    for i, candidate in enumerate(wrong):
        got = await flood(base + candidate, rate=50, duration=0.1)
        assert got.statuses == {404: 5}, (i, got.statuses)
    no_secret = await flood(base.rstrip("/"), rate=50, duration=0.1)
    assert no_secret.statuses == {404: 5}
    stats = server.receiver().stats
    assert stats.rejected["source"] == 50
    assert stats.rejected["secret"] == 5 * (len(wrong) + 1)  # no secret at all: 404 too
    assert stats.accepted == 0
    assert recorder.items == []


async def test_secret_strength_and_constant_time_compare(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_seen = set()
    for _ in range(20):
        srv = CallbackServer(recorder, host="127.0.0.1", allowed_sources=[BRIDGE])
        secret = srv._routes["bridge"].secret.decode()
        assert len(secret) * 6 >= 128 + 64  # 32 URL-safe base64 chars: 192 bits
        assert set(secret) <= set(string.ascii_letters + string.digits + "-_")
        secrets_seen.add(secret)
    assert len(secrets_seen) == 20
    with pytest.raises(ValueError, match="path_secret"):
        CallbackServer(recorder, host="127.0.0.1", allowed_sources=[BRIDGE], path_secret="a" * 21)

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(routes_module.hmac, "compare_digest", spy)
    async with CallbackServer(recorder, host="127.0.0.1", allowed_sources=[BRIDGE]) as srv:
        url = srv.callback_url()
        secret_of(url)
        assert (await flood(url, rate=10, duration=0.2)).statuses == {200: 2}
        assert (await flood(url + "x", rate=10, duration=0.1)).statuses == {404: 1}
    assert len(calls) == 3  # every request's secret went through compare_digest
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


# Spoof flood against confirmation (G7, G8)


class CountingBridge:
    """A reader that says the device is locked and counts reads and concurrency."""

    def __init__(self, sid: int, read_time: float = 0.02) -> None:
        self.sid = sid
        self.read_time = read_time
        self.reads = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def read(self) -> Mapping[int, DeviceSnapshot]:
        self.reads += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.read_time)  # the bridge's own answer time
        finally:
            self.in_flight -= 1
        return {self.sid: DeviceSnapshot(state=1, door_sensor_state=2)}


SPOOF_SID = (4 << 32) | 0x10000000


def spoof_body(n: int) -> bytes:
    """A claim from the allowed source that the bridge contradicts (it says locked)."""
    state = (3, 5, 2, 7)[n % 4]  # unlocked, unlatched, unlocking, unlocked (lock 'n' go)
    return json.dumps({"deviceType": 4, "nukiId": 0x10000000, "state": state}).encode()


@pytest.mark.parametrize("policy", ["background", "before_emit"])
async def test_spoof_flood_is_coalesced_and_never_confirmed(policy: str) -> None:
    bridge = CountingBridge(SPOOF_SID)
    corrections: list[Correction] = []
    verdicts: list[Confirmation] = []
    progress = Progress()
    confirmer = Confirmer(
        bridge.read,
        policy=policy,  # type: ignore[arg-type]
        on_correction=lambda c: (corrections.append(c), progress.bump()),
        min_interval=0.25,
        deadline=3.0,
    )
    waiting: set[asyncio.Task[None]] = set()

    async def judge(claim: StateClaim) -> None:
        verdicts.append(await confirmer.confirm(claim))
        progress.bump()

    def consume(callback: BridgeCallback) -> None:
        claim = StateClaim.from_callback(callback)
        if policy == "background":
            confirmer.observe(claim)
            return
        task = asyncio.create_task(judge(claim), name="confirm-claim")
        waiting.add(task)
        task.add_done_callback(waiting.discard)

    async with (
        confirmer,
        CallbackServer(consume, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST) as srv,
    ):
        secret_of(srv.callback_url())
        result = await flood(srv.callback_url(), rate=200, duration=2.0, body=spoof_body)
        if policy == "before_emit":
            await progress.until(lambda: len(verdicts) == result.sent)
            await asyncio.gather(*waiting)
        else:
            await progress.until(lambda: confirmer.stats.contradicted == result.sent)
    stats = confirmer.stats
    print(  # noqa: T201
        f"\nG7/G8 spoof flood ({policy}): {result.sent} callbacks, {bridge.reads} bridge reads, "
        f"max in flight {bridge.max_in_flight}, {stats.corrections} corrections"
    )
    assert result.statuses == {200: result.sent}
    assert bridge.max_in_flight == 1
    assert bridge.reads <= 2.0 / 0.25 + 3  # coalesced: about one read per interval
    assert bridge.reads * 20 < result.sent
    assert stats.confirmed == 0
    assert stats.contradicted == result.sent
    if policy == "before_emit":
        assert verdicts == [Confirmation.CONTRADICTED] * result.sent
        assert corrections == []
    else:
        assert stats.corrections == len(corrections) == bridge.reads - 1  # all but the prime
        assert all(c.snapshot == DeviceSnapshot(state=1, door_sensor_state=2) for c in corrections)
        assert sum(len(c.claims) for c in corrections) == result.sent


async def test_spoof_flood_against_the_simulated_bridge() -> None:
    """The same against the simulator's bridge, through NukiBridgeClient.devices()."""
    async with make_world() as world:
        port = urlsplit(world.bridge_url).port
        assert port is not None
        front = next(d for d in world.devices if d.name == "Front door")
        client = NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port, min_spacing=0.05)

        async def read() -> Mapping[int, DeviceSnapshot]:
            states = {}
            for device in await client.devices():
                last = device.last_known_state
                if last is not None and last.state_code is not None:
                    states[device.smartlock_id] = DeviceSnapshot(
                        state=last.state_code, door_sensor_state=last.doorsensor_state_code
                    )
            return states

        corrections: list[Correction] = []
        progress = Progress()
        confirmer = Confirmer(
            read,
            on_correction=lambda c: (corrections.append(c), progress.bump()),
            min_interval=0.25,
        )

        def consume(callback: BridgeCallback) -> None:
            confirmer.observe(StateClaim.from_callback(callback))

        def body(n: int) -> bytes:
            state = (3, 5)[n % 2]  # the bridge says locked
            return json.dumps({"deviceType": 4, "nukiId": front.nuki_id, "state": state}).encode()

        async with (
            client,
            confirmer,
            CallbackServer(consume, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST) as srv,
        ):
            secret_of(srv.callback_url())
            result = await flood(srv.callback_url(), rate=200, duration=1.5, body=body)
            await progress.until(lambda: confirmer.stats.contradicted == result.sent)
        list_calls = sum(1 for entry in world.bridge.debug_log if entry["type"] == "HTTP-list")
    print(  # noqa: T201
        f"\nG8 vs simulator: {result.sent} spoofed callbacks -> {list_calls} /list calls, "
        f"{len(corrections)} corrections"
    )
    assert world.bridge.rejected_busy == 0  # never two requests at the bridge at once
    assert list_calls == confirmer.stats.reads  # the prime read included
    assert list_calls <= 1.5 / 0.25 + 3
    assert confirmer.stats.confirmed == 0
    assert len(corrections) == list_calls - 1
    assert {c.snapshot.state for c in corrections if c.snapshot} == {1}


async def test_stranger_flood_costs_no_bridge_read() -> None:
    """G5: spoofs from a non-allowed source never reach the consumer, so no read."""
    bridge = CountingBridge(SPOOF_SID)
    confirmer = Confirmer(bridge.read, prime=False, min_interval=0)
    async with (
        confirmer,
        CallbackServer(
            lambda cb: confirmer.observe(StateClaim.from_callback(cb)),
            host="127.0.0.1",
            allowed_sources=[BRIDGE],
            **FAST,
        ) as srv,
    ):
        secret_of(srv.callback_url())
        result = await flood(srv.callback_url(), rate=200, duration=0.5, source=STRANGER)
    assert result.statuses == {403: 100}
    assert bridge.reads == 0


async def test_session_source_binding_sanity() -> None:
    """The load generator really posts from the address it claims (else G5 proves nothing)."""
    seen: list[str | None] = []

    async def handler(request: web.BaseRequest) -> web.Response:
        seen.append(request.remote)
        return web.Response(text="ok")

    server = web.Server(handler, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        for source in (BRIDGE, STRANGER):
            connector = aiohttp.TCPConnector(local_addr=(source, 0))
            async with (
                aiohttp.ClientSession(connector=connector) as client,
                client.get(f"http://127.0.0.1:{port}/") as resp,
            ):
                assert resp.status == 200
    finally:
        listener.close()
        await listener.wait_closed()
        await server.shutdown(1)
    assert seen == [BRIDGE, STRANGER]
