"""Scenarios: a small TOML file that builds a world and plays a timeline in it.

A scenario names its devices, its people and what they do when::

    name = "Morning"
    description = "Alice leaves, a parcel arrives."

    [world]                    # optional: World arguments
    seed = 7
    owner = "Alice"            # whose Web API token the simulator hands out
    mqtt_url = "mqtt://127.0.0.1:1883"   # optional: a broker for the locks to publish to

    [knobs]                    # optional: any simple Knobs attribute
    log_lag = [2.0, 4.0]       # seconds, a fixed number or a [low, high] range
    motor_time = 1.2
    slow_log_chance = 0.05     # a share of entries uploads slow_log_lag = [10.0, 20.0] later
    bridge_request_time = 0.05 # seconds per bridge request; an overlapping one gets 503
    lock_n_go_delay = 20.0     # follow-ons: unlatch_hold, lock_n_go_delay, opener_open_time
    mqtt_delay = 0.1           # MQTT: mqtt_delay, mqtt_loss, drop_next_mqtt
    webhook_delay = [0.5, 1.0] # decentral webhooks: webhook_delay, webhook_loss

    [[lock]]
    name = "Front door"
    type = 4                   # 0 Smart Lock 2, 4 Smart Lock 3.0 / 4th gen, 5 Ultra, 2 Opener
    nuki_id = 0x1A2B3C4D       # optional
    door_sensor = true         # optional accessories and settings:
    keypad = true              #   keypad, door_sensor, auto_lock (seconds), knob
    auto_lock = 0
    mqtt = true                # publishes to mqtt_url (default: types 4 and 5 when it is set)
    bridge = true              # paired to the bridge (type 5 cannot be: false is its default)

    [[person]]
    name = "Alice"
    email = "alice@example.invalid"   # makes her an account user
    app = ["Front door"]              # devices she has an app authorization for
    fob = []                          # ... a fob for
    keypad = ["Front door"]           # ... her keypad code works on
    keypad_code = 345678

    [[step]]
    at = 2.0                   # seconds of simulated time after the start
    who = "Alice"              # optional for door, ring, manual and button steps
    does = "unlock"            # see STEP_ACTIONS
    lock = "Front door"
    via = "app"                # app, web, keypad, fob, button, manual, bridge
    # code = 111111            # keypad: the code typed (a wrong one is logged with 224)
    # outcome = "motor_blocked"   # a failed attempt (or a log state number)

Steps run at their times, concurrently; actions on one device wait for each other, as motors
do. Loading is synchronous (read the file before the event loop or in a thread).
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.const import DeviceType, LogAction, LogState
from nukiasync.simulator.actions import SimulationError
from nukiasync.simulator.devices import DEFAULT_BRIDGE
from nukiasync.simulator.knobs import Knobs
from nukiasync.simulator.people import VIAS
from nukiasync.simulator.world import World

if TYPE_CHECKING:
    from nukiasync.simulator.logbook import ActionRecord

_LOGGER = logging.getLogger(__name__)

STEP_ACTIONS = {
    "lock": LogAction.LOCK,
    "unlock": LogAction.UNLOCK,
    "unlatch": LogAction.UNLATCH,
    "lock_n_go": LogAction.LOCK_N_GO,
    "lock_n_go_unlatch": LogAction.LOCK_N_GO_UNLATCH,
    "activate_rto": LogAction.UNLOCK,
    "deactivate_rto": LogAction.LOCK,
    "open": LogAction.UNLATCH,
    "continuous_mode_on": LogAction.ACTIVATE_CONTINUOUS_MODE,
    "continuous_mode_off": LogAction.DEACTIVATE_CONTINUOUS_MODE,
}
STEP_EVENTS = frozenset({"press_button", "open_door", "close_door", "ring"})
OUTCOMES = {"success": LogState.SUCCESS, "motor_blocked": LogState.MOTOR_BLOCKED}
OUTCOMES |= {"canceled": LogState.CANCELED, "busy": LogState.BUSY, "rejected": LogState.REJECTED}
_TOP_KEYS = frozenset({"name", "description", "world", "knobs", "lock", "person", "step"})
_WORLD_KEYS = frozenset({"seed", "owner", "account_name", "account_email", "speed", "mqtt_url"})
_LOCK_KEYS = frozenset(
    {"name", "type", "nuki_id", "door_sensor", "keypad", "auto_lock", "knob", "mqtt", "bridge"}
)
_MQTT_TYPES = frozenset({DeviceType.SMARTLOCK_3, DeviceType.SMARTLOCK_5})
_PERSON_KEYS = frozenset({"name", "email", "app", "fob", "keypad", "keypad_code"})
_STEP_KEYS = frozenset({"at", "who", "does", "lock", "via", "code", "outcome"})
_KNOB_KEYS = frozenset(f.name for f in attrs.fields(Knobs)) - {
    "web_faults",
    "log_lag_by_lock",
    "drop_next_callbacks_of",
}


class ScenarioError(ValueError):
    """A scenario file that cannot be played, with the place of the mistake."""


@attrs.frozen(kw_only=True)
class Step:
    """One line of the timeline."""

    at: float
    does: str
    who: str | None = None
    lock: str | None = None
    via: str = "app"
    code: int | None = None
    outcome: int = LogState.SUCCESS


@attrs.frozen(kw_only=True)
class Scenario:
    """A parsed scenario: how to build the world, and the timeline to play in it."""

    name: str
    description: str = ""
    world: Mapping[str, Any] = attrs.field(factory=dict)
    knobs: Mapping[str, Any] = attrs.field(factory=dict)
    locks: tuple[Mapping[str, Any], ...] = ()
    people: tuple[Mapping[str, Any], ...] = ()
    steps: tuple[Step, ...] = ()

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<scenario>") -> Scenario:
        """Parse and check a scenario.

        Raises:
            ScenarioError: not TOML, or keys, names or actions the simulator does not know.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            msg = f"{source}: {err}"
            raise ScenarioError(msg) from err
        _only(data, _TOP_KEYS, source)
        _only(data.get("world", {}), _WORLD_KEYS, f"{source} [world]")
        _only(data.get("knobs", {}), _KNOB_KEYS, f"{source} [knobs]")
        locks = tuple(data.get("lock", ()))
        people = tuple(data.get("person", ()))
        for index, lock in enumerate(locks, 1):
            _only(lock, _LOCK_KEYS, f"{source} lock {index}")
            if "name" not in lock or lock.get("type", 4) not in {0, 2, 4, 5}:
                msg = f"{source} lock {index}: needs a name and type 0, 2, 4 or 5"
                raise ScenarioError(msg)
        for index, person in enumerate(people, 1):
            _only(person, _PERSON_KEYS, f"{source} person {index}")
        steps = tuple(
            _step(raw, f"{source} step {i}") for i, raw in enumerate(data.get("step", ()), 1)
        )
        scenario = cls(
            name=str(data.get("name", Path(source).stem)),
            description=str(data.get("description", "")),
            world=data.get("world", {}),
            knobs=data.get("knobs", {}),
            locks=locks,
            people=people,
            steps=tuple(sorted(steps, key=lambda step: step.at)),
        )
        scenario.build()  # names that do not resolve fail here, not in the middle of a demo
        return scenario

    def build(self, **overrides: Any) -> World:
        """Make the World this scenario describes (not started); ``overrides`` win.

        Raises:
            ScenarioError: a person's device or a step's person or device does not exist.
        """
        knobs = Knobs()
        for key, value in self.knobs.items():
            setattr(knobs, key, tuple(value) if isinstance(value, list) else value)
        settings = {**self.world, **overrides}
        try:
            world = World(knobs=knobs, **settings)
            for lock in self.locks:
                options = {k: v for k, v in lock.items() if k not in {"name", "type"}}
                if lock.get("type", 4) == DeviceType.OPENER:
                    world.add_opener(
                        lock["name"],
                        nuki_id=options.get("nuki_id"),
                        keypad=options.get("keypad", False),
                    )
                else:
                    kind = lock.get("type", 4)
                    paired = options.pop("bridge", kind != DeviceType.SMARTLOCK_5)
                    mqtt = settings.get("mqtt_url") is not None and kind in _MQTT_TYPES
                    options["mqtt"] = options.get("mqtt", mqtt)
                    bridge = None if paired is False else DEFAULT_BRIDGE
                    world.add_lock(lock["name"], device_type=kind, bridge=bridge, **options)
            for person in self.people:
                world.add_person(**person)
            for step in self.steps:
                if step.who is not None:
                    world.person(step.who)
                if step.lock is not None:
                    world.device(step.lock)
        except (SimulationError, ValueError, TypeError) as err:
            msg = f"scenario {self.name}: {err}"
            raise ScenarioError(msg) from err
        return world

    async def run(self, world: World) -> list[ActionRecord | None]:
        """Play the timeline in ``world`` (started); return each step's record, in order.

        A step that the world refuses is logged as a WARNING and gives ``None``.
        """
        tasks = [
            world.spawn(_play(world, step), None, f"scenario.step{index}")
            for index, step in enumerate(self.steps)
        ]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        played: list[ActionRecord | None] = []
        for step, result in zip(self.steps, results, strict=True):
            if isinstance(result, SimulationError):
                _LOGGER.warning(
                    "scenario %s: step at %ss (%s) failed: %s",
                    self.name,
                    step.at,
                    step.does,
                    result,
                )
                played.append(None)
            elif isinstance(result, BaseException):
                raise result
            else:
                played.append(result)
        return played


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse a scenario file (blocking: call it before the loop or in a thread)."""
    file = Path(path)
    return Scenario.from_toml(file.read_text(encoding="utf-8"), source=str(file))


def builtin_scenario(name: str = "demo") -> Scenario:
    """A scenario shipped with the package (``nukiasync/simulator/scenarios/<name>.toml``)."""
    resource = resources.files("nukiasync.simulator") / "scenarios" / f"{name}.toml"
    return Scenario.from_toml(resource.read_text(encoding="utf-8"), source=f"{name}.toml")


async def _play(world: World, step: Step) -> ActionRecord | SimulationError:
    """Play one step; a refusal is returned, not raised, so the World does not report it."""
    await world.clock.sleep(step.at)
    try:
        return await _do(world, step)
    except SimulationError as err:
        return err


async def _do(world: World, step: Step) -> ActionRecord:
    person = world.person(step.who) if step.who is not None else None
    lock = step.lock if step.lock is not None else world.devices[0]
    if step.does == "press_button":
        return await world.press_button(person, lock)
    if step.does in {"open_door", "close_door"}:
        return await world.door(person, lock, opened=step.does == "open_door")
    if step.does == "ring":
        return await world.ring(person, lock)
    return await world.act(
        person, lock, STEP_ACTIONS[step.does], via=step.via, code=step.code, outcome=step.outcome
    )


def _only(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        raise ScenarioError(msg)


def _step(raw: Mapping[str, Any], where: str) -> Step:
    _only(raw, _STEP_KEYS, where)
    does = raw.get("does")
    if does not in STEP_ACTIONS and does not in STEP_EVENTS:
        known = ", ".join(sorted({*STEP_ACTIONS, *STEP_EVENTS}))
        msg = f"{where}: unknown action {does!r}; use one of {known}"
        raise ScenarioError(msg)
    via = raw.get("via", "app")
    if via not in VIAS:
        msg = f"{where}: unknown via {via!r}; use one of {', '.join(sorted(VIAS))}"
        raise ScenarioError(msg)
    outcome = raw.get("outcome", "success")
    if isinstance(outcome, str):
        if outcome not in OUTCOMES:
            known = ", ".join(OUTCOMES)
            msg = f"{where}: unknown outcome {outcome!r}; use a number or one of {known}"
            raise ScenarioError(msg)
        outcome = OUTCOMES[outcome]
    at = raw.get("at")
    if not isinstance(at, int | float) or at < 0:
        msg = f"{where}: 'at' must be a number of seconds >= 0"
        raise ScenarioError(msg)
    return Step(
        at=float(at),
        does=does,
        who=raw.get("who"),
        lock=raw.get("lock"),
        via=via,
        code=raw.get("code"),
        outcome=outcome,
    )
