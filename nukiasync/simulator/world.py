"""The simulated world: devices, people, a clock, the cloud's log, and two real servers.

``async with World(...) as world`` starts a Bridge and a Web API server on 127.0.0.1 (port
0), both driven by the same devices, so that any client, ours or another, sees what it would
see at home: callbacks at once, the log a few seconds later. The World owns every long-lived
task (callback delivery, follow-ups such as auto-lock, reboots); each is named, kept,
cancelled and awaited on ``close()``. ``world.journal`` is the ground truth of who did what.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import string
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from nukiasync.const import AuthType, DeviceType, LockState, LogState, OpenerState
from nukiasync.simulator import actions
from nukiasync.simulator.actions import Actor, SimulationError
from nukiasync.simulator.bridge_server import SimulatedBridge
from nukiasync.simulator.clock import Clock, SimClock
from nukiasync.simulator.devices import Device
from nukiasync.simulator.knobs import Knobs
from nukiasync.simulator.logbook import ActionRecord, LogBook, LogEntry, ObjectIds
from nukiasync.simulator.people import ACCOUNT_ID, VIAS, AccountUser, Authorization, Person
from nukiasync.simulator.web_server import SimulatedWebApi

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable
    from types import TracebackType

_LOGGER = logging.getLogger(__name__)

_FOLLOWUPS = frozenset({"settle", "lock_n_go", "auto_lock"})  # cancelled by a new action


def _token(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


class World:
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
        self.listeners: list[Callable[[ActionRecord], None]] = []  # called for each record
        self.account_name = account_name
        self.account_email = account_email
        self.created = self.clock.now()
        self.owner = owner
        self.web_tokens: dict[str, str | None] = {web_token or _token(40): owner}
        self.bridge = SimulatedBridge(self, bridge_token or _token(10))
        self.web = SimulatedWebApi(self)
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
        await self.bridge.start()
        await self.web.start()

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
        await self.bridge.stop()

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

    # Building the world

    def add_lock(
        self,
        name: str,
        *,
        device_type: int = DeviceType.SMARTLOCK_3,
        nuki_id: int | None = None,
        door_sensor: bool = False,
        keypad: bool = False,
        auto_lock: float = 0.0,
        knob: bool = False,
    ) -> Device:
        """Add a Smart Lock (type 0: Smart Lock 2; type 4: 3.0 / 4th gen), paired to the bridge."""
        if device_type not in {DeviceType.SMARTLOCK, DeviceType.SMARTLOCK_3}:
            msg = f"a lock has device type 0 or 4, not {device_type}"
            raise ValueError(msg)
        device = Device(
            name=name,
            nuki_id=nuki_id if nuki_id is not None else self._new_nuki_id(),
            device_type=DeviceType(device_type),
            created=self.clock.now(),
            door_sensor=door_sensor,
            keypad=keypad,
            auto_lock=auto_lock,
            knob=knob,
            firmware="3.10.5" if device_type == DeviceType.SMARTLOCK_3 else "2.12.4",
        )
        return self._add_device(device)

    def add_opener(self, name: str, *, nuki_id: int | None = None, keypad: bool = False) -> Device:
        """Add an Opener (type 2) in door mode, ring to open off."""
        device = Device(
            name=name,
            nuki_id=nuki_id if nuki_id is not None else self._new_nuki_id(),
            device_type=DeviceType.OPENER,
            created=self.clock.now(),
            keypad=keypad,
            state=OpenerState.ONLINE,
            firmware="1.10.2",
        )
        return self._add_device(device)

    def add_person(
        self,
        name: str,
        *,
        email: str | None = None,
        app: Iterable[Device | str | int] = (),
        fob: Iterable[Device | str | int] = (),
        keypad: Iterable[Device | str | int] = (),
        keypad_code: int | None = None,
    ) -> Person:
        """Add someone; with an e-mail address they are an account user of the owner's account.

        ``app``, ``fob`` and ``keypad`` name the devices they get that authorization for;
        ``keypad_code`` is their code on the ``keypad`` devices.
        """
        if name in self.people:
            msg = f"{name} is already in the world"
            raise ValueError(msg)
        account_user = self.add_account_user(name, email) if email is not None else None
        person = Person(self, name, account_user)
        self.people[name] = person
        for ref in app:
            self.grant(person, ref, AuthType.APP)
        for ref in fob:
            self.grant(person, ref, AuthType.FOB)
        for ref in keypad:
            self.grant(person, ref, AuthType.KEYPAD_CODE, code=keypad_code)
        return person

    def add_account_user(self, name: str, email: str, *, language: str = "en") -> AccountUser:
        """Create an account user (what ``PUT /account/user`` does)."""
        now = self.clock.now()
        user = AccountUser(
            account_user_id=self._next_account_user,
            account_id=ACCOUNT_ID,
            email=email,
            name=name,
            created=now,
            updated=now,
            language=language,
        )
        self._next_account_user += 1
        self.account_users[user.account_user_id] = user
        return user

    def grant(
        self,
        person: Person | str | None,
        device_ref: Device | str | int,
        auth_type: int,
        *,
        code: int | None = None,
        name: str | None = None,
        remote_allowed: bool = True,
    ) -> Authorization:
        """Give someone an authorization on a device (what ``PUT /smartlock/{id}/auth`` does)."""
        device = self.device(device_ref)
        holder = self.person(person) if isinstance(person, str) else person
        if auth_type == AuthType.KEYPAD_CODE and code is None:
            msg = "a keypad-code authorization needs a code"
            raise ValueError(msg)
        now = self.clock.now()
        account_user = holder.account_user if holder is not None else None
        auth = Authorization(
            id=self.ids.next(now),
            auth_id=1 + sum(1 for a in self.auths if a.smartlock_id == device.smartlock_id),
            smartlock_id=device.smartlock_id,
            type=AuthType(auth_type),
            name=name or (holder.name if holder is not None else "Nuki Bridge"),
            created=now,
            updated=now,
            holder=holder.name if holder is not None else None,
            account_user_id=(
                account_user.account_user_id
                if account_user is not None and auth_type != AuthType.KEYPAD_CODE
                else None
            ),
            code=code,
            remote_allowed=remote_allowed,
        )
        self.auths.append(auth)
        return auth

    def person(self, name: str) -> Person:
        """Return the person with this name.

        Raises:
            SimulationError: nobody of that name.
        """
        try:
            return self.people[name]
        except KeyError:
            msg = f"nobody called {name!r} in the world"
            raise SimulationError(msg) from None

    def device(self, ref: Device | str | int) -> Device:
        """Return a device by itself, its name, smartlockId or nukiId.

        Raises:
            SimulationError: no such device.
        """
        if isinstance(ref, Device):
            return ref
        for device in self.devices:
            if ref in {device.name, device.smartlock_id, device.nuki_id}:
                return device
        msg = f"no device {ref!r} in the world"
        raise SimulationError(msg)

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

    def touch(self, device: Device) -> None:
        """Note a change that the bridge does not report (transitional states)."""
        device.updated = self.clock.now()
        self.changed()

    def notify(self, device: Device) -> None:
        """Note a change the bridge reports: one callback to every registered URL."""
        self.touch(device)
        self.bridge.enqueue(device.callback_body())

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

    def _add_device(self, device: Device) -> Device:
        if any(d.smartlock_id == device.smartlock_id for d in self.devices):
            msg = f"nukiId {device.nuki_id:08X} of type {device.device_type} exists already"
            raise ValueError(msg)
        self.devices.append(device)
        self.grant(None, device, AuthType.BRIDGE, name="Nuki Bridge")
        return device

    def _new_nuki_id(self) -> int:
        return 0x10000000 + self.rng.getrandbits(28)

    def _report(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("simulator task %s failed", task.get_name(), exc_info=task.exception())
