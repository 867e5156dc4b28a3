"""How devices move: the physics behind a person's action, and what the real system records.

Each action turns the motor (transitional state, never reported by callback), settles in its
resulting state (one bridge callback), writes one log entry with the device's date and an
upload lag, and appends an ``ActionRecord`` to the World's journal. Follow-ups run as World
tasks: an unlatched lock falls back to unlocked, lock 'n' go locks again, an Opener's strike
releases (each with a callback and no log entry, as the lock records only the action that
started them); auto-lock locks by itself (trigger 6, logged); an Opener's ring flag resets
silently after 30 s. A new action cancels a pending follow-up: someone who locks during lock
'n' go's delay locks it, and the lock does not lock again. Every settled change is noted in
the World's ground truth (``truth.py``) with its cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.const import (
    AuthType,
    DoorSensorState,
    LockAction,
    LockMode,
    LockState,
    LogAction,
    LogSource,
    LogState,
    LogTrigger,
    OpenerLogSource,
    OpenerState,
)
from nukiasync.simulator import truth
from nukiasync.simulator.logbook import ActionRecord
from nukiasync.simulator.people import Authorization

if TYPE_CHECKING:
    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.truth import StateChange
    from nukiasync.simulator.world import World

TRIGGERS = {
    "app": LogTrigger.SYSTEM,  # Bluetooth command; Nuki's MQTT examples log app actions as 0
    "web": LogTrigger.WEB,
    "keypad": LogTrigger.KEYPAD,
    "fob": LogTrigger.AUTOMATIC,  # Nuki's own fob example (MQTT API 1.5) uses 3
    "button": LogTrigger.BUTTON,
    "manual": LogTrigger.MANUAL,
    "bridge": LogTrigger.SYSTEM,
    "auto_lock": LogTrigger.AUTO_LOCK,
}
AUTH_TYPES = {
    "app": AuthType.APP,
    "web": AuthType.APP,
    "keypad": AuthType.KEYPAD_CODE,
    "fob": AuthType.FOB,
    "bridge": AuthType.BRIDGE,
}
OPENER_SOURCES = {
    "app": OpenerLogSource.APP,
    "web": OpenerLogSource.BRIDGE,
    "bridge": OpenerLogSource.BRIDGE,
    "button": OpenerLogSource.BUTTON,
    "manual": OpenerLogSource.BUTTON,
    "fob": OpenerLogSource.FOB,
    "keypad": OpenerLogSource.KEYPAD,
}
LOCK_ACTIONS = frozenset({1, 2, 3, 4, 5})
OPENER_ACTIONS = frozenset({1, 2, 3, 6, 7})
_TRANSIT = {1: LockState.UNLOCKING, 2: LockState.LOCKING, 3: LockState.UNLATCHING}
_TRANSIT |= {4: LockState.UNLOCKING, 5: LockState.UNLATCHING}
_FINAL = {1: LockState.UNLOCKED, 2: LockState.LOCKED, 3: LockState.UNLATCHED}
_FINAL |= {4: LockState.UNLOCKED_LOCK_N_GO, 5: LockState.UNLOCKED_LOCK_N_GO}
_OPEN_STATES = frozenset({LockState.UNLOCKED, LockState.UNLATCHED})


class SimulationError(ValueError):
    """An action the simulated world cannot do (no such device, no authorization, ...)."""


@attrs.frozen(kw_only=True)
class Actor:
    """Who or what performs an action, as the lock will log it."""

    person: str | None
    via: str
    auth: Authorization | None = None
    invalid_code: bool = False

    @property
    def trigger(self) -> int:
        """The log trigger of this way of acting."""
        return TRIGGERS[self.via]

    @property
    def source(self) -> int:
        """The log source: keypad code or default."""
        return LogSource.KEYPAD_CODE if self.via == "keypad" else LogSource.DEFAULT


def check_action(device: Device, action: int) -> None:
    """Raise ``SimulationError`` for an action this kind of device does not have."""
    allowed = OPENER_ACTIONS if device.is_opener else LOCK_ACTIONS
    if action not in allowed:
        msg = f"action {action} is not possible on {device.name}"
        raise SimulationError(msg)


async def perform(world: World, device: Device, action: int, actor: Actor, outcome: int) -> Any:
    """Run one lock or Opener action to its end and return its ``ActionRecord``."""
    check_action(device, action)
    kind = actor.via if actor.via in truth.LOGGED_AUTOMATIONS else truth.ACTION
    async with device.motion:
        started = world.clock.now()
        if actor.invalid_code:
            outcome = LogState.INVALID_CODE
        elif actor.auth is not None and not actor.auth.enabled:
            outcome = LogState.REJECTED
        if outcome not in {LogState.SUCCESS, LogState.MOTOR_BLOCKED}:
            return _finish(world, device, action, actor, outcome, started=started, resulting=None)
        world.mqtt.action_started(device, action, actor)  # before the motor turns
        world.cancel_followups(device)
        if device.is_opener:
            opener_log = _opener_log(device, actor)
            resulting, change = await _move_opener(world, device, action, kind, actor.person)
            return _finish(
                world, device, action, actor, outcome,
                started=started, resulting=resulting, opener_log=opener_log, change=change,
            )  # fmt: skip
        blocked = outcome != LogState.SUCCESS
        resulting, change = await _move_lock(
            world, device, action, kind, actor.person, blocked=blocked
        )
    record = _finish(
        world, device, action, actor, outcome, started=started, resulting=resulting, change=change
    )
    if resulting == LockState.UNLATCHED:
        settle = _settle(world, device, LockState.UNLATCHED, LockState.UNLOCKED, change)
        world.spawn(settle, device, "settle")
    if resulting == LockState.UNLOCKED_LOCK_N_GO:
        world.spawn(_relock(world, device, change), device, "lock_n_go")
    if resulting in _OPEN_STATES and device.auto_lock > 0:
        world.spawn(_auto_lock(world, device), device, "auto_lock")
    return record


async def ring(world: World, device: Device, person: str | None) -> ActionRecord:
    """Someone rings: ring callback and log 224; with ring to open or CM the door opens."""
    if not device.is_opener:
        msg = f"{device.name} is not an Opener"
        raise SimulationError(msg)
    async with device.motion:
        started = world.clock.now()
        device.ring_action_timestamp = started
        device.ring_action_state = True
        world.notify(device)
        rto = device.state == OpenerState.RTO_ACTIVE and not device.continuous
        opener_log = _opener_log(device, Actor(person=person, via="app"))
        opener_log["source"] = OpenerLogSource.DOORBELL
        doorbell = Actor(person=person, via="app")
        record = _finish(
            world, device, LogAction.DOORBELL_RECOGNITION, doorbell, LogState.SUCCESS,
            started=started, resulting=None, opener_log=opener_log, via="doorbell",
        )  # fmt: skip
        world.spawn(_ring_reset(world, device, started), device, "ring_reset")
        if rto or device.continuous:
            opened_at = world.clock.now()
            resulting, change = await _move_opener(
                world, device, LogAction.UNLATCH, "ring_to_open", None, ring_to_open=True
            )
            _finish(
                world, device, LogAction.UNLATCH, doorbell, LogState.SUCCESS,
                started=opened_at, resulting=resulting, opener_log=opener_log, via="ring_to_open",
                change=change,
            )  # fmt: skip
    return record


async def door(world: World, device: Device, person: str | None, *, opened: bool) -> ActionRecord:
    """The door sensor sees the door open or close: callback and log 240/241, no name."""
    if not device.door_sensor:
        msg = f"{device.name} has no door sensor"
        raise SimulationError(msg)
    target = DoorSensorState.DOOR_OPENED if opened else DoorSensorState.DOOR_CLOSED
    if device.door_state == target:
        msg = f"the door of {device.name} is already {'open' if opened else 'closed'}"
        raise SimulationError(msg)
    started = world.clock.now()
    device.door_state = target
    world.notify(device)
    action = LogAction.DOOR_OPENED if opened else LogAction.DOOR_CLOSED
    actor = Actor(person=person, via="app")  # trigger 0, no auth
    return _finish(
        world, device, action, actor, LogState.SUCCESS, started=started, resulting=None, via="door"
    )


def _finish(
    world: World,
    device: Device,
    action: int,
    actor: Actor,
    outcome: int,
    *,
    started: Any,
    resulting: int | None,
    opener_log: dict[str, Any] | None = None,
    via: str | None = None,
    change: StateChange | None = None,
) -> ActionRecord:
    auth = None if via in {"doorbell", "ring_to_open", "door"} else actor.auth
    trigger = LogTrigger.SYSTEM if via is not None else actor.trigger
    source = LogSource.DEFAULT if via is not None else actor.source
    entry = world.write_log(
        device, action=action, trigger=trigger, state=outcome, auth=auth, source=source,
        when=started, opener_log=opener_log,
    )  # fmt: skip
    if auth is not None and outcome == LogState.SUCCESS:
        auth.lock_count += 1
        auth.last_active = started
    seq = len(world.journal) + 1
    if change is not None:  # the ground truth: this entry explains that change
        change.record_seq = seq
        change.log_id = entry.id
        change.entry_visible_at = entry.visible_at
        change.failed = outcome != LogState.SUCCESS
    return world.record(
        ActionRecord(
            seq=seq,
            person=actor.person,
            via=via or actor.via,
            lock=device.name,
            smartlock_id=device.smartlock_id,
            nuki_id=device.nuki_id,
            device_type=int(device.device_type),
            action=action,
            trigger=trigger,
            state=outcome,
            started_at=started,
            completed_at=world.clock.now(),
            log_id=entry.id,
            auth_id=entry.auth_id,
            auth_name=entry.name,
            account_user_id=entry.account_user_id,
            device_date=entry.date,
            visible_at=entry.visible_at,
            resulting_state=resulting,
        )
    )


def _opener_log(device: Device, actor: Actor) -> dict[str, Any]:
    return {
        "activeCm": device.continuous,
        "activeRto": device.state == OpenerState.RTO_ACTIVE and not device.continuous,
        "source": OPENER_SOURCES.get(actor.via, OpenerLogSource.APP),
        "flagGeoFence": False,
        "flagForce": False,
        "flagDoorbellSuppression": False,
    }


async def _move_lock(
    world: World, device: Device, action: int, kind: str, person: str | None, *, blocked: bool
) -> tuple[int, StateChange | None]:
    device.state = _TRANSIT[action]  # transitional: visible in /list, never in a callback
    world.touch(device)
    await world.clock.sleep(world.knobs.motor_time)
    device.state = LockState.MOTOR_BLOCKED if blocked else _FINAL[action]
    device.last_action = action
    change = world.notify(device, kind=kind, person=person)
    return device.state, change


async def _move_opener(
    world: World,
    device: Device,
    action: int,
    kind: str,
    person: str | None,
    *,
    ring_to_open: bool = False,
) -> tuple[int, StateChange | None]:
    device.last_action = action
    if action == LogAction.UNLATCH:
        back = OpenerState.RTO_ACTIVE if device.continuous else device.state
        if ring_to_open and not device.continuous:
            back = OpenerState.ONLINE  # ring to open is used up by the opening
        device.state = OpenerState.OPENING
        world.touch(device)
        await world.clock.sleep(world.knobs.motor_time)
        device.state = OpenerState.OPEN
        change = world.notify(device, kind=kind, person=person)
        world.spawn(_settle(world, device, OpenerState.OPEN, back, change), device, "settle")
        return device.state, change
    if action == LogAction.ACTIVATE_CONTINUOUS_MODE:
        device.continuous = True
        device.mode = LockMode.CONTINUOUS
    elif action == LogAction.DEACTIVATE_CONTINUOUS_MODE:
        device.continuous = False
        device.mode = LockMode.DOOR
    active = device.continuous or action == LogAction.UNLOCK
    device.state = OpenerState.RTO_ACTIVE if active else OpenerState.ONLINE
    change = world.notify(device, kind=kind, person=person)
    return device.state, change


async def _settle(
    world: World, device: Device, expected: int, target: int, origin: StateChange | None
) -> None:
    """The follow-on of an unlatch or an Opener's opening: a callback, no log entry."""
    hold = world.knobs.opener_open_time if device.is_opener else world.knobs.unlatch_hold
    await world.clock.sleep(hold)
    async with device.motion:
        if device.state == expected:
            device.state = target
            kind = "opener_release" if device.is_opener else "unlatch_release"
            world.notify(device, kind=kind, record_seq=_origin(origin))


async def _relock(world: World, device: Device, origin: StateChange | None) -> None:
    """Lock 'n' go locks again after its delay unless someone acted first: no log entry."""
    await world.clock.sleep(world.knobs.lock_n_go_delay)
    async with device.motion:
        if device.state == LockState.UNLOCKED_LOCK_N_GO:
            device.state = LockState.LOCKING
            world.touch(device)
            await world.clock.sleep(world.knobs.motor_time)
            device.state = LockState.LOCKED
            device.last_action = LockAction.LOCK
            world.notify(device, kind="lock_n_go_relock", record_seq=_origin(origin))


def _origin(change: StateChange | None) -> int | None:
    return change.record_seq if change is not None else None


async def _auto_lock(world: World, device: Device) -> None:
    await world.clock.sleep(device.auto_lock)
    if device.state in _OPEN_STATES:
        await perform(world, device, LockAction.LOCK, Actor(person=None, via="auto_lock"), 0)


async def _ring_reset(world: World, device: Device, rang_at: Any) -> None:
    await world.clock.sleep(world.knobs.ring_reset)
    if device.ring_action_timestamp == rang_at:
        device.ring_action_state = False  # a real bridge resets it without a callback
        world.touch(device)
