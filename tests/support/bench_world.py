"""B7's world for tests: played fast, and what a plain callback receiver makes of it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bench._situations import b7_knobs, build_world
from nukiasync.events import EventSource, LockStateChanged

if TYPE_CHECKING:
    from nukiasync.simulator import World


def fast_world(seed: int) -> World:
    """B7's world 40x faster than real time, with shorter physics (simulated seconds)."""
    knobs = b7_knobs(
        log_lag=(0.5, 3.0),
        slow_log_lag=(2.0, 4.0),
        motor_time=0.4,
        unlatch_hold=2.0,
        lock_n_go_delay=4.0,
        opener_open_time=2.0,
        ring_reset=4.0,
        callback_timeout=0.5,
    )
    return build_world(seed=seed, knobs=knobs, speed=40.0)


def events_of(
    world: World, believed: dict[int, int], bodies: list[dict[str, object]]
) -> list[LockStateChanged]:
    """What a plain receiver makes of the callbacks: an event when the state differs.

    Each event is dated when its POST began (the receiver had it during the POST).
    """
    events = []
    posted = [item.posted_at or item.at for item in world.bridge.sent if item.status == 200]
    assert len(posted) == len(bodies)
    for index, body in enumerate(bodies):
        nuki_id, state = int(str(body["nukiId"])), int(str(body["state"]))
        if believed.get(nuki_id) == state:
            continue  # a repeat: what the receiver believes already
        previous = believed.get(nuki_id)
        believed[nuki_id] = state
        events.append(
            LockStateChanged(
                event_id=f"event-{index}",
                received_at=posted[index] + timedelta(microseconds=1),
                source=EventSource.BRIDGE_CALLBACK,
                nuki_id=nuki_id,
                smartlock_id=world.device(nuki_id).smartlock_id,
                previous_state=previous,
                state=state,
                state_name=str(body["stateName"]),
            )
        )
    return events
