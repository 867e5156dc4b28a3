"""Who an MQTT ``lockActionEvent`` names: its device-side auth id (or keypad code id) resolved.

Auth ids are numbers the lock gives, one series per lock, so a lookup is always by lock and
number: the Web API's authorizations (``SmartlockAuth.auth_id``, keypad codes by their id) when
a Web API client is given, else the owner's own mapping. A number neither knows resolves to
nobody, and the change ends `AttributionUnavailable` (``unknown_actor``): never a guess.

An action that names nobody by design (the lock's button, auto lock, a time control) is
answered with an empty name and how it was done, as a Web API log entry of it would be.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nukiasync.const import AuthType, LockAction, LogAction
from nukiasync.errors import NukiError
from nukiasync.events import Actor
from nukiasync.how import How
from nukiasync.mqtt.messages import LockActionEvent, MqttTrigger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from nukiasync.web.models.auth import SmartlockAuth

_LOGGER = logging.getLogger(__name__)

MIN_REFRESH = timedelta(seconds=60)  # new auths reach the Web API only at a sync
# Triggers that name no person by design, and how the action was done.
_NOBODY = {
    MqttTrigger.BUTTON: How.BUTTON,
    MqttTrigger.AUTO_LOCK: How.AUTO_LOCK,
}
_BY_AUTH = {
    AuthType.APP: How.APP,
    AuthType.BRIDGE: How.BRIDGE,
    AuthType.FOB: How.FOB,
    AuthType.KEYPAD: How.KEYPAD_CODE,
    AuthType.KEYPAD_CODE: How.KEYPAD_CODE,
    AuthType.Z_KEY: How.FOB,
}
# lockActionEvent actions as Web API log actions (what the rules read). An Opener's 4/5
# (continuous mode on/off) are 6/7 in the log; a lock's full lock (6) is a lock.
_LOCK_ACTIONS = {1: LogAction.UNLOCK, 2: LogAction.LOCK, 3: LogAction.UNLATCH, 4: 4, 5: 5, 6: 2}
_OPENER_ACTIONS = {
    1: LogAction.UNLOCK,
    2: LogAction.LOCK,
    3: LogAction.UNLATCH,
    4: LogAction.ACTIVATE_CONTINUOUS_MODE,
    5: LogAction.DEACTIVATE_CONTINUOUS_MODE,
}
OPENER = 2
_OPENER_NAMES = {1: "activate_rto", 2: "deactivate_rto", 3: "open"}


def log_action(event: LockActionEvent, device_type: int) -> int | None:
    """The log action an announcement means, None when it moves nothing (a bare press)."""
    table = _OPENER_ACTIONS if device_type == OPENER else _LOCK_ACTIONS
    code = table.get(event.action_code)
    return None if code is None else int(code)


def action_name(action: int, device_type: int) -> str:
    """A readable name of the (log) action."""
    if device_type == OPENER and action in _OPENER_NAMES:
        return _OPENER_NAMES[action]
    return LogAction.parse(action).name.lower()


class MqttNames:
    """Resolves announcements to actors, from the Web API's auths or the owner's mapping."""

    def __init__(
        self,
        load_auths: Callable[[], Awaitable[Sequence[SmartlockAuth]]] | None,
        *,
        clock: Callable[[], datetime],
        auth_names: Mapping[int, str] | None = None,
        code_names: Mapping[int, str] | None = None,
    ) -> None:
        self._load_auths = load_auths
        self._clock = clock
        self._auth_names = dict(auth_names or {})
        self._code_names = dict(code_names or {})
        self._auths: dict[tuple[int, int], SmartlockAuth] = {}
        self._codes: dict[tuple[int, int], SmartlockAuth] = {}
        self._last_refresh: datetime | None = None
        self.refreshes = 0
        self.unknown = 0

    async def refresh(self) -> bool:
        """Reload the authorizations unless done within the last minute; whether reloaded."""
        now = self._clock()
        if self._load_auths is None or (
            self._last_refresh is not None and now - self._last_refresh < MIN_REFRESH
        ):
            return False
        self._last_refresh = now
        try:
            auths = await self._load_auths()
        except NukiError as err:
            _LOGGER.debug("Could not load authorizations: %s", type(err).__name__)
            return False
        self.refreshes += 1
        self._auths, self._codes = {}, {}
        for auth in auths:
            if auth.auth_id is None:
                continue
            key = (auth.smartlock_id, auth.auth_id)
            (self._codes if auth.is_keypad_code else self._auths)[key] = auth
        return True

    async def actor_for(
        self, smartlock_id: int, event: LockActionEvent
    ) -> tuple[Actor, How] | None:
        """Who an announcement names and how; None when it names someone nobody knows."""
        if event.auth_id is None and event.code_id is None:
            how = _NOBODY.get(event.trigger)
            return None if how is None else (Actor(), how)
        found = self._lookup(smartlock_id, event)
        if found is None and await self.refresh():
            found = self._lookup(smartlock_id, event)
        if found is None:
            self.unknown += 1
        return found

    def _lookup(self, smartlock_id: int, event: LockActionEvent) -> tuple[Actor, How] | None:
        keypad = event.code_id is not None
        number = event.code_id if keypad else event.auth_id
        if number is None:
            return None
        if self._load_auths is None:
            names = self._code_names if keypad else self._auth_names
            name = names.get(number)
            if not name:
                return None
            how = How.KEYPAD_CODE if keypad else _how(event, None)
            auth_type = "keypad_code" if keypad else None
            return Actor(name=name, auth_id=str(number), auth_type=auth_type), how
        auth = (self._codes if keypad else self._auths).get((smartlock_id, number))
        if auth is None or not auth.name:
            return None
        actor = Actor(
            name=auth.name,
            auth_id=auth.id,
            auth_type=auth.type.name.lower() if auth.type is not AuthType.UNKNOWN else None,
            account_user_id=auth.account_user_id,
        )
        return actor, How.KEYPAD_CODE if keypad else _how(event, auth.type)


def _how(event: LockActionEvent, auth_type: AuthType | None) -> How:
    """How a named person acted: the authorization's kind, else what the trigger says."""
    if event.action is LockAction.UNKNOWN:
        return How.UNKNOWN
    if event.trigger is MqttTrigger.HOMEKIT:
        return How.ACCESSORY
    if auth_type is AuthType.APP and event.extra == 1:
        return How.AUTO_UNLOCK  # for an app, Extra is the auto-unlock flag
    if auth_type in _BY_AUTH:
        return _BY_AUTH[auth_type]
    return How.BLUETOOTH if event.trigger is MqttTrigger.SYSTEM else How.UNKNOWN
