"""Matching pushed announcements (MQTT) with changes: the same rules, deadlines only."""

from __future__ import annotations

from datetime import timedelta

import attrs

from nukiasync.attribution import ActionRecord, ObservedChange
from nukiasync.const import LockState
from nukiasync.events import AttributionFailure
from nukiasync.hub.sources.push_match import PushMatcher, PushTiming
from tests.support.log_watch import SL, T0, change

TIMING = PushTiming()
UNLOCK, LOCK = 1, 2


def announced(rid: str, seconds: float, action: int = UNLOCK) -> ActionRecord:
    return ActionRecord(
        record_id=rid,
        smartlock_id=SL,
        action=action,
        succeeded=True,
        occurred_at=T0 + timedelta(seconds=seconds),
    )


def at(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_an_announcement_just_before_the_change_answers_at_once() -> None:
    matcher = PushMatcher(TIMING, started=T0)
    matcher.record(announced("a", 10.0))
    matcher.add(change("c", T0 + at(10.3)), attributable=True)
    decided = matcher.evaluate(T0 + at(10.3))
    assert [(c.change_id, r.record_id) for c, r in decided.attributed] == [("c", "a")]
    assert matcher.pending_count == 0
    assert matcher.knows("a")


def test_a_slow_motor_waits_for_the_deadline_until_its_offset_is_learnt() -> None:
    matcher = PushMatcher(TIMING, started=T0)
    answered_at: list[float] = []
    for n in range(4):
        start = 100.0 * (n + 1)
        state = LockState.UNLOCKED if n % 2 == 0 else LockState.LOCKED
        matcher.record(announced(f"a{n}", start, UNLOCK if n % 2 == 0 else LOCK))
        matcher.add(change(f"c{n}", T0 + at(start + 3.0), state), attributable=True)
        for tick in (3.0, 3.5, TIMING.deadline + 3.0):
            if matcher.evaluate(T0 + at(start + tick)).attributed:
                answered_at.append(tick)
                break
    # 3 s before the change lies outside the first guess: held to the final evaluation;
    # from the first match on, the offset learnt (its kind's, then its own) answers at once.
    assert answered_at == [TIMING.deadline + 3.0, 3.0, 3.0, 3.0]


def test_an_announcement_the_lock_did_not_carry_out_explains_nothing() -> None:
    matcher = PushMatcher(TIMING, started=T0)
    matcher.record(announced("alice", 10.0))
    matcher.fail(SL, LockState.MOTOR_BLOCKED, 4, T0 + at(12.0))
    matcher.add(change("c", T0 + at(15.0)), attributable=True)
    assert not matcher.evaluate(T0 + at(15.0)).attributed
    decided = matcher.evaluate(T0 + at(15.0 + TIMING.deadline))
    assert [(c.change_id, reason) for c, reason in decided.unavailable] == [
        ("c", AttributionFailure.TIMED_OUT)
    ]


def test_an_announcement_nothing_completed_in_time_expires() -> None:
    matcher = PushMatcher(TIMING, started=T0)
    matcher.record(announced("alice", 10.0))
    matcher.evaluate(T0 + at(10.0 + TIMING.complete_within + 1))
    matcher.add(change("c", T0 + at(22.0)), attributable=True)
    decided = matcher.evaluate(T0 + at(22.0 + TIMING.deadline))
    assert not decided.attributed
    assert len(decided.unavailable) == 1


def test_follow_ons_end_quietly_and_retracted_changes_get_nothing() -> None:
    matcher = PushMatcher(TIMING, started=T0)
    matcher.add(change("follow", T0 + at(1.0)), attributable=False)
    matcher.add(change("gone", T0 + at(1.0)), attributable=True)
    assert matcher.next_deadline() == T0 + at(1.0 + TIMING.follow_on_deadline)
    assert matcher.retract("gone")
    assert not matcher.retract("gone")
    decided = matcher.evaluate(T0 + at(1.0 + TIMING.deadline))
    assert (decided.attributed, decided.unavailable) == ([], [])
    assert matcher.next_deadline() is None


def test_records_before_the_start_and_old_ones_are_dropped() -> None:
    matcher = PushMatcher(TIMING, started=T0 + at(60))
    matcher.record(announced("before", 59.0))
    matcher.add(change("c", T0 + at(61.0)), attributable=True)
    assert not matcher.evaluate(T0 + at(61.0)).attributed  # the downtime's history
    matcher.evaluate(T0 + at(600))
    assert matcher.record_count == 0
    assert not matcher.knows("before")
    assert [p.change.change_id for p in matcher.drop_pending()] == []


def _trained() -> PushMatcher:
    """A matcher that learnt the lock's motor time (1.2 s from announcement to state)."""
    matcher = PushMatcher(TIMING, started=T0)
    for n in range(3):
        start = 10.0 * (n + 1)
        state = LockState.UNLOCKED if n % 2 == 0 else LockState.LOCKED
        matcher.record(announced(f"a{n}", start, UNLOCK if n % 2 == 0 else LOCK))
        matcher.add(change(f"c{n}", T0 + at(start + 1.22), state), attributable=True)
        assert matcher.evaluate(T0 + at(start + 1.3)).attributed
    return matcher


def _turn(cid: str, seconds: float, state: int) -> ObservedChange:
    before = LockState.UNLOCKED if state == LockState.LOCKED else LockState.LOCKED
    return attrs.evolve(change(cid, T0 + at(seconds), state), previous=before)


def test_an_announcement_goes_to_its_own_change_not_to_one_by_hand_before_it() -> None:
    """B7 (bridge + MQTT + Web API, seed 1, a cascade on Door 4; the hub's calls replayed):
    the knob turned by hand (unlocked at 44.7 s, locked at 49.7 s, unlocked at 51.5 s), then
    Ben announced a lock at 52.85 s that locked it at 54.08 s, a change the hub handed on
    only at 54.75 s (its callback was being checked). The hand's lock change held Ben's
    announcement (in the hub, once Eli's announcement came at 54.7 s, it took it and named
    Ben); Ben's own change found it held, and it failed when Eli unlocked."""
    matcher = _trained()
    pairs: list[tuple[str, str]] = []
    unavailable: list[str] = []

    def tick(seconds: float) -> None:
        decided = matcher.evaluate(T0 + at(seconds))
        pairs.extend((c.change_id, r.record_id) for c, r in decided.attributed)
        unavailable.extend(c.change_id for c, _ in decided.unavailable)

    matcher.add(_turn("hand_opened", 44.73, LockState.UNLOCKED), attributable=True)
    tick(44.73)
    matcher.add(_turn("hand_locked", 49.71, LockState.LOCKED), attributable=True)
    matcher.fail(SL, LockState.LOCKED, 4, T0 + at(49.72))
    tick(49.72)
    matcher.add(_turn("hand_unlocked", 51.52, LockState.UNLOCKED), attributable=True)
    matcher.fail(SL, LockState.UNLOCKED, 4, T0 + at(51.53))
    tick(51.53)
    matcher.record(announced("ben's", 52.85, LOCK))
    tick(52.85)
    matcher.fail(SL, LockState.LOCKED, 4, T0 + at(54.08))
    tick(54.08)
    matcher.record(announced("eli's", 54.71, UNLOCK))
    tick(54.72)
    tick(54.75)
    matcher.add(_turn("ben", 54.08, LockState.LOCKED), attributable=True)
    tick(54.76)
    matcher.fail(SL, LockState.UNLOCKED, 4, T0 + at(55.93))
    matcher.add(_turn("eli", 55.92, LockState.UNLOCKED), attributable=True)
    for seconds in (55.93, 60.0, 62.0, 65.0, 70.0):
        tick(seconds)
    assert pairs == [("ben", "ben's"), ("eli", "eli's")]
    assert sorted(unavailable) == ["hand_locked", "hand_opened", "hand_unlocked"]


def test_an_announcement_after_a_change_is_never_that_changes() -> None:
    """The lock announces before its motor turns: one that arrives 2 s after a change (and no
    later change takes it) is not its own, even at the change's last evaluation."""
    matcher = _trained()
    matcher.add(_turn("by_hand", 49.7, LockState.LOCKED), attributable=True)
    matcher.record(announced("late", 51.7, LOCK))
    decided = matcher.evaluate(T0 + at(49.7 + TIMING.deadline))
    assert decided.attributed == []
    assert [c.change_id for c, _ in decided.unavailable] == ["by_hand"]


def test_an_announcement_just_after_a_quick_change_is_still_its_own() -> None:
    """A motor that takes no time, or a bridge callback faster than the broker: the
    announcement may arrive a moment after the change it announces."""
    matcher = PushMatcher(TIMING, started=T0)
    matcher.add(change("c", T0 + at(10.0)), attributable=True)
    matcher.record(announced("a", 10.0 + TIMING.announced_within * 0.5))
    decided = matcher.evaluate(T0 + at(10.0 + TIMING.deadline))
    assert [(c.change_id, r.record_id) for c, r in decided.attributed] == [("c", "a")]
