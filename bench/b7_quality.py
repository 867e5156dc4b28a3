"""B7: who did it, scored against the simulator's ground truth, per situation, over 20 seeds.

Each seed is one world (`bench._situations`: four locks, one with a keypad, an Opener, five
people; real physics with its automatic follow-ons; log lags 1-8 s per entry, out of order,
5 % of the entries 10-20 s slower) run 10x faster than real time, with a `NukiHub` as users
get it (default `AttributionTiming`; hub and strategies keep the simulated clock, so times
below are simulated seconds). The timeline draws situations by weight: plain, burst, cascade
after a lost callback, undo, follow-on windows, failed attempts, and a restart of the hub
(closed, 1-2 s down, a new hub on the same state file) while people act (see
`bench._situations`).

Two peers' strategies watch the same timelines, fed the same callback state events: "newest
log entry at the next 30 s poll" (kvj/hass_nuki_ng) and "reads at +3 s and +7 s" (yalexs),
see `bench._strategies`. Ground truth is the world's record of every state change and its
cause (`World.changes`), not a reading of the log: `bench._truth_score` gives each change a
verdict (right, wrong, unavailable, no answer, only observed, hidden) and adds them up per
situation. Goal (issue 13): precision 1.00, recall >= 0.99 of the changes whose entry is
visible before the hub's deadline. A full run takes about 5 minutes on 2 cores.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._harness import Result, percentile, print_table
from bench._rig import WEB_TOKEN, running_hub
from bench._situations import SITUATIONS, Timeline, b7_knobs, build_world, play
from bench._strategies import HassNukiNg, Strategy, Yalexs
from bench._truth_score import (
    Named,
    Tally,
    Verdict,
    failed_entry_delays,
    hub_answers,
    judge,
    tally,
)
from nukiasync import NukiWebClient
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    EventSource,
    LockStateChanged,
    LogEntryObserved,
    StateCorrected,
)
from nukiasync.hub.sources.log_watcher import AttributionTiming

if TYPE_CHECKING:
    from bench._rig import Recorder
    from nukiasync.simulator import World

SEEDS = tuple(range(1, 21))
STEPS = 24
QUICK = ((1, 2), 8)  # seeds, steps
PARALLEL = 5  # seeds run side by side
SPEED = 10.0
SPACING = (6.0, 12.0)  # simulated s between steps
SETTLE = 120.0  # simulated s after the last step for every answer
STRATEGIES = ("hub", "hass_nuki_ng", "yalexs")
LABELS = {
    "hub": "NukiHub (default timing)",
    "hass_nuki_ng": "hass_nuki_ng: newest entry at its next 30 s poll",
    "yalexs": "yalexs: reads at +3 s and +7 s, newest entry",
}
DEADLINE = timedelta(seconds=AttributionTiming().deadline)
MOVING = frozenset({2, 4, 7})  # unlocking, locking, unlatching (Opener: opening)


def _hub_done(world: World, recorder: Recorder) -> bool:
    """Every callback state event answered and every entry told (or named)."""
    wanted = {
        s.event.event_id
        for s in recorder.of(LockStateChanged)
        if s.event.attributable and s.event.source == EventSource.BRIDGE_CALLBACK
    }
    answered = {
        s.event.state_event_id for s in recorder.of((ActionAttributed, AttributionUnavailable))
    }
    told = {s.event.log_entry_id for s in recorder.of((LogEntryObserved, ActionAttributed))}
    now = world.clock.now()
    entries = {r.log_id for r in world.journal if r.visible_at and r.visible_at <= now}
    return wanted <= answered and entries <= told


async def _one(seed: int, steps: int) -> dict[str, Any]:
    started = time.perf_counter()
    world = build_world(seed=seed, knobs=b7_knobs(), speed=SPEED)
    with tempfile.TemporaryDirectory(prefix="nukiasync-b7-") as folder:
        return await _in_world(world, seed, steps, str(Path(folder) / "state.json"), started)


async def _in_world(
    world: World, seed: int, steps: int, state_file: str, started: float
) -> dict[str, Any]:
    async with running_hub(world, speed=SPEED, state_file=state_file) as rig:
        common: dict[str, Any] = {"clock": world.clock.now, "sleep": rig.scaled_sleep}

        def client() -> NukiWebClient:
            return NukiWebClient(WEB_TOKEN, base_url=world.web_url)

        hass = HassNukiNg(client(), locks=[d.smartlock_id for d in world.devices], **common)
        peers: dict[str, Strategy] = {"hass_nuki_ng": hass, "yalexs": Yalexs(client(), **common)}
        for peer in peers.values():
            rig.subscribe(peer)
        hass.start()
        requests_before = rig.web.request_count
        timeline = Timeline(world, random.Random(seed * 7919), rig.scaled_sleep, rig.restart)
        unsettled: list[str] = []
        try:
            await play(timeline, steps, SPACING)
            # Follow-ons still due (lock 'n' go) happen, then every answer comes.
            await rig.scaled_sleep(world.knobs.lock_n_go_delay + 5.0)
            recorder = rig.recorder
            try:
                await recorder.wait(lambda: _hub_done(world, recorder), SETTLE / SPEED)
            except TimeoutError:
                unsettled.append("hub")
            hub_requests = rig.web.request_count - requests_before
            for name, peer in peers.items():
                try:
                    await peer.wait_answered(SETTLE / SPEED)
                except TimeoutError:
                    unsettled.append(name)
        finally:
            for peer in peers.values():
                await peer.close()
        kinds = timeline.kinds
        states = [(s.event, s.sim) for s in recorder.of((LockStateChanged, StateCorrected))]
        observed = [s.event.log_entry_id for s in recorder.of(LogEntryObserved)]
        verdicts: dict[str, tuple[list[Verdict], int]] = {
            "hub": judge(
                world,
                states,
                hub_answers(recorder.seen),
                deadline=DEADLINE,
                situations=kinds,
                observed=observed,
            )
        }
        requests = {"hub": hub_requests}
        for name, peer in peers.items():
            answers = {k: Named(entry_id=a.entry_id, at=a.at) for k, a in peer.answers.items()}
            seen = [(e, e.received_at) for e in peer.events]
            verdicts[name] = judge(world, seen, answers, deadline=DEADLINE, situations=kinds)
            requests[name] = peer.requests
        failed_delays = failed_entry_delays(world, recorder.seen)
        misses = _misses(world, verdicts["hub"][0])
        reasons = Counter(str(s.event.reason) for s in recorder.of(AttributionUnavailable))
        corrections = Counter(
            "to a moving state" if s.event.state in MOVING else "settled"
            for s in recorder.of(StateCorrected)
        )
    return {
        "seed": seed,
        "verdicts": verdicts,
        "requests": requests,
        "actions": sum(1 for r in world.journal if r.state == 0),
        "failed_delays": failed_delays,
        "unsettled": unsettled,
        "restarts": rig.restarts,
        "unavailable_reasons": reasons,
        "corrections": corrections,
        "misses": misses,
        "wall_s": time.perf_counter() - started,
        "simulated_s": (world.clock.now() - world.created).total_seconds(),
    }


def _misses(world: World, verdicts: list[Verdict]) -> list[str]:
    """The hub's wrong names and counted misses, told so that a reader can replay them."""
    records = {r.log_id: r for r in world.journal}
    told = []
    for verdict in verdicts:
        if verdict.verdict == "right" or not (verdict.counted or verdict.verdict == "wrong"):
            continue
        change = world.changes[verdict.change - 1]
        named = records.get(verdict.named)
        what = f"named seq {named.seq} ({named.person}, action {named.action})" if named else ""
        told.append(
            f"{verdict.verdict} [{verdict.situation}] change {change.seq} {change.lock} "
            f"{change.before}->{change.after} ({change.kind}, {change.person}, record "
            f"{change.record_seq}, callbacks {change.callbacks_posted}/lost "
            f"{change.callbacks_lost}) {what}".rstrip()
        )
    return told


def _sum(runs: list[dict[str, Any]], name: str, situation: str | None = None) -> Tally:
    verdicts = [
        v
        for run in runs
        for v in run["verdicts"][name][0]
        if situation is None or v.situation == situation
    ]
    loose = sum(run["verdicts"][name][1] for run in runs) if situation is None else 0
    return tally(verdicts, loose_wrong=loose)


def _row(t: Tally) -> dict[str, Any]:
    return {
        "changes": t.changes,
        "counted": t.counted,
        "right": t.right,
        "precision": t.precision,
        "recall": t.recall,
        "names": t.named,
        "wrong_names": t.wrong,
        "no_outcome": t.no_outcome,
        "unavailable": t.unavailable,
        "false_unavailable": t.false_unavailable,
        "hidden": t.hidden,
        "latency_p50_s": percentile(t.latencies, 50),
        "latency_p95_s": percentile(t.latencies, 95),
    }


def run(*, quick: bool = False) -> Result:
    """Measure and return the B7 result."""
    seeds, steps = QUICK if quick else (SEEDS, STEPS)
    started = time.perf_counter()

    async def all_runs() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for index in range(0, len(seeds), PARALLEL):
            batch = seeds[index : index + PARALLEL]
            found += await asyncio.gather(*(_one(seed, steps) for seed in batch))
        return found

    runs = asyncio.run(all_runs())
    wall = time.perf_counter() - started
    totals = {name: _row(_sum(runs, name)) for name in STRATEGIES}
    actions = sum(run["actions"] for run in runs)
    for name in STRATEGIES:
        totals[name]["requests_per_action"] = (
            sum(run["requests"][name] for run in runs) / actions if actions else 0.0
        )
    columns = ["counted", "right", "precision", "recall", "wrong_names", "no_outcome"]
    print_table(
        f"B7 who did it: {len(seeds)} seeds x {steps} steps, 4 locks + Opener, 5 people,"
        f" lags 1-8 s (+5 % slow), simulated {SPEED:g}x",
        ["strategy", *columns, "unavailable", "false unavailable", "hidden", "p95 s", "req/act"],
        [
            [
                LABELS[name],
                *(t[c] for c in columns),
                t["unavailable"],
                t["false_unavailable"],
                t["hidden"],
                t["latency_p95_s"],
                t["requests_per_action"],
            ]
            for name, t in totals.items()
        ],
    )
    by_situation = {
        name: {kind: _row(_sum(runs, name, kind)) for kind in [*SITUATIONS, "other"]}
        for name in STRATEGIES
    }
    rows = []
    for kind in [*SITUATIONS, "other"]:
        hub = by_situation["hub"][kind]
        if not hub["changes"]:
            continue
        peers = [
            f"{by_situation[n][kind]['precision']:.2f} / {by_situation[n][kind]['recall']:.2f}"
            for n in STRATEGIES[1:]
        ]
        rows.append(
            [
                kind,
                hub["changes"],
                hub["counted"],
                hub["precision"],
                hub["recall"],
                hub["wrong_names"],
                hub["no_outcome"],
                hub["unavailable"],
                hub["false_unavailable"],
                hub["hidden"],
                *peers,
            ]
        )
    print_table(
        "B7 per situation (hub; peers as precision / recall)",
        [
            "situation",
            "changes",
            "counted",
            "precision",
            "recall",
            "wrong",
            "no outcome",
            "unavailable",
            "false unav.",
            "hidden",
            *(LABELS[n].split(":")[0] for n in STRATEGIES[1:]),
        ],
        rows,
    )
    per_seed = []
    for run_ in runs:
        t = tally(run_["verdicts"]["hub"][0], loose_wrong=run_["verdicts"]["hub"][1])
        per_seed.append([run_["seed"], t.counted, t.precision, t.recall, t.wrong, t.no_outcome])
    print_table(
        "B7 hub per seed",
        ["seed", "counted", "precision", "recall", "wrong names", "no outcome"],
        per_seed,
    )
    delays = [d for run_ in runs for d in run_["failed_delays"]]
    failed = {
        "reported": len(delays),
        "after_visible_p50_s": percentile(delays, 50),
        "after_visible_p95_s": percentile(delays, 95),
    }
    print(
        f"\nFailed attempts reported as LogEntryObserved: {failed['reported']}, "
        f"p50 {failed['after_visible_p50_s']:.1f} s / p95 {failed['after_visible_p95_s']:.1f} s"
        f" after their entry became visible. Wall time {wall:.0f} s."
    )
    reasons = sum((Counter(run_["unavailable_reasons"]) for run_ in runs), Counter())
    restarts = sum(run_["restarts"] for run_ in runs)
    corrected = sum((Counter(run_["corrections"]) for run_ in runs), Counter())
    print(f"Hub restarts: {restarts}; AttributionUnavailable reasons: {dict(reasons)}.")
    print(f"Hub StateCorrected: {dict(corrected)} (a lock is never settled while moving).")
    hub = totals["hub"]
    return {
        "seeds": list(seeds),
        "steps": steps,
        "speed": SPEED,
        "wall_s": wall,
        "situations": dict(SITUATIONS),
        "strategies": {name: {"label": LABELS[name], **t} for name, t in totals.items()},
        "by_situation": by_situation,
        "failed_attempts": failed,
        "hub_restarts": restarts,
        "hub_unavailable_reasons": dict(reasons),
        "hub_state_corrected": dict(corrected),
        "runs": [
            {
                "seed": run_["seed"],
                "wall_s": run_["wall_s"],
                "simulated_s": run_["simulated_s"],
                "unsettled": run_["unsettled"],
                "hub_restarts": run_["restarts"],
                "hub_unavailable_reasons": dict(run_["unavailable_reasons"]),
                "hub_state_corrected": dict(run_["corrections"]),
                "hub_misses": run_["misses"],
                **{name: _row(_sum([run_], name)) for name in STRATEGIES},
            }
            for run_ in runs
        ],
        "goals": {
            "hub precision (every name right)": {
                "value": hub["precision"],
                "goal": "1.00",
                "met": hub["precision"] == 1.0,
            },
            "hub recall of changes whose entry is visible before the deadline": {
                "value": hub["recall"],
                "goal": ">= 0.99",
                "met": hub["recall"] >= 0.99,
            },
        },
    }
