"""B7: attribution quality of the hub against two peers' strategies, on the same timelines.

Each timeline (one seed, one log lag) is a world with 3 locks and 4 people, run 10x faster
than real time (the hub and the strategies keep the simulated clock; latencies below are in
simulated seconds), with the simulator's real motor time (1.2 s) and a log lag drawn per
entry from +-20 % around 1, 3 or 10 s. Steps come 6-12 s apart; each is one of:

- ``single``: one person toggles one lock;
- ``two_people``: two people act within a second (same lock or another one);
- ``fail_then_success``: a failed attempt (logged, no state change), then a success on
  the same lock within 1.5 s; ``success_then_fail``: the other order;
- ``slow_log``: this entry reaches the Web API 15 s later than usual;
- ``lost_callback``: the bridge's callback POST is lost.

Three strategies watch the same timeline at the same time, fed the same state events (the
hub's `LockStateChanged`, i.e. the callbacks), each with its own Web client: the hub as
users get it (default `AttributionTiming`), "newest log entry after the callback" as
kvj/hass_nuki_ng does it, and "read at +3 s and +7 s, take the newest" as yalexs does it
(`bench._strategies`). Ground truth is the world's journal: an answer is right when it names
the log entry of the action that caused the state event. An action whose callback was lost
(or whose next callback repeats the state the hub had) has no state event; the hub still
reports its entry as `LogEntryObserved`, which counts as a right answer for it.

Measures per strategy: precision (right / answers naming an entry), recall (right / actions
that changed a lock), share of state events answered "unavailable" (or not at all), p95 of
the time from the state event to a named answer, Web API requests per action. No goal is
set in the issue; the baseline is the peers' figures in the same run.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from bench._harness import Result, percentile, print_table
from bench._rig import WEB_TOKEN, build_world, quick_knobs, running_hub
from bench._strategies import HassNukiNg, Strategy, Yalexs, hub_answers, is_callback_state, score
from nukiasync import NukiWebClient
from nukiasync.const import LockState, LogState
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    LockStateChanged,
    LogEntryObserved,
)

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from bench._rig import Rig
    from bench._strategies import Score
    from nukiasync.simulator import Device, Person, World

SEEDS = (1, 2, 3)
LAGS = (1.0, 3.0, 10.0)
STEPS = 16
QUICK = ((1,), (3.0,), 6)  # seeds, lags, steps
SPEED = 10.0
LOCKS = 3
PEOPLE = 4
SPACING = (6.0, 12.0)  # s between steps
SLOW_EXTRA = 15.0  # s added to the lag of a slow entry
SETTLE = 90.0  # simulated s after the last step for every answer
KINDS = {
    "single": 4,
    "two_people": 2,
    "fail_then_success": 1,
    "success_then_fail": 1,
    "slow_log": 1,
    "lost_callback": 1,
}
STRATEGIES = ("hub", "hass_nuki_ng", "yalexs")
LABELS = {
    "hub": "NukiHub (default timing)",
    "hass_nuki_ng": "hass_nuki_ng: newest entry at its next 30 s poll",
    "yalexs": "yalexs: reads at +3 s and +7 s, newest entry",
}


def _toggle(device: Device) -> int:
    return 1 if device.state == LockState.LOCKED else 2


class Timeline:
    """Plays the steps of one seed on a running world."""

    def __init__(self, rig: Rig, rng: random.Random, lag: float) -> None:
        self.rig = rig
        self.world: World = rig.world
        self.rng = rng
        self.lag = lag
        self.kinds: dict[int, str] = {}  # journal seq -> step kind

    def _pick(self) -> tuple[Person, Person, Device, Device]:
        people = self.rng.sample(list(self.world.people.values()), 2)
        locks = self.rng.sample(self.world.devices, 2)
        return people[0], people[1], locks[0], locks[1]

    async def step(self, kind: str) -> None:
        """Play one step and tag the journal records it made."""
        before = len(self.world.journal)
        await getattr(self, kind)()
        for record in self.world.journal[before:]:
            self.kinds[record.seq] = kind

    async def _act(
        self, person: Person, device: Device, action: int, outcome: int = LogState.SUCCESS
    ) -> None:
        await self.world.act(person, device.name, action, outcome=outcome)

    async def single(self) -> None:
        """One person toggles one lock."""
        person, _, lock, _ = self._pick()
        await self._act(person, lock, _toggle(lock))

    async def two_people(self) -> None:
        """Two people within a second, on the same lock or on two."""
        first, second, lock, other = self._pick()
        same = self.rng.random() < 0.5
        action = _toggle(lock)
        target = lock if same else other
        # On the same lock the second undoes the first (the motor lock orders them).
        second_action = (3 - action) if same else _toggle(other)
        one = asyncio.ensure_future(self._act(first, lock, action))
        await self.rig.scaled_sleep(self.rng.uniform(0.2, 0.9))
        await asyncio.gather(one, self._act(second, target, second_action))

    async def fail_then_success(self) -> None:
        """A failed attempt (logged, no change), then a success on the same lock."""
        first, second, lock, _ = self._pick()
        action = _toggle(lock)
        await self._act(first, lock, action, LogState.REJECTED)
        await self.rig.scaled_sleep(self.rng.uniform(0.5, 1.5))
        await self._act(second, lock, action)

    async def success_then_fail(self) -> None:
        """A success, then someone else's failed attempt on the same lock."""
        first, second, lock, _ = self._pick()
        action = _toggle(lock)
        await self._act(first, lock, action)
        await self.rig.scaled_sleep(self.rng.uniform(0.3, 1.0))
        await self._act(second, lock, 3 - action, LogState.REJECTED)

    async def slow_log(self) -> None:
        """This entry reaches the Web API much later than usual."""
        person, _, lock, _ = self._pick()
        knobs = self.world.knobs
        knobs.log_lag_by_lock[lock.smartlock_id] = self.lag + SLOW_EXTRA
        try:
            await self._act(person, lock, _toggle(lock))
        finally:
            del knobs.log_lag_by_lock[lock.smartlock_id]

    async def lost_callback(self) -> None:
        """The bridge's callback for this action never arrives."""
        person, _, lock, _ = self._pick()
        self.world.knobs.drop_next_callbacks = 1
        await self._act(person, lock, _toggle(lock))


async def _one(seed: int, lag: float, steps: int) -> dict[str, Any]:
    knobs = quick_knobs(log_lag=(0.8 * lag, 1.2 * lag), motor_time=1.2)
    world = build_world(locks=LOCKS, people=PEOPLE, seed=seed, knobs=knobs, speed=SPEED)
    async with running_hub(world, speed=SPEED) as rig:
        common: dict[str, Any] = {"clock": world.clock.now, "sleep": rig.scaled_sleep}

        def client() -> NukiWebClient:
            return NukiWebClient(WEB_TOKEN, base_url=world.web_url)

        hass = HassNukiNg(client(), locks=[d.smartlock_id for d in world.devices], **common)
        yalexs = Yalexs(client(), **common)
        peers: dict[str, Strategy] = {"hass_nuki_ng": hass, "yalexs": yalexs}
        for peer in peers.values():
            rig.hub.subscribe(peer)
        hass.start()
        hub_before = rig.web.request_count
        rng = random.Random(seed * 100 + round(lag * 10))
        timeline = Timeline(rig, rng, lag)
        kinds = list(KINDS)
        weights = list(KINDS.values())
        try:
            for _ in range(steps):
                await rig.scaled_sleep(rng.uniform(*SPACING))  # the timeline's pace
                await timeline.step(rng.choices(kinds, weights)[0])
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
                logged = {s.event.log_entry_id for s in recorder.of(LogEntryObserved)}
                answered_ids = {s.event.log_entry_id for s in recorder.of(ActionAttributed)}
                entries = {r.log_id for r in world.journal}
                return wanted <= answered and entries <= logged | answered_ids

            settle = SETTLE / SPEED
            unsettled: list[str] = []
            try:
                await recorder.wait(hub_done, settle)
            except TimeoutError:
                unsettled.append("hub")
            hub_requests = rig.web.request_count - hub_before
            for name, peer in peers.items():
                try:
                    await peer.wait_answered(settle)
                except TimeoutError:
                    unsettled.append(name)
            states = [
                (s.event, s.sim)
                for s in recorder.of(LockStateChanged)
                if is_callback_state(s.event)
            ]
            observed = [s.event.log_entry_id for s in recorder.of(LogEntryObserved)]
            scores: dict[str, Score] = {
                "hub": score(
                    world.journal,
                    states,
                    hub_answers(recorder.seen),
                    requests=hub_requests,
                    observed=observed,
                )
            }
            for name, peer in peers.items():
                scores[name] = score(world.journal, states, peer.answers, requests=peer.requests)
        finally:
            for peer in peers.values():
                await peer.close()
        actions = {
            r.seq: timeline.kinds.get(r.seq, "?")
            for r in world.journal
            if r.state == 0 and r.resulting_state is not None and r.person
        }
    return {
        "seed": seed,
        "lag": lag,
        "scores": scores,
        "actions": actions,
        "unsettled": unsettled,
        "missing": _missing(world, recorder),
    }


def _missing(world: World, recorder: Any) -> list[str]:
    """Journal entries the hub neither attributed nor reported (for the notes)."""
    told = {getattr(s.event, "log_entry_id", None) for s in recorder.seen}
    return [
        f"seq {r.seq} {r.person} action {r.action} state {r.state} -> {r.resulting_state}"
        for r in world.journal
        if r.log_id not in told
    ]


def _totals(runs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    picked: list[Score] = [run["scores"][name] for run in runs]
    actions = sum(s.actions for s in picked)
    events = sum(s.state_events for s in picked)
    answered = sum(s.answered for s in picked)
    right = sum(s.right for s in picked)
    latencies = [v for s in picked for v in s.latencies]
    return {
        "actions": actions,
        "state_events": events,
        "answered": answered,
        "right": right,
        "precision": right / answered if answered else float("nan"),
        "recall": right / actions if actions else float("nan"),
        "unavailable_share": sum(s.unavailable for s in picked) / events if events else 0.0,
        "from_log": sum(s.from_log for s in picked),
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
        "requests": sum(s.requests for s in picked),
        "requests_per_action": sum(s.requests for s in picked) / actions if actions else 0.0,
    }


def _by_kind(runs: list[dict[str, Any]], name: str) -> dict[str, tuple[int, int]]:
    """Per step kind: (right, actions)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for run in runs:
        seqs = run["scores"][name].right_seqs
        for seq, kind in run["actions"].items():
            total[kind] += 1
            right[kind] += seq in seqs
    return {kind: (right[kind], total[kind]) for kind in total}


def run(*, quick: bool = False) -> Result:
    """Measure and return the B7 result."""
    seeds, lags, steps = QUICK if quick else (SEEDS, LAGS, STEPS)

    async def all_runs() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for seed in seeds:  # the lags of one seed side by side
            jobs: list[Coroutine[Any, Any, dict[str, Any]]] = [
                _one(seed, lag, steps) for lag in lags
            ]
            found += await asyncio.gather(*jobs)
        return found

    runs = asyncio.run(all_runs())
    totals = {name: _totals(runs, name) for name in STRATEGIES}
    print_table(
        f"B7 attribution quality: {len(seeds)} seeds x lags {', '.join(f'{x:g}' for x in lags)} s"
        f" x {steps} steps, {LOCKS} locks, {PEOPLE} people, simulated {SPEED:g}x",
        [
            "strategy",
            "actions",
            "state events",
            "right",
            "precision",
            "recall",
            "unavailable",
            "p50 s",
            "p95 s",
            "requests / action",
        ],
        [
            [
                LABELS[name],
                t["actions"],
                t["state_events"],
                t["right"],
                t["precision"],
                t["recall"],
                t["unavailable_share"],
                t["latency_p50_s"],
                t["latency_p95_s"],
                t["requests_per_action"],
            ]
            for name, t in totals.items()
        ],
    )
    per_lag = []
    for lag in lags:
        at_lag = [run for run in runs if run["lag"] == lag]
        row: list[Any] = [f"{lag:g}"]
        for name in STRATEGIES:
            t = _totals(at_lag, name)
            row += [f"{t['precision']:.2f} / {t['recall']:.2f}"]
        per_lag.append(row)
    print_table(
        "B7 precision / recall by log lag",
        ["log lag s", *(LABELS[n].split(":")[0] for n in STRATEGIES)],
        per_lag,
    )
    kinds = {name: _by_kind(runs, name) for name in STRATEGIES}
    kind_rows = []
    for kind in KINDS:
        row = [kind, kinds["hub"].get(kind, (0, 0))[1]]
        for name in STRATEGIES:
            good, total = kinds[name].get(kind, (0, 0))
            row.append(good / total if total else None)
        kind_rows.append(row)
    print_table(
        "B7 recall by step kind (actions in steps of that kind)",
        ["step", "actions", *(LABELS[n].split(":")[0] for n in STRATEGIES)],
        kind_rows,
    )
    return {
        "seeds": list(seeds),
        "lags_s": list(lags),
        "steps": steps,
        "speed": SPEED,
        "locks": LOCKS,
        "people": PEOPLE,
        "strategies": {name: {"label": LABELS[name], **t} for name, t in totals.items()},
        "recall_by_kind": {
            name: {k: {"right": g, "actions": n} for k, (g, n) in by.items()}
            for name, by in kinds.items()
        },
        "runs": [
            {
                "seed": run["seed"],
                "lag": run["lag"],
                **{
                    name: {
                        "actions": s.actions,
                        "right": s.right,
                        "answered": s.answered,
                        "unavailable": s.unavailable,
                        "requests": s.requests,
                    }
                    for name, s in run["scores"].items()
                },
            }
            for run in runs
        ],
        "goals": {
            "hub recall - best peer recall": {
                "value": totals["hub"]["recall"]
                - max(totals[n]["recall"] for n in STRATEGIES if n != "hub"),
                "goal": "> 0 (no goal in the issue)",
                "met": None,
            }
        },
    }
