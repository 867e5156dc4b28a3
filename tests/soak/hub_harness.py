"""Hub-level pieces of the reliability suite: a hub on the simulator whose Web API requests
are timed, ground-truth checks of attributions against the World's journal, and the
kill-and-restart trials of ``nukiasync listen --state-file``.

Both profiles use them: tests/hub/test_reliability_hub_*.py (fast) and tests/soak/ (long).
The library is never modified: request times come from httpx event hooks on a borrowed
client, bridge reads from the simulated bridge's own debug log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
import httpx

from nukiasync import CallbackServer, NukiBridgeClient, NukiWebClient
from nukiasync.const import LogState
from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    LockStateChanged,
    NukiEvent,
    stable_id,
)
from nukiasync.hub import NukiHub
from nukiasync.simulator import SimulationError, World
from nukiasync.web._errors import parse_retry_after
from tests.support import canary
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from nukiasync.hub.sources.log_watcher import AttributionTiming
    from nukiasync.simulator.logbook import ActionRecord

# Log actions whose entries the hub claims silently with a door or ring event (no
# ActionAttributed, no LogEntryObserved): door opened/closed, ring. They may still show as
# LogEntryObserved after a restart (nothing claims them then); the checks allow both.
ROOT = str(Path(__file__).resolve().parents[2])  # the repository: -m tests.soak.listen_fast
SILENT_ACTIONS = frozenset({224, 240, 241, 242, 243})


# Web API requests, timed


@attrs.define
class WebRequest:
    """One Web API request as the transport saw it (monotonic seconds)."""

    path: str
    sent: float
    status: int | None = None
    answered: float | None = None
    retry_after: float | None = None  # seconds, from the answer's header


class RequestLog:
    """httpx event hooks that time every request and note every Retry-After."""

    def __init__(self) -> None:
        self.requests: list[WebRequest] = []
        self._open: dict[int, WebRequest] = {}

    def hooks(self) -> dict[str, list[Callable[..., Any]]]:
        return {"request": [self._on_request], "response": [self._on_response]}

    async def _on_request(self, request: httpx.Request) -> None:
        item = WebRequest(path=request.url.path, sent=time.monotonic())
        self.requests.append(item)
        self._open[id(request)] = item

    async def _on_response(self, response: httpx.Response) -> None:
        item = self._open.pop(id(response.request), None)
        if item is None:  # pragma: no cover - every response has its request
            return
        item.status = response.status_code
        item.answered = time.monotonic()
        item.retry_after = parse_retry_after(
            response.headers.get("Retry-After"), datetime.now().astimezone()
        )

    def early(self, slack: float = 0.05) -> list[tuple[WebRequest, WebRequest]]:
        """Pairs (429 answer, a request sent before its Retry-After ran out)."""
        bad = []
        for limited in self.requests:
            if limited.status != 429 or limited.retry_after is None or limited.answered is None:
                continue
            until = limited.answered + limited.retry_after - slack
            bad += [(limited, r) for r in self.requests if limited.answered < r.sent < until]
        return bad

    def statuses(self) -> dict[int | None, int]:
        counts: dict[int | None, int] = {}
        for item in self.requests:
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts


class Events:
    """Every hub event, with a wait for a condition."""

    def __init__(self) -> None:
        self.events: list[NukiEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: NukiEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, cls: type[Any] | tuple[type[Any], ...]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    async def until(self, predicate: Callable[[], bool], limit: float) -> None:
        async with asyncio.timeout(limit):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


@attrs.define
class HubRig:
    """A running world and hub, with the timed request log and the recorded events."""

    world: World
    hub: NukiHub
    events: Events
    requests: RequestLog
    server: CallbackServer | None


@asynccontextmanager
async def hub_on_world(
    *,
    timing: AttributionTiming,
    confirm: str = "background",
    server: bool = True,
    web_timeout: float = 1.0,
    **knobs: Any,
) -> AsyncIterator[HubRig]:
    """A world and a hub on it; the Web API client is borrowed so its requests are timed."""
    async with make_world(**knobs) as world:
        port = urlsplit(world.bridge_url).port
        requests = RequestLog()
        http = httpx.AsyncClient(event_hooks=requests.hooks())
        web = NukiWebClient(
            canary.WEB_TOKEN, client=http, base_url=world.web_url, timeout=web_timeout
        )
        bridge = NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port or 0)
        callback_server = CallbackServer(host="127.0.0.1", port=0) if server else None
        events = Events()
        hub = NukiHub(
            web=web,
            bridge=bridge,
            callback_server=callback_server,
            confirm=confirm,  # type: ignore[arg-type]
            timing=timing,
        )
        hub.subscribe(events)
        try:
            async with hub:
                yield HubRig(
                    world=world, hub=hub, events=events, requests=requests, server=callback_server
                )
        finally:
            await web.close()
            await bridge.close()
            await http.aclose()


# Ground truth


def truth_for(world: World, state: LockStateChanged) -> ActionRecord | None:
    """The journal record that caused a state event: the latest successful action on that
    lock started before the event was seen (timelines space actions apart)."""
    candidates = [
        r
        for r in world.journal
        if r.smartlock_id == state.smartlock_id
        and r.log_id is not None
        and r.state == LogState.SUCCESS
        and r.action not in SILENT_ACTIONS
        and r.started_at <= state.received_at
    ]
    return max(candidates, key=lambda r: r.started_at, default=None)


@attrs.define
class Verdicts:
    """Attribution outcomes per attributable state event, judged against the journal."""

    attributable: int = 0
    attributed: int = 0
    unavailable: int = 0
    wrong: list[str] = attrs.field(factory=list)
    missing: list[str] = attrs.field(factory=list)
    repeated: list[str] = attrs.field(factory=list)
    late_unavailable: list[str] = attrs.field(factory=list)


def judge(world: World, events: list[NukiEvent], *, deadline: float, margin: float) -> Verdicts:
    """Count outcomes per attributable state event and compare each with the journal.

    An action whose entry became visible more than ``margin`` before its deadline must be
    attributed; any attribution must name the right log entry and person.
    """
    outcomes: dict[str, list[NukiEvent]] = {}
    for event in events:
        if isinstance(event, ActionAttributed | AttributionUnavailable):
            outcomes.setdefault(event.state_event_id, []).append(event)
    verdicts = Verdicts()
    for state in events:
        if not isinstance(state, LockStateChanged) or not state.attributable:
            continue
        verdicts.attributable += 1
        got = outcomes.get(state.event_id, [])
        if not got:
            verdicts.missing.append(state.event_id)
            continue
        if len(got) > 1:
            verdicts.repeated.append(state.event_id)
        outcome = got[0]
        truth = truth_for(world, state)
        if isinstance(outcome, ActionAttributed):
            verdicts.attributed += 1
            ok = (
                truth is not None
                and outcome.log_entry_id == truth.log_id
                and (truth.person is None or outcome.actor.name == truth.person)
            )
            if not ok:
                verdicts.wrong.append(
                    f"{state.state_name} on {state.smartlock_id}: got {outcome.log_entry_id} "
                    f"{outcome.actor.name!r}, truth {truth}"
                )
            continue
        verdicts.unavailable += 1
        if truth is not None and truth.visible_at is not None:
            limit = state.received_at + timedelta(seconds=deadline - margin)
            if truth.visible_at <= limit:
                verdicts.late_unavailable.append(
                    f"{state.state_name}: entry visible at {truth.visible_at}, "
                    f"reason {outcome.reason}"
                )
    return verdicts


# People acting


async def act_randomly(world: World, rng: random.Random, stop: asyncio.Event, pace: float) -> int:
    """People try things until ``stop``: app, keypad, wrong codes, doors, rings, lost
    callbacks. Returns the number of actions that happened."""
    alice, bob = world.person("Alice"), world.person("Bob")
    moves: list[Callable[[], Any]] = [
        lambda: alice.unlock("Front door", via="app"),
        lambda: alice.lock("Front door", via="app"),
        lambda: alice.unlock("Back door", via="app"),
        lambda: alice.lock("Back door", via="app"),
        lambda: bob.enter_code("Front door", canary.KEYPAD_CODE),
        lambda: bob.enter_code("Front door", 111111),  # a wrong code
        lambda: alice.open_door("Front door"),
        lambda: alice.close_door("Front door"),
        lambda: alice.ring("Entrance"),
    ]
    done = 0
    while not stop.is_set():
        if rng.random() < 0.1:
            world.knobs.drop_next_callbacks = 1  # a lost callback
        try:
            await rng.choice(moves)()
        except SimulationError:  # closing a closed door: people try things
            pass
        else:
            done += 1
        try:
            async with asyncio.timeout(rng.uniform(0.2, pace)):
                await stop.wait()
        except TimeoutError:
            pass  # a person's pace
    return done


# Kill and restart `nukiasync listen --state-file`


@attrs.define
class RestartReport:
    """What the kill-and-restart trials saw."""

    kills: int = 0
    runs: int = 0
    actions: int = 0
    lines: list[dict[str, Any]] = attrs.field(factory=list)
    torn_lines: int = 0
    required: list[str] = attrs.field(factory=list)  # log ids that must come out
    missing: list[str] = attrs.field(factory=list)
    mixed_ids: list[str] = attrs.field(factory=list)  # one log id, several event ids
    duplicates: int = 0  # lines repeating an event id
    gaps: int = 0
    unknown: list[str] = attrs.field(factory=list)  # log ids not in the world's log book
    named: int = 0  # attributions checked against the world's ground truth
    wrong_names: list[str] = attrs.field(factory=list)  # attributions naming another entry

    def summary(self) -> str:
        return (
            f"{self.kills} SIGKILLs survived over {self.runs} runs, {self.actions} actions, "
            f"{len(self.lines)} JSON lines ({self.torn_lines} torn), "
            f"{len(self.required)} log entries checked, {len(self.missing)} missing, "
            f"{self.duplicates} duplicate lines (same event id), "
            f"{len(self.mixed_ids)} entries under two ids, {self.gaps} gaps, "
            f"{self.named} names checked, {len(self.wrong_names)} wrong"
        )


class ListenProcess:
    """One ``nukiasync listen --json --state-file`` subprocess and its JSON lines."""

    def __init__(
        self,
        world: World,
        state_file: str,
        lines: list[dict[str, Any]],
        *,
        stock: bool,
        run: int = 0,
    ) -> None:
        self._module = "nukiasync.cli" if stock else "tests.soak.listen_fast"
        self.run = run
        self._world = world
        self._state_file = state_file
        self.lines = lines
        self.torn = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        port = urlsplit(self._world.bridge_url).port
        env = {
            **os.environ,
            "NUKI_WEB_TOKEN": canary.WEB_TOKEN,
            "NUKI_BRIDGE_TOKEN": canary.BRIDGE_TOKEN,
        }
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", self._module, "listen", "--json",
            "--bridge", f"127.0.0.1:{port}", "--web-url", self._world.web_url,
            "--callback-host", "127.0.0.1", "--callback-port", "0",
            "--state-file", self._state_file,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env, cwd=ROOT,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read(), name="listen-reader")

    async def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            if not line.endswith(b"\n"):
                self.torn += 1  # cut by the kill mid-write
                return
            event = json.loads(line)
            event["_run"] = self.run
            self.lines.append(event)
            self._changed.set()

    async def until(self, predicate: Callable[[], bool], limit: float) -> None:
        async with asyncio.timeout(limit):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def kill(self) -> None:
        assert self.proc is not None
        assert self._reader is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)
        await asyncio.wait_for(self._reader, 10)  # what was flushed before the kill

    async def stop(self) -> int:
        assert self.proc is not None
        assert self._reader is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(self.proc.wait(), 15)
        await asyncio.wait_for(self._reader, 10)
        return code


async def restart_trials(
    state_file: str,
    *,
    trials: int,
    seed: int,
    stock: bool = False,
    kill_after: tuple[float, float] = (0.3, 4.0),
    catch_up: float = 60.0,
) -> RestartReport:
    """Run ``listen`` under a live scenario, SIGKILL it ``trials`` times at random points,
    restart it with the same state file, then let a last run catch up and check decision 0002.

    ``stock`` runs the command as shipped (default timings: a restarted listener reports
    unclaimed entries at its background read a minute later), else `listen_fast`.
    ``catch_up`` outlasts the hub's deadline (45 s): an ambiguous candidate may wait for it
    (named late, not lost), and the entries it holds come out then.
    """
    rng = random.Random(seed)
    report = RestartReport()
    async with make_world(log_lag=(0.2, 0.5)) as world:
        stop = asyncio.Event()
        people: asyncio.Task[int] | None = None
        try:
            for trial in range(trials + 1):
                run = ListenProcess(world, state_file, report.lines, stock=stock, run=trial)
                before = len(report.lines)
                await run.start()
                report.runs += 1
                await run.until(
                    lambda b=before: any(
                        e["type"] == "CallbackRegistered" for e in report.lines[b:]
                    ),
                    30.0,
                )
                if people is None:
                    people = asyncio.create_task(
                        act_randomly(world, rng, stop, pace=0.8), name="people"
                    )
                if trial == trials:
                    break
                await asyncio.sleep(rng.uniform(*kill_after))  # a random kill point
                await run.kill()
                report.kills += 1
                report.torn_lines += run.torn
            stop.set()
            assert people is not None
            report.actions = await people
            report.required = [
                r.log_id
                for r in world.journal
                if r.log_id is not None and r.action not in SILENT_ACTIONS
            ]

            def out() -> set[str]:
                return {
                    e.get("log_entry_id")
                    for e in report.lines
                    if e["type"] in ("ActionAttributed", "LogEntryObserved")
                }

            with contextlib.suppress(TimeoutError):  # judged below
                await run.until(lambda: set(report.required) <= out(), catch_up)
            assert await run.stop() == 0
        finally:
            stop.set()
            if people is not None and not people.done():
                people.cancel()
        known = {e.id for e in world.logbook.entries}
        dates = {e.id: e.date for e in world.logbook.entries}
        _judge_names(report, world)
    _judge_restarts(report, known, dates)
    return report


def _judge_names(report: RestartReport, world: World) -> None:
    """Issue 13: every name given, in any run, is the entry of the change it answers.

    Callback state events are mapped to the world's ground-truth changes by the callback POST
    just before them (several listeners came and went, so counting posts in order would
    misalign after a kill); a state the hub emitted from the log must come from the entry it
    names.
    """
    states = {e["event_id"]: e for e in report.lines if e["type"] == "LockStateChanged"}
    mapped = _map_by_time(world, states.values())
    for line in report.lines:
        if line["type"] != "ActionAttributed":
            continue
        event_id, named = line["state_event_id"], line["log_entry_id"]
        state = states.get(event_id)
        if event_id in mapped:
            right = world.changes[mapped[event_id] - 1].log_id
        elif state is not None and state["source"] == "web_log":
            right = named if event_id == stable_id("hidden", named) else None
        else:
            continue  # a state event whose callback the world cannot tell (none here)
        report.named += 1
        if named != right:
            report.wrong_names.append(
                f"run {line['_run']}: {event_id} named {named}, the change's entry is {right}"
            )


def _judge_restarts(report: RestartReport, known: set[str], dates: dict[str, datetime]) -> None:
    by_entry: dict[str, set[str]] = {}
    seen_ids: set[str] = set()
    gaps: list[tuple[datetime, datetime]] = []
    for line in report.lines:
        if line["type"] == "Gap":
            report.gaps += 1
            gaps.append((_dt(line["since"]), _dt(line["until"])))
        if line["event_id"] in seen_ids:
            report.duplicates += 1
        seen_ids.add(line["event_id"])
        if line["type"] not in ("ActionAttributed", "LogEntryObserved"):
            continue
        log_id = line["log_entry_id"]
        by_entry.setdefault(log_id, set()).add(line["event_id"])
        if log_id not in known:
            report.unknown.append(log_id)
    for log_id in report.required:
        if log_id in by_entry:
            continue
        if any(since <= dates[log_id] <= until for since, until in gaps):
            continue  # skipped inside an announced Gap
        report.missing.append(log_id)
    report.mixed_ids = [
        f"{k}: "
        + ", ".join(
            f"{e['type']} run {e['_run']}" for e in report.lines if e.get("log_entry_id") == k
        )
        for k, ids in by_entry.items()
        if len(ids) > 1
    ]


def _map_by_time(world: World, events: Any) -> dict[str, int]:
    """Callback state event id -> the change its callback reported (the nearest such POST)."""
    posts = [
        item
        for bridge in world.bridges.values()
        for item in bridge.sent
        if item.status == 200 and item.change is not None
    ]
    mapped: dict[str, int] = {}
    for event in events:
        if event["source"] != "bridge_callback":
            continue
        seen = _dt(event["received_at"])
        before = [
            item
            for item in posts
            if item.body.get("nukiId") == event["nuki_id"]
            and item.body.get("state") == event["state"]
            and abs(seen - item.at) <= timedelta(seconds=1)  # stamped as the POST ends
        ]
        if before:
            mapped[event["event_id"]] = min(before, key=lambda item: abs(seen - item.at)).change
    return mapped


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)
