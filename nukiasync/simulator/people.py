"""People, their account users and authorizations, and what they can do to a door.

``await world.person("Alice").unlock("Front door", via="app")`` behaves as Alice would: the
lock turns, the bridge posts callbacks, the lock writes a log entry with the trigger and the
authorization the real system records for that way of opening (``via``):

- ``app``: Bluetooth command from the Nuki app, trigger 0 (system), her app authorization;
- ``web``: Nuki Web / Web API, trigger 4, her app authorization;
- ``keypad``: trigger 255, source 1, her keypad-code authorization (a wrong code is logged
  with state 224 and changes nothing);
- ``fob``: trigger 3 (automatic; Nuki's own fob example in the MQTT API 1.5), her fob;
- ``button``: the button on the lock, trigger 2, no authorization, empty name;
- ``manual``: turning the knob by hand, trigger 1, no authorization, empty name;
- ``bridge``: the bridge's own authorization, trigger 0 (``/lockAction``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.const import AuthType, LockAction, LogAction
from nukiasync.simulator.devices import web_time

if TYPE_CHECKING:
    from nukiasync.simulator.devices import Device
    from nukiasync.simulator.logbook import ActionRecord
    from nukiasync.simulator.world import World

ACCOUNT_ID = 100001  # the one account the simulated cloud holds
VIAS = frozenset({"app", "web", "keypad", "fob", "button", "manual", "bridge"})


def _hidden(_value: object) -> str:
    return "***"


@attrs.define(kw_only=True, eq=False)
class AccountUser:
    """A Nuki Web account user (someone with an e-mail address)."""

    account_user_id: int
    account_id: int
    email: str = attrs.field(repr=_hidden)
    name: str
    created: datetime
    updated: datetime
    type: int = 0
    language: str = "en"

    def web_json(self) -> dict[str, Any]:
        """The Web API ``AccountUser`` object."""
        return {
            "accountUserId": self.account_user_id,
            "accountId": self.account_id,
            "type": self.type,
            "email": self.email,
            "name": self.name,
            "language": self.language,
            "creationDate": web_time(self.created),
            "updateDate": web_time(self.updated),
        }


@attrs.define(kw_only=True, eq=False)
class Authorization:
    """One ``SmartlockAuth``: a way into one device (app, fob, keypad code, bridge)."""

    id: str
    auth_id: int
    smartlock_id: int
    type: AuthType
    name: str
    created: datetime
    updated: datetime
    holder: str | None = None  # the person's name; not on the wire
    account_user_id: int | None = None
    code: int | None = attrs.field(default=None, repr=_hidden)
    enabled: bool = True
    remote_allowed: bool = True
    lock_count: int = 0
    last_active: datetime | None = None

    def web_json(self) -> dict[str, Any]:
        """The Web API ``SmartlockAuth`` object."""
        body: dict[str, Any] = {"id": self.id, "smartlockId": self.smartlock_id}
        if self.account_user_id is not None:
            body["accountUserId"] = self.account_user_id
        body["authId"] = self.auth_id
        if self.code is not None:
            body["code"] = self.code
        body.update(
            type=int(self.type),
            name=self.name,
            enabled=self.enabled,
            remoteAllowed=self.remote_allowed,
            lockCount=self.lock_count,
            allowedWeekDays=127,
            allowedFromTime=0,
            allowedUntilTime=0,
            creationDate=web_time(self.created),
            updateDate=web_time(self.updated),
        )
        if self.last_active is not None:
            body["lastActiveDate"] = web_time(self.last_active)
        return body


class Person:
    """Someone in the simulated world; every action returns its ``ActionRecord``."""

    def __init__(self, world: World, name: str, account_user: AccountUser | None = None) -> None:
        self.world = world
        self.name = name
        self.account_user = account_user

    def __repr__(self) -> str:
        return f"Person({self.name!r})"

    async def lock(
        self, device: Device | str | int, *, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Lock (Opener: deactivate ring to open)."""
        return await self.world.act(self, device, LockAction.LOCK, via=via, **kw)

    async def unlock(
        self, device: Device | str | int, *, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Unlock (Opener: activate ring to open)."""
        return await self.world.act(self, device, LockAction.UNLOCK, via=via, **kw)

    async def unlatch(
        self, device: Device | str | int, *, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Unlatch (Opener: open the door by the electric strike)."""
        return await self.world.act(self, device, LockAction.UNLATCH, via=via, **kw)

    async def lock_n_go(
        self, device: Device | str | int, *, unlatch: bool = False, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Lock 'n' Go: unlock (or unlatch), then lock by itself after a while."""
        action = LockAction.LOCK_N_GO_UNLATCH if unlatch else LockAction.LOCK_N_GO
        return await self.world.act(self, device, action, via=via, **kw)

    async def enter_code(self, device: Device | str | int, code: int) -> ActionRecord:
        """Type a keypad code (right or wrong) and press the key: an unlock attempt."""
        return await self.world.act(self, device, LockAction.UNLOCK, via="keypad", code=code)

    async def press_button(self, device: Device | str | int) -> ActionRecord:
        """Press the button on the lock: unlock when locked, else lock."""
        return await self.world.press_button(self, device)

    async def open_door(self, device: Device | str | int) -> ActionRecord:
        """Open the door (seen by the door sensor)."""
        return await self.world.door(self, device, opened=True)

    async def close_door(self, device: Device | str | int) -> ActionRecord:
        """Close the door (seen by the door sensor)."""
        return await self.world.door(self, device, opened=False)

    async def ring(self, device: Device | str | int) -> ActionRecord:
        """Ring the doorbell wired to an Opener (opens it when ring to open is active)."""
        return await self.world.ring(self, device)

    async def activate_rto(
        self, device: Device | str | int, *, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Opener: activate ring to open."""
        return await self.unlock(device, via=via, **kw)

    async def deactivate_rto(
        self, device: Device | str | int, *, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Opener: deactivate ring to open."""
        return await self.lock(device, via=via, **kw)

    async def open(
        self, device: Device | str | int, *, via: str = "app", **kw: Any
    ) -> ActionRecord:
        """Opener: buzz the door open."""
        return await self.unlatch(device, via=via, **kw)

    async def continuous_mode(
        self, device: Device | str | int, *, on: bool = True, via: str = "app"
    ) -> ActionRecord:
        """Opener: switch continuous mode on or off."""
        action = LogAction.ACTIVATE_CONTINUOUS_MODE if on else LogAction.DEACTIVATE_CONTINUOUS_MODE
        return await self.world.act(self, device, action, via=via)
