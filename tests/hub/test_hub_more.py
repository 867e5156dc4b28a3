"""The hub's other promises: spoof resistance, webhooks, restarts, outages, diagnostics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from nukiasync.events import (
    AttributionFailure,
    AttributionUnavailable,
    BridgeUnreachable,
    LockStateChanged,
    LogEntryObserved,
    StateCorrected,
    WebApiUnavailable,
)
from nukiasync.hub import NukiHub
from nukiasync.hub.delivery import Checkpoint, StateFile, event_from_record, event_to_record
from tests.support import canary
from tests.support.hub import BACK, FRONT, WAIT, attributed_to, counters, running, spoof

pytestmark = pytest.mark.sockets


async def test_spoofed_callback_is_corrected_in_background() -> None:
    async with running() as (_world, hub, rec):
        status = await hub.handle_callback(spoof(0x1A2B3C4D, 3), "127.0.0.1")
        assert status == 200
        state = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.state == 3)
        corrected = await rec.wait(lambda e: isinstance(e, StateCorrected))
        assert corrected.smartlock_id == FRONT
        assert (corrected.wrong_state, corrected.state) == (3, 1)
        assert counters(hub)["corrections"] == 1
        assert state.attributable


async def test_before_emit_refuses_contradicted_callbacks() -> None:
    async with running(confirm="before_emit") as (world, hub, rec):
        assert await hub.handle_callback(spoof(0x1A2B3C4D, 3), "127.0.0.1") == 200
        await world.person("Alice").unlock("Back door", via="app")  # a real one, later
        await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == BACK)
        assert not [e for e in rec.of(LockStateChanged) if e.smartlock_id == FRONT]
        assert counters(hub)["rejected_contradicted"] == 1
        assert counters(hub)["emitted"] == 1


async def test_webhook_checks_source_and_shape() -> None:
    async with running() as (_world, hub, _rec):
        assert await hub.handle_callback(spoof(0x1A2B3C4D, 1), "127.0.0.3") == 403
        assert await hub.handle_callback(b"{nope", "127.0.0.1") == 400
        assert await hub.handle_callback(b"", "127.0.0.1", content_encoding="gzip") == 415
        assert hub._links["bridge"].receiver.stats.rejected["encoding"] == 1
        assert await hub.handle_callback(spoof(0x1A2B3C4D, 1), "127.0.0.1") == 200
        with pytest.raises(RuntimeError, match="no bridge"):
            await hub.handle_callback(b"{}", "127.0.0.1", bridge_id="garage")
    with pytest.raises(RuntimeError, match="not running"):
        await hub.handle_callback(b"{}", "127.0.0.1")


async def test_repeats_are_counted_not_emitted() -> None:
    async with running() as (world, hub, rec):
        await hub.handle_callback(spoof(0x1A2B3C4D, 1), "127.0.0.1")  # same as the bridge's
        await hub.handle_callback(spoof(0x1A2B3C4D, 1), "127.0.0.1")
        # Callbacks are handled in order: once a later one shows, the repeats were seen.
        await world.person("Alice").unlock("Back door", via="app")
        await rec.wait(lambda e: isinstance(e, LockStateChanged))
    assert counters(hub)["deduplicated"] == 2
    assert [e.smartlock_id for e in rec.of(LockStateChanged)] == [BACK]


async def test_web_api_outage_answers_unreachable() -> None:
    async with running() as (world, _hub, rec):
        world.knobs.fail_web(10_000, status=503)
        await world.person("Alice").unlock("Front door", via="app")
        state = await rec.wait(lambda e: isinstance(e, LockStateChanged))
        outcome = await attributed_to(rec, state)
        assert isinstance(outcome, AttributionUnavailable)
        assert outcome.reason is AttributionFailure.WEB_API_UNREACHABLE
        assert rec.of(WebApiUnavailable)


async def test_log_that_never_comes_times_out() -> None:
    async with running(log_lag=60.0) as (world, _hub, rec):
        await world.person("Alice").unlock("Front door", via="app")
        state = await rec.wait(lambda e: isinstance(e, LockStateChanged))
        outcome = await attributed_to(rec, state)
        assert outcome.reason is AttributionFailure.TIMED_OUT


async def test_two_people_within_a_second_on_two_locks() -> None:
    async with running() as (world, _hub, rec):
        await world.person("Bob").unlock("Front door", via="app")
        await world.person("Alice").unlock("Back door", via="app")
        front = await rec.wait(
            lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == FRONT
        )
        back = await rec.wait(lambda e: isinstance(e, LockStateChanged) and e.smartlock_id == BACK)
        who_front = await attributed_to(rec, front)
        who_back = await attributed_to(rec, back)
        assert (who_front.actor.name, who_back.actor.name) == ("Bob", "Alice")
        assert {who_front.log_entry_id, who_back.log_entry_id} == {r.log_id for r in world.journal}


async def test_restart_with_state_file_catches_up_without_duplicates(tmp_path) -> None:
    state_file = tmp_path / "state.json"
    async with running(state_file=state_file) as (world, hub, rec):
        record = await world.person("Alice").unlock("Front door", via="app")
        state = await rec.wait(lambda e: isinstance(e, LockStateChanged))
        first = await attributed_to(rec, state)
        assert first.log_entry_id == record.log_id
        await hub.close()
        # While the hub is down, Alice locks; the callback reaches no one.
        missed = await world.person("Alice").lock("Front door", via="app")
        await world.wait_visible(missed)
        second = NukiHub(
            web=hub._web, bridge=list(hub._bridges.values()), state_file=state_file,
            timing=hub._timing,
        )  # fmt: skip
        rec2: list[Any] = []
        second.subscribe(rec2.append)
        async with second:
            event = await second.wait_for(lambda e: isinstance(e, LogEntryObserved), timeout=WAIT)
        assert event.log_entry_id == missed.log_id
        assert record.log_id not in {getattr(e, "log_entry_id", None) for e in rec2}
    saved = Checkpoint.from_json(json.loads(await asyncio.to_thread(state_file.read_text)))
    assert missed.log_id in saved.emitted
    assert not saved.outbox


async def test_outbox_is_republished_with_the_same_ids(tmp_path) -> None:
    from datetime import UTC, datetime

    from nukiasync.events import Actor, EventSource

    event = LogEntryObserved(
        event_id="log-1", received_at=datetime(2026, 1, 1, tzinfo=UTC), source=EventSource.WEB_LOG,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC), log_entry_id="f" * 24,
        actor=Actor(name="Alice"), action=1, action_name="unlock", trigger=5, trigger_name="app",
        succeeded=True, outcome_name="success", smartlock_id=FRONT,
    )  # fmt: skip
    assert event_from_record(event_to_record(event)) == event
    path = tmp_path / "s.json"
    checkpoint = Checkpoint()
    checkpoint.outbox[event.event_id] = event_to_record(event)
    await StateFile(path).save(checkpoint)
    async with running(bridge=False, state_file=path) as (_world, hub, _rec):
        seen: list[Any] = []
        hub.subscribe(seen.append)
    assert hub.checkpoint.seen("f" * 24)
    assert not hub.checkpoint.outbox


async def test_diagnostics_are_redacted() -> None:
    async with running() as (_world, hub, rec):
        diag = hub.diagnostics()
        text = json.dumps(diag)  # JSON-ready, as Home Assistant's diagnostics need
        for secret in canary.secrets():
            assert secret not in text
        assert diag["bridges"] == ["bridge"]
        assert diag["tasks"] == {"log_watcher": "running", "bridge_watch[bridge]": "running"}
        assert repr(hub).startswith("NukiHub(")
    assert not rec.of(BridgeUnreachable)
    assert hub.diagnostics()["state"] == "closed"


def test_learnt_offsets_in_the_state_file_are_checked_when_read() -> None:
    base = Checkpoint().to_json()
    assert Checkpoint.from_json(base).offsets == {}
    without = {k: v for k, v in base.items() if k != "offsets"}  # written before offsets were kept
    assert Checkpoint.from_json(without).offsets == {}
    kept = Checkpoint.from_json({**base, "offsets": {"17618910285": [-1.5, -1.25]}})
    assert Checkpoint.from_json(kept.to_json()).offsets == {"17618910285": [-1.5, -1.25]}
    for bad in ({"front": [-1.5]}, {"17618910285": ["soon"]}, {"17618910285": -1.5}):
        with pytest.raises((ValueError, TypeError)):
            Checkpoint.from_json({**base, "offsets": bad})
