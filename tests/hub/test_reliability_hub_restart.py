"""Restart durability at hub level (G13, G23; decision 0002): ``nukiasync listen
--state-file`` as a subprocess against the simulator while people act, SIGKILLed at random
points and restarted with the same state file. Across all runs every Web API log entry comes
out at least once, duplicates carry the same ``event_id``, and after deduplication by
``event_id`` each entry is emitted exactly once (or lies inside an announced ``Gap``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nukiasync import NukiWebClient
from nukiasync.const import LockState
from nukiasync.events import ActionAttributed, LockStateChanged, LogEntryObserved
from nukiasync.hub import NukiHub
from nukiasync.hub.sources.log_watcher import AttributionTiming
from tests.soak.hub_harness import restart_trials
from tests.support import canary
from tests.support.hub import TIMING, WAIT, running
from tests.support.simulator import make_world

pytestmark = pytest.mark.sockets

TRIALS = int(os.environ.get("NUKIASYNC_RESTART_TRIALS", "5"))


async def test_listen_survives_sigkill_at_random_points(tmp_path) -> None:
    report = await restart_trials(str(tmp_path / "state.json"), trials=TRIALS, seed=11)
    print(f"\nG13/G23 restart: {report.summary()}")  # noqa: T201
    assert report.kills == TRIALS
    assert report.required, "the scenario produced no log entries"
    assert not report.missing, report.missing
    assert not report.unknown, report.unknown
    assert not report.mixed_ids, report.mixed_ids  # one log entry, one event id
    # Issue 13: a restart changes nothing about who is named.
    assert report.named > 0
    assert not report.wrong_names, report.wrong_names


class _Later:
    """A clock a fixed time ahead of the wall clock: the restart happens a minute later."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def _a_minute_later(hub: NukiHub, state_file: Any) -> tuple[NukiHub, list[Any]]:
    """The restarted hub, on the same clients and state file, and what it will emit.

    It comes a minute later: a clock ahead stands in for the wait.
    """
    later = NukiHub(
        web=hub._web, bridge=list(hub._bridges.values()), state_file=state_file,
        timing=TIMING, clock=_Later(timedelta(seconds=60)),
    )  # fmt: skip
    seen: list[Any] = []
    later.subscribe(seen.append)
    return later, seen


async def test_entry_pending_at_crash_before_first_emission_comes_out(tmp_path) -> None:
    state_file = tmp_path / "state.json"
    async with running(state_file=state_file, log_lag=0.3) as (world, hub, _rec):
        # The hub sees the change but stops before the entry is read: nothing emitted.
        record = await world.person("Alice").unlock("Front door", via="app")
        await hub.close()
        await world.wait_visible(record)
        later, seen = _a_minute_later(hub, state_file)
        async with later:
            with contextlib.suppress(TimeoutError):
                await later.wait_for(
                    lambda e: (
                        isinstance(e, ActionAttributed | LogEntryObserved)
                        and e.log_entry_id == record.log_id
                    ),
                    timeout=WAIT,
                )
    assert record.log_id in {getattr(e, "log_entry_id", None) for e in seen}


async def test_changes_no_callback_reported_before_a_restart_are_shown_after_it(tmp_path) -> None:
    # B7 seed 2: Ben's unlock (its callback lost), then Dana's lock (its callback repeats what
    # the hub believes), then a restart before their entries (10-25 s late) were read. The
    # new hub knew no state from before its start: both came as LogEntryObserved, and a
    # consumer's history missed two changes. Now the state file keeps what the hub believed.
    state_file = tmp_path / "state.json"
    async with running(state_file=state_file, log_lag=1.2) as (world, hub, _rec):
        world.knobs.drop_next_callbacks = 1
        bob = await world.person("Bob").unlock("Front door", via="app")
        alice = await world.person("Alice").lock("Front door", via="app")
        await world.wait_visible(alice)  # over a second ago: before the stop, by their dates
        await world.wait_visible(bob)
        await hub.close()
        later, seen = _a_minute_later(hub, state_file)
        async with later:
            await later.wait_for(
                lambda e: isinstance(e, ActionAttributed) and e.log_entry_id == alice.log_id,
                timeout=WAIT,
            )
    shown = [e.state for e in seen if isinstance(e, LockStateChanged) and e.source == "web_log"]
    assert shown == [LockState.UNLOCKED, LockState.LOCKED]
    named = {e.log_entry_id: e.actor.name for e in seen if isinstance(e, ActionAttributed)}
    assert named == {bob.log_id: "Bob", alice.log_id: "Alice"}
    assert not any(isinstance(e, LogEntryObserved) for e in seen)


async def test_unclaimed_entry_is_reported_after_its_grace_not_the_next_read() -> None:
    timing = AttributionTiming(
        first_delay=0.3, poll_interval=0.2, deadline=3.0, grace=0.5, background_interval=30.0
    )
    async with make_world(log_lag=0.2) as world:
        record = await world.person("Alice").unlock("Front door", via="app")
        await world.wait_visible(record)
        web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url)
        async with web, NukiHub(web=web, timing=timing) as hub:  # the read at start sees it
            try:
                await hub.wait_for(lambda e: isinstance(e, LogEntryObserved), timeout=4.0)
            except TimeoutError:
                pytest.fail("not reported within 8 x the grace")


async def test_what_the_hub_learnt_of_its_locks_survives_a_restart(tmp_path) -> None:
    # Where a lock's own entries lie is learnt from its matches; a restart that forgot it would
    # judge the next actions by a guess (too wide a window, or answers held to the deadline).
    state_file = tmp_path / "state.json"
    async with running(state_file=state_file, log_lag=0.3) as (world, hub, _rec):
        await world.person("Alice").unlock("Front door", via="app")
        await hub.wait_for(lambda e: isinstance(e, ActionAttributed), timeout=WAIT)
        learnt = hub.diagnostics()["log_watcher"]["usual_offsets"]
        assert list(learnt) == [str(world.device("Front door").smartlock_id)]
        await hub.close()
        later = NukiHub(web=hub._web, state_file=state_file, timing=TIMING)
        async with later:
            assert later.diagnostics()["log_watcher"]["usual_offsets"] == learnt


async def test_a_change_answered_by_another_source_is_not_answered_again_after_a_restart(
    tmp_path,
) -> None:
    state_file = tmp_path / "state.json"
    async with running(state_file=state_file, log_lag=2.0) as (world, hub, rec):
        record = await world.person("Alice").unlock("Front door", via="app")
        changed = await rec.wait(lambda e: isinstance(e, LockStateChanged))
        # MQTT (say) named Alice; the log's cross-check still waits when the hub stops.
        assert hub._sources._outcomes.verdicts.first(changed.event_id, "mqtt", "Alice")
        await hub.close()
        saved = json.loads(await asyncio.to_thread(state_file.read_text))["pending"]
        assert [p.get("answered") for p in saved] == [True]
        await world.wait_visible(record)
        later = NukiHub(web=hub._web, state_file=state_file, timing=TIMING)
        seen: list[Any] = []
        later.subscribe(seen.append)
        async with later:
            bob = await world.person("Bob").lock("Front door", via="app")
            await later.wait_for(
                lambda e: getattr(e, "log_entry_id", None) == bob.log_id, timeout=WAIT
            )
    # The resumed change took Alice's entry as a cross-check: no second outcome, no phantom.
    assert [e for e in seen if getattr(e, "state_event_id", None) == changed.event_id] == []
    assert record.log_id not in [getattr(e, "log_entry_id", None) for e in seen]
