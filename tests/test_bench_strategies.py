"""The peers' strategies that bench B4/B7 compare the hub against: their pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from bench._strategies import (
    YALEXS_COOLDOWN,
    YALEXS_UPDATE_SOON,
    newest_lock_action,
    truth_of_state_events,
    yalexs_first_delay,
)

T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)


def _entry(entry_id: str, action: int, at_s: float) -> Any:
    return SimpleNamespace(id=entry_id, action_code=action, date=T0 + timedelta(seconds=at_s))


def _record(seq: int, lock: int, resulting: int | None, *, at_s: float, state: int = 0) -> Any:
    return SimpleNamespace(
        seq=seq,
        smartlock_id=lock,
        resulting_state=resulting,
        state=state,
        person="P",
        completed_at=T0 + timedelta(seconds=at_s),
    )


def _event(event_id: str, lock: int, state: int, at_s: float) -> Any:
    return SimpleNamespace(
        event_id=event_id,
        smartlock_id=lock,
        state=state,
        received_at=T0 + timedelta(seconds=at_s),
    )


def test_newest_lock_action_skips_door_entries_but_not_failures() -> None:
    entries = [_entry("old", 1, 0), _entry("door", 240, 5), _entry("failed", 2, 3)]
    chosen = newest_lock_action(entries)
    assert chosen is not None
    assert chosen.id == "failed"  # no completion filter, as hass_nuki_ng (#117)
    assert newest_lock_action([_entry("door", 241, 1)]) is None


def test_yalexs_first_read_waits_for_the_cooldown_after_a_recent_read() -> None:
    assert yalexs_first_delay(100.0, None, reading=False) == YALEXS_UPDATE_SOON
    assert yalexs_first_delay(100.0, 90.0, reading=False) == YALEXS_UPDATE_SOON
    assert yalexs_first_delay(100.0, 98.0, reading=False) == YALEXS_COOLDOWN
    assert yalexs_first_delay(100.0, None, reading=True) == YALEXS_COOLDOWN


def test_truth_skips_records_whose_callback_was_lost() -> None:
    journal = [
        _record(1, 7, 3, at_s=1),
        _record(2, 7, 1, at_s=5),  # its callback was lost
        _record(3, 7, None, at_s=6, state=9),  # a failed attempt: no state change
        _record(4, 7, 3, at_s=9),  # the hub took its callback as a repeat
        _record(5, 7, 1, at_s=12),
        _record(6, 7, 3, at_s=15),
        _record(7, 8, 1, at_s=2),
    ]
    events = [
        _event("a", 7, 3, 1.01),
        _event("c", 8, 1, 2.01),
        _event("b", 7, 1, 12.01),
        _event("d", 7, 3, 15.01),
    ]
    truth = truth_of_state_events(journal, events)
    assert {k: v.seq for k, v in truth.items()} == {"a": 1, "b": 5, "c": 7, "d": 6}
