"""Reads the Web API log for the hub: when to read, what matched, what no callback claimed.

One account-wide request serves every pending change (decision 0008): the first near the lag
seen so far, tighter while the answer is likely, then backing off to the deadline; without
pending changes a slow read finds what no callback announced. Reads never overlap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nukiasync import attribution
from nukiasync.errors import NukiAuthenticationError, NukiError, NukiRateLimitError
from nukiasync.events import AttributionFailure
from nukiasync.hub.sources.log_pending import (
    AttributionTiming,
    CatchUpGap,
    Outcome,
    Pending,
    SeenRecord,
    could_explain,
    decide_now,
    failure_reason,
    forget_old,
    grace_ends,
    in_device_order,
    latest_offset,
    postpone,
    record_of,
    reschedule,
    sleep_or_wake,
    usual_offset,
)
from nukiasync.web.models.log import SmartlockLog

if TYPE_CHECKING:
    from nukiasync.attribution import ActionRecord, ObservedChange

_LOGGER = logging.getLogger(__name__)

# Background reads re-read this far back: an entry can reach the Web API minutes late.
BACKGROUND_OVERLAP = timedelta(minutes=5)

FetchLogs = Callable[[datetime], Awaitable[list[SmartlockLog]]]

__all__ = ["AttributionTiming", "CatchUpGap", "LogWatcher", "Outcome"]


class LogWatcher:
    """Schedules log reads and applies the matching rules; the hub runs `run()` as a task."""

    def __init__(
        self,
        fetch: FetchLogs,
        on_outcome: Callable[[Outcome], Awaitable[None]],
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timing: AttributionTiming | None = None,
        skew: Callable[[], timedelta] = lambda: timedelta(0),
        on_health: Callable[[bool, str], None] | None = None,
        is_claimed: Callable[[str], bool] = lambda _log_id: False,
        undecided: Callable[[int], bool] = lambda _smartlock_id: False,
        report_after: datetime | None = None,
        not_before: datetime | None = None,
    ) -> None:
        self._fetch = fetch
        self._on_outcome = on_outcome
        self._clock = clock
        self._sleep = sleep
        self.timing = timing or AttributionTiming()
        self._skew = skew
        self._on_health = on_health
        self._is_claimed = is_claimed
        self._undecided = undecided  # a device with a change the bridge still checks
        # Records dated before the hub watched never explain a later change (a restart's).
        self._started = not_before
        self._report_after = report_after if report_after is not None else clock()
        self._held: frozenset[str] = frozenset()  # records waiting changes hold
        self._pending: list[Pending] = []
        self._seen: dict[str, SeenRecord] = {}
        self._claimed: set[str] = set()
        self._claimed_at: dict[str, datetime] = {}  # record id -> when its change was seen
        self._reported: set[str] = set()
        self._wake = asyncio.Event()
        self._lags: list[float] = []
        # Per device: record minus callback time, as learnt (kept in the state file).
        self.offsets: dict[int, list[timedelta]] = {}
        self._last_read: datetime | None = None
        self._background_from = self._report_after
        self._next_background: datetime = clock()
        self._not_before: datetime | None = None
        self._failure: AttributionFailure | None = None
        self._gap: CatchUpGap | None = None
        self._healthy = True
        self._pushed_at: datetime | None = None
        self.reads = 0
        self.read_failures = 0
        self.pushed = 0

    @property
    def pending_count(self) -> int:
        """Changes waiting for their log entry."""
        return len(self._pending)

    @property
    def learnt_lag(self) -> float | None:
        """Median seconds from a change to its entry being read, once known."""
        return sorted(self._lags)[len(self._lags) // 2] if self._lags else None

    def expected_offset(self, smartlock_id: int) -> timedelta:
        """The usual record date minus callback time of a device (learnt from its matches)."""
        return usual_offset(self.offsets, smartlock_id, self.timing)

    def add(
        self, change: ObservedChange, *, attributable: bool, due: datetime | None = None
    ) -> None:
        """Wait for the log entry of a change (``attributable`` False: a follow-on)."""
        lag = self.learnt_lag
        delay = self.timing.first_delay if lag is None else max(0.3, lag * 0.8)
        wait = self.timing.deadline
        if not attributable:
            wait = min(wait, self.timing.follow_on_deadline)
        if self._pushing(self._clock()):
            delay = wait  # pushes bring the entry: one last read at the deadline
        self._pending.append(
            Pending(
                change=change,
                attributable=attributable,
                due=due or change.observed_at + timedelta(seconds=delay),
                deadline=change.observed_at + timedelta(seconds=wait),
            )
        )
        self._wake.set()

    def push(self, entry: SmartlockLog) -> bool:
        """An entry a webhook pushed: evaluated at once; reads stay slow while pushes come.

        Whether it was new (an entry already read or pushed is not taken twice).
        """
        now = self._clock()
        self._pushed_at = now
        if not entry.id or entry.id in self._seen:
            return False
        record = record_of(entry, now)
        self._seen[entry.id] = SeenRecord(entry=entry, record=record, first_seen=now, pushed=True)
        self.pushed += 1
        self._wake.set()
        return True

    def _pushing(self, now: datetime) -> bool:
        quiet = timedelta(seconds=self.timing.push_quiet)
        return self._pushed_at is not None and now - self._pushed_at <= quiet

    def retract(self, change_id: str) -> bool:
        """Drop a pending change silently: it gets no outcome. Whether one was dropped."""
        before = len(self._pending)
        self._pending = [p for p in self._pending if p.change.change_id != change_id]
        return len(self._pending) != before

    def pending(self) -> list[Pending]:
        """The changes still waiting (saved in the state file across a restart)."""
        return list(self._pending)

    def reconsider(self) -> None:
        """Evaluate again soon: a checked change was handed on or dropped."""
        self._wake.set()

    async def run(self) -> None:
        """Read and evaluate until cancelled."""
        while True:
            now = self._clock()
            due = self._next_due(now)
            if due > now:
                await sleep_or_wake(self._sleep, self._wake, (due - now).total_seconds())
            else:
                await self._read(now)
            # Evaluating is cheap: after every wake, so a grace that ended is acted on now.
            await self._on_outcome(self.evaluate(self._clock()))

    def evaluate(self, now: datetime) -> Outcome:
        """Apply the rules to what has been read, updating the bookkeeping.

        Matching repeats until it names nothing new: a record a later change claims is not
        later for an earlier one (rule 1), so one pass can free the next change's record.
        """
        skew = self._skew()
        records = [seen.record for seen in self._seen.values()]
        final = decide_now(self._pending, now, timedelta(seconds=self.timing.deadline))
        attributed: list[tuple[Pending, SeenRecord]] = []
        hidden: list[tuple[Pending, SeenRecord]] = []
        answered: set[str] = set()  # one outcome per state event, whatever parts changed
        while True:
            result = self._match([p for p in self._pending if p.change.change_id not in answered],
                                 records, now, skew, final)  # fmt: skip
            named = self._take(result, answered, final, skew)
            if not named:
                break
            attributed += [item for item, _ in named]
            hidden += [h for _, found in named for h in found]
        self._held = result.held()
        unavailable: list[tuple[Pending, AttributionFailure]] = []
        still: list[Pending] = []
        for pending in self._pending:
            change_id = pending.change.change_id
            if change_id in answered:
                continue
            if change_id not in final:
                still.append(pending)
            elif pending.attributable:  # a follow-on ends with no outcome
                answered.add(change_id)
                unavailable.append(
                    (pending, failure_reason(self._failure, pending.change, records, skew))
                )
        self._pending = still
        gap, self._gap = self._gap, None
        return Outcome(
            attributed=attributed,
            unavailable=unavailable,
            unclaimed=self._due_unclaimed(now),
            gap=gap,
            hidden=hidden,
        )

    def _take(
        self, result: attribution.Matching, answered: set[str], final: set[str], skew: timedelta
    ) -> list[tuple[tuple[Pending, SeenRecord], list[tuple[Pending, SeenRecord]]]]:
        """Claim the records a pass named: each answer with the hidden changes before it."""
        named = []
        for pending in sorted(self._pending, key=lambda p: p.change.observed_at):
            change_id = pending.change.change_id
            record = result.pairs.get(change_id)
            if record is None or change_id in answered:
                continue
            if change_id not in final and self._undecided(pending.change.smartlock_id):
                continue  # a later change the bridge still checks may own this record
            answered.add(change_id)
            found = []
            for earlier in result.hidden.get(change_id, ()):
                self._claimed.add(earlier.record_id)
                found.append((pending, self._seen[earlier.record_id]))
            named.append(((pending, self._claim(pending, record, skew)), found))
        return named

    def _match(
        self,
        pending: list[Pending],
        records: list[ActionRecord],
        now: datetime,
        skew: timedelta,
        final: set[str],
    ) -> attribution.Matching:
        # Reported entries (in this run or before a restart) are never claimed afterwards.
        taken = self._claimed | self._reported
        taken.update(key for key in self._seen if key not in taken and self._is_claimed(key))
        devices = {p.change.smartlock_id for p in pending}
        return attribution.match(
            [p.change for p in pending],
            records,
            now=now,
            skew=skew,
            claimed=frozenset(taken),
            claimed_at=self._claimed_at,
            expected={sid: self.expected_offset(sid) for sid in devices},
            latest={sid: latest_offset(self.offsets, sid, self.timing) for sid in devices},
            not_before=self._started,
            final=final,
            settle=timedelta(seconds=self.timing.settle),
        )

    def _claim(self, pending: Pending, record: ActionRecord, skew: timedelta) -> SeenRecord:
        """Mark a record as explaining a change, and learn its lag and offset."""
        seen = self._seen[record.record_id]
        self._claimed.add(record.record_id)
        self._claimed_at[record.record_id] = pending.change.observed_at
        lag = (seen.first_seen - pending.change.observed_at).total_seconds()
        self._lags = [*self._lags[-19:], max(0.0, lag)]
        if pending.change.kind is attribution.ChangeKind.LOCK_STATE:
            seen_offset = attribution.offset(pending.change, record, skew)
            sid = record.smartlock_id
            self.offsets[sid] = [*self.offsets.get(sid, [])[-19:], seen_offset]
        return seen

    def drop_pending(self) -> list[Pending]:
        """Give up on every pending change at once (the hub is closing)."""
        gone, self._pending = self._pending, []
        first = {p.change.change_id: p for p in reversed(gone) if p.attributable}
        return [p for p in gone if first.get(p.change.change_id) is p]

    def _due_unclaimed(self, now: datetime) -> list[SeenRecord]:
        """Entries no change can claim at once; claimable ones once their grace has ended."""
        grace = timedelta(seconds=self.timing.grace)
        skew = self._skew()
        floor = self._report_after - attribution.WINDOW_BEFORE
        due: list[SeenRecord] = []
        held: dict[int, tuple[datetime, str]] = {}  # per device: the oldest entry still held
        for key, seen in self._seen.items():
            record = seen.record
            if key in self._claimed or key in self._reported:
                continue
            if self._is_claimed(key) or record.occurred_at - skew < floor:
                self._reported.add(key)  # emitted before a restart, or before we started
                continue
            if attribution.claimable(record) and (
                now - seen.first_seen < grace
                or key in self._held
                or self._undecided(record.smartlock_id)
                or could_explain(self._pending, record, skew, self._started)
            ):  # a late callback, or a waiting change, may still claim it
                order = (record.occurred_at, record.record_id)
                held[record.smartlock_id] = min(held.get(record.smartlock_id, order), order)
                continue
            due.append(seen)
        due = in_device_order(due, held)
        self._reported.update(seen.record.record_id for seen in due)
        return due

    def _next_due(self, now: datetime) -> datetime:
        wanted = [self._next_background, *(p.due for p in self._pending)]
        due = min(wanted)
        if self._last_read is not None and self._pending:
            spacing = timedelta(seconds=self.timing.interval(0, len(self._pending)))
            due = max(due, self._last_read + spacing)
        if self._not_before is not None:
            due = max(due, self._not_before)
        # Entries whose grace ends later need an evaluation then (not the next slow read).
        done = self._claimed | self._reported
        return min([due, *grace_ends(self._seen, done, now, self.timing.grace)])

    async def _read(self, now: datetime) -> None:
        if self._not_before is not None and now < self._not_before:
            return  # only an evaluation was due
        background = now >= self._next_background
        if not background and not any(p.due <= now for p in self._pending):
            return
        since = self._read_from(now, background=background)
        self._last_read = now
        self.reads += 1
        try:
            entries = await self._fetch(since)
        except NukiError as err:
            self._read_failed(now, err)
            return
        self._failure = None
        self._not_before = None
        self._set_health(available=True, detail="")
        read_at = self._clock()
        if len(entries) >= self.timing.catch_up_limit:
            oldest = min(entry.date for entry in entries)
            self._gap = CatchUpGap(since=since, until=oldest)
        for entry in entries:
            if entry.id not in self._seen:
                self._seen[entry.id] = SeenRecord(
                    entry=entry, record=record_of(entry, read_at), first_seen=read_at
                )
        self._after_read(now, background=background)
        horizon = now - timedelta(seconds=self.timing.deadline * 2) - attribution.WINDOW_BEFORE
        forget_old(self._seen, horizon, self._claimed, self._reported, self._claimed_at)

    def _read_from(self, now: datetime, *, background: bool) -> datetime:
        oldest = min((p.change.observed_at for p in self._pending), default=now)
        start = oldest - attribution.WINDOW_BEFORE
        if background:
            start = min(start, self._background_from - attribution.WINDOW_BEFORE)
        return start + self._skew()

    def _after_read(self, now: datetime, *, background: bool) -> None:
        reschedule(self._pending, now, self.timing, pushing=self._pushing(now))
        if background:
            # Late uploads keep old dates: the next background read overlaps this one.
            self._background_from = now - BACKGROUND_OVERLAP
            self._next_background = now + timedelta(seconds=self.timing.background_interval)

    def _read_failed(self, now: datetime, err: NukiError) -> None:
        self.read_failures += 1
        if isinstance(err, NukiAuthenticationError):
            self._failure = AttributionFailure.UNAUTHORIZED
        else:
            self._failure = AttributionFailure.WEB_API_UNREACHABLE
        retry_after = err.retry_after if isinstance(err, NukiRateLimitError) else None
        wait = min(self.timing.poll_interval * 2, self.timing.max_interval * 6)
        wait = retry_after if retry_after is not None else wait  # the server's, never cut
        # From when the answer came, not when the read started: a slow 429 counts too.
        self._not_before = self._clock() + timedelta(seconds=wait)
        self._set_health(available=False, detail=type(err).__name__)
        _LOGGER.debug("Log read failed (%s); next in %.1f s", type(err).__name__, wait)
        postpone(self._pending, now, self._not_before)
        if now >= self._next_background:
            self._next_background = self._not_before

    def _set_health(self, *, available: bool, detail: str) -> None:
        if available != self._healthy:
            self._healthy = available
            if self._on_health is not None:
                self._on_health(available, detail)
