"""The hub's side of "a callback is a hint, not proof": hold back, or emit then correct.

Each bridge has a `Confirmer` reading its ``/list``. What a policy does with a callback,
field by field (docs/decisions/0014-confirmation-field-by-field.md):

- ``before_emit``: every field of the callback waits for a read; an event is emitted only
  for fields the read confirms (``confirmed=True``). A field it contradicts or cannot
  confirm in time is held back and replaced by what the hub knew, so a true state cannot
  carry a false mode. A ring older than the one ``/list`` keeps cannot be checked: it is
  emitted with ``confirmed=False``. A chain per device keeps each device's order.
- ``background``: events go out at once; each field that produced one is checked after;
  a contradicted field gets a `StateCorrected` (state) or `ClaimCorrected` (the others)
  naming the event it retracts, a device the bridge does not list gets a
  `DeviceRetracted`, and a retracted change leaves the log watcher without an outcome.
- ``off``: nothing is checked.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.attribution import ObservedChange
from nukiasync.bridge.claims import ClaimField, Confirmation, StateClaim
from nukiasync.bridge.confirm import MIN_INTERVAL, Confirmer
from nukiasync.events import (
    BatteryChanged,
    DoorSensorChanged,
    LockStateChanged,
    NukiEvent,
    RingActionReceived,
)
from nukiasync.hub.corrections import Corrections
from nukiasync.hub.fields import (
    claimed_fields,
    passed,
    record_value,
    still_claimed,
    trusted,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from nukiasync.bridge.callbacks import BridgeCallback
    from nukiasync.bridge.claims import ClaimVerdict, DeviceSnapshot
    from nukiasync.bridge.confirm import Policy
    from nukiasync.clock import ClockPair
    from nukiasync.hub.devices import CallbackDiff, DeviceTable, HubCounters

_LOGGER = logging.getLogger(__name__)

_UNSURE = Confirmation.UNCONFIRMED
# s a contradicted claim waits before it is corrected: the bridge shows a newer state in
# /list before it posts that state's callback, so a real change the device already moved
# on from looks false until the next callback arrives (within a second on a LAN).
CORRECTION_GRACE = 1.0


class ClaimChecks:
    """Confirmers per bridge, the before_emit chains, and the corrections (decision 0001)."""

    def __init__(
        self,
        policy: Policy,
        devices: DeviceTable,
        counters: HubCounters,
        *,
        publish: Callable[[NukiEvent], None],
        attribute: Callable[[Iterable[tuple[ObservedChange, bool]]], None],
        retract: Callable[[str], bool],
        on_unconfirmed: Callable[[str], None],
        clock: ClockPair,
        grace: float = CORRECTION_GRACE,
    ) -> None:
        self.policy: Policy = policy
        self._grace = grace
        self._later: set[asyncio.Task[None]] = set()
        self.confirmers: dict[str, Confirmer] = {}
        self._devices = devices
        self._counters = counters
        self._publish = publish
        self._attribute = attribute
        self._on_unconfirmed = on_unconfirmed
        self._clocks = clock  # the Confirmers schedule on its monotonic side
        self._clock = clock.wall
        self._corrections = Corrections(
            devices, counters, publish=publish, retract=retract, clock=clock.wall
        )
        self._chains: dict[int, asyncio.Task[None]] = {}  # last task per device
        self._confirming: set[asyncio.Task[None]] = set()
        # Changes go to the sources in the order they were seen on each device, whatever
        # order their verdicts come in: a later change never overtakes one still checked.
        self._queued: dict[int, collections.deque[_Handoff]] = {}

    async def add_bridge(
        self,
        bridge_id: str,
        read_states: Callable[[], Awaitable[Mapping[int, DeviceSnapshot]]],
        *,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        """Start confirming a bridge's callbacks against its ``/list``."""
        confirmer = Confirmer(
            read_states,
            policy=self.policy,
            on_correction=lambda c: self._after_grace(
                lambda: self._corrections.on_correction(c), contradicted=True
            ),
            name=bridge_id,
            min_interval=min_interval,
            clock=self._clocks.monotonic,
            sleep=self._clocks.sleep,
        )
        self.confirmers[bridge_id] = confirmer
        await confirmer.start()

    async def close(self) -> None:
        """Stop reading; held callbacks end unconfirmed and are not emitted."""
        later, self._later = self._later, set()
        for task in later:
            task.cancel()
        await asyncio.gather(*later, return_exceptions=True)
        for confirmer in self.confirmers.values():
            await confirmer.close()
        await self.settled()

    async def settled(self) -> None:
        """Wait until every held callback was emitted or refused."""
        while self._confirming:
            await asyncio.gather(*self._confirming, return_exceptions=True)

    def stats(self) -> dict[str, Any]:
        """The confirmers' counters, for diagnostics."""
        return {k: attrs.asdict(c.stats) for k, c in self.confirmers.items()}

    def undecided(self, smartlock_id: int) -> bool:
        """Whether a change of the device still waits for its verdict (or a held read)."""
        queue = self._queued.get(smartlock_id)
        return smartlock_id in self._chains or (queue is not None and not queue[0].decided)

    def take(self, bridge_id: str, callback: BridgeCallback) -> None:
        """One callback, under the policy: emit it, hold it for a read, or both.

        Events go to the bus from here, not through a helper: ``hub.handle_callback`` →
        ``CallbackReceiver.deliver`` → ``BridgeLink.take`` → this → ``EventBus.publish`` →
        the subscriber is the whole path of a callback (a test pins its depth).
        """
        now = self._clock()
        sid = callback.smartlock_id
        if self.policy == "before_emit":
            if sid in self._chains or not self._devices.diff(callback, bridge_id, now).duplicate:
                self._chain(bridge_id, callback)
            else:
                self._counters.deduplicated += 1
            return
        self._devices.remember_battery(callback)
        diff = self._devices.diff(callback, bridge_id, now)
        if diff.duplicate:
            self._counters.deduplicated += 1
            return
        claimed = claimed_fields(diff)  # before the emit changes the device record
        self._devices.apply(diff, bridge_id)  # what `_emit` does, inline: see above
        self._counters.emitted += 1
        for event in diff.events:
            self._publish(event)
        handoff = _Handoff(list(diff.changes))
        self._queued.setdefault(sid, collections.deque()).append(handoff)
        if self.policy != "background" or not claimed:
            self._hand_on(sid, handoff, handoff.changes)
            return
        # Who did it is asked only once the bridge has not contradicted the change, so
        # a forged change can never take a real person's log entry.
        claim = StateClaim.from_callback(callback, fields=frozenset(claimed), event_ids=claimed)
        self.confirmers[bridge_id].observe(
            claim,
            lambda verdict: self._after_grace(
                lambda: self._hand_on(
                    sid, handoff, self._not_false(bridge_id, diff, claim, verdict)
                ),
                contradicted=bool(verdict.with_result(Confirmation.CONTRADICTED)),
            ),
        )

    def _hand_on(
        self, sid: int, handoff: _Handoff, changes: list[tuple[ObservedChange, bool]]
    ) -> None:
        """Decide one hand-off, then pass on every decided one at the head, in order."""
        handoff.changes, handoff.decided = changes, True
        queue = self._queued.get(sid)
        while queue and queue[0].decided:
            self._attribute(queue.popleft().changes)
        if queue is not None and not queue:
            del self._queued[sid]

    def _after_grace(self, decide: Callable[[], None], *, contradicted: bool) -> None:
        """Decide now when nothing was contradicted, else after `CORRECTION_GRACE`."""
        if not contradicted or self._grace <= 0:
            decide()
            return

        async def fire() -> None:
            await self._clocks.sleep(self._grace)
            self._later.discard(task)
            decide()

        task = asyncio.create_task(fire(), name="nukiasync.hub.correction_grace")
        self._later.add(task)

    def _not_false(
        self, bridge_id: str, diff: CallbackDiff, claim: StateClaim, verdict: ClaimVerdict
    ) -> list[tuple[ObservedChange, bool]]:
        """The changes to ask "who" for.

        A contradicted one only if the device moved on since, to what the bridge's latest read
        agrees with: a real, quick change, not a flood.
        """
        device = self._devices.get(claim.smartlock_id)
        latest = self.confirmers[bridge_id].snapshot(claim.smartlock_id)
        false = {
            claim.event_ids[f]
            for f in verdict.with_result(Confirmation.CONTRADICTED)
            if not verdict.listed
            or still_claimed(device, claim, f)
            or latest is None
            or latest.value(f) != record_value(device, f)
        }
        return [(c, a) for c, a in diff.changes if c.change_id not in false]

    # before_emit

    def _chain(self, bridge_id: str, callback: BridgeCallback) -> None:
        # Confirm beside the callback queue, so a flood shares one coalesced read.
        sid = callback.smartlock_id
        previous = self._chains.get(sid)
        task = asyncio.create_task(
            self._confirm_then_emit(bridge_id, callback, previous),
            name=f"nukiasync.hub.confirm[{sid}]",
        )
        self._chains[sid] = task
        self._confirming.add(task)
        task.add_done_callback(lambda done: self._chain_done(sid, done))

    def _chain_done(self, smartlock_id: int, task: asyncio.Task[None]) -> None:
        self._confirming.discard(task)
        if self._chains.get(smartlock_id) is task:
            del self._chains[smartlock_id]
            self._attribute(())  # nothing new: the entries this chain held may now be due

    async def _confirm_then_emit(
        self, bridge_id: str, callback: BridgeCallback, previous: asyncio.Task[None] | None
    ) -> None:
        claim = StateClaim.from_callback(callback)  # every field it carries
        verdict = await self.confirmers[bridge_id].confirm_fields(claim)
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        now = self._clock()
        claimed = claimed_fields(self._devices.diff(callback, bridge_id, now))
        if not claimed:
            self._counters.deduplicated += 1
            return
        held = {f for f in claimed if not passed(f, verdict)}
        unreported = {f for f in held if verdict.answered and verdict.fields.get(f) is _UNSURE}
        if unreported:  # /list has no such field: never emitted, not the bridge's fault
            self._counters.unverifiable += 1
            _LOGGER.debug("bridge %s: /list cannot confirm %s", bridge_id, sorted(unreported))
        if held - unreported:
            self._count_held(bridge_id, held - unreported, verdict)
        if held == claimed.keys():
            if not verdict.listed and self._devices.get(callback.smartlock_id).state is None:
                self._devices.forget(callback.smartlock_id)  # only ever claimed
            return
        kept = trusted(callback, self._devices.get(callback.smartlock_id), verdict)
        if kept is None:
            return
        diff = self._devices.diff(kept, bridge_id, now)
        ring_confirmed = verdict.fields.get(ClaimField.RING) is Confirmation.CONFIRMED
        events = tuple(
            _marked(e, ring_confirmed if isinstance(e, RingActionReceived) else True)
            for e in diff.events
        )
        if events:
            self._emit(attrs.evolve(diff, events=events), bridge_id)
            self._attribute(diff.changes)

    def _emit(self, diff: CallbackDiff, bridge_id: str) -> None:
        self._devices.apply(diff, bridge_id)
        self._counters.emitted += 1
        for event in diff.events:
            self._publish(event)

    def _count_held(self, bridge_id: str, held: set[ClaimField], verdict: ClaimVerdict) -> None:
        names = ", ".join(sorted(held))
        if any(verdict.fields.get(f) is Confirmation.CONTRADICTED for f in held):
            self._counters.rejected_contradicted += 1
            _LOGGER.warning(
                "bridge %s: the bridge contradicts a callback (%s); held back", bridge_id, names
            )
        else:
            self._counters.rejected_unconfirmed += 1
            _LOGGER.info("bridge %s: a callback is unconfirmed (%s); held back", bridge_id, names)
            self._on_unconfirmed(bridge_id)


@attrs.define
class _Handoff:
    """A callback's changes on their way to the sources, once the policy has decided."""

    changes: list[tuple[ObservedChange, bool]]
    decided: bool = False


def _marked(event: NukiEvent, confirmed: bool) -> NukiEvent:
    if isinstance(event, LockStateChanged | DoorSensorChanged | BatteryChanged):
        return attrs.evolve(event, confirmed=confirmed)
    if isinstance(event, RingActionReceived):
        return attrs.evolve(event, confirmed=confirmed)
    return event
