"""Scores any correlator against the simulator's ground truth of state changes (B7).

The simulated world records every state change with its real cause (``World.changes``) and
tags each callback it posts with the change it reports. A state event a correlator got from
a callback is matched to that callback (per device, in order, by state: a callback that
repeats the receiver's state makes no event), and so to its change. Then each change gets a
verdict:

- ``right``: the answer names the log entry that explains the change;
- ``wrong``: it names any other entry (for a follow-on, which has no entry, any name);
- ``unavailable``: "unavailable" was answered; ``none``: no answer at all;
- ``observed``: no state event carried the change (lost callback, repeat), but the entry was
  reported on its own (`LogEntryObserved`); ``hidden``: not even that.

A change whose callback event never came can still be answered right: an attribution, on a
state event the correlator made up from the log or a ``/list`` read, that names its entry.
Recall counts the changes whose entry is successful and visible in the Web API before the
deadline; precision counts every name given. Each verdict carries the situation of the
journal record behind the change (for a follow-on, the action it follows).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    EventSource,
    LockStateChanged,
    LogEntryObserved,
    StateCorrected,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import timedelta

    from nukiasync.events import NukiEvent
    from nukiasync.simulator import World
    from nukiasync.simulator.truth import StateChange

VERDICTS = ("right", "wrong", "unavailable", "none", "observed", "hidden")


@attrs.frozen(kw_only=True)
class Named:
    """One answer: the entry it names (None: "unavailable") and when it came."""

    entry_id: str | None
    at: datetime


@attrs.frozen(kw_only=True)
class Verdict:
    """What a correlator made of one change."""

    change: int
    situation: str
    kind: str  # the change's cause (truth.py): action, auto_lock, lock_n_go_relock, ...
    verdict: str
    counted: bool  # in the recall denominator (successful entry, visible before the deadline)
    named: str | None = None
    latency: float | None = None  # s from the state event to the name


def map_callback_events(world: World, events: Iterable[LockStateChanged]) -> dict[str, int]:
    """State event id -> the ground-truth change whose callback produced it."""
    sent: dict[int, list[Any]] = defaultdict(list)
    for bridge in world.bridges.values():
        for item in bridge.sent:
            if item.status == 200:
                sent[item.body.get("nukiId", 0)].append(item)
    for posts in sent.values():
        posts.sort(key=lambda item: item.at)
    cursor: Counter[int] = Counter()
    mapped: dict[str, int] = {}
    ordered = sorted(
        (e for e in events if e.source == EventSource.BRIDGE_CALLBACK),
        key=lambda e: e.received_at,
    )
    for event in ordered:
        nuki_id = event.nuki_id or 0
        posts = sent[nuki_id]
        for index in range(cursor[nuki_id], len(posts)):
            if posts[index].body.get("state") == event.state:
                cursor[nuki_id] = index + 1
                if posts[index].change is not None:
                    mapped[event.event_id] = posts[index].change
                break
    return mapped


def hub_answers(seen: Iterable[Any]) -> dict[str, Named]:
    """A hub's answers by state event id, from a `Recorder`'s events."""
    answers: dict[str, Named] = {}
    for item in seen:
        event = item.event
        if isinstance(event, ActionAttributed):
            answers[event.state_event_id] = Named(entry_id=event.log_entry_id, at=item.sim)
        elif isinstance(event, AttributionUnavailable):
            answers.setdefault(event.state_event_id, Named(entry_id=None, at=item.sim))
    return answers


def judge(
    world: World,
    state_events: Sequence[tuple[NukiEvent, datetime]],
    answers: Mapping[str, Named],
    *,
    deadline: timedelta,
    situations: Mapping[int, str],
    observed: Iterable[str] = (),
) -> tuple[list[Verdict], int]:
    """Verdicts for every change, and the count of names given to no change at all.

    ``state_events`` are the state events the correlator saw or made (callbacks, log, heals)
    with the time it saw them; ``answers`` its answers by state event id; ``observed`` the
    entry ids it reported without a state event.
    """
    locks = [e for e, _ in state_events if isinstance(e, LockStateChanged)]
    mapped = map_callback_events(world, locks)
    seen_at = {e.event_id: at for e, at in state_events}
    by_change: dict[int, list[str]] = defaultdict(list)
    for event_id, change_seq in mapped.items():
        by_change[change_seq].append(event_id)
    # Names given on state events that no callback carried (made up from the log or /list).
    loose: dict[str, str] = {}
    for event, _ in state_events:
        if event.event_id in mapped or not isinstance(event, LockStateChanged | StateCorrected):
            continue
        answer = answers.get(event.event_id)
        if answer is not None and answer.entry_id is not None:
            loose[answer.entry_id] = event.event_id
    observed_ids = set(observed)
    verdicts: list[Verdict] = []
    for change in world.changes:
        situation = situations.get(change.record_seq or 0, "other")
        counted = change.attributable and _visible(change, deadline)
        verdict, named, latency = _verdict(change, by_change, answers, seen_at, loose)
        if verdict == "hidden" and change.log_id in observed_ids:
            verdict = "observed"
        verdicts.append(
            Verdict(
                change=change.seq,
                situation=situation,
                kind=change.kind,
                verdict=verdict,
                counted=counted,
                named=named,
                latency=latency,
            )
        )
    return verdicts, len(loose)


def _visible(change: StateChange, deadline: timedelta) -> bool:
    visible = change.entry_visible_at
    return visible is not None and visible <= change.at + deadline


def _verdict(
    change: StateChange,
    by_change: Mapping[int, list[str]],
    answers: Mapping[str, Named],
    seen_at: Mapping[str, datetime],
    loose: dict[str, str],
) -> tuple[str, str | None, float | None]:
    event_ids = by_change.get(change.seq, [])
    if not event_ids:
        if change.log_id is not None and change.log_id in loose:
            event_id = loose.pop(change.log_id)
            latency = _latency(answers[event_id], seen_at.get(event_id))
            return "right", change.log_id, latency
        return "hidden", None, None
    event_id = event_ids[0]
    answer = answers.get(event_id)
    if answer is None:
        return "none", None, None
    if answer.entry_id is None:
        return "unavailable", None, None
    latency = _latency(answer, seen_at.get(event_id))
    if change.log_id is not None and answer.entry_id == change.log_id:
        return "right", answer.entry_id, latency
    return "wrong", answer.entry_id, latency


def _latency(answer: Named, seen: datetime | None) -> float | None:
    return (answer.at - seen).total_seconds() if seen is not None else None


@attrs.frozen(kw_only=True)
class Tally:
    """Verdicts of one situation (or all of them) added up."""

    changes: int
    counted: int  # in the recall denominator
    right: int  # right among the counted
    named: int  # names given (right or wrong)
    wrong: int
    unavailable: int
    no_outcome: int  # a state event of a person's change that got no answer at all
    false_unavailable: int  # "unavailable" for a follow-on, which has no entry to find
    hidden: int  # counted changes that no state event carried and nothing reported
    latencies: tuple[float, ...] = ()

    @property
    def precision(self) -> float:
        """Right names among all names given."""
        return (self.named - self.wrong) / self.named if self.named else float("nan")

    @property
    def recall(self) -> float:
        """Counted changes answered with their own entry."""
        return self.right / self.counted if self.counted else float("nan")


def tally(verdicts: Iterable[Verdict], *, loose_wrong: int = 0) -> Tally:
    """Add verdicts up; ``loose_wrong`` are names that matched no change (all wrong)."""
    picked = list(verdicts)
    named = [v for v in picked if v.verdict in {"right", "wrong"}]
    return Tally(
        changes=len(picked),
        counted=sum(v.counted for v in picked),
        right=sum(v.counted and v.verdict == "right" for v in picked),
        named=len(named) + loose_wrong,
        wrong=sum(v.verdict == "wrong" for v in picked) + loose_wrong,
        unavailable=sum(v.verdict == "unavailable" for v in picked),
        no_outcome=sum(v.verdict == "none" and v.counted for v in picked),
        false_unavailable=sum(v.verdict == "unavailable" and v.kind in _FOLLOW_ONS for v in picked),
        hidden=sum(v.verdict == "hidden" and v.counted for v in picked),
        latencies=tuple(v.latency for v in named if v.latency is not None),
    )


_FOLLOW_ONS = frozenset({"unlatch_release", "lock_n_go_relock", "opener_release"})


def failed_entry_delays(world: World, seen: Iterable[Any]) -> list[float]:
    """Seconds from a failed attempt's entry becoming visible to its `LogEntryObserved`."""
    failed = {r.log_id: r.visible_at for r in world.journal if r.state != 0 and r.log_id}
    delays = []
    for item in seen:
        event = item.event
        if isinstance(event, LogEntryObserved) and event.log_entry_id in failed:
            visible = failed.pop(event.log_entry_id)
            if visible is not None:
                delays.append((item.sim - visible).total_seconds())
    return delays
