"""Matching pushed announcements (MQTT) with changes: the same rules, deadlines only."""

from __future__ import annotations

from datetime import timedelta

from nukiasync.attribution import ActionRecord
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
