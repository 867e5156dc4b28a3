"""Scores any correlator against the simulator's ground truth of state changes (B7).

The simulated world records every state change with its real cause (``World.changes``) and
tags each callback it posts, and each MQTT ``state`` message a lock publishes, with the change
it reports. A state event a correlator got from a callback (or from MQTT) is matched to that
message (per device and source, in order, by state: a message that repeats the receiver's
state makes no event), and so to its change. Then each change gets a verdict:

- ``right``: the answer names the log entry that explains the change, or (an answer with no
  log entry of the world: MQTT's) the authorization that really acted (`bench._truth_who`);
- ``wrong``: it names any other entry or anyone else (for a follow-on, which has no entry,
  any name);
- ``unavailable``: "unavailable" was answered; ``none``: no answer at all;
- ``observed``: no state event carried the change (lost callback, repeat), but the entry was
  reported on its own (`LogEntryObserved`); ``hidden``: not even that;
- ``moved`` (an extra verdict): an MQTT name on a move that changed no settled state (a lock
  locked again: it still turned), naming whoever did it;
- ``repeat`` (an extra verdict, not one per change): a state event that no callback or MQTT
  message carried, made up from the log, named the entry of a change that another state event
  carried: the right name on a phantom change, a second report of one action.

A change whose callback event never came can still be answered right: an attribution, on a
state event the correlator made up from the log or a ``/list`` read, that names its entry.
Recall counts the changes whose entry is successful and visible in the Web API before the
deadline; precision counts every name given. Each verdict carries the situation of the
journal record behind the change (for a follow-on, the action it follows).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from bench._truth_who import judge_actor, record_actor, record_at, true_actor
from nukiasync.events import (
    ActionAttributed,
    Actor,
    AttributionUnavailable,
    EventSource,
    LockStateChanged,
    LogEntryObserved,
    StateCorrected,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import timedelta

    from nukiasync.events import NukiEvent
    from nukiasync.simulator import World
    from nukiasync.simulator.truth import StateChange

VERDICTS = ("right", "wrong", "unavailable", "none", "observed", "hidden", "moved", "repeat")


@attrs.frozen(kw_only=True)
class Named:
    """One answer: the entry it names (None: "unavailable"), when it came, and who it names.

    An ``entry_id`` the world never wrote (an MQTT announcement's own id) is judged by
    ``actor`` instead.
    """

    entry_id: str | None
    at: datetime
    actor: Actor | None = None


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
    by: str = "entry"  # how the name was judged: "entry" (the log's id) or "actor" (MQTT)


@attrs.frozen
class _Told:
    """One message that told a receiver a device's state: a callback or an MQTT publish."""

    at: datetime  # when it was sent: a receiver has it after this
    state: int | None
    change: int | None


def _messages(world: World) -> dict[tuple[EventSource, int], list[_Told]]:
    """Every delivered callback and MQTT ``state`` message, per source and device, by time."""
    sent: dict[tuple[EventSource, int], list[_Told]] = defaultdict(list)
    for bridge in world.bridges.values():
        for item in bridge.sent:
            if item.status == 200:
                key = (EventSource.BRIDGE_CALLBACK, item.body.get("nukiId", 0))
                at = item.posted_at or item.at
                sent[key].append(_Told(at, item.body.get("state"), item.change))
    for message in world.mqtt.sent:
        root, _, name = message.topic.rpartition("/")
        if name == "state" and message.payload.isdigit():
            key = (EventSource.MQTT, int(root.rpartition("/")[2], 16))
            sent[key].append(_Told(message.at, int(message.payload), message.change))
    return {key: sorted(items, key=lambda told: told.at) for key, items in sent.items()}


def map_state_events(world: World, events: Iterable[LockStateChanged]) -> dict[str, int]:
    """State event id -> the ground-truth change whose callback or MQTT message produced it.

    An event reports the newest message of its source and device with its state that was sent
    before the event was made and reported nothing yet. (Not simply the next one in order: a
    message that repeated what the receiver believed made no event, and with two sources the
    receiver's belief moves between one source's messages.)
    """
    sent = _messages(world)
    used: dict[tuple[EventSource, int], set[int]] = defaultdict(set)
    mapped: dict[str, int] = {}
    ordered = sorted(
        (e for e in events if e.source in {EventSource.BRIDGE_CALLBACK, EventSource.MQTT}),
        key=lambda e: e.received_at,
    )
    for event in ordered:
        key = (event.source, event.nuki_id or 0)
        best = None
        for index, told in enumerate(sent.get(key, [])):
            if told.at > event.received_at:
                break
            if told.state == event.state and index not in used[key]:
                best = index
        if best is not None:
            used[key].add(best)
            change = sent[key][best].change
            if change is not None:
                mapped[event.event_id] = change
    return mapped


def hub_answers(seen: Iterable[Any]) -> dict[str, Named]:
    """A hub's answers by state event id, from a `Recorder`'s events."""
    answers: dict[str, Named] = {}
    for item in seen:
        event = item.event
        if isinstance(event, ActionAttributed):
            answers[event.state_event_id] = Named(
                entry_id=event.log_entry_id, at=item.sim, actor=event.actor
            )
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
    devices: Collection[int] | None = None,
) -> tuple[list[Verdict], int]:
    """Verdicts for every change, and the count of names given to no change at all.

    ``state_events`` are the state events the correlator saw or made (callbacks, log, heals)
    with the time it saw them; ``answers`` its answers by state event id; ``observed`` the
    entry ids it reported without a state event; ``devices`` (smartlock ids) limits the
    changes judged to those of devices the correlator can see at all.
    """
    locks = [e for e, _ in state_events if isinstance(e, LockStateChanged)]
    mapped = map_state_events(world, locks)
    entries = {entry.id for entry in world.logbook.entries}
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
        if devices is not None and change.smartlock_id not in devices:
            continue
        situation = situations.get(change.record_seq or 0, "other")
        counted = change.attributable and _visible(change, deadline)
        verdict, named, latency, by = _verdict(
            world,
            change,
            by_change=by_change,
            answers=answers,
            seen_at=seen_at,
            loose=loose,
            entries=entries,
        )
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
                by=by,
            )
        )
    verdicts += _repeats(world, loose, situations, devices)
    verdicts += _moved(world, loose, answers, state_events, situations, entries)
    return verdicts, len(loose)


def _repeats(
    world: World,
    loose: dict[str, str],
    situations: Mapping[int, str],
    devices: Collection[int] | None,
) -> list[Verdict]:
    """Names on made-up state events for entries whose change a callback (or MQTT) carried.

    The change was judged by its own state event: this is the right name on a phantom change,
    a second report of one action. Each is taken out of ``loose``.
    """
    explained = {c.log_id: c for c in world.changes if c.log_id is not None}
    found = []
    for entry_id in [e for e in loose if e in explained]:
        change = explained[entry_id]
        if devices is None or change.smartlock_id in devices:
            del loose[entry_id]
            situation = situations.get(change.record_seq or 0, "other")
            found.append(
                Verdict(
                    change=change.seq,
                    situation=situation,
                    kind=change.kind,
                    verdict="repeat",
                    counted=False,
                    named=entry_id,
                )
            )
    return found


def _moved(  # noqa: PLR0917 - the parts of one judgement
    world: World,
    loose: dict[str, str],
    answers: Mapping[str, Named],
    state_events: Sequence[tuple[NukiEvent, datetime]],
    situations: Mapping[int, str],
    entries: set[str],
) -> list[Verdict]:
    """MQTT names on moves that changed no settled state, naming whoever made the move.

    Someone locked a locked lock: it still turned ("locking", then "locked"), and MQTT alone
    reports that. Each is taken out of ``loose``; any other stays a wrong name.
    """
    seen = {e.event_id: (e, at) for e, at in state_events}
    found = []
    for entry_id, event_id in list(loose.items()):
        answer = answers[event_id]
        if entry_id in entries or answer.actor is None or event_id not in seen:
            continue
        event, at = seen[event_id]
        record = record_at(world, getattr(event, "smartlock_id", None), at)
        if record is None or judge_actor(record_actor(world, record), answer.actor) != "right":
            continue
        del loose[entry_id]
        found.append(
            Verdict(
                change=0,
                situation=situations.get(record.seq, "other"),
                kind="no_change",
                verdict="moved",
                counted=False,
                named=entry_id,
                latency=_latency(answer, at),
                by="actor",
            )
        )
    return found


def _visible(change: StateChange, deadline: timedelta) -> bool:
    visible = change.entry_visible_at
    return visible is not None and visible <= change.at + deadline


def _verdict(
    world: World,
    change: StateChange,
    *,
    by_change: Mapping[int, list[str]],
    answers: Mapping[str, Named],
    seen_at: Mapping[str, datetime],
    loose: dict[str, str],
    entries: set[str],
) -> tuple[str, str | None, float | None, str]:
    event_ids = by_change.get(change.seq, [])
    if not event_ids:
        if change.log_id is not None and change.log_id in loose:
            event_id = loose.pop(change.log_id)
            latency = _latency(answers[event_id], seen_at.get(event_id))
            return "right", change.log_id, latency, "entry"
        return "hidden", None, None, "entry"
    event_id = event_ids[0]
    answer = answers.get(event_id)
    if answer is None:
        return "none", None, None, "entry"
    if answer.entry_id is None:
        return "unavailable", None, None, "entry"
    latency = _latency(answer, seen_at.get(event_id))
    if answer.entry_id not in entries and answer.actor is not None:
        # No entry of the world (an MQTT announcement): judged by who it names.
        verdict = judge_actor(true_actor(world, change), answer.actor)
        return verdict, answer.entry_id, latency, "actor"
    if change.log_id is not None and answer.entry_id == change.log_id:
        return "right", answer.entry_id, latency, "entry"
    return "wrong", answer.entry_id, latency, "entry"


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
    repeats: int = 0  # phantom state events made up from the log for a change already carried
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
    every = list(verdicts)
    picked = [v for v in every if v.verdict not in {"repeat", "moved"}]
    named = [v for v in every if v.verdict in {"right", "wrong", "moved"}]
    return Tally(
        changes=len(picked),
        repeats=sum(v.verdict == "repeat" for v in every),
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
