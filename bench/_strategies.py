"""Other ways of answering "who did it", written for B4 and B7 to compare the hub against.

Each strategy gets the hub's `LockStateChanged` events (the callback, at once: the same input
the hub has), reads the Web API through a `NukiWebClient` of its own (so its requests are
counted apart), and answers each state event with one log entry id, or ``None`` for
"unavailable". Times are the simulated clock's; waits are in simulated seconds.

- `NaivePerCallback` (B4's baseline): one read of the lock's log per callback, after a fixed
  delay (the log lag), taking the newest lock action.
- `HassNukiNg` (what kvj/hass_nuki_ng does, after our peer survey): no matching to the
  callback; the coordinator reads each lock's log every 30 s and shows the newest entry with
  a lock action, whatever its outcome (its issue #117). A state event's answer is what the
  first read after it shows. The real component also reads the auth list and the log twice
  per lock and cycle; only one log read per lock and cycle is made and counted here, so its
  request figure is a lower bound.
- `Yalexs` (what yalexs' ``ActivityStream`` does for August/Yale, mapped to one Nuki lock
  as a "house"): a push schedules reads at +3 s and then every 4 s (cooldown) while 2 reads
  are pending (so +3 s and +7 s); a new push resets the plan (first read after the cooldown
  if a read ran within it). The "operator" shown is the newest lock action read. A state
  event's answer is the operator shown when its plan ends or the next push on the lock
  arrives; "unavailable" if no read ran in between.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.errors import NukiError
from nukiasync.events import EventSource, LockStateChanged

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Sequence

    from nukiasync import NukiWebClient
    from nukiasync.events import NukiEvent
    from nukiasync.web.models.log import SmartlockLog

# A callback is received a moment after the action's record completes (the same instant in
# the simulator); this much slack covers a loaded machine.
TRUTH_TOLERANCE = timedelta(seconds=0.5)
LOCK_ACTIONS = frozenset({1, 2, 3, 4, 5})  # unlock, lock, unlatch, lock 'n' go (+ unlatch)
PAGE = 10  # entries per read, as yalexs' ACTIVITY_STREAM_FETCH_LIMIT
YALEXS_UPDATE_SOON = 3.0
YALEXS_COOLDOWN = 4.0
YALEXS_READS = 2
HASS_NUKI_NG_POLL = 30.0


def is_callback_state(event: NukiEvent) -> bool:
    """An attributable `LockStateChanged` from a bridge callback (not from a ``/list`` poll)."""
    return (
        isinstance(event, LockStateChanged)
        and event.attributable
        and event.source == EventSource.BRIDGE_CALLBACK
    )


def newest_lock_action(entries: Iterable[SmartlockLog]) -> SmartlockLog | None:
    """The newest entry with a lock action, whatever its outcome (no completion filter)."""
    actions = [e for e in entries if e.action_code in LOCK_ACTIONS]
    return max(actions, key=lambda e: e.date, default=None)


def yalexs_first_delay(now: float, last_read_end: float | None, *, reading: bool) -> float:
    """Seconds from a push to the first read of its plan (``_determine_update_delay``)."""
    if reading or (last_read_end is not None and now - last_read_end < YALEXS_COOLDOWN):
        return YALEXS_COOLDOWN
    return YALEXS_UPDATE_SOON


@attrs.define
class Answer:
    """A strategy's answer to one state event."""

    entry_id: str | None  # None: "unavailable"
    at: datetime


class Strategy:
    """What the three strategies share: the input, the answers, the owned tasks."""

    name = "strategy"

    def __init__(
        self,
        web: NukiWebClient,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Coroutine[Any, Any, None]],
    ) -> None:
        self.web = web
        self.clock = clock
        self.sleep = sleep
        self.answers: dict[str, Answer] = {}
        self.events: list[LockStateChanged] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()

    def __call__(self, event: NukiEvent) -> None:
        """A bus subscriber: take attributable state events that came by callback."""
        if is_callback_state(event):
            self.events.append(event)
            self.on_state(event)

    def on_state(self, event: LockStateChanged) -> None:
        """React to one state event."""
        raise NotImplementedError

    @property
    def requests(self) -> int:
        """Web API requests made so far."""
        return self.web.request_count

    def answered_all(self) -> bool:
        """Whether every state event has its answer."""
        return all(e.event_id in self.answers for e in self.events)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Start an owned task, cancelled by `close`."""
        task = asyncio.get_running_loop().create_task(coro, name=f"bench.{self.name}.{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel and await the tasks, then close the client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.web.close()

    async def newest(self, smartlock_id: int) -> SmartlockLog | None:
        """One read of a lock's log; None if it failed or holds no lock action."""
        try:
            entries = await self.web.logs(smartlock_id, limit=PAGE, retry=False)
        except NukiError:
            return None
        return newest_lock_action(entries)

    def answer(self, event: LockStateChanged, entry: SmartlockLog | None) -> None:
        """Record an answer; a repeated identical answer keeps its first time."""
        entry_id = entry.id if entry is not None else None
        old = self.answers.get(event.event_id)
        if old is None or old.entry_id != entry_id:
            self.answers[event.event_id] = Answer(entry_id, self.clock())
            self._changed.set()

    async def wait_answered(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return once every state event has an answer; TimeoutError after ``timeout``."""
        async with asyncio.timeout(timeout):
            while not self.answered_all():
                self._changed.clear()
                await self._changed.wait()


class NaivePerCallback(Strategy):
    """One read of the lock's log per callback, ``delay`` seconds after it."""

    name = "naive"

    def __init__(self, web: NukiWebClient, *, delay: float, **kw: Any) -> None:
        super().__init__(web, **kw)
        self.delay = delay

    def on_state(self, event: LockStateChanged) -> None:
        """Read once, after the delay."""
        self.spawn(self._read(event), "read")

    async def _read(self, event: LockStateChanged) -> None:
        await self.sleep(self.delay)
        assert event.smartlock_id is not None  # noqa: S101 - state events name their lock
        self.answer(event, await self.newest(event.smartlock_id))


class HassNukiNg(Strategy):
    """Every ``poll`` seconds, each lock's newest lock action answers what came before."""

    name = "hass_nuki_ng"

    def __init__(
        self,
        web: NukiWebClient,
        *,
        locks: Sequence[int],
        poll: float = HASS_NUKI_NG_POLL,
        **kw: Any,
    ) -> None:
        super().__init__(web, **kw)
        self.locks = list(locks)
        self.poll = poll
        self._waiting: dict[int, list[LockStateChanged]] = {lock: [] for lock in self.locks}

    def start(self) -> None:
        """Start the coordinator's poll."""
        self.spawn(self._poll(), "poll")

    def on_state(self, event: LockStateChanged) -> None:
        """Wait for the next poll."""
        assert event.smartlock_id is not None  # noqa: S101
        self._waiting.setdefault(event.smartlock_id, []).append(event)

    async def _poll(self) -> None:
        while True:
            await self.sleep(self.poll)
            for lock in self.locks:
                before, self._waiting[lock] = self._waiting.get(lock, []), []
                entry = await self.newest(lock)
                for event in before:
                    self.answer(event, entry)


class Yalexs(Strategy):
    """A push plans reads at +3 s and +7 s on its lock; a new push resets the plan."""

    name = "yalexs"

    def __init__(self, web: NukiWebClient, **kw: Any) -> None:
        super().__init__(web, **kw)
        self._open: dict[int, list[LockStateChanged]] = {}
        self._left: dict[int, int] = {}
        self._reading: dict[int, bool] = {}
        self._last_read: dict[int, float] = {}
        self._plans: dict[int, asyncio.Task[Any]] = {}
        self._shown: dict[int, SmartlockLog | None] = {}

    def _now(self) -> float:
        return self.clock().timestamp()

    def on_state(self, event: LockStateChanged) -> None:
        """Close the lock's earlier events and plan two reads."""
        lock = event.smartlock_id
        assert lock is not None  # noqa: S101
        self._close(lock)
        self._open[lock] = [event]
        self._left[lock] = YALEXS_READS
        if self._reading.get(lock):
            return  # the running plan goes on with the reads pending again
        plan = self._plans.pop(lock, None)
        if plan is not None:
            plan.cancel()
        delay = yalexs_first_delay(self._now(), self._last_read.get(lock), reading=False)
        task = asyncio.get_running_loop().create_task(
            self._plan(lock, delay), name=f"bench.yalexs.plan[{lock}]"
        )
        self._plans[lock] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _close(self, lock: int) -> None:
        for event in self._open.pop(lock, []):
            if event.event_id not in self.answers:
                self.answer(event, None)

    async def _plan(self, lock: int, delay: float) -> None:
        await self.sleep(delay)
        while True:
            self._reading[lock] = True
            try:
                entry = await self.newest(lock)
            finally:
                self._reading[lock] = False
                self._last_read[lock] = self._now()
            if entry is not None:
                self._shown[lock] = entry
            for event in self._open.get(lock, []):
                if self._shown.get(lock) is not None:
                    self.answer(event, self._shown[lock])
            self._left[lock] -= 1
            if self._left[lock] <= 0:
                break
            await self.sleep(YALEXS_COOLDOWN)
        self._close(lock)


def truth_of_state_events(
    journal: Iterable[Any], events: Iterable[LockStateChanged]
) -> dict[str, Any]:
    """Which journal record caused each state event.

    Per lock, records that changed the state (succeeded, with a callback state) wait in
    order; a state event takes the latest waiting record with its state that completed
    before the event was received, and records passed over lost their callback (or the hub
    took their callback as a repeat).
    """
    waiting: dict[int, list[Any]] = {}
    for record in sorted(journal, key=lambda r: r.seq):
        if record.state == 0 and record.resulting_state is not None and record.person is not None:
            waiting.setdefault(record.smartlock_id, []).append(record)
    truth: dict[str, Any] = {}
    for event in sorted(events, key=lambda e: e.received_at):
        queue = waiting.get(event.smartlock_id or 0, [])
        done = [
            i
            for i, record in enumerate(queue)
            if record.completed_at <= event.received_at + TRUTH_TOLERANCE
        ]
        for i in reversed(done):
            if queue[i].resulting_state == event.state:
                truth[event.event_id] = queue[i]
                del queue[: i + 1]
                break
    return truth


def hub_answers(seen: Iterable[Any]) -> dict[str, Answer]:
    """The hub's answers from a `Recorder`'s events: an entry id, or None for unavailable."""
    from nukiasync.events import ActionAttributed, AttributionUnavailable  # noqa: PLC0415

    answers: dict[str, Answer] = {}
    for item in seen:
        event = item.event
        if isinstance(event, ActionAttributed):
            answers[event.state_event_id] = Answer(event.log_entry_id, item.sim)
        elif isinstance(event, AttributionUnavailable):
            answers[event.state_event_id] = Answer(None, item.sim)
    return answers


@attrs.frozen(kw_only=True)
class Score:
    """How one strategy did on one timeline."""

    actions: int  # journal actions that changed a lock's state
    state_events: int
    answered: int  # answers naming an entry
    right: int
    unavailable: int  # state events answered "unavailable" or not at all
    from_log: int  # actions without a state event, reported from the log alone (hub)
    latencies: tuple[float, ...]  # s from the state event to a named answer
    requests: int
    right_seqs: frozenset[int] = frozenset()  # journal seqs answered with their own entry

    @property
    def precision(self) -> float:
        """Right answers among the answers that name an entry."""
        return self.right / self.answered if self.answered else float("nan")

    @property
    def recall(self) -> float:
        """Actions answered with their own entry."""
        return self.right / self.actions if self.actions else float("nan")


def score(
    journal: Sequence[Any],
    events: Sequence[tuple[LockStateChanged, datetime]],
    answers: dict[str, Answer],
    *,
    requests: int,
    observed: Iterable[str] = (),
) -> Score:
    """Score answers against the world's journal.

    ``events`` are the attributable state events with the time they were seen; ``observed``
    the log entry ids a strategy reported without a state event (the hub's
    `LogEntryObserved`), which count as right for actions whose callback was lost.
    """
    actions = [r for r in journal if r.state == 0 and r.resulting_state is not None and r.person]
    truth = truth_of_state_events(journal, [event for event, _ in events])
    linked = {record.seq for record in truth.values()}
    right = answered = unavailable = 0
    right_seqs: set[int] = set()
    latencies: list[float] = []
    for event, seen_at in events:
        answer = answers.get(event.event_id)
        if answer is None or answer.entry_id is None:
            unavailable += 1
            continue
        answered += 1
        latencies.append((answer.at - seen_at).total_seconds())
        record = truth.get(event.event_id)
        if record is not None and record.log_id == answer.entry_id:
            right += 1
            right_seqs.add(record.seq)
    observed_ids = set(observed)
    from_log_seqs = {r.seq for r in actions if r.seq not in linked and r.log_id in observed_ids}
    from_log = len(from_log_seqs)
    return Score(
        actions=len(actions),
        state_events=len(events),
        answered=answered + from_log,
        right=right + from_log,
        unavailable=unavailable,
        from_log=from_log,
        latencies=tuple(latencies),
        requests=requests,
        right_seqs=frozenset(right_seqs | from_log_seqs),
    )
