"""Matching for sources that push their records (MQTT ``lockActionEvent``): the same rules.

A pushed record arrives once, when it happens, so there is nothing to schedule but deadlines:
every change waits at most ``deadline`` seconds, then its last evaluation is final. The pairing
itself is `nukiasync.attribution.match`, unchanged (docs/decisions/0011-who-is-never-wrong.md);
this module only keeps the bookkeeping a pull source keeps in its log watcher (pending changes,
records, which are claimed, each device's usual offset).

A push source announces an action before it completes, so a record's outcome is learnt from
the device's state afterwards: `fail` marks an announcement the device did not carry out, and
one nobody completed within ``complete_within`` seconds fails by itself. A failed record never
explains a change (rule 1: it ends the run of candidates), which keeps a stale announcement
from naming the person behind a later, unannounced change.

An announcement comes before the change it announces (the lock publishes it, then its motor
turns), and arrives when it happens: one received more than ``announced_within`` seconds after
a change is never that change's, whatever the rules' window for late log entries allows (a
log entry's date is a whole second; an announcement's time is exact). A change that no
announcement can explain any more (nothing came in time, or only later ones) is set aside
before the rules run, so it neither takes a later change's announcement nor holds that change
up (B7, bridge + MQTT, seed 1: a knob turned by hand, then a person's lock whose callback the
hub handed on a moment late; the announcement named that person for the hand's change).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from nukiasync import attribution
from nukiasync.attribution import ActionRecord, ObservedChange
from nukiasync.events import AttributionFailure
from nukiasync.hub.sources.log_pending import AttributionTiming, Pending, usual_offset


@attrs.frozen(kw_only=True)
class PushTiming:
    """How long changes wait for a pushed record, and records for their change."""

    deadline: float = 10.0  # s a change waits for its announcement (it usually came first)
    follow_on_deadline: float = 5.0  # s a follow-on waits for a person's announcement
    complete_within: float = 10.0  # s an announced action has to change the device's state
    settle: float = 5.0  # s an ambiguous candidate waits at least before the log has passed it
    lock_offset: float = -0.5  # s, announcement minus state change of a lock, until learnt
    opener_offset: float = -0.5  # s, the same for an Opener
    announced_within: float = 1.0  # s an announcement may arrive after its own change


@attrs.frozen(kw_only=True)
class Decided:
    """What one evaluation decided."""

    attributed: list[tuple[ObservedChange, ActionRecord]]
    unavailable: list[tuple[ObservedChange, AttributionFailure]]


class PushMatcher:
    """Pending changes and pushed records of one source, paired by `attribution.match`."""

    def __init__(self, timing: PushTiming, *, started: datetime) -> None:
        self.timing = timing
        self._offsets_timing = AttributionTiming(
            lock_offset=timing.lock_offset, opener_offset=timing.opener_offset
        )
        self._started = started
        self._pending: list[Pending] = []
        self._records: dict[str, ActionRecord] = {}
        self._claimed_at: dict[str, datetime] = {}
        self._offsets: dict[int, list[timedelta]] = {}

    @property
    def pending_count(self) -> int:
        """Changes waiting for their record."""
        return len(self._pending)

    @property
    def record_count(self) -> int:
        """Records kept (claimed ones stay a while: they hold their place in the history)."""
        return len(self._records)

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """A change waits for its record (``attributable`` False: a follow-on, maybe nobody)."""
        wait = self.timing.deadline if attributable else self.timing.follow_on_deadline
        deadline = change.observed_at + timedelta(seconds=wait)
        self._pending.append(
            Pending(change=change, attributable=attributable, due=deadline, deadline=deadline)
        )

    def retract(self, change_id: str) -> bool:
        """Drop a pending change with no outcome; whether one was dropped."""
        kept = [p for p in self._pending if p.change.change_id != change_id]
        dropped = len(kept) != len(self._pending)
        self._pending = kept
        return dropped

    def knows(self, record_id: str) -> bool:
        """Whether a record is still kept."""
        return record_id in self._records

    def record(self, record: ActionRecord) -> None:
        """A pushed record (its id must be new)."""
        self._records[record.record_id] = record

    def fail(self, smartlock_id: int, state: int, device_type: int, now: datetime) -> None:
        """The device rests in ``state``: open announcements that do not lead there failed."""
        for key, record in list(self._records.items()):
            if (
                record.smartlock_id == smartlock_id
                and record.succeeded
                and key not in self._claimed_at
                and record.occurred_at <= now
                and attribution.result_state(device_type, record.action) != state
            ):
                self._records[key] = attrs.evolve(record, succeeded=False)

    def next_deadline(self) -> datetime | None:
        """When the next change's wait ends (an evaluation is due then)."""
        return min((p.deadline for p in self._pending), default=None)

    def drop_pending(self) -> list[Pending]:
        """Give up on every pending change at once (the source is closing)."""
        gone, self._pending = self._pending, []
        return gone

    def evaluate(self, now: datetime) -> Decided:
        """Apply the rules to the records pushed so far."""
        self._expire(now)
        final = {p.change.change_id for p in self._pending if now >= p.deadline}
        result = self._match(now, final)
        attributed: list[tuple[ObservedChange, ActionRecord]] = []
        unavailable: list[tuple[ObservedChange, AttributionFailure]] = []
        answered: set[str] = set()
        still: list[Pending] = []
        for pending in sorted(self._pending, key=lambda p: p.change.observed_at):
            change = pending.change
            record = result.pairs.get(change.change_id)
            if change.change_id in answered:
                continue
            if record is not None:
                answered.add(change.change_id)
                self._claim(change, record)
                attributed.append((change, record))
            elif change.change_id in final:
                answered.add(change.change_id)
                if pending.attributable:  # a follow-on ends with no outcome
                    unavailable.append((change, AttributionFailure.TIMED_OUT))
            else:
                still.append(pending)
        self._pending = [p for p in still if p.change.change_id not in answered]
        self._prune(now)
        return Decided(attributed=attributed, unavailable=unavailable)

    def _match(self, now: datetime, final: set[str]) -> attribution.Matching:
        """The rules' pairs, leaving out changes no announcement can explain any more.

        A change whose only candidate came after it, or that nothing announced while it was
        on its way, has no announcement of its own (a later one is a later change's): it is
        set aside, so that it neither holds that record nor holds later changes up.
        """
        late = timedelta(seconds=self.timing.announced_within)
        aside: set[str] = set()
        while True:
            pending = [p.change for p in self._pending if p.change.change_id not in aside]
            result = attribution.match(
                pending,
                self._records.values(),
                now=now,
                claimed=frozenset(self._claimed_at),
                claimed_at=self._claimed_at,
                expected={
                    c.smartlock_id: usual_offset(
                        self._offsets, c.smartlock_id, self._offsets_timing
                    )
                    for c in pending
                },
                not_before=self._started,
                final=final,
                settle=timedelta(seconds=self.timing.settle),
            )
            observed = {c.change_id: c.observed_at for c in pending}
            after = {
                change_id
                for change_id, record in (*result.pairs.items(), *result.waiting.items())
                if record.occurred_at - observed[change_id] > late
            }
            # Nothing announced it, and nothing will now: it no longer holds later ones up
            # (for a log, rule 3's "the log is behind"; an announcement is never behind).
            unannounced = {
                change_id
                for change_id, at in observed.items()
                if now - at > late
                and change_id not in result.pairs
                and change_id not in result.waiting
            }
            if not after and not unannounced - aside:
                return result
            aside |= after | unannounced

    def _claim(self, change: ObservedChange, record: ActionRecord) -> None:
        self._claimed_at[record.record_id] = change.observed_at
        if change.kind is attribution.ChangeKind.LOCK_STATE:
            sid = record.smartlock_id
            seen = attribution.offset(change, record, timedelta(0))
            self._offsets[sid] = [*self._offsets.get(sid, [])[-19:], seen]

    def _expire(self, now: datetime) -> None:
        """An announcement nothing completed in time failed (the device did not act)."""
        limit = timedelta(seconds=self.timing.complete_within)
        for key, record in list(self._records.items()):
            late = now - record.occurred_at > limit
            if not record.succeeded or not late or key in self._claimed_at:
                continue
            if any(
                p.change.smartlock_id == record.smartlock_id
                and record.occurred_at <= p.change.observed_at <= record.occurred_at + limit
                for p in self._pending
            ):
                continue  # a change seen in time still waits for its answer
            self._records[key] = attrs.evolve(record, succeeded=False)

    def _prune(self, now: datetime) -> None:
        """Forget records no pending change can reach any more."""
        horizon = now - attribution.WINDOW_BEFORE - timedelta(seconds=self.timing.deadline * 2)
        for key in [k for k, r in self._records.items() if r.occurred_at < horizon]:
            del self._records[key]
            self._claimed_at.pop(key, None)
