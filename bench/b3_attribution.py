"""B3: how soon "who did it" follows the log entry becoming visible, for isolated actions.

For each simulated log lag (1, 3 and 10 s: the time from the lock's action to its entry
showing in the Web API) and each cloud source of "who" (the polled log; decentral webhooks,
which the simulated Web API pushes signed when the entry shows), a world with 2 locks and 3
people runs in real time with the hub as users get it: the default `AttributionTiming`,
callbacks through a `CallbackServer`. One person acts at a time; the next action waits
until the hub has answered the previous one, plus 1-2 s, so every action is isolated
(decision 0008 judges B3 on isolated actions). The lags and sources run side by side, each
in its own world and hub.

Measured per action: attribution time (the simulated clock when a subscriber sees the
`ActionAttributed`) minus the time the entry became visible in the simulated Web API (the
entry's ``visible_at``, which the simulator knows). Goal: p95 <= 1.0 s at every lag.
The baseline is the log lag itself (the part no client can beat): the table shows the
latency from the state event too, and its ratio to the lag.

A PNG plot of latency against lag goes to ``bench/results/b3_attribution.png``.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

from bench._harness import RESULTS_DIR, Result, goal, median, percentile, print_table
from bench._rig import build_world, quick_knobs, running_hub
from nukiasync.const import LockState
from nukiasync.events import ActionAttributed, AttributionUnavailable, LockStateChanged
from nukiasync.hub.sources.log_watcher import AttributionTiming

if TYPE_CHECKING:
    from pathlib import Path

LAGS = (1.0, 3.0, 10.0)
ACTIONS = 10
QUICK_ACTIONS = 3
QUICK_LAGS = (1.0, 3.0)
GAP = (1.0, 2.0)  # s after an answer before the next action
GOAL_P95 = 1.0
ANSWER_TIMEOUT = 60.0  # s; the default deadline is 45 s
SEED = 3
WEB_LOG, WEBHOOK = "web_log", "webhook"
# Who from the polled log, and from decentral webhooks pushed as each entry becomes visible
# (the hub's reads then slow down to the background read).
SOURCES = (WEB_LOG, WEBHOOK)


async def _one_lag(lag: float, actions: int, seed: int, *, source: str = WEB_LOG) -> dict[str, Any]:
    world = build_world(locks=2, people=3, seed=seed, knobs=quick_knobs(log_lag=lag))
    rng = random.Random(seed)
    samples: list[dict[str, Any]] = []
    async with running_hub(world, webhooks=source == WEBHOOK) as rig:
        recorder = rig.recorder
        people = list(world.people.values())
        for n in range(actions):
            answered = len(recorder.of((ActionAttributed, AttributionUnavailable)))
            lock = world.devices[n % len(world.devices)]
            action = 1 if lock.state == LockState.LOCKED else 2
            record = await world.act(rng.choice(people), lock.name, action)
            await recorder.wait(
                lambda answered=answered: (
                    len(recorder.of((ActionAttributed, AttributionUnavailable))) > answered
                ),
                ANSWER_TIMEOUT,
            )
            answer = recorder.of((ActionAttributed, AttributionUnavailable))[answered]
            state = next(
                s
                for s in recorder.of(LockStateChanged)
                if s.event.event_id == answer.event.state_event_id
            )
            right = (
                isinstance(answer.event, ActionAttributed)
                and answer.event.log_entry_id == record.log_id
            )
            assert record.visible_at is not None  # noqa: S101 - every action writes an entry
            samples.append(
                {
                    "lag": lag,
                    "right": right,
                    "after_visible": (answer.sim - record.visible_at).total_seconds(),
                    "after_state_event": (answer.sim - state.sim).total_seconds(),
                    "true_lag": (record.visible_at - record.completed_at).total_seconds(),
                }
            )
            await asyncio.sleep(rng.uniform(*GAP))  # pacing the timeline, not a wait
        reads = rig.hub.diagnostics()["log_watcher"]["reads"]
        requests = rig.web.request_count
    return {
        "source": source,
        "lag": lag,
        "samples": samples,
        "log_reads": reads,
        "web_requests": requests,
    }


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - the bench extra only

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    rng = random.Random(0)
    for row in rows:
        values = [s["after_visible"] for s in row["samples"]]
        xs = [row["lag"] * (1 + rng.uniform(-0.04, 0.04)) for _ in values]
        ax.scatter(xs, values, s=14, alpha=0.6, color="tab:blue")
    lags = sorted({row["lag"] for row in rows})
    for source, style in ((WEB_LOG, "-"), (WEBHOOK, ":")):
        mine = [row for row in rows if row["source"] == source]
        if mine:
            xs = [row["lag"] for row in mine]
            ax.plot(
                xs, [r["p50"] for r in mine], "o" + style, color="tab:green", label=f"p50 {source}"
            )
            ax.plot(
                xs, [r["p95"] for r in mine], "s" + style, color="tab:orange", label=f"p95 {source}"
            )
    ax.axhline(GOAL_P95, color="tab:red", linestyle="--", label=f"goal p95 <= {GOAL_P95} s")
    ax.set_xscale("log")
    ax.set_xticks(lags, [f"{lag:g}" for lag in lags])
    ax.set_xlabel("simulated log lag, s")
    ax.set_ylabel("attribution - entry visible, s")
    ax.set_title("B3: NukiHub attribution latency, isolated actions, default timing")
    top = max([GOAL_P95, *(s["after_visible"] for row in rows for s in row["samples"])])
    ax.set_ylim(0, top * 1.35)
    ax.legend(loc="upper center", ncols=3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(*, quick: bool = False) -> Result:
    """Measure and return the B3 result."""
    lags = QUICK_LAGS if quick else LAGS
    actions = QUICK_ACTIONS if quick else ACTIONS

    async def all_lags() -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(
                _one_lag(lag, actions, SEED + i, source=source)
                for source in SOURCES
                for i, lag in enumerate(lags)
            )
        )

    rows = asyncio.run(all_lags())
    table_rows = []
    for row in rows:
        visible = [s["after_visible"] for s in row["samples"]]
        from_state = [s["after_state_event"] for s in row["samples"]]
        row["p50"], row["p95"] = median(visible), percentile(visible, 95)
        row["max"] = max(visible)
        row["state_p50"], row["state_p95"] = median(from_state), percentile(from_state, 95)
        row["right"] = sum(s["right"] for s in row["samples"])
        row["met"] = row["p95"] <= GOAL_P95 and row["right"] == len(visible)
        table_rows.append(
            [
                row["source"],
                f"{row['lag']:g}",
                len(visible),
                row["right"],
                row["p50"],
                row["p95"],
                row["max"],
                row["state_p50"],
                row["state_p95"],
                row["state_p50"] / row["lag"],
                row["log_reads"],
                goal(row["met"]),
            ]
        )
    print_table(
        f"B3 attribution latency, isolated actions, default AttributionTiming ({actions} per lag)",
        [
            "source",
            "log lag s",
            "actions",
            "right",
            "p50 s after visible",
            "p95 s",
            "max s",
            "p50 s after state event",
            "p95 s",
            "x lag (p50)",
            "log reads",
            "p95 <= 1 s",
        ],
        table_rows,
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    plot = RESULTS_DIR / f"b3_attribution{'-quick' if quick else ''}.png"
    _plot(rows, plot)
    print(f"\nplot: {plot}")
    return {
        "timing": "AttributionTiming() defaults",
        "defaults": {
            k: getattr(AttributionTiming(), k)
            for k in ("first_delay", "poll_interval", "tight_phase", "deadline")
        },
        "actions_per_lag": actions,
        "plot": str(plot),
        "lags": rows,
        "goals": {
            f"{row['source']}: p95 s after visible, lag {row['lag']:g} s": {
                "value": row["p95"],
                "goal": f"<= {GOAL_P95}",
                "met": row["met"],
            }
            for row in rows
        },
    }
