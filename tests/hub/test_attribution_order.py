"""A finding of bench B4/B7: nearest-first matching used to cross two actions on one lock.

A log entry is dated when the action starts, in whole seconds; the bridge posts when the motor
stops (1.2 s in the simulator, more on real locks). So the true offset (entry - callback) is
about -1 to -2 s, and the next action's entry, dated after the callback, can be nearer than
the right one. Matching then swaps the two people.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nukiasync.attribution import ActionRecord, ChangeKind, ObservedChange, match
from nukiasync.const import DeviceType, LockState, LogAction

T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
SL = 17618910285


def _change(cid: str, at_s: float) -> ObservedChange:
    return ObservedChange(
        change_id=cid,
        smartlock_id=SL,
        device_type=DeviceType.SMARTLOCK_3,
        kind=ChangeKind.LOCK_STATE,
        previous=LockState.LOCKED,
        current=LockState.UNLOCKED,
        observed_at=T0 + timedelta(seconds=at_s),
    )


def _entry(rid: str, at_s: float) -> ActionRecord:
    return ActionRecord(
        record_id=rid,
        smartlock_id=SL,
        action=LogAction.UNLOCK,
        succeeded=True,
        occurred_at=T0 + timedelta(seconds=at_s),
    )


def test_two_unlocks_on_one_lock_keep_their_order() -> None:
    # Alice starts unlocking at 10.0 (entry dated 10), callback at 11.2 after the motor;
    # someone locks in between; Bob starts at 12.5 (entry dated 12), callback at 13.7.
    changes = [_change("alice", 11.2), _change("bob", 13.7)]
    entries = [_entry("alice-entry", 10.0), _entry("bob-entry", 12.0)]
    # Offsets learnt from earlier matches: about the motor time before the callback.
    usual = timedelta(seconds=-1.2)
    pairs = match(changes, entries, now=T0 + timedelta(seconds=30), expected=usual).pairs
    assert {k: v.record_id for k, v in pairs.items()} == {
        "alice": "alice-entry",
        "bob": "bob-entry",
    }


def test_pairs_on_one_lock_never_cross() -> None:
    """Even when the entry dates alone would suggest it, later changes get later entries."""
    changes = [_change("first", 10.0), _change("second", 11.0)]
    entries = [_entry("early", 10.9), _entry("late", 9.0)]
    pairs = match(
        changes,
        entries,
        now=T0 + timedelta(seconds=30),
        expected=timedelta(0),
        final={"first", "second"},  # "early" is near enough to the first to wait for the log
    ).pairs
    assert {k: v.record_id for k, v in pairs.items()} == {"first": "late", "second": "early"}
