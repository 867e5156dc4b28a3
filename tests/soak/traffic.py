"""Realistic traffic against the simulator for the soak (G24), behind one seam:
``run_traffic(duration, consumer)``.

People act at random (callbacks at roughly 1-5 a second reach a live CallbackServer), and
the Web API log is read every second with injected faults (5% 5xx, 1% 429, 1% timeouts).
Resources are sampled throughout. Today the consumer takes `BridgeCallback`s from the
server; to soak the hub, pass a consumer that feeds ``hub.handle_callback`` instead.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.receiver import ReceiverStats
from nukiasync.bridge.server import CallbackServer
from nukiasync.errors import NukiError
from nukiasync.simulator import SimulationError
from nukiasync.web.client import NukiWebClient
from tests.soak.harness import Watch, watch
from tests.support import canary
from tests.support.hub import counters
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from nukiasync.bridge.receiver import Consumer

FRONT_ID = (4 << 32) | 0x1A2B3C4D
SAMPLE_EVERY = 2.0  # s between resource samples


@attrs.frozen(kw_only=True)
class Sample:
    """Resources at one moment."""

    at: float
    rss: int
    fds: int
    tasks: int


@attrs.define(kw_only=True)
class TrafficReport:
    """What a run did and what it cost."""

    actions: int = 0
    log_reads: int = 0
    log_failures: int = 0
    faults_injected: dict[str, int] = attrs.field(factory=dict)
    receiver: ReceiverStats | None = None
    samples: list[Sample] = attrs.field(factory=list)
    seen: Watch | None = None

    def summary(self) -> str:
        first, last = self.samples[0], self.samples[-1]
        stats = self.receiver
        return (
            f"{self.actions} actions, {stats.accepted if stats else 0} callbacks, "
            f"{self.log_reads} log reads ({self.log_failures} failed), "
            f"faults {self.faults_injected}; RSS {first.rss / 2**20:.1f} -> "
            f"{last.rss / 2**20:.1f} MiB (max {max(s.rss for s in self.samples) / 2**20:.1f}), "
            f"fds {first.fds} -> {last.fds}, tasks {first.tasks} -> {last.tasks}"
        )


async def run_traffic(duration: float, consumer: Consumer, *, seed: int = 7) -> TrafficReport:
    """Drive the simulator for ``duration`` seconds; ``consumer`` gets every callback."""
    import psutil  # the bench extra; imported here so collecting the fast profile needs none

    rng = random.Random(seed)
    report = TrafficReport(faults_injected={"5xx": 0, "429": 0, "timeout": 0})
    process = psutil.Process(os.getpid())
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + duration
    with watch(loop) as seen:
        async with make_world(web_hang=1.5) as world:
            world.knobs.log_lag = (0.2, 1.0)
            port = urlsplit(world.bridge_url).port
            assert port is not None
            server = CallbackServer(consumer, host="127.0.0.1", allowed_sources=["127.0.0.1"])
            bridge = NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port)
            web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, timeout=1.0)
            async with server, bridge, web:
                canary.register(urlsplit(server.callback_url()).path.rsplit("/", 1)[1])
                await bridge.ensure_callback(server.callback_url())
                tasks = [
                    asyncio.create_task(_people(world, rng, deadline, report), name="soak.people"),
                    asyncio.create_task(
                        _reader(world, web, rng, deadline, report), name="soak.web"
                    ),
                    asyncio.create_task(_sampler(process, deadline, report), name="soak.sampler"),
                ]
                try:
                    await asyncio.gather(*tasks)
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                await world.bridge.drain()
            report.receiver = server.receiver().stats
    report.seen = seen
    return report


async def _people(world, rng: random.Random, deadline: float, report: TrafficReport) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    moves = [
        lambda: alice.unlock("Front door"),
        lambda: alice.lock("Front door"),
        lambda: alice.unlock("Back door"),
        lambda: alice.lock("Back door"),
        lambda: bob.enter_code("Front door", canary.KEYPAD_CODE),
        lambda: alice.open_door("Front door"),
        lambda: alice.close_door("Front door"),
        lambda: alice.ring("Entrance"),
    ]
    while time.monotonic() < deadline:
        try:
            await rng.choice(moves)()
        except SimulationError:  # e.g. closing a closed door: people try things
            pass
        else:
            report.actions += 1
        await asyncio.sleep(rng.uniform(0.1, 0.8))  # a person's pace, not a wait for a result


async def _reader(
    world, web: NukiWebClient, rng: random.Random, deadline: float, report: TrafficReport
) -> None:
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.05:
            world.knobs.fail_web(1, status=rng.choice([500, 502, 503]), html=rng.random() < 0.5)
            report.faults_injected["5xx"] += 1
        elif roll < 0.06:
            world.knobs.fail_web(1, status=429, retry_after=1)
            report.faults_injected["429"] += 1
        elif roll < 0.07:
            world.knobs.fail_web(1, hang=True)
            report.faults_injected["timeout"] += 1
        try:
            await web.logs(FRONT_ID, limit=20)
        except NukiError:
            report.log_failures += 1
        report.log_reads += 1
        await asyncio.sleep(1.0)  # the poll interval


async def _sampler(process: Any, deadline: float, report: TrafficReport) -> None:
    while True:
        gc.collect()
        report.samples.append(
            Sample(
                at=time.monotonic(),
                rss=process.memory_info().rss,
                fds=process.num_fds(),
                tasks=len(asyncio.all_tasks()),
            )
        )
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, deadline - time.monotonic())))


@attrs.define(kw_only=True)
class HubTrafficReport(TrafficReport):
    """`TrafficReport` plus the hub's own counters and log reads."""

    hub: dict[str, int] = attrs.field(factory=dict)
    web_requests: int = 0
    web_statuses: dict[Any, int] = attrs.field(factory=dict)


async def run_hub_traffic(duration: float, *, seed: int = 7) -> HubTrafficReport:
    """Drive a running `NukiHub` on the simulator for ``duration`` seconds (G24).

    People act (callbacks reach the hub's own CallbackServer), the hub reads the Web API
    log itself, and faults hit whatever Web API request comes next: 5% 5xx (half HTML),
    1% 429, 1% timeouts, rolled twice a second.
    """
    import psutil  # the bench extra; imported here so collecting the fast profile needs none

    from nukiasync.hub.sources.log_watcher import AttributionTiming
    from tests.soak.hub_harness import hub_on_world

    timing = AttributionTiming(
        first_delay=0.5, poll_interval=0.3, burst_interval=0.5, deadline=4.0, grace=1.0,
        tight_phase=2.0, max_interval=1.0, background_interval=2.0,
    )  # fmt: skip
    rng = random.Random(seed)
    report = HubTrafficReport(faults_injected={"5xx": 0, "429": 0, "timeout": 0})
    process = psutil.Process(os.getpid())
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + duration
    with watch(loop) as seen:
        async with hub_on_world(timing=timing, log_lag=(0.2, 1.0), web_hang=1.5) as rig:
            tasks = [
                asyncio.create_task(_people(rig.world, rng, deadline, report), name="soak.people"),
                asyncio.create_task(_faults(rig.world, rng, deadline, report), name="soak.faults"),
                asyncio.create_task(_sampler(process, deadline, report), name="soak.sampler"),
            ]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            rig.world.knobs.web_faults.clear()
            await rig.world.bridge.drain()
            assert rig.server is not None
            report.receiver = rig.server.receiver().stats
            watcher = rig.hub.diagnostics()["log_watcher"]
            report.log_reads = watcher["reads"]
            report.log_failures = watcher["read_failures"]
            report.web_requests = len(rig.requests.requests)
            report.web_statuses = rig.requests.statuses()
        report.hub = counters(rig.hub)  # after close: pending ones answered
    report.seen = seen
    return report


async def _faults(world, rng: random.Random, deadline: float, report: TrafficReport) -> None:
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.05:
            world.knobs.fail_web(1, status=rng.choice([500, 502, 503]), html=rng.random() < 0.5)
            report.faults_injected["5xx"] += 1
        elif roll < 0.06:
            world.knobs.fail_web(1, status=429, retry_after=1)
            report.faults_injected["429"] += 1
        elif roll < 0.07:
            world.knobs.fail_web(1, hang=True)
            report.faults_injected["timeout"] += 1
        await asyncio.sleep(0.5)  # the fault clock
