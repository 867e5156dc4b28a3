"""Who really caused a change, and whether an answer that names no log entry names them (B7).

An answer from the Web API log (polled or pushed by webhook) names the entry that explains a
change, and `bench._truth_score` judges it by that entry. An MQTT ``lockActionEvent`` has no
entry: the hub's answer names an actor (the authorization behind the lock's auth id) and an id
of its own. Such an answer is judged by who: the ground truth knows, for each change, the
journal record behind it and so the authorization that acted (``ActionRecord.auth_id``, the
Web API's ``SmartlockAuth.id``).

- a person's action: right if the answer names that authorization (by the Web API's id, by
  the lock's own integer auth id, which a user's own mapping gives, or by its name when the
  answer carries no id); any other authorization, or "nobody", is wrong;
- an action nobody is named for (a knob turned by hand, the button, auto-lock, ring to open):
  right only if the answer names nobody;
- a follow-on (the lock moved by itself, nothing explains it): any answer is wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from nukiasync.events import Actor
    from nukiasync.simulator import World
    from nukiasync.simulator.logbook import ActionRecord
    from nukiasync.simulator.truth import StateChange

RIGHT, WRONG = "right", "wrong"


@attrs.frozen(kw_only=True)
class TrueActor:
    """Who caused a change: nobody (``ids`` empty), or one authorization and its name."""

    ids: frozenset[str] = frozenset()
    name: str = ""
    follow_on: bool = False  # the lock moved by itself: there is nobody to name at all

    @property
    def nobody(self) -> bool:
        """No authorization acted (manual, button, automation, or a follow-on)."""
        return not self.ids


def true_actor(world: World, change: StateChange) -> TrueActor:
    """The authorization behind a change, from the journal record of the action."""
    if change.follow_on or change.record_seq is None:
        return TrueActor(follow_on=True)
    return record_actor(world, world.journal[change.record_seq - 1])


def record_actor(world: World, record: ActionRecord) -> TrueActor:
    """The authorization behind one journal record (an action), whatever it changed."""
    if record.auth_id is None:
        return TrueActor()
    auth = next((a for a in world.auths if a.id == record.auth_id), None)
    if auth is None:  # an entry naming an authorization the world does not have
        return TrueActor(ids=frozenset({record.auth_id}), name=record.auth_name)
    return TrueActor(ids=frozenset({auth.id, str(auth.auth_id)}), name=auth.name)


def record_at(world: World, smartlock_id: int | None, at: datetime) -> ActionRecord | None:
    """The action a settled state seen at ``at`` completed (None if none ended near then).

    A lock publishes its settled state as the action ends, so the nearest end wins: the next
    action of a burst may already have begun when a receiver reads the previous one's state.
    """
    slack = timedelta(seconds=1)
    near = [
        r
        for r in world.journal
        if r.smartlock_id == smartlock_id and abs(r.completed_at - at) <= slack
    ]
    return min(near, key=lambda r: abs(r.completed_at - at), default=None)


def named_nobody(actor: Actor) -> bool:
    """The answer says no authorization acted (button, auto lock, by hand)."""
    return not actor.name and actor.auth_id is None and actor.account_user_id is None


def judge_actor(truth: TrueActor, actor: Actor) -> str:
    """``right`` or ``wrong`` for an answer that names ``actor`` for a change."""
    if truth.follow_on:
        return WRONG
    if truth.nobody:
        return RIGHT if named_nobody(actor) else WRONG
    if actor.auth_id is not None:
        return RIGHT if actor.auth_id in truth.ids else WRONG
    return RIGHT if actor.name and actor.name == truth.name else WRONG
