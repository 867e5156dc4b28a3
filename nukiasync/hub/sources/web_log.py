"""The hub's Web API half: reads the log for pending changes and publishes who did it.

The hub hands it state changes; it owns the `LogWatcher` (when to read, what matched), the
`ActorDirectory` (who an auth id is), and publishes attributions and unclaimed entries through
the outbox, so delivery after a crash stays at least once with stable ids.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from nukiasync.attribution import (
    DATE_SLACK,
    START_SLACK,
    ChangeKind,
    ObservedChange,
    result_state,
)
from nukiasync.errors import NukiError
from nukiasync.events import AttributionFailure, EventSource
from nukiasync.hub import outcomes
from nukiasync.hub.actors import ActorDirectory
from nukiasync.hub.devices import state_name
from nukiasync.hub.sources.log_pending import (
    SeenRecord,
    change_from_json,
    offsets_from_json,
    offsets_to_json,
)
from nukiasync.hub.sources.log_watcher import AttributionTiming, LogWatcher, Outcome

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from nukiasync.hub.delivery import Outbox
    from nukiasync.hub.devices import DeviceTable, HubCounters
    from nukiasync.hub.sources.base import Outcomes, SourceHost
    from nukiasync.web.client import NukiWebClient
    from nukiasync.web.models.log import SmartlockLog

_LOGGER = logging.getLogger(__name__)

WEB_LOG = "web_log"
SKEW_FLOOR = timedelta(seconds=1)


class WebSide:
    """The log watcher, the actor cache and the publishing of what they decide."""

    def __init__(
        self,
        web: NukiWebClient,
        outcomes: Outcomes,
        outbox: Outbox,
        devices: DeviceTable,
        counters: HubCounters,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]],
        timing: AttributionTiming,
        on_health: Callable[[bool, str], None],
        undecided: Callable[[int], bool] = lambda _smartlock_id: False,
    ) -> None:
        self._web = web
        self._outcomes = outcomes
        self._outbox = outbox
        self._devices = devices
        self._counters = counters
        self._clock = clock
        self._timing = timing
        self.actors = ActorDirectory(web.auths, clock=clock)
        checkpoint = outbox.checkpoint
        self.watcher = LogWatcher(
            self._fetch_logs,
            self._on_outcome,
            clock=clock,
            sleep=sleep,
            timing=timing,
            skew=self._skew,
            on_health=on_health,
            is_claimed=checkpoint.seen,  # entries emitted before a restart
            undecided=undecided,
            report_after=checkpoint.read_from(),
            not_before=clock(),
        )
        self.watcher.offsets.update(offsets_from_json(checkpoint.offsets))
        if (until := checkpoint.history_until) is not None:
            start = clock()

            def unknown_from(smartlock_id: int) -> datetime:
                # Entries dated a second before the last save began before it; the time an
                # entry is told at is its date less the usual offset. Never past the new start.
                offset = self.watcher.expected_offset(smartlock_id)
                return min(until - DATE_SLACK - offset, start - START_SLACK)

            devices.restore_history(checkpoint.history, unknown_from)
        # History before now is accounted for: no record of it explains a later change.
        devices.started_at = clock()
        self.resume()

    async def load_names(self) -> NukiError | None:
        """Device names for the events, and the authorizations; the error if that failed."""
        try:
            for lock in await self._web.smartlocks():
                self._devices.name(lock.smartlock_id, lock.name)
        except NukiError as err:
            return err
        finally:
            await self.actors.refresh()
        return None

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """Wait for the log entry of a change (``attributable`` False: a follow-on)."""
        self.watcher.add(change, attributable=attributable)

    def retract(self, change_id: str) -> bool:
        """Drop a pending change without any outcome; whether one was dropped."""
        return self.watcher.retract(change_id)

    def resume(self) -> int:
        """Wait again for the changes pending when the hub last stopped; how many."""
        resumed = 0
        for data in self._outbox.checkpoint.pending:
            try:
                change, attributable = change_from_json(data)
            except (ValueError, KeyError, TypeError) as err:
                _LOGGER.warning("Dropping an unreadable pending change: %s", err)
                continue
            if data.get("answered"):  # by another source before the stop: a cross-check only
                self._outcomes.verdicts.restore(change.change_id)
            self.watcher.add(change, attributable=attributable, due=self._clock())
            resumed += 1
        return resumed

    def pending_json(self) -> list[dict[str, Any]]:
        """The pending changes for the state file; those another source answered say so."""
        answered = self._outcomes.verdicts.answered
        return [
            {**p.to_json(), "answered": True} if answered(p.change.change_id) else p.to_json()
            for p in self.watcher.pending()
        ]

    def close(self, reason: AttributionFailure) -> None:
        """The hub is closing: keep pending changes for the next start, or answer them.

        With a state file they stay in it (saved as the hub closes) and the next start answers
        them; without one each gets ``reason``.
        """
        if self._outbox.state_file is not None:
            self._outbox.checkpoint.pending = self.pending_json()
            self._keep_learnt(self._clock())
            return
        for pending in self.watcher.drop_pending():
            self._outcomes.unavailable(pending.change, reason, WEB_LOG)
        self._outbox.checkpoint.pending = []

    async def _fetch_logs(self, since: datetime) -> list[SmartlockLog]:
        limit = self._timing.catch_up_limit
        # No retries inside the read: the log watcher schedules the next one itself.
        entries = self._web.iter_logs(from_date=since, max_entries=limit, retry=False)
        return [entry async for entry in entries]

    def _skew(self) -> timedelta:
        # Date headers are whole seconds: an estimate under SKEW_FLOOR is noise, not skew,
        # and correcting by it would move a device's own entry out of its window.
        offset = self._web.clock_offset
        return offset if offset is not None and abs(offset) >= SKEW_FLOOR else timedelta(0)

    async def _on_outcome(self, outcome: Outcome) -> None:
        now = self._clock()
        states: dict[str, int | None] = {}  # change id -> state before it, as history goes
        for pending, seen in outcome.hidden:
            change = pending.change
            before = states.get(change.change_id, change.previous)
            states[change.change_id] = await self._hidden(
                seen.entry, change.device_type, before, now
            )
        for pending, seen in outcome.attributed:
            change, entry = pending.change, seen.entry
            actor = await self.actors.actor_for(entry)
            if not self._outcomes.first(change.change_id, WEB_LOG, actor.name):
                # Another source answered first: the entry is accounted for, and a restart
                # must not take it for a change nobody reported.
                self._outbox.checkpoint.mark_emitted(entry.id, entry.date)
                continue
            self._counters.attributed += 1
            identity = self._devices.get(change.smartlock_id).identity()
            event = outcomes.attributed(change, entry, actor, identity, now, source=_source(seen))
            await self._outbox.publish(event, entry.id, entry.date)
        for pending, reason in outcome.unavailable:
            self._outcomes.unavailable(pending.change, reason, WEB_LOG)
        if outcome.gap is not None:
            self._counters.gaps += 1
            await self._outbox.publish(outcomes.catch_up_gap(outcome.gap, now), None, None)
        for seen in outcome.unclaimed:
            entry = seen.entry
            device = self._devices.get(entry.smartlock_id)
            if seen.record.succeeded:
                # A success no callback claimed: a change the hub missed if it moved the state.
                # When its action ended: log dates are whole seconds, at the action's start.
                ended = entry.date - self._skew() - self.watcher.expected_offset(entry.smartlock_id)
                believed = device.state_at(ended)
                await self._hidden(entry, device.device_type, believed, now)
                continue
            self._counters.log_only += 1
            actor = await self.actors.actor_for(entry)
            seen_only = outcomes.observed(
                entry, actor, device.identity(), now, source=_source(seen)
            )
            await self._outbox.publish(seen_only, entry.id, entry.date)
        self._keep_learnt(now)
        await self._outbox.save_pending(self.pending_json())
        await self._outbox.settle()

    def _keep_learnt(self, now: datetime) -> None:
        """Offsets and believed states into the state file: a restart need not learn them."""
        checkpoint = self._outbox.checkpoint
        checkpoint.offsets = offsets_to_json(self.watcher.offsets)
        checkpoint.history = self._devices.history_json()
        checkpoint.history_until = now

    async def _hidden(
        self, entry: SmartlockLog, device_type: int, previous: int | None, now: datetime
    ) -> int | None:
        """Emit a state only the log showed, then who did it; the state it leaves.

        When the entry leaves the state the hub believed anyway, it is reported as it is.
        """
        state = result_state(device_type, entry.action_code)
        identity = self._devices.get(entry.smartlock_id).identity()
        actor = await self.actors.actor_for(entry)
        if state is None or previous is None or state == previous:
            self._counters.log_only += 1
            seen_only = outcomes.observed(entry, actor, identity, now)
            await self._outbox.publish(seen_only, entry.id, entry.date)
            return previous
        self._counters.hidden += 1
        ended = entry.date - self._skew() - self.watcher.expected_offset(entry.smartlock_id)
        self._devices.get(entry.smartlock_id).remember(ended, state)
        name = state_name(device_type, state)
        shown = outcomes.hidden_state(
            entry, previous=previous, state=state, name=name, identity=identity, now=now
        )
        await self._outbox.publish(shown, None, None)
        stand_in = ObservedChange(
            change_id=shown.event_id,
            smartlock_id=entry.smartlock_id,
            device_type=device_type,
            kind=ChangeKind.LOCK_STATE,
            previous=previous,
            current=state,
            observed_at=entry.date - self._skew(),
        )
        self._counters.attributed += 1
        event = outcomes.attributed(stand_in, entry, actor, identity, now)
        await self._outbox.publish(event, entry.id, entry.date)
        return state


class WebLogSource:
    """The Web API log as a source: the hub's `ActionSource` over a `WebSide`.

    Names and authorizations load before the bridges start (events carry names from the
    first one); the reading task starts after them and stops before the answers close.
    """

    name = WEB_LOG

    def __init__(self, web: NukiWebClient, timing: AttributionTiming) -> None:
        self._web = web
        self._timing = timing
        self.side: WebSide | None = None
        self._task: asyncio.Task[None] | None = None

    async def prepare(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Build the reader, resume what was pending, load names and authorizations."""
        side = self.side = WebSide(
            self._web,
            host.outcomes,
            host.outbox,
            host.devices,
            host.counters,
            clock=host.clock,
            sleep=host.sleep,
            timing=self._timing,
            on_health=lambda ok, detail: host.health.web(available=ok, detail=detail),
            undecided=host.undecided,
        )
        stack.callback(side.close, AttributionFailure.HUB_CLOSED)
        error = await side.load_names()
        if error is not None:
            host.health.web(available=False, detail=type(error).__name__)
            host.note_error(error)
        stack.push_async_callback(self._stop)

    async def start(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:  # noqa: ARG002
        """Start reading (the bridges are up: their changes may come now)."""
        if self.side is not None:
            self._task = asyncio.create_task(
                self.side.watcher.run(), name="nukiasync.hub.log_watcher"
            )

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def covers(self, change: ObservedChange) -> bool:  # noqa: ARG002  (the protocol)
        """The account's log covers every device of the account."""
        return self.side is not None

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """Wait for the change's log entry."""
        if self.side is not None:
            self.side.add(change, attributable=attributable)

    def retract(self, change_id: str) -> bool:
        """Drop a contradicted change."""
        return self.side is not None and self.side.retract(change_id)

    def answered(self, change_id: str) -> None:
        """Another source answered: one read at the change's deadline cross-checks it."""
        if self.side is not None:
            for pending in self.side.watcher.pending():  # the watcher's own records
                if pending.change.change_id == change_id:
                    pending.due = max(pending.due, pending.deadline)

    def reconsider(self) -> None:
        """Evaluate soon: records a checked change held may be due."""
        if self.side is not None:
            self.side.watcher.reconsider()

    def diagnostics(self) -> dict[str, Any]:
        """The reader's counters and its task."""
        task = {} if self._task is None else {"log_watcher": _task_state(self._task)}
        if self.side is None:
            return {"tasks": task}
        watcher = self.side.watcher
        return {
            "reads": watcher.reads,
            "read_failures": watcher.read_failures,
            "pending": watcher.pending_count,
            "learnt_lag": watcher.learnt_lag,
            "usual_offsets": {
                str(sid): watcher.expected_offset(sid).total_seconds() for sid in watcher.offsets
            },
            "tasks": task,
        }


def _source(seen: SeenRecord) -> EventSource:
    return EventSource.WEBHOOK if seen.pushed else EventSource.WEB_LOG


def _task_state(task: asyncio.Task[None]) -> str:
    return "done" if task.done() else "running"
