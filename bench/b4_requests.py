"""B4: Web API requests per attributed event in a burst, against one read per callback.

A world with 10 locks and 10 people runs in real time with the simulator's default log lag
(2-4 s); each lock gets 10 actions at random times within 30 s (100 actions, toggling
lock/unlock, by random people). The hub runs as users get it (default `AttributionTiming`,
callbacks through a `CallbackServer`). On the same burst, at the same time, the naive
strategy (`bench._strategies.NaivePerCallback`) takes the hub's state events and reads the
lock's log once per callback, 4 s after it (the lag's upper bound), through a Web client of
its own. Both request counts start when the burst starts and stop when every state event has
its answer (so the hub's few start-up reads are left out; its background reads in that time
count).

Goal: the hub's Web API requests per `ActionAttributed` <= 0.3 (decision 0008: latency may
stretch in a burst to save requests). Baseline: the naive strategy's requests per answered
event (1.0 by construction); the ratio is the share of requests the hub needs.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bench._harness import Result, goal, median, percentile, print_table
from bench._rig import WEB_TOKEN, build_world, quick_knobs, running_hub
from bench._strategies import NaivePerCallback, hub_answers, is_callback_state, score
from nukiasync import NukiWebClient
from nukiasync.const import LockState
from nukiasync.events import ActionAttributed, AttributionUnavailable, LockStateChanged

LOCKS = 10
ACTIONS_PER_LOCK = 10
WINDOW = 30.0  # s
QUICK = (3, 4, 10.0)  # locks, actions per lock, window
NAIVE_DELAY = 4.0  # s, the upper bound of the simulated lag
MIN_SPACING = 0.6  # s between two actions on one lock (the motor takes 0.3 s)
GOAL = 0.3
ANSWER_TIMEOUT = 90.0
SEED = 11


def plan(locks: int, per_lock: int, window: float, people: int, seed: int) -> list[list[Any]]:
    """Per lock, sorted (time, person index) pairs inside the window, spaced on each lock."""
    rng = random.Random(seed)
    plans = []
    for _ in range(locks):
        times = sorted(rng.uniform(0, window - MIN_SPACING * per_lock) for _ in range(per_lock))
        times = [t + i * MIN_SPACING for i, t in enumerate(times)]
        plans.append([(t, rng.randrange(people)) for t in times])
    return plans


async def _burst(locks: int, per_lock: int, window: float, seed: int) -> dict[str, Any]:
    world = build_world(locks=locks, people=10, seed=seed, knobs=quick_knobs())
    async with running_hub(world) as rig:
        naive = NaivePerCallback(
            NukiWebClient(WEB_TOKEN, base_url=world.web_url),
            delay=NAIVE_DELAY,
            clock=world.clock.now,
            sleep=rig.scaled_sleep,
        )
        rig.hub.subscribe(naive)
        people = list(world.people.values())
        hub_before = rig.web.request_count
        reads_before = rig.hub.diagnostics()["log_watcher"]["reads"]
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def one_lock(index: int, steps: list[Any]) -> None:
            device = world.devices[index]
            for at, person in steps:
                await asyncio.sleep(max(0.0, start + at - loop.time()))  # the timeline's pace
                action = 1 if device.state == LockState.LOCKED else 2
                await world.act(people[person], device.name, action)

        try:
            await asyncio.gather(
                *(
                    one_lock(i, steps)
                    for i, steps in enumerate(plan(locks, per_lock, window, 10, seed))
                )
            )
            burst_s = loop.time() - start
            recorder = rig.recorder

            def hub_done() -> bool:
                wanted = {
                    s.event.event_id
                    for s in recorder.of(LockStateChanged)
                    if is_callback_state(s.event)
                }
                answered = {
                    s.event.state_event_id
                    for s in recorder.of((ActionAttributed, AttributionUnavailable))
                }
                return wanted <= answered

            await recorder.wait(hub_done, ANSWER_TIMEOUT)
            hub_requests = rig.web.request_count - hub_before
            reads = rig.hub.diagnostics()["log_watcher"]["reads"] - reads_before
            await naive.wait_answered(ANSWER_TIMEOUT)
            naive_requests = naive.requests
            settled_s = loop.time() - start
        finally:
            await naive.close()
        states = [
            (s.event, s.sim) for s in recorder.of(LockStateChanged) if is_callback_state(s.event)
        ]
        hub = score(world.journal, states, hub_answers(recorder.seen), requests=hub_requests)
        base = score(world.journal, states, naive.answers, requests=naive_requests)
        attributed = len(recorder.of(ActionAttributed))
    return {
        "actions": locks * per_lock,
        "burst_s": burst_s,
        "settled_s": settled_s,
        "hub": {"score": hub, "attributed": attributed, "log_reads": reads},
        "naive": {"score": base, "attributed": base.answered},
    }


def run(*, quick: bool = False) -> Result:
    """Measure and return the B4 result."""
    locks, per_lock, window = QUICK if quick else (LOCKS, ACTIONS_PER_LOCK, WINDOW)
    found = asyncio.run(_burst(locks, per_lock, window, SEED))
    rows = []
    per_event: dict[str, float] = {}
    for name, label in (
        ("naive", f"baseline: one log read per callback, {NAIVE_DELAY:g} s after it"),
        ("hub", "NukiHub (default AttributionTiming)"),
    ):
        item = found[name]
        sc = item["score"]
        per_event[name] = sc.requests / item["attributed"] if item["attributed"] else float("nan")
        rows.append(
            [
                label,
                sc.state_events,
                item["attributed"],
                sc.right,
                sc.requests,
                item.get("log_reads", sc.requests),
                per_event[name],
                median(sc.latencies),
                percentile(sc.latencies, 95),
            ]
        )
    ratio = per_event["hub"] / per_event["naive"]
    met = per_event["hub"] <= GOAL
    print_table(
        f"B4 Web API requests per attributed event: {locks} locks x {per_lock} actions in "
        f"{window:g} s, log lag 2-4 s (burst took {found['burst_s']:.1f} s)",
        [
            "strategy",
            "state events",
            "attributed",
            "right",
            "Web API requests",
            "log reads",
            "requests / attributed",
            "p50 s",
            "p95 s",
        ],
        rows,
    )
    print_table(
        "B4 goal",
        ["measure", "value", "x baseline", "goal", "verdict"],
        [["hub requests per attributed event", per_event["hub"], ratio, f"<= {GOAL}", goal(met)]],
    )
    hub = found["hub"]
    return {
        "locks": locks,
        "actions_per_lock": per_lock,
        "window_s": window,
        "log_lag_s": [2.0, 4.0],
        "burst_s": found["burst_s"],
        "settled_s": found["settled_s"],
        "hub_log_reads": hub["log_reads"],
        "strategies": {
            name: {
                "requests": found[name]["score"].requests,
                "attributed": found[name]["attributed"],
                "right": found[name]["score"].right,
                "state_events": found[name]["score"].state_events,
                "requests_per_attributed": per_event[name],
                "latency_p50_s": median(found[name]["score"].latencies),
                "latency_p95_s": percentile(found[name]["score"].latencies, 95),
            }
            for name in ("naive", "hub")
        },
        "ratio_to_naive": ratio,
        "goals": {
            "requests per attributed event": {
                "value": per_event["hub"],
                "goal": f"<= {GOAL}",
                "met": met,
            }
        },
    }
