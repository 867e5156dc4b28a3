"""Who is behind a log entry: authorizations and account users, cached and refreshed on a miss.

A log entry carries a name and an auth id; the authorization says how the person acted
(app, keypad code, fob, ...) and which account user they are. The cache is refreshed when an
entry names an auth it does not know, at most once per ``min_refresh`` seconds, because new
keypad codes and invitations appear in the Web API only at the next sync.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nukiasync.const import AuthType, LogSource, LogTrigger
from nukiasync.errors import NukiError
from nukiasync.events import Actor

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from nukiasync.web.models.auth import SmartlockAuth
    from nukiasync.web.models.log import SmartlockLog

_LOGGER = logging.getLogger(__name__)

# New auths reach the Web API only at a sync; asking more often than this finds nothing new.
MIN_REFRESH = timedelta(seconds=60)


class ActorDirectory:
    """Resolves log entries to actors, from a cache of the account's authorizations."""

    def __init__(
        self,
        load_auths: Callable[[], Awaitable[Sequence[SmartlockAuth]]] | None,
        *,
        clock: Callable[[], datetime],
        min_refresh: timedelta = MIN_REFRESH,
    ) -> None:
        self._load_auths = load_auths
        self._clock = clock
        self._min_refresh = min_refresh
        self._by_id: dict[str, SmartlockAuth] = {}
        self._last_refresh: datetime | None = None

    def __len__(self) -> int:
        return len({id(auth) for auth in self._by_id.values()})

    async def refresh(self) -> bool:
        """Reload the authorizations unless that was done recently; True if reloaded."""
        now = self._clock()
        if self._load_auths is None or (
            self._last_refresh is not None and now - self._last_refresh < self._min_refresh
        ):
            return False
        self._last_refresh = now
        try:
            auths = await self._load_auths()
        except NukiError as err:
            _LOGGER.debug("Could not load authorizations: %s", type(err).__name__)
            return False
        self._by_id = {}
        for auth in auths:
            # The log's authId is the auth's string id. Not the numeric one: it repeats across
            # locks, so it could name someone else (MQTT looks it up per lock, `mqtt_names`).
            self._by_id[auth.id] = auth
        return True

    async def actor_for(self, entry: SmartlockLog) -> Actor:
        """The actor of a log entry, refreshing the cache once when its auth is unknown."""
        auth = self._lookup(entry.auth_id)
        if auth is None and entry.auth_id is not None and await self.refresh():
            auth = self._lookup(entry.auth_id)
        return Actor(
            name=entry.name or (auth.name if auth is not None else ""),
            auth_id=entry.auth_id,
            auth_type=auth_type_of(entry, auth),
            account_user_id=entry.account_user_id
            if entry.account_user_id is not None
            else (auth.account_user_id if auth is not None else None),
        )

    def _lookup(self, auth_id: str | None) -> SmartlockAuth | None:
        return None if auth_id is None else self._by_id.get(auth_id)


def auth_type_of(entry: SmartlockLog, auth: SmartlockAuth | None) -> str | None:
    """How the person acted: the auth's type when known, else what the log implies."""
    if auth is not None and auth.type is not AuthType.UNKNOWN:
        return auth.type.name.lower()
    if entry.trigger is LogTrigger.KEYPAD:
        return "fingerprint" if entry.source is LogSource.FINGERPRINT else "keypad_code"
    if entry.trigger is LogTrigger.WEB:
        return "web"
    if entry.trigger is LogTrigger.APP:
        return "app"
    return None
