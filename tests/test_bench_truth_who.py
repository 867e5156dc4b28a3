"""B7's scoring of answers that name no log entry (MQTT's): judged by who really acted.

A real simulated world acts (app, keypad, a knob turned by hand, an unlatch and its release);
answers are made up for the state events a plain receiver would make, once honest and once
naming someone else, and the scorer must tell them apart: a scorer that calls every name
right fails here. The mapping of MQTT state events to their change is checked on a real broker
with a second source (the bridge) in between.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import attrs
import pytest

from bench._situations import KEYPAD_CODE, b7_knobs, build_world, toggle
from bench._truth_score import Named, judge, map_state_events, tally
from bench._truth_who import TrueActor, judge_actor, true_actor
from nukiasync.const import LockAction, LockState, LogState
from nukiasync.events import Actor, EventSource, LockStateChanged
from tests.support.bench_world import events_of, fast_world
from tests.support.mqtt_broker import running_broker
from tests.support.simulator import DEADLINE, receiver

if TYPE_CHECKING:
    from pathlib import Path

    from nukiasync.simulator import World
    from nukiasync.simulator.people import Authorization

ANN = TrueActor(ids=frozenset({"auth-ann", "3"}), name="Ann")


@pytest.mark.parametrize(
    ("truth", "actor", "verdict"),
    [
        (ANN, Actor(name="Ann", auth_id="auth-ann"), "right"),
        (ANN, Actor(name="Ann", auth_id="3"), "right"),  # the lock's own id (a user's mapping)
        (ANN, Actor(name="Ann"), "right"),  # a name only
        (ANN, Actor(name="Ann", auth_id="auth-ben"), "wrong"),  # Ann's name, Ben's auth
        (ANN, Actor(name="Ben", auth_id="auth-ben"), "wrong"),
        (ANN, Actor(name="Ben"), "wrong"),
        (ANN, Actor(), "wrong"),  # "nobody" for Ann's action
        (TrueActor(), Actor(), "right"),  # by hand, and the answer names nobody
        (TrueActor(), Actor(name="Ann", auth_id="auth-ann"), "wrong"),
        (TrueActor(follow_on=True), Actor(), "wrong"),  # a follow-on has no answer at all
        (TrueActor(follow_on=True), Actor(name="Ann", auth_id="auth-ann"), "wrong"),
    ],
)
def test_an_actor_is_right_only_when_it_is_who_acted(
    truth: TrueActor, actor: Actor, verdict: str
) -> None:
    assert judge_actor(truth, actor) == verdict


def _auth(world: World, person: str | None, smartlock_id: int, *, keypad: bool) -> Authorization:
    return next(
        a
        for a in world.auths
        if a.holder == person and a.smartlock_id == smartlock_id and (a.code is not None) == keypad
    )


def _as_mqtt_names(auth: Authorization) -> Actor:
    """What the hub's MQTT names make of an authorization from the Web API."""
    return Actor(name=auth.name, auth_id=auth.id, account_user_id=auth.account_user_id)


async def test_mqtt_answers_are_judged_by_who_and_a_wrong_person_is_wrong() -> None:
    world = fast_world(seed=11)
    async with world, receiver() as rec:
        believed = {d.nuki_id: d.state for d in world.devices}
        world.bridge.callbacks.append((0, rec.url("/cb")))
        ann, ben = world.person("Ann"), world.person("Ben")
        door1, door2 = world.device("Door 1"), world.device("Door 2")
        await world.act(ann, door2, toggle(door2))
        await world.act(ben, door1, toggle(door1), via="keypad", code=KEYPAD_CODE + 1)
        await world.act(None, door2, toggle(door2), via="manual")
        if door2.state != LockState.LOCKED:
            await world.act(ann, door2, LockAction.LOCK)
        await world.act(ben, door2, LockAction.UNLATCH)
        await world.wait_until(lambda: door2.state == LockState.UNLOCKED, deadline=DEADLINE)
        await world.act(ann, door1, toggle(door1), outcome=LogState.REJECTED)  # no change
        await world.act(ben, door2, LockAction.LOCK)
        again = await world.act(ann, door2, LockAction.LOCK)  # it turns, and changes nothing
        await world.bridge.drain()
        bodies = [body for _, body, _ in rec.received]

    events = events_of(world, believed, bodies)
    mapped = map_state_events(world, events)
    assert len(mapped) == len(events) >= 5
    seen = [(event, event.received_at) for event in events]
    kinds = {c.seq: c.kind for c in world.changes}
    assert {"action", "unlatch_release"} <= set(kinds.values())
    other = {"Ann": "Ben", "Ben": "Ann"}
    honest: dict[str, Named] = {}
    liar: dict[str, Named] = {}
    for n, event in enumerate(events):
        change = world.changes[mapped[event.event_id] - 1]
        at = event.received_at + timedelta(seconds=0.1)
        entry = f"mqtt-{n}"  # an id of the source's own, no entry of the world
        if change.follow_on:
            liar[event.event_id] = Named(entry_id=entry, at=at, actor=Actor())
            continue
        record = world.journal[(change.record_seq or 0) - 1]
        keypad = record.via == "keypad"
        if change.person is None:
            honest[event.event_id] = Named(entry_id=entry, at=at, actor=Actor())
            someone = _auth(world, "Ann", change.smartlock_id, keypad=False)
            liar[event.event_id] = Named(entry_id=entry, at=at, actor=_as_mqtt_names(someone))
            continue
        mine = _auth(world, change.person, change.smartlock_id, keypad=keypad)
        assert true_actor(world, change).ids == {mine.id, str(mine.auth_id)}
        honest[event.event_id] = Named(entry_id=entry, at=at, actor=_as_mqtt_names(mine))
        theirs = _auth(world, other[change.person], change.smartlock_id, keypad=keypad)
        liar[event.event_id] = Named(entry_id=entry, at=at, actor=_as_mqtt_names(theirs))

    deadline = timedelta(seconds=45)
    verdicts, loose = judge(world, seen, honest, deadline=deadline, situations={})
    right = tally(verdicts, loose_wrong=loose)
    assert {v.by for v in verdicts if v.verdict == "right"} == {"actor"}
    assert (right.wrong, right.named, right.precision) == (0, len(honest), 1.0)
    assert right.right == right.counted > 0

    verdicts, loose = judge(world, seen, liar, deadline=deadline, situations={})
    wrong = tally(verdicts, loose_wrong=loose)
    assert (wrong.wrong, wrong.right, wrong.precision) == (len(liar), 0, 0.0)
    assert {v.kind for v in verdicts if v.verdict == "wrong"} >= {"action", "unlatch_release"}

    # A real entry is judged by the entry, whoever it names: another change's entry is wrong.
    first, second = events[0], events[1]
    first_change = world.changes[mapped[first.event_id] - 1]
    mixed = {
        second.event_id: Named(
            entry_id=first_change.log_id, at=second.received_at, actor=honest[second.event_id].actor
        )
    }
    verdicts, _ = judge(world, seen, mixed, deadline=deadline, situations={})
    judged = [v for v in verdicts if v.verdict in {"right", "wrong"}]
    assert [(v.verdict, v.by) for v in judged] == [("wrong", "entry")]

    # A state event made up from the log, naming the entry of a change a callback carried:
    # a phantom repeat of that change (the right name, reported twice), not a right answer.
    # One naming an entry that explains no change is a wrong name.
    assert first_change.log_id is not None
    no_change = next(r.log_id for r in world.journal if r.state != 0)  # a failed attempt
    made_up = [_event(f"log-{n}", EventSource.WEB_LOG, 0, 1, event.received_at) for n in (1, 2)]
    answers = {
        **honest,
        "log-1": Named(entry_id=first_change.log_id, at=made_up[0].received_at),
        "log-2": Named(entry_id=no_change, at=made_up[1].received_at),
    }
    with_made_up = [*seen, *((e, e.received_at) for e in made_up)]
    verdicts, loose = judge(world, with_made_up, answers, deadline=deadline, situations={})
    counted = tally(verdicts, loose_wrong=loose)
    assert [v.change for v in verdicts if v.verdict == "repeat"] == [first_change.seq]
    assert (counted.repeats, loose, counted.wrong) == (1, 1, 1)
    assert counted.changes == len(world.changes)

    # MQTT alone also reports a move that changed no settled state (Ann locked a locked lock):
    # naming Ann is right, naming Ben wrong.
    moved = _event("mqtt-moved", EventSource.MQTT, door2.nuki_id, 1, again.completed_at)
    moved = attrs.evolve(moved, smartlock_id=door2.smartlock_id)
    for who, verdict, wrong_names in (("Ann", "moved", 0), ("Ben", None, 1)):
        actor = _as_mqtt_names(_auth(world, who, door2.smartlock_id, keypad=False))
        answers = {
            **honest,
            "mqtt-moved": Named(entry_id="mqtt-x", at=moved.received_at, actor=actor),
        }
        verdicts, loose = judge(
            world, [*seen, (moved, moved.received_at)], answers, deadline=deadline, situations={}
        )
        counted = tally(verdicts, loose_wrong=loose)
        assert [v.verdict for v in verdicts if v.change == 0] == ([verdict] if verdict else [])
        assert counted.wrong == wrong_names
        assert counted.named == len(honest) + 1


@pytest.mark.sockets
async def test_mqtt_state_events_map_to_their_change_with_a_bridge_in_between(
    tmp_path: Path,
) -> None:
    async with running_broker("amqtt", tmp_path) as broker:
        world = build_world(
            seed=4, knobs=b7_knobs(motor_time=0.4), speed=20.0, mqtt_url=broker.url()
        )
        async with world, receiver() as rec:
            world.bridge.callbacks.append((0, rec.url("/cb")))
            await world.wait_until(lambda: world.mqtt.connected, deadline=DEADLINE)
            door = world.device("Door 3")
            start = door.state
            ann = world.person("Ann")
            await world.act(ann, door, toggle(door))
            await world.act(ann, door, toggle(door))  # back where the lock started
            await world.wait_until(
                lambda: sum(m.change is not None for m in world.mqtt.sent) == 2, deadline=DEADLINE
            )
            await world.bridge.drain()
    first, second = world.changes[-2:]
    assert second.after == start  # the state the lock published at connect
    states = [m for m in world.mqtt.sent if m.topic.endswith("/state")]
    assert (states[0].payload, states[0].change) == (str(start), None)  # at connect
    assert [m.change for m in states if m.change is not None] == [first.seq, second.seq]
    # The bridge told the first change (MQTT's news was no news then), MQTT the second.
    post = next(p for p in world.bridge.sent if p.change == first.seq)
    tagged = next(m for m in states if m.change == second.seq)
    events = [
        _event("bridge", EventSource.BRIDGE_CALLBACK, door.nuki_id, first.after, post.posted_at),
        _event("mqtt", EventSource.MQTT, door.nuki_id, second.after, tagged.at),
    ]
    assert map_state_events(world, events) == {"bridge": first.seq, "mqtt": second.seq}


def _event(
    event_id: str, source: EventSource, nuki_id: int, state: int, sent_at: object
) -> LockStateChanged:
    assert sent_at is not None
    return LockStateChanged(
        event_id=event_id,
        received_at=sent_at + timedelta(milliseconds=1),  # type: ignore[operator]
        source=source,
        nuki_id=nuki_id,
        smartlock_id=0,
        previous_state=None,
        state=state,
        state_name="",
    )
