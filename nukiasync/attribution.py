"""Pure rules that pair observed state changes with log records of who acted.

No I/O, no tasks, no clock: time comes in as arguments. The rules work on two neutral records,
`ObservedChange` (a state seen on a device at a host time) and `ActionRecord` (an action a log
says happened at a device time), so sources other than Nuki's Web API log can plug in.

The records and tables live in `nukiasync.attribution_tables` (re-exported here).

The rule (docs/decisions/0011-who-is-never-wrong.md), per device and per part of it (lock state,
or the Opener's mode), with record times corrected for clock skew:

1. A record can explain a change only if it is the *last* successful state-changing record of
   the device dated before the change, and its action leaves the state the change shows. A
   later such record undoes it; a later one that leaves the same state does not (the device
   was there already: of such a run, the first record made the state). "Before" ends where
   the change's own record can lie (the usual offset plus a little): a record dated after
   that began after the change's action and undoes nothing (it is the change's own,
   ambiguous, only if nothing before explains the change and it fits no other change); so
   does a record that explains a change observed later. A record that seems to undo the change
   but may be a later change's own (dated in the change's second, where the later change's
   record lies) is set aside, and the candidate then waits (it is not an answer at once).
2. A record already visible when the change was observed, but dated before the device's
   previous observed change, never explains it. Nor does a record dated before the hub began
   watching (the downtime of a restart), for a change observed after that.
3. A record explains at most one change; the earlier change of a device goes first, and a
   record an earlier change waits on is not free for a later one. While an earlier change
   of the device has no candidate at all, the log is behind: a later change's candidate waits.
4. A candidate dated where a device's own record lies (inside the tight window around the
   usual offset) and first read after the change could have happened is the answer at once.
   Any other candidate is ambiguous: it is the answer only once the log has passed the change
   (a later record of the device is visible and ``settle`` has elapsed) or at the final read;
   until then it is held, never guessed.
5. Follow-on transitions (the latch springs back, lock'n'go locks after its delay, the Opener's
   strike releases) are *maybe* attributable: rule 1 usually finds the record of the action
   they finish, already claimed, and they end without an outcome; a person acting inside the
   window leaves a newer record, which they claim.
6. Records that no change can ever claim (failed attempts, invalid codes, door sensor, ring)
   are not waited for (`claimable`).

Successful state-changing records passed over between a change's record and the one claimed
before it are changes no callback reported (`Matching.hidden`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from nukiasync.attribution_tables import (
    DATE_SLACK,
    FRESH,
    LOCK_RESULTS,
    MODE_RESULTS,
    OPENER_RESULTS,
    START_SLACK,
    TIGHT_AFTER,
    TIGHT_BEFORE,
    WINDOW_AFTER,
    WINDOW_BEFORE,
    ActionRecord,
    ChangeKind,
    ObservedChange,
    claimable,
    compatible,
    excluded,
    expected_actions,
    is_attributable,
    is_follow_on,
    is_fresh,
    is_tight,
    log_has_passed,
    moves_part,
    offset,
    result_state,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence

# Where a lock's matching entry usually lies: it is dated (in whole seconds) when the action
# starts, the bridge posts when the motor stops. The hub replaces it by what it learns (from
# its first match on); until then this suits the quickest motors, so an isolated action is
# answered at once.
EXPECTED_OFFSET = timedelta(seconds=-0.5)
# An Opener turns at once: only the whole-second date and the bridge's posting remain.
EXPECTED_OPENER_OFFSET = timedelta(seconds=-0.5)
# A record dated this long after the usual offset began after the change's own action: the
# change was observed before it could have finished. Whole-second dates spread a device's own
# records over a second around the usual offset: half of it, and 0.1 s for the motor. (The
# hub widens it while it has learnt from a few matches only: `log_pending.latest_offset`.)
AFTER_SLACK = timedelta(seconds=0.6)
# An ambiguous candidate waits at least this long (most entries are visible by then, the
# slow ones too), and for a later record of the device.
SETTLE = timedelta(seconds=20)


@attrs.frozen(kw_only=True)
class Matching:
    """What the rules decide: answers, candidates held back, and hidden changes."""

    pairs: Mapping[str, ActionRecord]  # change id -> the record that explains it
    waiting: Mapping[str, ActionRecord]  # change id -> its ambiguous candidate, held
    hidden: Mapping[str, tuple[ActionRecord, ...]]  # change id -> records no callback reported

    def held(self) -> frozenset[str]:
        """Ids of records some pending change holds (not to be reported as unclaimed)."""
        ids = {record.record_id for record in self.waiting.values()}
        for change_id in self.waiting:
            ids.update(record.record_id for record in self.hidden.get(change_id, ()))
        return frozenset(ids)


def match(
    pending: Sequence[ObservedChange],
    records: Iterable[ActionRecord],
    *,
    now: datetime,
    skew: timedelta = timedelta(0),
    claimed: Collection[str] = frozenset(),
    claimed_at: Mapping[str, datetime] | None = None,
    expected: timedelta | Mapping[int, timedelta] = EXPECTED_OFFSET,
    not_before: datetime | None = None,
    final: Collection[str] = frozenset(),
    settle: timedelta = SETTLE,
    latest: Mapping[int, timedelta] | None = None,
) -> Matching:
    """Apply the rule to every pending change (see the module docstring).

    ``expected`` is the usual record offset, or one per device (smartlock id; an Opener turns
    at once, a lock's motor takes a second or two).
    ``claimed``: records already explaining a change or reported; ``claimed_at``: for those
    explaining a change, when that change was observed. ``final``: changes whose
    last read happened (an ambiguous candidate is answered). Records dated after ``now``
    plus the window (corrected) are ignored as impossible. ``latest``: per device, the latest
    offset its own record can have (rule 1's "before"; the usual offset plus `AFTER_SLACK`
    where not given).
    """
    horizon = now + skew + WINDOW_AFTER
    visible = [record for record in records if record.occurred_at <= horizon]
    taken = set(claimed)
    pairs: dict[str, ActionRecord] = {}
    waiting: dict[str, ActionRecord] = {}
    hidden: dict[str, tuple[ActionRecord, ...]] = {}
    ordered = sorted(pending, key=lambda c: (c.observed_at, c.change_id))
    contested: set[str] = set()  # records an earlier change could own, passed over as late
    for index, change in enumerate(ordered):
        usual = _usual(expected, change.smartlock_id)
        bound = (latest or {}).get(change.smartlock_id, usual + AFTER_SLACK)
        history = sorted(
            (r for r in visible if moves_part(change, r)),
            key=lambda r: (r.occurred_at, r.record_id),
        )
        later = [c for c in ordered[index + 1 :] if c.smartlock_id == change.smartlock_id]
        run, late, passed = _last_before(
            change,
            history,
            later,
            taken=taken,
            claimed_at=claimed_at or {},
            skew=skew,
            expected=usual,
            latest=bound,
        )
        contested.update(passed)
        candidate = next((r for r in run if not excluded(change, r, skew, not_before)), None)
        if candidate is None:
            continue
        taken.add(candidate.record_id)
        earlier = [
            c
            for c in ordered[:index]
            if c.smartlock_id == change.smartlock_id and c.change_id not in pairs
        ]
        # An earlier change with no candidate at all: the log is behind (entries come out of
        # order), so an older record of this change's run may be missing yet.
        behind = any(is_attributable(c) and c.change_id not in waiting for c in earlier)
        late = late or behind or candidate.record_id in contested
        skipped = _hidden(
            change,
            candidate,
            history,
            taken=taken,
            skew=skew,
            not_before=not_before,
            earlier=earlier,
        )
        taken.update(record.record_id for record in skipped)
        if skipped:
            hidden[change.change_id] = skipped
        if (
            (not late and is_tight(change, candidate, skew, usual) and is_fresh(change, candidate))
            or change.change_id in final
            or (now - change.observed_at >= settle and log_has_passed(change, visible, skew))
        ):
            pairs[change.change_id] = candidate
        else:
            waiting[change.change_id] = candidate
    return Matching(pairs=pairs, waiting=waiting, hidden=hidden)


def _last_before(
    change: ObservedChange,
    history: Sequence[ActionRecord],
    later: Sequence[ObservedChange],
    *,
    taken: Collection[str],
    claimed_at: Mapping[str, datetime],
    skew: timedelta,
    expected: timedelta,
    latest: timedelta,
) -> tuple[list[ActionRecord], bool, list[str]]:
    """Rule 1: the records that can explain the change (first is best); whether they are late.

    The last record of the part before the change must leave the change's state; so may a
    few before it with nothing else between: the first of that run made the state, those
    after it found the device there already (a lock pressed twice, a command queued behind
    another) and are no-ops.

    "Before" ends where the change's own record can lie (``latest``, past the usual offset): an
    action that began later cannot have finished by the callback. A record dated after that
    undoes nothing; it is the change's own only if nothing before explains the change, it
    fits this change and no other change has or fits it (clocks are corrected to about a
    second), and then only as an ambiguous (late) candidate. A record that explains a change
    observed later is that change's, whatever its date (two actions in one second share one).
    Also returns the late records that fit this change and a later one: until the log tells,
    the later change may not take them at once.
    """
    boundary = change.observed_at + skew + latest
    run: list[ActionRecord] = []  # the trailing records that all leave the change's state
    late = None
    passed: list[str] = []
    unsure = False  # a record set aside as perhaps a later change's: no answer at once
    for record in history:
        if record.occurred_at > change.observed_at + skew + WINDOW_AFTER:
            break
        owner = claimed_at.get(record.record_id)
        if owner is not None and owner > change.observed_at:
            continue
        fits = record.record_id not in taken and compatible(change, record, skew)
        if record.occurred_at > boundary:
            if fits and any(compatible(c, record, skew) for c in later):
                if is_tight(change, record, skew, expected):
                    passed.append(record.record_id)  # a later change's, or this one's
            elif fits and late is None:
                late = record
        elif not fits and _perhaps_later(change, record, later, taken=taken, skew=skew,
                                         expected=expected):  # fmt: skip
            unsure = True
        else:
            run = [*run, record] if fits else []  # a stuck attempt ends the run too
    if run:
        return run, unsure, passed
    return ([late] if late is not None else []), late is not None, passed


def _perhaps_later(
    change: ObservedChange,
    record: ActionRecord,
    later: Sequence[ObservedChange],
    *,
    taken: Collection[str],
    skew: timedelta,
    expected: timedelta,
) -> bool:
    """Whether a record that seems to undo the change may be a later change's own.

    Dates are whole seconds: actions within one second (an Opener switched on, off and on by
    three people) all look dated before the first change's callback.
    """
    return (
        record.record_id not in taken
        and record.occurred_at - skew >= change.observed_at - DATE_SLACK
        and any(compatible(c, record, skew) and is_tight(c, record, skew, expected) for c in later)
    )


def _usual(expected: timedelta | Mapping[int, timedelta], smartlock_id: int) -> timedelta:
    if isinstance(expected, timedelta):
        return expected
    return expected.get(smartlock_id, EXPECTED_OFFSET)


def _hidden(
    change: ObservedChange,
    candidate: ActionRecord,
    history: Sequence[ActionRecord],
    *,
    taken: Collection[str],
    skew: timedelta,
    not_before: datetime | None,
    earlier: Sequence[ObservedChange] = (),
) -> tuple[ActionRecord, ...]:
    """Records between the last one accounted for and the candidate: unreported changes.

    A record that an earlier change still unanswered could explain is that change's (its
    callback came, the record is not hidden): it and what lies before it are left alone.
    """
    key = (candidate.occurred_at, candidate.record_id)
    before = [r for r in history if (r.occurred_at, r.record_id) < key]
    floor = None if change.previous_at is None else change.previous_at - DATE_SLACK
    found: list[ActionRecord] = []
    for record in reversed(before):
        if record.stuck:
            break  # a change to an error state, told by its own callback: what came before
            # belongs before that change
        when = record.occurred_at - skew
        if record.record_id in taken or (floor is not None and when < floor):
            break  # accounted for, or before the previous change (its record, or older)
        if any(compatible(c, record, skew) for c in earlier):
            break  # an earlier change's own record, still to be claimed
        if (
            excluded(change, record, skew, not_before)
            or offset(change, record, skew) < -WINDOW_BEFORE
        ):
            break
        found.append(record)
    return tuple(reversed(found))


def estimate_skew(samples: Sequence[timedelta], *, default: timedelta = timedelta(0)) -> timedelta:
    """A robust estimate (median) from time samples: skew, or the usual record offset."""
    if not samples:
        return default
    ordered = sorted(samples)
    return ordered[len(ordered) // 2]


__all__ = [
    "AFTER_SLACK",
    "DATE_SLACK",
    "EXPECTED_OFFSET",
    "EXPECTED_OPENER_OFFSET",
    "FRESH",
    "LOCK_RESULTS",
    "MODE_RESULTS",
    "OPENER_RESULTS",
    "SETTLE",
    "START_SLACK",
    "TIGHT_AFTER",
    "TIGHT_BEFORE",
    "WINDOW_AFTER",
    "WINDOW_BEFORE",
    "ActionRecord",
    "ChangeKind",
    "Matching",
    "ObservedChange",
    "claimable",
    "compatible",
    "estimate_skew",
    "excluded",
    "expected_actions",
    "is_attributable",
    "is_follow_on",
    "is_fresh",
    "is_tight",
    "log_has_passed",
    "match",
    "moves_part",
    "offset",
    "result_state",
]
