"""Building a simulated world: bridges, locks, Openers, people and their authorizations.

What a test or scenario calls before (and, for people and authorizations, while) the World
runs. A mixin of ``World``, kept apart so that ``world.py`` holds what happens at run time.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, cast

from nukiasync.const import AuthType, DeviceType, OpenerState
from nukiasync.simulator.actions import SimulationError
from nukiasync.simulator.bridge_server import SimulatedBridge
from nukiasync.simulator.devices import DEFAULT_BRIDGE, Device
from nukiasync.simulator.people import ACCOUNT_ID, AccountUser, Authorization, Person

if TYPE_CHECKING:
    import random
    from collections.abc import Iterable

    from nukiasync.simulator.clock import Clock
    from nukiasync.simulator.logbook import ObjectIds
    from nukiasync.simulator.truth import ChangeBook
    from nukiasync.simulator.world import World


def new_token(length: int) -> str:
    """A random token of letters and digits (bridge and Web API tokens)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


class Population:
    """The World's building methods; ``World.__init__`` sets the attributes below."""

    clock: Clock
    rng: random.Random
    ids: ObjectIds
    bridges: dict[str, SimulatedBridge]
    devices: list[Device]
    people: dict[str, Person]
    auths: list[Authorization]
    account_users: dict[int, AccountUser]
    truth: ChangeBook
    _state: str
    _next_account_user: int

    def add_bridge(self, name: str, *, token: str | None = None) -> SimulatedBridge:
        """Add another bridge (before ``start``); pass it as ``bridge=`` to ``add_lock``.

        Raises:
            ValueError: the name is taken.
            RuntimeError: the world has started already.
        """
        if self._state != "new":
            msg = "add bridges before the world starts"
            raise RuntimeError(msg)
        if name in self.bridges:
            msg = f"a bridge called {name!r} exists already"
            raise ValueError(msg)
        bridge = SimulatedBridge(self._world(), token or new_token(10), name=name)
        self.bridges[name] = bridge
        return bridge

    def bridge_of(self, device_ref: Device | str | int) -> SimulatedBridge:
        """The bridge a device is paired to."""
        name = self.device(device_ref).bridge
        if name is None:
            msg = f"{self.device(device_ref).name} is paired to no bridge"
            raise SimulationError(msg)
        return self.bridges[name]

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
        bridge: SimulatedBridge | str | None = DEFAULT_BRIDGE,
        mqtt: bool = False,
    ) -> Device:
        """Add a Smart Lock (type 0: Smart Lock 2; 4: 3.0 / 4th gen; 5: Ultra / 5th gen).

        ``bridge`` is a bridge from ``add_bridge`` or its name (default: the first bridge), or
        None for a lock without one (type 5 cannot pair with a bridge). ``mqtt`` makes it
        publish to the World's MQTT broker (types 4 and 5, as Nuki's MQTT API 1.5).
        """
        if device_type not in {
            DeviceType.SMARTLOCK,
            DeviceType.SMARTLOCK_3,
            DeviceType.SMARTLOCK_5,
        }:
            msg = f"a lock has device type 0, 4 or 5, not {device_type}"
            raise ValueError(msg)
        if device_type == DeviceType.SMARTLOCK_5 and bridge is not None:
            msg = "a Smart Lock Ultra / 5th generation cannot pair with a bridge: pass bridge=None"
            raise ValueError(msg)
        if mqtt and device_type == DeviceType.SMARTLOCK:
            msg = "a Smart Lock 1.0/2.0 has no MQTT"
            raise ValueError(msg)
        firmware = {DeviceType.SMARTLOCK: "2.12.4", DeviceType.SMARTLOCK_5: "5.2.1"}
        device = Device(
            name=name,
            nuki_id=nuki_id if nuki_id is not None else self._new_nuki_id(),
            device_type=DeviceType(device_type),
            created=self.clock.now(),
            door_sensor=door_sensor,
            keypad=keypad,
            auto_lock=auto_lock,
            knob=knob,
            firmware=firmware.get(DeviceType(device_type), "3.10.5"),
            bridge=self._bridge_name(bridge) if bridge is not None else None,
            mqtt=mqtt,
        )
        return self._add_device(device)

    def add_opener(
        self,
        name: str,
        *,
        nuki_id: int | None = None,
        keypad: bool = False,
        bridge: SimulatedBridge | str = DEFAULT_BRIDGE,
    ) -> Device:
        """Add an Opener (type 2) in door mode, ring to open off, paired to ``bridge``."""
        device = Device(
            name=name,
            nuki_id=nuki_id if nuki_id is not None else self._new_nuki_id(),
            device_type=DeviceType.OPENER,
            created=self.clock.now(),
            keypad=keypad,
            state=OpenerState.ONLINE,
            firmware="1.10.2",
            bridge=self._bridge_name(bridge),
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
        person = Person(self._world(), name, account_user)
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
            # Device-side ids are never reused, also after a deletion (MQTT names them).
            auth_id=1
            + max(
                (a.auth_id for a in self.auths if a.smartlock_id == device.smartlock_id), default=0
            ),
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

    def _add_device(self, device: Device) -> Device:
        if any(d.smartlock_id == device.smartlock_id for d in self.devices):
            msg = f"nukiId {device.nuki_id:08X} of type {device.device_type} exists already"
            raise ValueError(msg)
        self.devices.append(device)
        self.truth.register(device)
        if device.bridge is not None:
            self.grant(None, device, AuthType.BRIDGE, name="Nuki Bridge")
        if device.keypad:  # the keypad itself; a code's action names it and the code's id
            self.grant(None, device, AuthType.KEYPAD, name="Keypad")
        return device

    def _bridge_name(self, bridge: SimulatedBridge | str) -> str:
        name = bridge.name if isinstance(bridge, SimulatedBridge) else bridge
        if self.bridges.get(name) is None or (
            isinstance(bridge, SimulatedBridge) and self.bridges[name] is not bridge
        ):
            msg = f"no bridge {name!r} in this world; add it with add_bridge()"
            raise ValueError(msg)
        return name

    def _new_nuki_id(self) -> int:
        return 0x10000000 + self.rng.getrandbits(28)

    def _world(self) -> World:
        return cast("World", self)  # Population is only ever mixed into World
