"""The seam every source of "who" plugs into, and the one-outcome rule across sources.

A source (the Web API log, MQTT ``lockActionEvent``, decentral webhooks) is started and closed
by the hub, is handed the state changes that wait for a name, and answers through the hub's
`Outcomes`. The hub drives a list of them and knows none in particular, so a new source is a
new class and one line of wiring. The matching rules (`nukiasync.attribution`) never know
which source a record came from (docs/decisions/0011-who-is-never-wrong.md,
docs/decisions/0015-sources-and-one-outcome.md).

`Verdicts` keeps the rule that joins them: one change gets one outcome. The first source
that names someone answers; a change ends "unavailable" only when every source that took it
gave up. A later answer from another source that names someone else is counted as a
conflict (and logged without names): the first answer stands, never a second event.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from nukiasync.errors import NukiError
from nukiasync.events import AttributionFailure
from nukiasync.hub import outcomes
from nukiasync.hub.delivery import Outbox
from nukiasync.hub.devices import CallbackDiff, DeviceTable, HubCounters
from nukiasync.hub.outcomes import HealthBoard

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Iterable

    from nukiasync.attribution import ObservedChange
    from nukiasync.hub.bus import EventBus

_LOGGER = logging.getLogger(__name__)

REMEMBERED = 4096  # answered changes kept, so a late second answer is recognised
RESTORED = "restored"  # the answering source of a change answered before a restart


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
        self.verdicts = Verdicts()

    def first(self, change_id: str, source: str, who: str | None) -> bool:
        """Whether this source's answer is the change's one outcome (see `Verdicts`)."""
        return self.verdicts.first(change_id, source, who)

    def unavailable(
        self, change: ObservedChange, reason: AttributionFailure, source: str | None = None
    ) -> None:
        """The explicit "could not attribute" for a change, once no source can answer."""
        if not self.verdicts.give_up(change.change_id, source):
            return
        self._counters.unavailable += 1
        identity = self._devices.get(change.smartlock_id).identity()
        self._bus.publish(outcomes.unavailable(change, reason, identity, self._clock()))


@attrs.frozen(kw_only=True)
class SourceHost:
    """What the hub lends a source when it starts it (nothing here is the source's to close)."""

    devices: DeviceTable
    counters: HubCounters
    outbox: Outbox
    outcomes: Outcomes
    health: HealthBoard
    clock: Callable[[], datetime]
    sleep: Callable[[float], Awaitable[None]]
    # A source that also sees state (MQTT) hands its changes in here, like a bridge callback.
    emit: Callable[[CallbackDiff, str | None], None]
    note_error: Callable[[NukiError], None]
    confirm: str = "background"  # the hub's confirm policy (before_emit: bridges confirm state)
    # Whether a device has a change the bridge still checks: its records may be that change's.
    undecided: Callable[[int], bool] = lambda _smartlock_id: False


class ActionSource(Protocol):
    """Something that says who acted; the hub starts it, feeds it changes and closes it."""

    @property
    def name(self) -> str:
        """A short name (``web_log``, ``mqtt``, ``webhook``) for diagnostics and verdicts."""
        ...

    async def prepare(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Set up before the bridges start (names, resumed changes); push the undo on ``stack``.

        A failed hub start unwinds the stack, so whatever this started is stopped.
        """
        ...

    async def start(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Start listening or reading, after the bridges (their changes may come now)."""
        ...

    def covers(self, change: ObservedChange) -> bool:
        """Whether it can answer for this change's device (it will answer if it takes it)."""
        ...

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """Wait for who made a change (``attributable`` False: a follow-on, maybe nobody)."""
        ...

    def retract(self, change_id: str) -> bool:
        """Forget a change the bridge contradicted: no outcome. Whether it was waiting."""
        ...

    def answered(self, change_id: str) -> None:
        """Another source named who made a change: keep it only to cross-check, cheaply."""
        ...

    def reconsider(self) -> None:
        """A change the bridge checked was handed on or dropped: records it held may be due."""
        ...

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state, redacted."""
        ...


@attrs.define
class _Open:
    takers: set[str]


class Verdicts:
    """One outcome per change, whichever sources took it (see the module docstring)."""

    def __init__(self) -> None:
        # Told (change id, the sources still waiting) when a change is answered.
        self.on_answered: Callable[[str, set[str]], None] = lambda _cid, _rest: None
        self._open: dict[str, _Open] = {}
        self._answered: collections.OrderedDict[str, tuple[str, str | None]] = (
            collections.OrderedDict()
        )
        self.duplicates = 0  # a second source answered the same change alike
        self.conflicts = 0  # a second source named someone else: the first answer stands

    def open(self, change_id: str, takers: set[str]) -> None:
        """A change now waits for these sources."""
        if change_id not in self._answered:
            self._open[change_id] = _Open(set(takers))

    def first(self, change_id: str, source: str, who: str | None) -> bool:
        """Whether ``source`` naming ``who`` (the actor's name) is the change's answer.

        A change nobody opened (one resumed from the state file) is answered by whoever comes.
        """
        known = self._answered.get(change_id)
        if known is not None:
            if known[0] == RESTORED:
                pass  # answered before a restart: who it was is not kept
            elif known[1] == who:
                self.duplicates += 1
            else:
                self.conflicts += 1
                _LOGGER.warning(
                    "Sources disagree on who made a change (%s first, %s later): "
                    "the first answer stands",
                    known[0],
                    source,
                )
            return False
        waiting = self._open.pop(change_id, None)
        self._answered[change_id] = (source, who)
        while len(self._answered) > REMEMBERED:
            self._answered.popitem(last=False)
        rest = set() if waiting is None else waiting.takers - {source}
        if rest:
            self.on_answered(change_id, rest)
        return True

    def answered(self, change_id: str) -> bool:
        """Whether the change has its outcome."""
        return change_id in self._answered

    def restore(self, change_id: str) -> None:
        """A change answered before a restart (the state file says so): no second outcome."""
        self._answered[change_id] = (RESTORED, None)

    def give_up(self, change_id: str, source: str | None) -> bool:
        """``source`` cannot answer; whether the change now ends "unavailable" (no one left)."""
        if change_id in self._answered:
            return False
        waiting = self._open.get(change_id)
        if waiting is None or source is None:
            self._open.pop(change_id, None)
            self._answered[change_id] = (source or "hub", None)
            return True
        waiting.takers.discard(source)
        if waiting.takers:
            return False
        del self._open[change_id]
        self._answered[change_id] = (source, None)
        return True

    def forget(self, change_id: str) -> None:
        """A retracted change: no outcome at all."""
        self._open.pop(change_id, None)

    def stats(self) -> dict[str, int]:
        """For diagnostics."""
        return {
            "open": len(self._open),
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
        }


class SourceSet:
    """The hub's sources, driven alike: started, fed changes, asked for diagnostics."""

    def __init__(self, sources: Iterable[ActionSource], outcomes: Outcomes) -> None:
        self.sources = list(sources)
        self._outcomes = outcomes
        outcomes.verdicts.on_answered = self._answered
        names = [source.name for source in self.sources]
        if len(set(names)) != len(names):
            msg = f"every source needs a distinct name, got {names}"
            raise ValueError(msg)

    def find(self, name: str) -> ActionSource | None:
        """The source of that name, if the hub has one."""
        return next((s for s in self.sources if s.name == name), None)

    async def prepare(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Set every source up, in order (the Web API log first: others may feed it)."""
        for source in self.sources:
            await source.prepare(host, stack)

    async def start(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Start every source."""
        for source in self.sources:
            await source.start(host, stack)

    def attribute(self, changes: Iterable[tuple[ObservedChange, bool]]) -> None:
        """Hand each change to the sources that cover its device (or answer that none can)."""
        for change, attributable in changes:
            takers = [s for s in self.sources if s.covers(change)]
            if attributable:
                self._outcomes.verdicts.open(change.change_id, {s.name for s in takers})
                if not takers:
                    self._outcomes.unavailable(change, AttributionFailure.NO_WEB_API)
            for source in takers:
                source.add(change, attributable=attributable)
        for source in self.sources:  # also after an empty hand-on: a dropped change
            source.reconsider()

    def _answered(self, change_id: str, waiting: set[str]) -> None:
        for source in self.sources:
            if source.name in waiting:
                source.answered(change_id)

    def retract(self, change_id: str) -> bool:
        """A change the bridge contradicted: no source answers it."""
        self._outcomes.verdicts.forget(change_id)
        dropped = [source.retract(change_id) for source in self.sources]
        return any(dropped)

    def diagnostics(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Each source's diagnostics, and the tasks they run."""
        found = {s.name: s.diagnostics() for s in self.sources}
        tasks = {k: v for d in found.values() for k, v in d.pop("tasks", {}).items()}
        return {**found, "verdicts": self._outcomes.verdicts.stats()}, tasks
