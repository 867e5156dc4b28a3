"""B1: callback ingest, `CallbackServer` against a bare aiohttp handler that answers 200.

Both servers run in this process's event loop on 127.0.0.1; the load comes from a separate
process (so the generator's CPU is not the server's), over a few keep-alive connections, each
sending one real callback body after the other (as a bridge does, but many bridges at once).
The generator is raw asyncio sockets with a precomputed request: it costs far less than a
server, so the server is what saturates. Rounds alternate baseline and ours; requests/s is
the median of rounds, latencies (measured by the generator) are pooled. Goal: ours >= 0.7x
the baseline's requests/s.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bench._harness import Result, goal, median, percentile, print_table
from nukiasync.bridge.receiver import CallbackReceiver
from nukiasync.bridge.server import CallbackServer

if TYPE_CHECKING:
    from nukiasync.bridge.callbacks import BridgeCallback

HOST = "127.0.0.1"
CONNECTIONS = 8  # concurrent keep-alive connections (the server allows 16 from a bridge)
REQUESTS = 15_000  # per round and server
QUICK_REQUESTS = 1_500
ROUNDS = 3
QUICK_ROUNDS = 1
WARMUP = 300  # requests before each measured round
MAX_SECONDS = 30.0  # a round stops here whatever the count
GOAL_RATIO = 0.7  # issue 16
BARE = "baseline: bare aiohttp handler, 200"
PARSING = "reference: aiohttp handler, read + json.loads"
OURS = "CallbackServer + CallbackReceiver"
HANDED_OVER = "reference: same, requests the fast lane hands to aiohttp"
# A header the fast lane leaves to aiohttp's protocol (which accepts it): that way's cost.
HAND_OVER_HEADER = "Content-Encoding: identity\r\n"
BODY = (
    b'{"deviceType": 4, "nukiId": 1234567890, "mode": 2, "state": 3, "stateName": "unlocked", '
    b'"batteryCritical": false, "batteryCharging": false, "batteryChargeState": 72, '
    b'"keypadBatteryCritical": false, "doorsensorState": 3, "doorsensorStateName": "door opened"}'
)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: send, wait for the whole answer, record, send again."""

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - TCP
        self.transport = transport
        self.send()

    def send(self) -> None:
        if self.transport is None:
            return
        if not self.load.take():
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.transport.write(self.load.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"content-length:")
        length = int(head[start + 15 :].split(b"\r\n", 1)[0]) if start >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        self.load.done(time.perf_counter() - self.sent_at, head[9:12] == b"200")
        del self.buffer[: end + 4 + length]
        self.send()

    def connection_lost(self, _exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)


class _Load:
    """Shared count and deadline of one run, and the latencies it measured."""

    def __init__(self, request: bytes, count: int, max_seconds: float) -> None:
        self.request = request
        self.left = count
        self.deadline = time.perf_counter() + max_seconds
        self.latencies: list[float] = []
        self.failed = 0

    def take(self) -> bool:
        if self.left <= 0 or time.perf_counter() > self.deadline:
            return False
        self.left -= 1
        return True

    def done(self, latency: float, ok: bool) -> None:
        self.latencies.append(latency)
        if not ok:
            self.failed += 1


async def _generate(
    port: int, path: str, count: int, connections: int, extra: str
) -> dict[str, Any]:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    load = _Load(request, count, MAX_SECONDS)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    opened = [
        await loop.create_connection(lambda: _Connection(load), HOST, port)
        for _ in range(connections)
    ]
    await asyncio.gather(*(protocol.closed for _, protocol in opened))
    elapsed = time.perf_counter() - started
    return {"latencies": load.latencies, "elapsed": elapsed, "failed": load.failed}


def generate(port: int, path: str, count: int, connections: int, extra: str = "") -> dict[str, Any]:
    """Run one bounded load against 127.0.0.1:port (in the generator process)."""
    return asyncio.run(_generate(port, path, count, connections, extra))


class _Bare:
    """The baseline: aiohttp's low-level server with a handler that answers 200 at once.

    With ``parse``, the handler reads the body and decodes its JSON first: a reference
    between the baseline and ours, showing what the checks beyond that cost.
    """

    def __init__(self, *, parse: bool = False) -> None:
        self.server: asyncio.Server | None = None
        self.web_server: web.Server | None = None
        self.parse = parse

    async def start(self) -> tuple[int, str]:
        async def ok(_request: web.BaseRequest) -> web.Response:
            return web.Response(text="OK")

        async def parsed(request: web.BaseRequest) -> web.Response:
            json.loads(await request.read())
            return web.Response(text="OK")

        self.web_server = web.Server(parsed if self.parse else ok, access_log=None)
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self.web_server, HOST, 0)
        return self.server.sockets[0].getsockname()[1], "/callback"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            if self.web_server is not None:
                await self.web_server.shutdown(1.0)
            await self.server.wait_closed()


class _Ours:
    """`CallbackServer` with a receiver as the hub builds it, and a consumer that counts.

    The receiver is ``inline``, as each `BridgeLink`'s is: the callback reaches the consumer
    in the request's own call after the answer went out, with no queue hop. The generator's
    requests are plain (as a bridge's), so the server's fast lane serves them.
    """

    def __init__(self) -> None:
        self.delivered = 0

        def consume(_callback: BridgeCallback) -> None:
            self.delivered += 1

        receiver = CallbackReceiver(consume, allowed_sources=[HOST], inline=True)
        self.server = CallbackServer(receiver, host=HOST)

    async def start(self) -> tuple[int, str]:
        await self.server.start()
        url = self.server.callback_url()
        return self.server.port, url.split(str(self.server.port), 1)[1]

    async def close(self) -> None:
        await self.server.close()
        await self.server.receiver().close()  # a receiver passed in stays ours to close


async def _round(
    pool: concurrent.futures.Executor, target: _Bare | _Ours, count: int, extra: str = ""
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    port, path = await target.start()
    try:
        await loop.run_in_executor(pool, generate, port, path, WARMUP, CONNECTIONS, extra)
        result: dict[str, Any] = await loop.run_in_executor(
            pool, generate, port, path, count, CONNECTIONS, extra
        )
    finally:
        await target.close()
    result["rps"] = len(result["latencies"]) / result["elapsed"]
    if isinstance(target, _Ours):
        result["delivered"] = target.delivered
    return result


async def _measure(count: int, rounds: int) -> dict[str, list[dict[str, Any]]]:
    spawn = multiprocessing.get_context("spawn")
    runs: dict[str, list[dict[str, Any]]] = {BARE: [], PARSING: [], OURS: [], HANDED_OVER: []}
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        for _ in range(rounds):
            runs[BARE].append(await _round(pool, _Bare(), count))
            runs[PARSING].append(await _round(pool, _Bare(parse=True), count))
            runs[OURS].append(await _round(pool, _Ours(), count))
            runs[HANDED_OVER].append(await _round(pool, _Ours(), count, HAND_OVER_HEADER))
    return runs


def run(*, quick: bool = False) -> Result:
    """Measure and return the B1 result."""
    count = QUICK_REQUESTS if quick else REQUESTS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    runs = asyncio.run(_measure(count, rounds))
    summary: dict[str, dict[str, Any]] = {}
    for name, results in runs.items():
        latencies = [lat for r in results for lat in r["latencies"]]
        summary[name] = {
            "requests": len(latencies),
            "failed": sum(r["failed"] for r in results),
            "rps_per_round": [r["rps"] for r in results],
            "rps": median([r["rps"] for r in results]),
            "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
        }
    ours, bare = summary[OURS], summary[BARE]
    ours["delivered_to_consumer"] = sum(r.get("delivered", 0) for r in runs[OURS])
    ratio = ours["rps"] / bare["rps"]
    print_table(
        f"B1 callback ingest: {rounds} x {count:,} requests, {CONNECTIONS} keep-alive connections",
        ["server", "requests/s", "x baseline", "p50 ms", "p99 ms", "non-200"],
        [
            [n, s["rps"], s["rps"] / bare["rps"], s["p50_ms"], s["p99_ms"], s["failed"]]
            for n, s in summary.items()
        ],
    )
    met = ratio >= GOAL_RATIO
    print_table(
        "B1 goal",
        ["measure", "value", "goal", "verdict"],
        [["requests/s ratio (ours / bare)", ratio, f">= {GOAL_RATIO}", goal(met)]],
    )
    return {
        "connections": CONNECTIONS,
        "requests_per_round": count,
        "rounds": rounds,
        "servers": summary,
        "goals": {"rps_ratio": {"value": ratio, "goal": f">= {GOAL_RATIO}", "met": met}},
    }
