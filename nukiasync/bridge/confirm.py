"""Confirm callbacks against the bridge's own state: a callback is a hint, not proof.

Anyone on the LAN who knows the callback URL can post a state (decision 0001), and the
bridge cannot sign. Its ``/list`` can be trusted, so `Confirmer` compares claims with
reads of it, under the rules of decision 0001:

- a claim is confirmed when a read *started after it* shows the claimed state, or
  shows a change since the snapshot taken before the claim, and the claimed state lies
  on the shortest legal path from the old state to the new (:func:`on_shortest_path`);
  every other field (mode, door sensor, batteries, ring) is judged on its own, by the
  rules of `nukiasync.bridge.claims`, so a true state cannot carry a false mode;
- reads are coalesced: at most one in flight, and every claim that arrived during a
  read is served by the next single read, spaced ``min_interval`` apart, so a flood
  cannot overload the bridge (it serves one request at a time);
- bridge timestamps are never compared with ours (callbacks carry none; clocks drift).

The caller starts confirmation only after the bridge got its 200 (the bridge is still
waiting for our answer while it posts); `CallbackServer` delivers callbacks after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Self

import attrs

from nukiasync.bridge.claims import (  # the claim types are re-exported for callers
    ClaimVerdict,
    Confirmation,
    DeviceSnapshot,
    StateClaim,
    verdict_of,
)
from nukiasync.bridge.transitions import is_follow_on, near_path, on_shortest_path

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping


_LOGGER = logging.getLogger(__name__)

DEADLINE = 5.0  # s a before_emit caller waits for the bridge (decision 0001) before "unconfirmed"
MIN_INTERVAL = 0.5  # s between reads: bridges stall when asked more often

Policy = Literal["background", "before_emit", "off"]
_POLICIES = ("background", "before_emit", "off")


@attrs.frozen(kw_only=True)
class Correction:
    """One per contradicted device and read: the state the bridge reports instead.

    ``snapshot`` is None when the bridge does not list the device at all (a phantom,
    or a known ``nukiId`` with the wrong ``deviceType``). ``verdicts`` go with
    ``claims``, one each, and say which fields were contradicted.
    """

    smartlock_id: int
    snapshot: DeviceSnapshot | None
    claims: tuple[StateClaim, ...]
    verdicts: tuple[ClaimVerdict, ...] = attrs.field(default=(), eq=False)


@attrs.frozen(kw_only=True)
class ConfirmerStats:
    """Counters: reads made and failed, and claims by outcome."""

    reads: int
    read_failures: int
    confirmed: int
    contradicted: int
    unconfirmed: int
    corrections: int


def is_confirmed(
    claim: StateClaim, before: DeviceSnapshot | None, after: DeviceSnapshot | None
) -> bool:
    """Apply decision 0001's rule to one claim, the snapshot before it and a read after it.

    True when every field the claim checks is confirmed (see `nukiasync.bridge.claims`).
    """
    verdict = verdict_of(claim, before, after, on_shortest_path, follow_on=is_follow_on)
    # A follow-on is a legal path: the state was left by itself, not contradicted.
    results = set(verdict.fields.values())
    return bool(results) and results <= {Confirmation.CONFIRMED, Confirmation.SUPERSEDED}


@attrs.define
class _Pending:
    claim: StateClaim
    before: DeviceSnapshot | None
    future: asyncio.Future[ClaimVerdict] | None = None
    on_verdict: Callable[[ClaimVerdict], None] | None = None
    done: bool = False


class Confirmer:
    """Check claims against coalesced reads of the bridge, under a policy (decision 0001).

    ``background``: :meth:`observe` a claim after emitting it; a device the bridge
    contradicts gets one `Correction` per read through ``on_correction``.
    ``before_emit``: ``await`` :meth:`confirm` (or :meth:`confirm_fields`, field by
    field) before emitting; the answer is confirmed, contradicted, or unconfirmed when
    the bridge does not answer within ``deadline``.
    ``off``: nothing is read.
    """

    def __init__(
        self,
        read_states: Callable[[], Awaitable[Mapping[int, DeviceSnapshot]]],
        *,
        policy: Policy = "background",
        on_correction: Callable[[Correction], None] | None = None,
        deadline: float = DEADLINE,
        min_interval: float = MIN_INTERVAL,
        prime: bool = True,
        name: str = "bridge",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create a confirmer; nothing is read until :meth:`start`.

        Args:
            read_states: reads the bridge (``/list``), keyed by smartlock_id.
            policy: ``"background"``, ``"before_emit"`` or ``"off"``.
            on_correction: called (sync, in the loop) with each correction.
            deadline: seconds :meth:`confirm` waits before "unconfirmed".
            min_interval: seconds between the starts of two reads.
            prime: take a first snapshot on start, so early claims have a "before".
            name: names the task and the log lines.
            clock: monotonic seconds; tests inject a fake.
            sleep: waits for spacing and deadlines; tests inject a fake.

        Raises:
            ValueError: unknown policy.
        """
        if policy not in _POLICIES:
            msg = f"policy must be one of {_POLICIES}, not {policy!r}"
            raise ValueError(msg)
        self.policy: Policy = policy
        self._read_states = read_states
        self._on_correction = on_correction
        self._deadline = deadline
        self._min_interval = min_interval
        self._prime = prime
        self._name = name
        self._clock = clock
        self._sleep = sleep
        self._snapshots: dict[int, DeviceSnapshot] = {}
        self._waiting: list[_Pending] = []
        self._reading: list[_Pending] = []  # the batch of the read in flight
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_start: float | None = None
        self._failing = False
        self._counts = dict.fromkeys(attrs.fields_dict(ConfirmerStats), 0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def stats(self) -> ConfirmerStats:
        """A snapshot of the counters."""
        return ConfirmerStats(**self._counts)

    def snapshot(self, smartlock_id: int) -> DeviceSnapshot | None:
        """The last state the bridge reported for a device."""
        return self._snapshots.get(smartlock_id)

    async def start(self) -> None:
        """Start the reader task (and the first read, with ``prime``).

        Raises:
            RuntimeError: already started.
        """
        if self._task is not None:
            msg = "confirmer already started"
            raise RuntimeError(msg)
        if self.policy == "off":
            return
        self._task = asyncio.create_task(self._run(), name=f"nukiasync.confirm[{self._name}]")

    async def close(self) -> None:
        """Stop reading; callers still waiting get "unconfirmed"."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        waiting, self._waiting = [*self._reading, *self._waiting], []
        for pending in waiting:  # a read cut short answers no one: "unconfirmed"
            self._finish(pending, ClaimVerdict.every(pending.claim, Confirmation.UNCONFIRMED))

    def observe(
        self, claim: StateClaim, on_verdict: Callable[[ClaimVerdict], None] | None = None
    ) -> None:
        """Check a claim in the background (call it after the bridge got its 200).

        ``on_verdict`` is called (sync, in the loop) with the verdict, before any
        correction of the same read.
        """
        if self.policy != "off":
            before = self._snapshots.get(claim.smartlock_id)
            self._enqueue(_Pending(claim, before, on_verdict=on_verdict))

    async def confirm(self, claim: StateClaim) -> Confirmation:
        """Wait for the bridge's verdict on a claim, at most ``deadline`` seconds."""
        return (await self.confirm_fields(claim)).overall

    async def confirm_fields(self, claim: StateClaim) -> ClaimVerdict:
        """The bridge's verdict on each field of a claim, at most ``deadline`` seconds."""
        if self.policy == "off":
            return ClaimVerdict.every(claim, Confirmation.SKIPPED)
        future: asyncio.Future[ClaimVerdict] = asyncio.get_running_loop().create_future()
        pending = _Pending(claim, self._snapshots.get(claim.smartlock_id), future)
        self._enqueue(pending)
        timer = asyncio.create_task(
            self._wait_deadline(), name=f"nukiasync.confirm[{self._name}].deadline"
        )
        try:
            racers: set[asyncio.Future[Any]] = {future, timer}
            await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
            if not future.done():
                self._finish(pending, ClaimVerdict.every(claim, Confirmation.UNCONFIRMED))
        return future.result()

    def _enqueue(self, pending: _Pending) -> None:
        self._waiting.append(pending)
        self._wake.set()

    async def _wait_deadline(self) -> None:
        await self._sleep(self._deadline)

    async def _run(self) -> None:
        if self._prime:
            await self._read([])
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                if self._last_start is not None:
                    wait = self._last_start + self._min_interval - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                batch, self._waiting = self._waiting, []  # taken as the read starts
                self._reading = batch
                await self._read(batch)
                self._reading = []

    async def _read(self, batch: list[_Pending]) -> None:
        self._last_start = self._clock()
        self._counts["reads"] += 1
        try:
            states = await self._read_states()
        except Exception as err:  # noqa: BLE001 - any reader failure means "no answer"
            self._counts["read_failures"] += 1
            log = _LOGGER.debug if self._failing else _LOGGER.warning
            log("%s: cannot read states to confirm callbacks: %r", self._name, err)
            self._failing = True
            for pending in batch:
                self._finish(pending, ClaimVerdict.every(pending.claim, Confirmation.UNCONFIRMED))
            return
        self._failing = False
        contradicted: dict[int, list[tuple[StateClaim, ClaimVerdict]]] = {}
        for pending in batch:
            sid = pending.claim.smartlock_id
            after = states.get(sid)
            verdict = verdict_of(
                pending.claim,
                pending.before,
                after,
                on_shortest_path,
                near_path,
                follow_on=is_follow_on,
            )
            self._finish(pending, verdict)
            if pending.future is None and verdict.with_result(Confirmation.CONTRADICTED):
                contradicted.setdefault(sid, []).append((pending.claim, verdict))
        self._snapshots.clear()  # a device no longer listed has no "before" either
        self._snapshots.update(states)
        for sid, pairs in contradicted.items():
            self._correct(
                Correction(
                    smartlock_id=sid,
                    snapshot=states.get(sid),
                    claims=tuple(claim for claim, _ in pairs),
                    verdicts=tuple(verdict for _, verdict in pairs),
                )
            )

    def _correct(self, correction: Correction) -> None:
        self._counts["corrections"] += 1
        _LOGGER.warning(
            "%s: bridge contradicts %d callback(s) for device %d; it reports %s",
            self._name,
            len(correction.claims),
            correction.smartlock_id,
            correction.snapshot,
        )
        if self._on_correction is not None:
            try:
                self._on_correction(correction)
            except Exception:
                _LOGGER.exception("%s: correction handler failed", self._name)

    def _finish(self, pending: _Pending, verdict: ClaimVerdict) -> None:
        if pending.done:
            return
        pending.done = True
        if pending.future is not None:
            if pending.future.done():
                return  # the caller gave up and was counted then
            pending.future.set_result(verdict)
        self._counts[str(verdict.overall)] += 1
        if pending.on_verdict is not None:
            try:
                pending.on_verdict(verdict)
            except Exception:
                _LOGGER.exception("%s: verdict handler failed", self._name)
