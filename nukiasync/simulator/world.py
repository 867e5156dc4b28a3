"""The simulated world: devices, people, a clock, the cloud's log, and two real servers.

``async with World(...) as world`` starts a Bridge and a Web API server on 127.0.0.1 (port
0), both driven by the same devices, so that any client, ours or another, sees what it would
see at home: callbacks at once, the log a few seconds later. ``add_bridge`` adds more bridges
(house and garage), each its own server with its own token and callbacks; the Web API account
and its discovery endpoint span them all. The building methods (``add_lock``, ``add_person``,
...) live in ``building.py``. The World owns every long-lived task (callback delivery,
follow-ups such as auto-lock, reboots); each is named, kept, cancelled and awaited on
``close()``. ``world.journal`` is the ground truth of who did what; ``world.changes`` that
of every state change (``truth.py``): the person or automation behind it, its log entry.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from nukiasync.const import AuthType, LockState, LogState
from nukiasync.simulator import actions
from nukiasync.simulator.actions import Actor, SimulationError
from nukiasync.simulator.bridge_server import SimulatedBridge
from nukiasync.simulator.building import Population, new_token
from nukiasync.simulator.clock import Clock, SimClock
from nukiasync.simulator.devices import DEFAULT_BRIDGE, Device
from nukiasync.simulator.knobs import Knobs
from nukiasync.simulator.logbook import ActionRecord, LogBook, LogEntry, ObjectIds
from nukiasync.simulator.mqtt_out import MqttLocks
from nukiasync.simulator.people import VIAS, AccountUser, Authorization, Person
from nukiasync.simulator.truth import ACTION, ChangeBook, StateChange
from nukiasync.simulator.web_server import SimulatedWebApi

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from types import TracebackType

_LOGGER = logging.getLogger(__name__)

_FOLLOWUPS = frozenset({"settle", "lock_n_go", "auto_lock"})  # cancelled by a new action


class World(Population):
    """Locks, Openers, people and two loopback servers that behave like Nuki's.

    Args:
        speed: how much faster than real time the world runs (demo, benchmarks).
        clock: a clock to use instead of ``SimClock(speed=speed)``.
        seed: makes ids, lags and random faults repeatable.
        knobs: timings and faults; ``world.knobs`` can be changed at run time.
        bridge_token: the bridge's API token (generated when omitted).
        web_token: the Web API bearer token (generated when omitted); it belongs to ``owner``.
        owner: name of the person whose token ``web_token`` is (default: the first person
            with an e-mail address).
        mqtt_url: ``mqtt://[user:password@]host:port`` of the broker that locks added with
            ``mqtt=True`` publish to (``mqtt_out.py``).
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        clock: Clock | None = None,
        seed: int | None = None,
        knobs: Knobs | None = None,
        bridge_token: str | None = None,
        web_token: str | None = None,
        owner: str | None = None,
        account_name: str = "Nuki Simulator",
        account_email: str = "owner@example.invalid",
        mqtt_url: str | None = None,
    ) -> None:
        self.clock: Clock = clock if clock is not None else SimClock(speed=speed)
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not cryptography
        self.knobs = knobs if knobs is not None else Knobs()
        self.ids = ObjectIds(self.rng)
        self.devices: list[Device] = []
        self.people: dict[str, Person] = {}
        self.auths: list[Authorization] = []
        self.account_users: dict[int, AccountUser] = {}
        self.logbook = LogBook()
        self.journal: list[ActionRecord] = []
        self.truth = ChangeBook()  # every state change and who or what really caused it
        self.listeners: list[Callable[[ActionRecord], None]] = []  # called for each record
        self.account_name = account_name
        self.account_email = account_email
        self.created = self.clock.now()
        self.owner = owner
        self.web_tokens: dict[str, str | None] = {web_token or new_token(40): owner}
        self.bridge = SimulatedBridge(self, bridge_token or new_token(10))
        self.bridges: dict[str, SimulatedBridge] = {DEFAULT_BRIDGE: self.bridge}
        self.web = SimulatedWebApi(self)
        self.mqtt = MqttLocks(self, mqtt_url)
        self.closing = asyncio.Event()
        self._change = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._followups: dict[int, set[asyncio.Task[Any]]] = {}
        self._next_account_user = 200001
        self._state = "new"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start both servers on 127.0.0.1 and the callback delivery task.

        Raises:
            RuntimeError: the world was started before.
        """
        if self._state != "new":
            msg = f"world already {self._state}"
            raise RuntimeError(msg)
        self._state = "started"
        for bridge in self.bridges.values():
            await bridge.start()
        await self.web.start()
        self.mqtt.start()

    async def close(self) -> None:
        """Cancel and await every task, then stop both servers; safe to call twice."""
        if self._state == "closed":
            return
        self._state = "closed"
        self.closing.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.web.stop()
        for bridge in self.bridges.values():
            await bridge.stop()

    @property
    def web_token(self) -> str:
        """The first Web API token (the owner's)."""
        return next(iter(self.web_tokens))

    @property
    def bridge_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the simulated bridge."""
        return self.bridge.url

    @property
    def web_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the simulated Web API."""
        return self.web.url

    # What happens

    async def act(
        self,
        person: Person | None,
        device_ref: Device | str | int,
        action: int,
        *,
        via: str = "app",
        code: int | None = None,
        outcome: int = LogState.SUCCESS,
    ) -> ActionRecord:
        """Perform ``action`` (a log action code: 1-5 locks; 1, 2, 3, 6, 7 Openers) on a device.

        ``outcome`` other than success simulates a failed attempt: ``LogState.MOTOR_BLOCKED``
        leaves the lock in state 254 (motor blocked); any other leaves it unchanged. Both are
        logged with that state.

        Raises:
            SimulationError: the person cannot act that way on that device.
        """
        device = self.device(device_ref)
        if via not in VIAS:
            msg = f"unknown way {via!r}; use one of {sorted(VIAS)}"
            raise SimulationError(msg)
        actor = self._actor(person, device, via, code)
        record: ActionRecord = await actions.perform(self, device, action, actor, outcome)
        return record

    async def press_button(
        self, person: Person | None, device_ref: Device | str | int
    ) -> ActionRecord:
        """Press the button on a lock or an Opener: it toggles (trigger 2, no name)."""
        device = self.device(device_ref)
        closed = {LockState.LOCKED, LockState.MOTOR_BLOCKED} if not device.is_opener else {1}
        action = 1 if device.state in closed else 2
        return await self.act(person, device, action, via="button")

    async def door(
        self, person: Person | None, device_ref: Device | str | int, *, opened: bool
    ) -> ActionRecord:
        """The door sensor sees the door open or close."""
        name = person.name if person is not None else None
        return await actions.door(self, self.device(device_ref), name, opened=opened)

    async def ring(self, person: Person | None, device_ref: Device | str | int) -> ActionRecord:
        """Someone rings at an Opener."""
        name = person.name if person is not None else None
        return await actions.ring(self, self.device(device_ref), name)

    def set_battery(
        self,
        device_ref: Device | str | int,
        *,
        charge: int | None = None,
        critical: bool | None = None,
        charging: bool | None = None,
    ) -> None:
        """Change a device's battery; the bridge posts a callback."""
        device = self.device(device_ref)
        if charge is not None:
            device.battery_charge = charge
        if critical is not None:
            device.battery_critical = critical
        if charging is not None:
            device.battery_charging = charging
        self.notify(device)

    def changed(self) -> None:
        """Wake everyone in ``wait_until``: a device, the journal or a server changed."""
        self._change.set()
        self._change = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], *, deadline: float = 5.0) -> None:
        """Wait until ``predicate()`` holds, re-checking after every change in the world.

        Raises:
            TimeoutError: it did not hold within ``deadline`` seconds (real time).
        """
        async with asyncio.timeout(deadline):
            while not predicate():
                await self._change.wait()

    async def wait_visible(self, record: ActionRecord) -> None:
        """Wait until the log entry of ``record`` shows in the Web API."""
        if record.visible_at is not None:
            await self.clock.sleep((record.visible_at - self.clock.now()).total_seconds())

    # Plumbing for actions and servers

    def spawn(
        self, coro: Coroutine[Any, Any, Any], device: Device | None, kind: str
    ) -> asyncio.Task[Any]:
        """Start a task the World owns: named, kept, cancelled and awaited on close."""
        where = f"[{device.name}]" if device is not None else ""
        task = asyncio.get_running_loop().create_task(
            coro, name=f"nukiasync.simulator.{kind}{where}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._report)
        if device is not None and kind in _FOLLOWUPS:
            tasks = self._followups.setdefault(id(device), set())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return task

    def cancel_followups(self, device: Device) -> None:
        """Cancel pending follow-ups (auto-lock, settling) that a new action supersedes."""
        current = asyncio.current_task()
        for task in list(self._followups.get(id(device), ())):
            if task is not current:
                task.cancel()

    def touch(self, device: Device, *, change: StateChange | None = None) -> None:
        """Note a change that the bridge does not report (transitional states).

        ``change``: the ground-truth change this state completes (`notify`), so that the
        MQTT state message that carries it is tagged with it, as the bridge's callback is.
        """
        device.updated = self.clock.now()
        self.mqtt.touch(device, change)
        self.changed()

    @property
    def changes(self) -> list[StateChange]:
        """Every state change so far, with its real cause (see ``truth.py``)."""
        return self.truth.changes

    def notify(
        self,
        device: Device,
        *,
        kind: str = ACTION,
        person: str | None = None,
        record_seq: int | None = None,
    ) -> StateChange | None:
        """Note what the bridge reports: one callback to every URL registered with it.

        When the device's settled state or mode moved, the ground truth gets a change with
        this cause (``kind``, ``person``); a callback that repeats the state makes none.
        """
        change = self.truth.note(
            device, self.clock.now(), kind=kind, person=person, record_seq=record_seq
        )
        self.touch(device, change=change)
        if device.bridge is not None:
            self.bridges[device.bridge].enqueue(device.callback_body(), change)
        self.web.hooks.status(device)
        return change

    def write_log(
        self,
        device: Device,
        *,
        action: int,
        trigger: int,
        state: int,
        auth: Authorization | None,
        source: int,
        when: datetime,
        opener_log: dict[str, Any] | None,
    ) -> LogEntry:
        """Record a log entry dated by the device's clock and visible after the upload lag."""
        date = (when + timedelta(seconds=self.knobs.device_clock_skew)).replace(microsecond=0)
        lag = self.knobs.lag_for(device.smartlock_id, self.rng)
        entry = LogEntry(
            id=self.ids.next(date),
            seq=len(self.logbook.entries) + 1,
            smartlock_id=device.smartlock_id,
            device_type=int(device.device_type),
            action=action,
            trigger=trigger,
            state=state,
            date=date,
            visible_at=self.clock.now() + timedelta(seconds=lag),
            name=auth.name if auth is not None else "",
            auth_id=auth.id if auth is not None else None,
            account_user_id=auth.account_user_id if auth is not None else None,
            source=source,
            opener_log=opener_log,
        )
        self.logbook.add(entry)
        self.web.hooks.log_written(entry)
        return entry

    def record(self, record: ActionRecord) -> ActionRecord:
        """Append to the ground-truth journal."""
        self.journal.append(record)
        self.changed()
        for listener in tuple(self.listeners):
            listener(record)
        _LOGGER.debug(
            "%s: action %s via %s by %s, state %s",
            record.lock, record.action, record.via, record.person, record.state,
        )  # fmt: skip
        return record

    def token_owner(self, token: str) -> Person | None:
        """The person a Web API token belongs to (the owner by default)."""
        name = self.web_tokens.get(token)
        if name is None:
            name = self.owner or next(
                (p.name for p in self.people.values() if p.account_user is not None), None
            )
        return self.people.get(name) if name is not None else None

    def auth_of(
        self, person: Person | None, device: Device, auth_type: int
    ) -> Authorization | None:
        """The person's authorization of this type on this device (the bridge's if no one)."""
        for auth in self.auths:
            if auth.smartlock_id != device.smartlock_id or auth.type != auth_type:
                continue
            if auth_type == AuthType.BRIDGE or (person is not None and auth.holder == person.name):
                return auth
        return None

    def _actor(self, person: Person | None, device: Device, via: str, code: int | None) -> Actor:
        name = person.name if person is not None else None
        auth_type = actions.AUTH_TYPES.get(via)
        if auth_type is None:
            return Actor(person=name, via=via)
        if via == "keypad":
            if not device.keypad:
                msg = f"{device.name} has no keypad"
                raise SimulationError(msg)
            if code is not None:
                codes = (a for a in self.auths if a.smartlock_id == device.smartlock_id)
                auth = next((a for a in codes if a.type == auth_type and a.code == code), None)
                return Actor(person=name, via=via, auth=auth, invalid_code=auth is None)
        auth = self.auth_of(person, device, auth_type)
        if auth is None:
            msg = f"{name or 'nobody'} has no {via} authorization on {device.name}"
            raise SimulationError(msg)
        return Actor(person=name, via=via, auth=auth)

    def _report(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("simulator task %s failed", task.get_name(), exc_info=task.exception())
