"""What the log watcher keeps and decides: its timing, pending changes, entries read, outcomes.

Kept apart from the scheduling so both stay small; `LogWatcher` re-exports the public names.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync import attribution
from nukiasync.attribution import ActionRecord, ChangeKind, ObservedChange
from nukiasync.const import DeviceType, LogState
from nukiasync.events import AttributionFailure
from nukiasync.ids import device_type_from
from nukiasync.web.models.log import SmartlockLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

MIN_SAMPLES = 3  # matches before a device's own usual offset is trusted
# Whole-second dates spread a device's own records over this much below their latest...
DATE_SPREAD = timedelta(seconds=1)
# ...and motors and posting vary by about this much from one action to the next.
MOTOR_JITTER = timedelta(seconds=0.1)
# Own records all at least this far before their callbacks: the motor runs over a second.
LONG_MOTOR = -(DATE_SPREAD + 2 * MOTOR_JITTER)
SURE_SAMPLES = 10  # matches from which the latest of them marks the end of a lock's spread
# Log outcomes of an action that failed after the motor moved: the device changed state.
STUCK = frozenset(
    {
        LogState.MOTOR_BLOCKED,
        LogState.LOW_MOTOR_VOLTAGE,
        LogState.CLUTCH_FAILURE,
        LogState.MOTOR_POWER_FAILURE,
        LogState.INCOMPLETE,
    }
)


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
    follow_on_deadline: float = 20.0  # s a follow-on waits for a person's entry, then ends
    settle: float = 20.0  # s an ambiguous candidate waits at least (and for the log to pass)
    grace: float = 8.0  # s an unclaimed entry waits for a late callback before it is reported
    background_interval: float = 60.0  # s between reads when nothing waits
    lock_offset: float = -0.5  # s, a lock's entry date minus its callback, until learnt
    opener_offset: float = -0.5  # s, the same for an Opener (it turns at once)
    catch_up_limit: int = 500  # entries read after a restart before a Gap is announced
    push_quiet: float = 300.0  # s after the last pushed entry (webhook) that reads stay slow

    def interval(self, since_first: float, pending: int) -> float:
        """Seconds to the next read, given how long reads have gone on."""
        base = self.burst_interval if pending >= self.burst_size else self.poll_interval
        if since_first <= self.tight_phase:
            return base
        steps = (since_first - self.tight_phase) / max(base, 0.1)
        return float(min(self.max_interval, base * self.backoff ** min(steps, 20.0)))


@attrs.define
class Pending:
    """A change waiting for its log entry; ``attributable`` False: a follow-on (maybe)."""

    change: ObservedChange
    attributable: bool
    due: datetime
    deadline: datetime
    first_read: datetime | None = None
    final: bool = False  # a read at or after the deadline happened: decide now

    def to_json(self) -> dict[str, Any]:
        """The pending change as saved in the state file."""
        change = self.change
        return {
            "change_id": change.change_id,
            "smartlock_id": change.smartlock_id,
            "device_type": change.device_type,
            "kind": change.kind.value,
            "previous": change.previous,
            "current": change.current,
            "observed_at": change.observed_at.isoformat(),
            "previous_at": None if change.previous_at is None else change.previous_at.isoformat(),
            "attributable": self.attributable,
        }


def change_from_json(data: dict[str, Any]) -> tuple[ObservedChange, bool]:
    """A pending change read back from the state file, and whether it is attributable.

    Raises:
        ValueError, KeyError, TypeError: the record is not one this version writes.
    """
    previous_at = data.get("previous_at")
    change = ObservedChange(
        change_id=str(data["change_id"]),
        smartlock_id=int(data["smartlock_id"]),
        device_type=int(data["device_type"]),
        kind=ChangeKind(data["kind"]),
        previous=None if data.get("previous") is None else int(data["previous"]),
        current=int(data["current"]),
        observed_at=datetime.fromisoformat(str(data["observed_at"])),
        previous_at=None if previous_at is None else datetime.fromisoformat(str(previous_at)),
    )
    return change, bool(data.get("attributable", True))


@attrs.define
class SeenRecord:
    """A log entry read at least once."""

    entry: SmartlockLog
    record: ActionRecord
    first_seen: datetime
    pushed: bool = False  # a webhook brought it, not a read


@attrs.frozen(kw_only=True)
class CatchUpGap:
    """A read hit the catch-up bound: entries between these dates were not read."""

    since: datetime
    until: datetime


@attrs.frozen(kw_only=True)
class Outcome:
    """What one evaluation decided, for the hub to publish.

    ``hidden`` holds, oldest first, entries that prove a change no callback reported, each
    with the pending change it came before (its state is emitted before that change's answer).
    """

    attributed: list[tuple[Pending, SeenRecord]]
    unavailable: list[tuple[Pending, AttributionFailure]]
    unclaimed: list[SeenRecord]
    gap: CatchUpGap | None = None
    hidden: list[tuple[Pending, SeenRecord]] = attrs.field(factory=list)


def record_of(entry: SmartlockLog, seen_at: datetime | None = None) -> ActionRecord:
    """The neutral record of a Web API log entry."""
    return ActionRecord(
        record_id=entry.id,
        smartlock_id=entry.smartlock_id,
        action=entry.action_code,
        succeeded=entry.succeeded,
        occurred_at=entry.date,
        seen_at=seen_at,
        stuck=entry.state_code in STUCK,
    )


def usual_offset(
    offsets: dict[int, list[timedelta]], smartlock_id: int, timing: AttributionTiming
) -> timedelta:
    """A device's usual record offset, from its matches' offsets (per smartlock id).

    Until a device has a few matches, those of its kind (Opener or lock, from the first match
    on) stand in; an Opener turns at once, a lock's motor takes a second or two.
    """
    samples = _samples(offsets, smartlock_id)
    if samples:
        return attribution.estimate_skew(samples)
    opener = device_type_from(smartlock_id) == DeviceType.OPENER
    return timedelta(seconds=timing.opener_offset if opener else timing.lock_offset)


def latest_offset(
    offsets: dict[int, list[timedelta]], smartlock_id: int, timing: AttributionTiming
) -> timedelta:
    """The latest a device's own record can lie (rule 1's "before"), from the same samples.

    Usually the median plus `AFTER_SLACK`. But whole-second dates spread a device's own
    records over a second, and a few samples may all sit at its early end (actions begun late
    in their second): the next own record, begun early in its second, would then look as if
    it began after its change and wait for the deadline. So never less than a second above
    the earliest sample, up to the callback. No more either: a record beyond began after the
    change's action (another person's, pressing the same button a moment later), and one
    dated after the callback, taken as before it, would undo the change it follows. Where a
    lock's samples show its motor runs over a second, the bound stays below the callback's
    own second, whatever few samples say (an Opener's instant actions have no motor run).
    """
    usual = usual_offset(offsets, smartlock_id, timing) + attribution.AFTER_SLACK
    samples = _samples(offsets, smartlock_id)
    if not samples:
        return usual
    # A sample more than a second below the latest is no usual own record (a command queued
    # behind another, a late callback). An action begins before its callback: samples that
    # all sit together (actions at a steady pace) widen it up to the callback, not past it.
    top = max(samples)
    earliest = min(o for o in samples if o >= top - DATE_SPREAD)
    bound = max(usual, min(earliest + DATE_SPREAD, timedelta(0)) + MOTOR_JITTER)
    # A record dated in the callback's own second may have begun after the motor stopped (a
    # press queued behind the change's action, or made just after it). A lock whose own
    # records all lie before that second (its motor runs over a second) never has one there.
    if top <= LONG_MOTOR and device_type_from(smartlock_id) != DeviceType.OPENER:
        # Many samples find the top of the spread (a late callback shifts it down, and the
        # callback's second with it); a few may all lie low in it.
        sure = len(samples) >= SURE_SAMPLES
        return min(bound, top + MOTOR_JITTER if sure else -(DATE_SPREAD + MOTOR_JITTER))
    return bound


def offsets_to_json(offsets: Mapping[int, Sequence[timedelta]]) -> dict[str, list[float]]:
    """Learnt offsets for the state file: a restart need not learn them again."""
    return {str(sid): [o.total_seconds() for o in samples] for sid, samples in offsets.items()}


def offsets_from_json(data: Mapping[str, Sequence[float]]) -> dict[int, list[timedelta]]:
    """The state file's learnt offsets (the last 20 per device)."""
    return {int(sid): [timedelta(seconds=o) for o in kept[-20:]] for sid, kept in data.items()}


def _samples(offsets: dict[int, list[timedelta]], smartlock_id: int) -> list[timedelta]:
    """A device's own offsets once it has a few; until then, those of its kind."""
    own = offsets.get(smartlock_id, [])
    if len(own) >= MIN_SAMPLES:
        return own
    opener = device_type_from(smartlock_id) == DeviceType.OPENER
    return [
        offset
        for sid, samples in offsets.items()
        if (device_type_from(sid) == DeviceType.OPENER) is opener
        for offset in samples
    ]


def decide_now(pending: Sequence[Pending], now: datetime, limit: timedelta) -> set[str]:
    """Changes to decide now: past their last read, and no later change still waiting.

    An earlier change's record may be freed only when a later change of the device takes
    its own (same-second entries): it waits for those, at most ``limit`` past its deadline.
    """
    final: set[str] = set()
    for item in pending:
        if not item.final:
            continue
        change = item.change
        waiting_later = any(
            not other.final
            and other.change.smartlock_id == change.smartlock_id
            and other.change.observed_at > change.observed_at
            for other in pending
        )
        if not waiting_later or now >= item.deadline + limit:
            final.add(change.change_id)
    return final


def could_explain(
    pending: Sequence[Pending], record: ActionRecord, skew: timedelta, started: datetime | None
) -> bool:
    """Whether a waiting change may still claim a record (it is not reported meanwhile)."""
    return any(
        attribution.compatible(p.change, record, skew)
        and not attribution.excluded(p.change, record, skew, started)
        for p in pending
    )


def failure_reason(
    failure: AttributionFailure | None,
    change: ObservedChange,
    records: list[ActionRecord],
    skew: timedelta,
) -> AttributionFailure:
    """Why a change ends with no name: the Web API's failure, or what the log shows."""
    if failure is not None:
        return failure
    if attribution.log_has_passed(change, records, skew):
        return AttributionFailure.NO_MATCHING_ENTRY
    return AttributionFailure.TIMED_OUT


async def sleep_or_wake(
    sleep: Callable[[float], Awaitable[None]], wake: asyncio.Event, seconds: float
) -> None:
    """Sleep (on the injected clock) until the time is up or ``wake`` is set."""
    wake.clear()
    sleeper = asyncio.ensure_future(sleep(seconds))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
        await asyncio.gather(sleeper, waker, return_exceptions=True)


def reschedule(
    pending: Sequence[Pending], now: datetime, timing: AttributionTiming, *, pushing: bool
) -> None:
    """After a read: the next read of each change that was due, or its last (final).

    While a webhook pushes entries, a change waits for them and is read once more at its
    deadline only.
    """
    for item in pending:
        if item.due > now:
            continue
        if item.first_read is None:
            item.first_read = now
        if now >= item.deadline:
            item.final = True
            continue
        elapsed = (now - item.first_read).total_seconds()
        step = timedelta(seconds=timing.interval(elapsed, len(pending)))
        item.due = item.deadline if pushing else min(now + step, item.deadline)


def postpone(pending: Sequence[Pending], now: datetime, not_before: datetime) -> None:
    """After a failed read: no change is read again before ``not_before`` (Retry-After)."""
    for item in pending:
        if item.due <= now:
            if now >= item.deadline:
                item.final = True
            else:
                item.due = min(not_before, item.deadline)


def grace_ends(
    seen: Mapping[str, SeenRecord], done: Collection[str], now: datetime, grace: float
) -> list[datetime]:
    """When the grace of each entry not yet claimed or reported ends, if still ahead."""
    wait = timedelta(seconds=grace)
    return [
        record.first_seen + wait
        for key, record in seen.items()
        if key not in done and record.first_seen + wait > now
    ]


def in_device_order(
    due: list[SeenRecord], held: Mapping[int, tuple[datetime, str]]
) -> list[SeenRecord]:
    """Entries to report, oldest first, none after a device's oldest entry still held.

    A state the log alone shows is told from the state before it: told out of order, an
    unlock after a held lock would read as no change.
    """
    told = [
        seen
        for seen in due
        if not attribution.claimable(seen.record)
        or seen.record.smartlock_id not in held
        or (seen.record.occurred_at, seen.record.record_id) < held[seen.record.smartlock_id]
    ]
    return sorted(told, key=lambda seen: (seen.record.occurred_at, seen.record.record_id))


def forget_old(
    seen: dict[str, SeenRecord],
    horizon: datetime,
    claimed: set[str],
    reported: set[str],
    claimed_at: dict[str, datetime],
) -> None:
    """Forget entries first read before ``horizon`` once they were claimed or reported."""
    for key in [k for k, record in seen.items() if record.first_seen < horizon]:
        if key in claimed or key in reported:
            del seen[key]
            claimed.discard(key)
            claimed_at.pop(key, None)
            reported.discard(key)
