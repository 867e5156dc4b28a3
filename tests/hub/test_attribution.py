"""The pure matching rules, table-driven, with the traps peers fall into."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nukiasync import attribution as at
from nukiasync.attribution import ActionRecord, ChangeKind, ObservedChange, match
from nukiasync.const import DeviceType, LockMode, LockState, LogAction, OpenerState

T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
SL = 17618910285
SL2 = 439041101
OP = 9028975693


def change(
    cid: str,
    current: int,
    *,
    at_s: float = 0,
    previous: int | None = LockState.LOCKED,
    lock: int = SL,
    kind: ChangeKind = ChangeKind.LOCK_STATE,
    device_type: int = DeviceType.SMARTLOCK_3,
) -> ObservedChange:
    return ObservedChange(
        change_id=cid,
        smartlock_id=lock,
        device_type=device_type,
        kind=kind,
        previous=previous,
        current=current,
        observed_at=T0 + timedelta(seconds=at_s),
    )


def record(
    rid: str, action: int, *, at_s: float = 0, ok: bool = True, lock: int = SL
) -> ActionRecord:
    return ActionRecord(
        record_id=rid,
        smartlock_id=lock,
        action=action,
        succeeded=ok,
        occurred_at=T0 + timedelta(seconds=at_s),
    )


NOW = T0 + timedelta(seconds=60)
USUAL = timedelta(seconds=-0.5)  # the usual entry offset learnt for these (quick) locks
U, L, UL = LogAction.UNLOCK, LogAction.LOCK, LogAction.UNLATCH

CASES = [
    pytest.param(
        [change("c1", LockState.UNLOCKED)],
        [record("r1", U, at_s=-1)],
        {"c1": "r1"},
        id="simple unlock",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED), change("c2", LockState.LOCKED, at_s=3)],
        [record("alice", U, at_s=-0.5), record("bob", L, at_s=2.5)],
        {"c1": "alice", "c2": "bob"},
        id="two people on the same lock within seconds",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED, at_s=0), change("c2", LockState.UNLOCKED, at_s=4)],
        [record("alice", U, at_s=-1), record("bob", U, at_s=3)],
        {"c1": "alice", "c2": "bob"},
        id="same action twice: nearest pairs first",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED, at_s=4)],
        [record("mallory-failed", U, at_s=1, ok=False), record("bob", U, at_s=3.5)],
        {"c1": "bob"},
        id="failed attempt followed by someone else's success",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED, at_s=4)],
        [record("failed", U, at_s=3.9, ok=False)],
        {},
        id="only a failed attempt: no match",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED)],
        [record("lock", L, at_s=0)],
        {},
        id="incompatible action",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED)],
        [record("other", U, at_s=0, lock=SL2)],
        {},
        id="other lock",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED)],
        [record("old", U, at_s=-31), record("future", U, at_s=6)],
        {},
        id="outside the window",
    ),
    pytest.param(
        [change("c1", LockState.UNLATCHED)],
        [record("u", UL, at_s=-1)],
        {"c1": "u"},
        id="unlatch",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED_LOCK_N_GO)],
        [record("lng", LogAction.LOCK_N_GO, at_s=-1)],
        {"c1": "lng"},
        id="lock'n'go",
    ),
    pytest.param(
        [change("c1", LockState.UNLATCHED)],
        [record("lngu", LogAction.LOCK_N_GO_UNLATCH, at_s=-1)],
        {"c1": "lngu"},
        id="lock'n'go with unlatch",
    ),
    pytest.param(
        [
            change("c1", LockState.UNLATCHED),
            change("c2", LockState.UNLOCKED, previous=LockState.UNLATCHED, at_s=3),
        ],
        [record("u", UL, at_s=-1)],
        {"c1": "u"},
        id="unlatched then unlocked: one action",
    ),
    pytest.param(
        [
            change(
                "rto",
                OpenerState.RTO_ACTIVE,
                previous=OpenerState.ONLINE,
                lock=OP,
                device_type=DeviceType.OPENER,
            )
        ],
        [record("u", U, at_s=-1, lock=OP)],
        {"rto": "u"},
        id="opener ring to open activated",
    ),
    pytest.param(
        [
            change(
                "cm",
                LockMode.CONTINUOUS,
                previous=LockMode.DOOR,
                kind=ChangeKind.MODE,
                lock=OP,
                device_type=DeviceType.OPENER,
            )
        ],
        [record("cm-log", LogAction.ACTIVATE_CONTINUOUS_MODE, at_s=-1, lock=OP)],
        {"cm": "cm-log"},
        id="continuous mode",
    ),
    pytest.param(
        [
            change(
                "strike",
                OpenerState.OPEN,
                previous=OpenerState.ONLINE,
                lock=OP,
                device_type=DeviceType.OPENER,
            )
        ],
        [record("s", UL, at_s=-1, lock=OP)],
        {"strike": "s"},
        id="electric strike",
    ),
    pytest.param(
        [change("c1", LockState.UNLOCKED)],
        [record("late", U, at_s=200)],
        {},
        id="record from the future (beyond now) ignored",
    ),
]


@pytest.mark.parametrize(("pending", "records", "expected"), CASES)
def test_match_table(pending, records, expected) -> None:
    result = match(pending, records, now=NOW, expected=USUAL).pairs
    assert {cid: rec.record_id for cid, rec in result.items()} == expected


def test_arrival_order_does_not_decide() -> None:
    pending = [change("c1", LockState.UNLOCKED, at_s=0), change("c2", LockState.UNLOCKED, at_s=4)]
    records = [record("bob", U, at_s=3.0), record("alice", U, at_s=-0.3)]
    for order in (pending, pending[::-1]):
        result = match(order, records, now=NOW, expected=USUAL).pairs
        assert {c: r.record_id for c, r in result.items()} == {"c1": "alice", "c2": "bob"}


def test_claimed_records_are_not_reused() -> None:
    result = match(
        [change("c2", LockState.UNLOCKED)],
        [record("r1", U, at_s=-1)],
        now=NOW,
        claimed=frozenset({"r1"}),
    )
    assert result.pairs == {}


@pytest.mark.parametrize("skew_s", [-90, 90])
def test_clock_skew_is_corrected(skew_s) -> None:
    """The lock's clock is 90 s off: without correction nothing matches, with it the right one."""
    skew = timedelta(seconds=skew_s)
    pending = [change("c1", LockState.UNLOCKED)]
    records = [record("r1", U, at_s=skew_s - 1), record("decoy", U, at_s=-1 + (skew_s // 3))]
    corrected = match(pending, records, now=NOW, skew=skew).pairs
    assert corrected["c1"].record_id == "r1"
    uncorrected = match(pending, [records[0]], now=NOW).pairs
    assert uncorrected == {}


def test_callback_whose_log_never_comes() -> None:
    c = change("c1", LockState.UNLOCKED)
    assert match([c], [], now=NOW).pairs == {}
    assert not at.log_has_passed(c, [], timedelta(0))
    newer = record("later", L, at_s=20)
    assert at.log_has_passed(c, [newer], timedelta(0))
    assert not at.log_has_passed(c, [record("other-lock", L, at_s=20, lock=SL2)], timedelta(0))


def test_attributable_and_follow_ons() -> None:
    assert at.is_attributable(change("a", LockState.UNLOCKED))
    assert at.is_attributable(change("a", LockState.LOCKED, previous=LockState.UNLOCKED))
    assert not at.is_attributable(
        change("a", LockState.LOCKED, previous=LockState.UNLOCKED_LOCK_N_GO)
    )
    assert not at.is_attributable(change("a", LockState.UNLOCKING))
    assert not at.is_attributable(change("a", LockState.MOTOR_BLOCKED))
    opener_release = change(
        "o",
        OpenerState.ONLINE,
        previous=OpenerState.OPEN,
        lock=OP,
        device_type=DeviceType.OPENER,
    )
    assert not at.is_attributable(opener_release)
    assert at.expected_actions(change("x", 99, kind=ChangeKind.MODE)) == frozenset()


def test_every_resting_state_has_an_action() -> None:
    """Completeness guard (yalexs #401): each state an action ends in is in a table."""
    lock_results = {
        LockState.LOCKED,
        LockState.UNLOCKED,
        LockState.UNLATCHED,
        LockState.UNLOCKED_LOCK_N_GO,
    }
    assert set(at.LOCK_RESULTS) == lock_results
    assert set(at.OPENER_RESULTS) == {OpenerState.ONLINE, OpenerState.RTO_ACTIVE, OpenerState.OPEN}
    for table in (at.LOCK_RESULTS, at.OPENER_RESULTS, at.MODE_RESULTS):
        for actions in table.values():
            assert actions
            assert all(LogAction(a) is not LogAction.UNKNOWN for a in actions)


def test_skew_estimate() -> None:
    assert at.estimate_skew([]) == timedelta(0)
    samples = [timedelta(seconds=s) for s in (90, 91, 89, 500)]
    assert at.estimate_skew(samples) == timedelta(seconds=91)
