"""Reads the Web API log for the hub: when to read, what matched, what no callback claimed.

One account-wide request serves every pending change (decision 0008). The first read goes
out near the lag seen so far, then reads tighten while the answer is likely, then back off to
the deadline. Without pending changes a slow read picks up entries that no callback announced.
Reads never overlap; rate limits and outages push the next read back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import attrs

from nukiasync import attribution
from nukiasync.attribution import ActionRecord, ObservedChange
from nukiasync.errors import NukiAuthenticationError, NukiError, NukiRateLimitError
from nukiasync.events import AttributionFailure
from nukiasync.web.models.log import SmartlockLog

_LOGGER = logging.getLogger(__name__)

# Background reads re-read this far back: an entry can reach the Web API minutes late.
BACKGROUND_OVERLAP = timedelta(minutes=5)

Sleep = Callable[[float], Awaitable[None]]
FetchLogs = Callable[[datetime], Awaitable[list[SmartlockLog]]]


@attrs.frozen(kw_only=True)
class AttributionTiming:
    """Tunables of log reading; defaults from the lags reported for Nuki (a few seconds)."""

    first_delay: float = 2.0  # s after a change before the first read, until lags are learnt
    poll_interval: float = 0.75  # s between reads while an answer is likely
    burst_interval: float = 2.5  # s between reads when many changes wait: fewer requests (B4)
    burst_size: int = 4  # pending changes from which reads are spaced as a burst
    tight_phase: float = 12.0  # s of tight reads after the first, then back off
    backoff: float = 1.6  # factor by which the interval grows after the tight phase
    max_interval: float = 10.0  # s, the longest wait between reads while changes wait
    deadline: float = 45.0  # s after a change: then "unavailable"
    grace: float = 8.0  # s an unclaimed entry waits for a late callback before it is reported
    background_interval: float = 60.0  # s between reads when nothing waits
    catch_up_limit: int = 500  # entries read after a restart before a Gap is announced

    def interval(self, since_first: float, pending: int) -> float:
        """Seconds to the next read, given how long reads have gone on."""
        base = self.burst_interval if pending >= self.burst_size else self.poll_interval
        if since_first <= self.tight_phase:
            return base
        steps = (since_first - self.tight_phase) / max(base, 0.1)
        return float(min(self.max_interval, base * self.backoff ** min(steps, 20.0)))


@attrs.define
class Pending:
    """A change waiting for its log entry."""

    change: ObservedChange
    attributable: bool
    due: datetime
    deadline: datetime
    first_read: datetime | None = None
    final: bool = False  # a read at or after the deadline happened: decide now


@attrs.define
class SeenRecord:
    """A log entry read at least once."""

    entry: SmartlockLog
    record: ActionRecord
    first_seen: datetime


@attrs.frozen(kw_only=True)
class CatchUpGap:
    """A read hit the catch-up bound: entries between these dates were not read."""

    since: datetime
    until: datetime


@attrs.frozen(kw_only=True)
class Outcome:
    """What one evaluation decided, for the hub to publish."""

    attributed: list[tuple[Pending, SeenRecord]]
    unavailable: list[tuple[Pending, AttributionFailure]]
    unclaimed: list[SeenRecord]
    gap: CatchUpGap | None = None


class LogWatcher:
    """Schedules log reads and applies the matching rules; the hub runs `run()` as a task."""

    def __init__(
        self,
        fetch: FetchLogs,
        on_outcome: Callable[[Outcome], Awaitable[None]],
        *,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        timing: AttributionTiming | None = None,
        skew: Callable[[], timedelta] = lambda: timedelta(0),
        on_health: Callable[[bool, str], None] | None = None,
        is_claimed: Callable[[str], bool] = lambda _log_id: False,
        report_after: datetime | None = None,
    ) -> None:
        self._fetch = fetch
        self._on_outcome = on_outcome
        self._clock = clock
        self._sleep = sleep
        self.timing = timing or AttributionTiming()
        self._skew = skew
        self._on_health = on_health
        self._is_claimed = is_claimed
        self._report_after = report_after if report_after is not None else clock()
        self._pending: list[Pending] = []
        self._seen: dict[str, SeenRecord] = {}
        self._claimed: set[str] = set()
        self._reported: set[str] = set()
        self._wake = asyncio.Event()
        self._lags: list[float] = []
        self._offsets: list[timedelta] = []  # record minus callback time of recent matches
        self._last_read: datetime | None = None
        self._background_from = self._report_after
        self._next_background: datetime = clock()
        self._not_before: datetime | None = None
        self._failure: AttributionFailure | None = None
        self._gap: CatchUpGap | None = None
        self._healthy = True
        self.reads = 0
        self.read_failures = 0

    @property
    def pending_count(self) -> int:
        """Changes waiting for their log entry."""
        return len(self._pending)

    @property
    def learnt_lag(self) -> float | None:
        """Median seconds from a change to its entry being read, once known."""
        if not self._lags:
            return None
        ordered = sorted(self._lags)
        return ordered[len(ordered) // 2]

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """Wait for the log entry of a change; wakes the reader."""
        lag = self.learnt_lag
        delay = self.timing.first_delay if lag is None else max(0.3, lag * 0.8)
        self._pending.append(
            Pending(
                change=change,
                attributable=attributable,
                due=change.observed_at + timedelta(seconds=delay),
                deadline=change.observed_at + timedelta(seconds=self.timing.deadline),
            )
        )
        self._wake.set()

    def poke(self) -> None:
        """Read the log soon (when callbacks went quiet, or the bridge was away)."""
        self._next_background = self._clock()
        self._wake.set()

    async def run(self) -> None:
        """Read and evaluate until cancelled."""
        while True:
            now = self._clock()
            due = self._next_due(now)
            if due > now:
                await self._wait((due - now).total_seconds())
            else:
                await self._read(now)
            # Evaluating is cheap: after every wake, so a grace that ended is acted on now.
            await self._on_outcome(self.evaluate(self._clock()))

    def evaluate(self, now: datetime) -> Outcome:
        """Apply the rules to what has been read, updating the bookkeeping."""
        skew = self._skew()
        records = [seen.record for seen in self._seen.values()]
        # Reported entries (in this run or before a restart) are never claimed afterwards.
        taken = self._claimed | self._reported
        taken.update(key for key in self._seen if key not in taken and self._is_claimed(key))
        pairs = attribution.match(
            [p.change for p in self._pending],
            records,
            now=now,
            skew=skew,
            claimed=frozenset(taken),
            expected=attribution.estimate_skew(self._offsets, default=attribution.EXPECTED_OFFSET),
        )
        attributed: list[tuple[Pending, SeenRecord]] = []
        unavailable: list[tuple[Pending, AttributionFailure]] = []
        still: list[Pending] = []
        for pending in self._pending:
            record = pairs.get(pending.change.change_id)
            if record is not None:
                seen = self._seen[record.record_id]
                self._claimed.add(record.record_id)
                lag = (seen.first_seen - pending.change.observed_at).total_seconds()
                self._lags = [*self._lags[-19:], max(0.0, lag)]
                if pending.change.kind is attribution.ChangeKind.LOCK_STATE:
                    seen_offset = attribution.offset(pending.change, record, skew)
                    self._offsets = [*self._offsets[-19:], seen_offset]
                if pending.attributable:
                    attributed.append((pending, seen))
            elif pending.final:
                if pending.attributable:
                    unavailable.append((pending, self._reason_for(pending.change, records, skew)))
            else:
                still.append(pending)
        self._pending = still
        gap, self._gap = self._gap, None
        return Outcome(
            attributed=attributed,
            unavailable=unavailable,
            unclaimed=self._due_unclaimed(now),
            gap=gap,
        )

    def retract(self, change_id: str) -> bool:
        """Drop a pending change silently (the bridge contradicted it): no outcome at all."""
        kept = [p for p in self._pending if p.change.change_id != change_id]
        dropped = len(kept) != len(self._pending)
        self._pending = kept
        return dropped

    def drop_pending(self) -> list[Pending]:
        """Give up on every pending change at once (the hub is closing)."""
        gone, self._pending = self._pending, []
        return [p for p in gone if p.attributable]

    def _reason_for(
        self, change: ObservedChange, records: list[ActionRecord], skew: timedelta
    ) -> AttributionFailure:
        if self._failure is not None:
            return self._failure
        if attribution.log_has_passed(change, records, skew):
            return AttributionFailure.NO_MATCHING_ENTRY
        return AttributionFailure.TIMED_OUT

    def _due_unclaimed(self, now: datetime) -> list[SeenRecord]:
        grace = timedelta(seconds=self.timing.grace)
        skew = self._skew()
        changes = [p.change for p in self._pending]
        floor = self._report_after - attribution.WINDOW_BEFORE
        due: list[SeenRecord] = []
        for key, seen in self._seen.items():
            if key in self._claimed or key in self._reported or now - seen.first_seen < grace:
                continue
            if self._is_claimed(key) or seen.record.occurred_at - skew < floor:
                self._reported.add(key)  # emitted before a restart, or before we started
                continue
            if not attribution.could_still_claim(seen.record, changes, skew):
                due.append(seen)
        due.sort(key=lambda seen: (seen.record.occurred_at, seen.record.record_id))
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
        grace = timedelta(seconds=self.timing.grace)
        # Entries whose grace ends later need an evaluation then; those past it wait for
        # the next read (a pending change may still claim them).
        waiting = [
            seen.first_seen + grace
            for key, seen in self._seen.items()
            if key not in self._claimed
            and key not in self._reported
            and seen.first_seen + grace > now
        ]
        return min([due, *waiting])

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
                    entry=entry, record=record_of(entry), first_seen=read_at
                )
        self._after_read(now, background=background)
        self._prune(now)

    def _read_from(self, now: datetime, *, background: bool) -> datetime:
        oldest = min((p.change.observed_at for p in self._pending), default=now)
        start = oldest - attribution.WINDOW_BEFORE
        if background:
            start = min(start, self._background_from - attribution.WINDOW_BEFORE)
        return start + self._skew()

    def _after_read(self, now: datetime, *, background: bool) -> None:
        count = len(self._pending)
        for pending in self._pending:
            if pending.due > now:
                continue
            if pending.first_read is None:
                pending.first_read = now
            if now >= pending.deadline:
                pending.final = True
                continue
            elapsed = (now - pending.first_read).total_seconds()
            step = timedelta(seconds=self.timing.interval(elapsed, count))
            pending.due = min(now + step, pending.deadline)
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
        for pending in self._pending:
            if pending.due <= now:
                if now >= pending.deadline:
                    pending.final = True
                else:
                    pending.due = min(self._not_before, pending.deadline)
        if now >= self._next_background:
            self._next_background = self._not_before

    def _set_health(self, *, available: bool, detail: str) -> None:
        if available != self._healthy:
            self._healthy = available
            if self._on_health is not None:
                self._on_health(available, detail)

    def _prune(self, now: datetime) -> None:
        """Forget entries read long ago once they were claimed or reported."""
        horizon = now - timedelta(seconds=self.timing.deadline * 2) - attribution.WINDOW_BEFORE
        for key in [k for k, s in self._seen.items() if s.first_seen < horizon]:
            if key in self._claimed or key in self._reported:
                del self._seen[key]
                self._claimed.discard(key)
                self._reported.discard(key)

    async def _wait(self, seconds: float) -> None:
        self._wake.clear()
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)


def record_of(entry: SmartlockLog) -> ActionRecord:
    """The neutral record of a Web API log entry."""
    return ActionRecord(
        record_id=entry.id,
        smartlock_id=entry.smartlock_id,
        action=entry.action_code,
        succeeded=entry.succeeded,
        occurred_at=entry.date,
    )
