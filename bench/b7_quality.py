"""B7: who did it, scored against the simulator's ground truth, per source and situation.

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
visible before the hub's deadline.

The hub runs once per source set (`bench._b7_run.SOURCES`): ``web_log`` (bridge and the
polled log, with the peers: 20 seeds), ``webhook`` (plus pushed ``DEVICE_LOGS``), ``mqtt``
(plus the locks' MQTT, names from the Web API) and ``mqtt_only`` (MQTT alone), 5 seeds each
(the same first seeds, so the same timelines). MQTT's answers name no log entry: they are
judged by who really acted (`bench._truth_who`). A full run takes about 5-6 minutes on 2
cores; ``--b7-sources`` and ``--b7-seeds`` (``python -m bench``) pick fewer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from bench._b7_run import PEERS, SOURCES, SPEED, broker_kind, run_seed
from bench._harness import Result, percentile, print_table
from bench._situations import SITUATIONS
from bench._truth_score import Tally, tally

SEEDS = tuple(range(1, 21))  # web_log (and its peers)
EXTRA_SEEDS = tuple(range(1, 6))  # each other source: fewer, to keep the run a few minutes
STEPS = 24
QUICK = ((1, 2), (1,), 8)  # web_log seeds, other sources' seeds, steps
PARALLEL = 5  # worlds run side by side
STRATEGIES = ("hub", *PEERS)
LABELS = {
    "hub": "NukiHub (default timing)",
    "hass_nuki_ng": "hass_nuki_ng: newest entry at its next 30 s poll",
    "yalexs": "yalexs: reads at +3 s and +7 s, newest entry",
}


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
        "phantom_repeats": t.repeats,
        "latency_p50_s": percentile(t.latencies, 50),
        "latency_p95_s": percentile(t.latencies, 95),
    }


def _per_action(runs: list[dict[str, Any]], name: str) -> float:
    actions = sum(run["actions"] for run in runs)
    return sum(run["requests"][name] for run in runs) / actions if actions else 0.0


def _plan(
    quick: bool, sources: list[str] | None, seeds: int | None
) -> tuple[dict[str, tuple[int, ...]], int]:
    """Seeds per source, and steps per seed."""
    main, extra, steps = QUICK if quick else (SEEDS, EXTRA_SEEDS, STEPS)
    chosen = list(SOURCES) if sources is None else sources
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown:
        msg = f"unknown B7 source(s) {unknown}; choose from {list(SOURCES)}"
        raise ValueError(msg)
    plan = {}
    for source in chosen:
        picked = main if source == "web_log" else extra
        plan[source] = picked if seeds is None else tuple(range(1, seeds + 1))
    return plan, steps


def _per_source(by_source: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    found = {}
    for source, runs in by_source.items():
        verdicts = [v for run in runs for v in run["verdicts"]["hub"][0]]
        found[source] = {
            "label": SOURCES[source],
            "seeds": [run["seed"] for run in runs],
            **_row(_sum(runs, "hub")),
            "requests_per_action": _per_action(runs, "hub"),
            "judged_by_who": sum(v.by == "actor" for v in verdicts),
            "answered_by": dict(sum((run["answered_by"] for run in runs), Counter())),
            "unavailable_reasons": dict(
                sum((Counter(run["unavailable_reasons"]) for run in runs), Counter())
            ),
            "hub_misses": {run["seed"]: run["misses"] for run in runs if run["misses"]},
        }
    return found


def _print_sources(per_source: dict[str, Any], steps: int) -> None:
    print_table(
        f"B7 who did it, per source: {steps} steps a seed, 4 locks + Opener, 5 people, log lags"
        f" 1-8 s (+5 % slow), simulated {SPEED:g}x (MQTT: {broker_kind()})",
        [
            "sources",
            "seeds",
            "counted",
            "right",
            "precision",
            "recall",
            "wrong",
            "no outcome",
            "unavailable",
            "hidden",
            "phantom",
            "p50 s",
            "p95 s",
            "req/act",
            "by who",
        ],
        [
            [
                t["label"],
                len(t["seeds"]),
                t["counted"],
                t["right"],
                t["precision"],
                t["recall"],
                t["wrong_names"],
                t["no_outcome"],
                t["unavailable"],
                t["hidden"],
                t["phantom_repeats"],
                t["latency_p50_s"],
                t["latency_p95_s"],
                t["requests_per_action"],
                t["judged_by_who"],
            ]
            for t in per_source.values()
        ],
    )
    for source, t in per_source.items():
        print(f"{source}: answers by source {t['answered_by']};", end=" ")
        print(f"unavailable: {t['unavailable_reasons']}")
        for seed, told in t["hub_misses"].items():
            for line in told:
                print(f"  {source} seed {seed}: {line}")


def _print_peers(runs: list[dict[str, Any]], totals: dict[str, Any]) -> None:
    columns = ["counted", "right", "precision", "recall", "wrong_names", "no_outcome"]
    print_table(
        f"B7 web_log worlds, the hub and the peers: {len(runs)} seeds",
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


def _print_situations(by_source: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    situations = [*SITUATIONS, "other"]
    table = {
        source: {kind: _row(_sum(runs, "hub", kind)) for kind in situations}
        for source, runs in by_source.items()
    }
    rows = []
    for kind in situations:
        cells = [table[source][kind] for source in by_source]
        if not any(c["changes"] for c in cells):
            continue
        rows.append(
            [
                kind,
                *(f"{c['precision']:.2f} / {c['recall']:.2f} / {c['wrong_names']}" for c in cells),
            ]
        )
    print_table(
        "B7 hub per situation (precision / recall / wrong names)",
        ["situation", *by_source],
        rows,
    )
    return table


def run(
    *, quick: bool = False, sources: list[str] | None = None, seeds: int | None = None
) -> Result:
    """Measure and return the B7 result (``sources``: a subset of `SOURCES`)."""
    plan, steps = _plan(quick, sources, seeds)
    started = time.perf_counter()
    jobs = [(source, seed) for source, chosen in plan.items() for seed in chosen]

    async def all_runs() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for index in range(0, len(jobs), PARALLEL):
            batch = jobs[index : index + PARALLEL]
            found += await asyncio.gather(*(run_seed(seed, steps, s) for s, seed in batch))
        return found

    every = asyncio.run(all_runs())
    wall = time.perf_counter() - started
    by_source = {source: [r for r in every if r["source"] == source] for source in plan}
    per_source = _per_source(by_source)
    _print_sources(per_source, steps)
    by_situation = _print_situations(by_source)
    result: dict[str, Any] = {
        "steps": steps,
        "speed": SPEED,
        "wall_s": wall,
        "mqtt_broker": broker_kind() if "mqtt" in plan else None,
        "situations": dict(SITUATIONS),
        "sources": per_source,
        "by_source_situation": by_situation,
    }
    web = by_source.get("web_log", [])
    if web:
        result.update(_web_log_detail(web))
    per_seed = [
        [source, run_["seed"], t.counted, t.precision, t.recall, t.wrong, t.no_outcome]
        for source, runs in by_source.items()
        for run_ in runs
        for t in [tally(run_["verdicts"]["hub"][0], loose_wrong=run_["verdicts"]["hub"][1])]
    ]
    print_table(
        "B7 hub per seed",
        ["sources", "seed", "counted", "precision", "recall", "wrong names", "no outcome"],
        per_seed,
    )
    restarts = sum(run_["restarts"] for run_ in every)
    corrected = sum((Counter(run_["corrections"]) for run_ in every), Counter())
    print(f"\nHub restarts: {restarts}. Wall time {wall:.0f} s.")
    print(f"Hub StateCorrected: {dict(corrected)} (a lock is never settled while moving).")
    result["hub_restarts"] = restarts
    result["hub_state_corrected"] = dict(corrected)
    result["runs"] = [
        {
            "source": run_["source"],
            "seed": run_["seed"],
            "wall_s": run_["wall_s"],
            "simulated_s": run_["simulated_s"],
            "unsettled": run_["unsettled"],
            "hub_restarts": run_["restarts"],
            "hub_unavailable_reasons": dict(run_["unavailable_reasons"]),
            "hub_state_corrected": dict(run_["corrections"]),
            "hub_misses": run_["misses"],
            **{name: _row(_sum([run_], name)) for name in run_["verdicts"]},
        }
        for run_ in every
    ]
    result["goals"] = _goals(per_source)
    return result


def _web_log_detail(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The web_log worlds' peers, and the failed attempts the hub reported."""
    totals = {name: _row(_sum(runs, name)) for name in STRATEGIES}
    for name in STRATEGIES:
        totals[name]["requests_per_action"] = _per_action(runs, name)
    _print_peers(runs, totals)
    delays = [d for run_ in runs for d in run_["failed_delays"]]
    failed = {
        "reported": len(delays),
        "after_visible_p50_s": percentile(delays, 50),
        "after_visible_p95_s": percentile(delays, 95),
    }
    print(
        f"\nFailed attempts reported as LogEntryObserved: {failed['reported']}, "
        f"p50 {failed['after_visible_p50_s']:.1f} s / p95 {failed['after_visible_p95_s']:.1f} s"
        " after their entry became visible."
    )
    return {
        "seeds": [run_["seed"] for run_ in runs],
        "strategies": {name: {"label": LABELS[name], **t} for name, t in totals.items()},
        "by_situation": {
            name: {kind: _row(_sum(runs, name, kind)) for kind in [*SITUATIONS, "other"]}
            for name in STRATEGIES
        },
        "failed_attempts": failed,
    }


def _goals(per_source: dict[str, Any]) -> dict[str, Any]:
    goals = {}
    for source, t in per_source.items():
        goals[f"{source}: hub precision (every name right)"] = {
            "value": t["precision"],
            "goal": "1.00",
            "met": t["precision"] == 1.0,
        }
        goals[f"{source}: hub recall of changes whose entry is visible before the deadline"] = {
            "value": t["recall"],
            "goal": ">= 0.99",
            "met": t["recall"] >= 0.99,
        }
        goals[f"{source}: phantom state events (one action reported twice)"] = {
            "value": t["phantom_repeats"],
            "goal": "0",
            "met": t["phantom_repeats"] == 0,
        }
    return goals
