"""The hub's Web API half: reads the log for pending changes and publishes who did it.

The hub hands it state changes; it owns the `LogWatcher` (when to read, what matched), the
`ActorDirectory` (who an auth id is), and publishes attributions and unclaimed entries through
the outbox, so delivery after a crash stays at least once with stable ids.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from nukiasync.attribution import ChangeKind, ObservedChange, result_state
from nukiasync.errors import NukiError
from nukiasync.hub import outcomes
from nukiasync.hub.actors import ActorDirectory
from nukiasync.hub.devices import state_name
from nukiasync.hub.sources.log_pending import change_from_json
from nukiasync.hub.sources.log_watcher import AttributionTiming, LogWatcher, Outcome

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from nukiasync.events import AttributionFailure
    from nukiasync.hub.bus import EventBus
    from nukiasync.hub.delivery import Outbox
    from nukiasync.hub.devices import DeviceTable, HubCounters
    from nukiasync.web.client import NukiWebClient
    from nukiasync.web.models.log import SmartlockLog

_LOGGER = logging.getLogger(__name__)

SKEW_FLOOR = timedelta(seconds=1)


class Outcomes:
    """Publishes the answers to "who": attributions, unavailability, unclaimed entries."""

    def __init__(
        self,
        bus: EventBus,
        outbox: Outbox,
        devices: DeviceTable,
        counters: HubCounters,
        clock: Callable[[], datetime],
    ) -> None:
        self._bus = bus
        self._outbox = outbox
        self._devices = devices
        self._counters = counters
        self._clock = clock

    def unavailable(self, change: ObservedChange, reason: AttributionFailure) -> None:
        """The explicit "could not attribute" for a change."""
        self._counters.unavailable += 1
        identity = self._devices.get(change.smartlock_id).identity()
        self._bus.publish(outcomes.unavailable(change, reason, identity, self._clock()))


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
            self.watcher.add(change, attributable=attributable, due=self._clock())
            resumed += 1
        return resumed

    def close(self, reason: AttributionFailure) -> None:
        """The hub is closing: keep pending changes for the next start, or answer them.

        With a state file they stay in it (saved as the hub closes) and the next start answers
        them; without one each gets ``reason``.
        """
        if self._outbox.state_file is not None:
            self._outbox.checkpoint.pending = [p.to_json() for p in self.watcher.pending()]
            return
        for pending in self.watcher.drop_pending():
            self._outcomes.unavailable(pending.change, reason)
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
            self._counters.attributed += 1
            actor = await self.actors.actor_for(entry)
            identity = self._devices.get(change.smartlock_id).identity()
            event = outcomes.attributed(change, entry, actor, identity, now)
            await self._outbox.publish(event, entry.id, entry.date)
        for pending, reason in outcome.unavailable:
            self._outcomes.unavailable(pending.change, reason)
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
            await self._outbox.publish(
                outcomes.observed(entry, actor, device.identity(), now), entry.id, entry.date
            )
        await self._outbox.save_pending([p.to_json() for p in self.watcher.pending()])
        await self._outbox.settle()

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
