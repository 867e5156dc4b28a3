"""B5: Web client overhead, `NukiWebClient` against the synchronous `nuki-web-api` package.

200 reads of one lock's log page (20 entries) from the simulator's Web API, which answers each
after a fixed 100 ms (``Knobs.web_delay``) and runs in a process of its own, so the CPU time
read here (``time.process_time``) is the client's alone. Our reads go out at once through
``asyncio.gather``; the peer's go one after another and through a pool of 16 threads. Goals:
at least 20x faster than the peer's sequential run and 2x faster than its pooled one, and at
most 0.5 ms of client CPU per request.

Beside the owned client's default, the same reads run through a borrowed httpx client with its
own pool and through the ``httpx-aiohttp`` transport (when installed), and through a bare
aiohttp session as a floor: the figures that chose the owned client's transport.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from bench._harness import Result, goal, median, print_table, stopwatch
from bench._sim_process import SimProcess
from nukiasync import NukiWebClient

READS = 200
QUICK_READS = 50
WEB_DELAY = 0.1  # s the simulator holds every Web API answer
PAGE = 20  # log entries per read, the client's default page
THREADS = 16  # the peer's thread pool
REPEATS = 3  # async variants are short: take the median of a few runs
POOL = 100  # connections of the tuned variants, as the owned client's default
GOAL_SEQUENTIAL = 20.0
GOAL_POOLED = 2.0
GOAL_CPU_MS = 0.5
OWNED = "nukiasync, owned client (default)"

Read = Callable[[], Awaitable[Any]]


async def _measure_async(
    make: Callable[[], Awaitable[tuple[Read, Callable[[], Awaitable[None]]]]],
    reads: int,
    page: int,
) -> dict[str, float]:
    """Medians over a few fresh clients: a cold burst (new connections), then a warm one."""
    runs: dict[str, list[float]] = {
        "cold_wall": [],
        "cold_cpu": [],
        "warm_wall": [],
        "warm_cpu": [],
    }
    for _ in range(REPEATS):
        read, close = await make()
        try:
            await read()  # the SSL context, the first connection, imports
            for kind in ("cold", "warm"):
                with stopwatch() as watch:
                    pages = await asyncio.gather(*(read() for _ in range(reads)))
                if any(len(got) != page for got in pages):
                    msg = "a read returned the wrong number of entries"
                    raise RuntimeError(msg)
                runs[f"{kind}_wall"].append(watch.wall)
                runs[f"{kind}_cpu"].append(watch.cpu / reads * 1000)
        finally:
            await close()
    return {
        "wall_s": median(runs["cold_wall"]),
        "cpu_ms_per_request": median(runs["cold_cpu"]),
        "warm_wall_s": median(runs["warm_wall"]),
        "warm_cpu_ms_per_request": median(runs["warm_cpu"]),
    }


Variant = tuple[Callable[[], Awaitable[tuple[Read, Callable[[], Awaitable[None]]]]], int]


def _variants(url: str, token: str, smartlock_id: int) -> dict[str, Variant]:
    """Ways of reading the log asynchronously, by name, with the page size each reads."""

    def through(client_factory: Callable[[], httpx.AsyncClient] | None, page: int) -> Variant:
        async def make() -> tuple[Read, Callable[[], Awaitable[None]]]:
            borrowed = client_factory() if client_factory is not None else None
            web = NukiWebClient(token, base_url=url, client=borrowed)

            async def read() -> Any:
                return await web.logs(smartlock_id, limit=page)

            async def close() -> None:
                await web.close()
                if borrowed is not None:
                    await borrowed.aclose()

            return read, close

        return make, page

    def httpx_pool(connections: int, keepalive: int) -> Callable[[], httpx.AsyncClient]:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=keepalive)
        return lambda: httpx.AsyncClient(limits=limits)

    async def bare() -> tuple[Read, Callable[[], Awaitable[None]]]:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL))
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        log_url = f"{url}/smartlock/{smartlock_id}/log"

        async def read() -> Any:
            async with session.get(log_url, params={"limit": str(PAGE)}, headers=headers) as r:
                return json.loads(await r.read())

        return read, session.close

    return {
        OWNED: through(None, PAGE),
        "nukiasync, owned client, 1-entry pages": through(None, 1),
        "nukiasync, borrowed httpx pool 32/16 (old default)": through(httpx_pool(32, 16), PAGE),
        f"nukiasync, borrowed httpx pool {POOL}/{POOL}": through(httpx_pool(POOL, POOL), PAGE),
        f"floor: bare aiohttp session ({POOL}), JSON only": (bare, PAGE),
    }


def _peer(url: str, token: str, smartlock_id: int, reads: int) -> dict[str, dict[str, float]]:
    """The synchronous peer, sequential and in a thread pool; it gets our base URL."""
    from nukiwebapi import NukiWebAPI  # noqa: PLC0415

    api = NukiWebAPI(token, base_url=url)  # its default is the real cloud: never used here

    def read() -> Any:
        page = api.smartlock_log.list_logs_for_smartlock(smartlock_id, {"limit": PAGE}).json()
        if len(page) != PAGE:
            msg = "a read returned the wrong number of entries"
            raise RuntimeError(msg)
        return page

    read()
    results: dict[str, dict[str, float]] = {}
    with stopwatch() as watch:
        for _ in range(reads):
            read()
    results["sequential"] = {"wall_s": watch.wall, "cpu_ms_per_request": watch.cpu / reads * 1000}
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(REPEATS):
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool, stopwatch() as watch:
            list(pool.map(lambda _: read(), range(reads)))
        walls.append(watch.wall)
        cpus.append(watch.cpu)
    results[f"pool of {THREADS} threads"] = {
        "wall_s": median(walls),
        "cpu_ms_per_request": median(cpus) / reads * 1000,
    }
    return results


async def _run_async(url: str, token: str, smartlock_id: int, reads: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (make, page) in _variants(url, token, smartlock_id).items():
        out[name] = await _measure_async(make, reads, page)
    return out


def run(*, quick: bool = False) -> Result:
    """Measure and return the B5 result."""
    reads = QUICK_READS if quick else READS
    with SimProcess(locks=1, entries=PAGE + 5, web_delay=WEB_DELAY) as sim:
        url, token = sim.info["web_url"], sim.info["web_token"]
        smartlock_id = sim.info["smartlock_ids"][0]
        ours = asyncio.run(_run_async(url, token, smartlock_id, reads))
        peer = _peer(url, token, smartlock_id, reads)
    default = ours[OWNED]
    seq_wall = peer["sequential"]["wall_s"]
    pool_wall = peer[f"pool of {THREADS} threads"]["wall_s"]
    rows = [
        [
            name,
            m["wall_s"],
            m.get("warm_wall_s"),
            m["cpu_ms_per_request"],
            m.get("warm_cpu_ms_per_request"),
            seq_wall / m["wall_s"],
            pool_wall / m["wall_s"],
        ]
        for name, m in [*ours.items(), *((f"peer nuki-web-api, {k}", v) for k, v in peer.items())]
    ]
    print_table(
        f"B5 Web client: {reads} log reads of {PAGE} entries, server delay "
        f"{WEB_DELAY * 1000:.0f} ms (cold: fresh client; warm: its second burst)",
        [
            "client",
            "wall s cold",
            "wall s warm",
            "CPU ms/req cold",
            "CPU ms/req warm",
            "x vs peer seq.",
            "x vs peer pool",
        ],
        rows,
    )
    goals = {
        "x vs peer sequential (cold)": (seq_wall / default["wall_s"], GOAL_SEQUENTIAL, True),
        f"x vs peer pool of {THREADS} (cold)": (pool_wall / default["wall_s"], GOAL_POOLED, True),
        "client CPU ms/request (warm)": (default["warm_cpu_ms_per_request"], GOAL_CPU_MS, False),
        "client CPU ms/request (cold)": (default["cpu_ms_per_request"], GOAL_CPU_MS, False),
    }
    verdicts = {
        name: {
            "value": value,
            "goal": f"{'>=' if at_least else '<='} {target}",
            "met": value >= target if at_least else value <= target,
        }
        for name, (value, target, at_least) in goals.items()
    }
    print_table(
        "B5 goals (owned client)",
        ["measure", "value", "goal", "verdict"],
        [[k, v["value"], v["goal"], goal(v["met"])] for k, v in verdicts.items()],
    )
    return {
        "reads": reads,
        "page": PAGE,
        "server_delay_s": WEB_DELAY,
        "ours": ours,
        "peer": peer,
        "goals": verdicts,
    }
