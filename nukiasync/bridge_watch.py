"""Keeps a bridge's callbacks flowing, and fills in when they do not.

Callbacks can stop silently: another tool removes our registration, a reboot forgets it, the
bridge cannot reach the URL we registered (Docker, a proxy), or a POST is lost. So the hub
re-registers on a slow interval and whenever the bridge comes back, reads ``/list`` when
callbacks have been quiet or the bridge was away (emitting what changed, marked as polled),
and reports when the bridge showed a change whose callback never came.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from nukiasync.errors import NukiError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_LOGGER = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class BridgeWatchTiming:
    """Tunables of self-healing; the defaults cost a bridge one cheap /list a minute at most."""

    poll_interval: float = 30.0  # s between looks at the bridge
    quiet_after: float = 60.0  # s without callbacks before /list is read
    reregister_interval: float = 600.0  # s between checks that our callback is registered
    callback_grace: float = 15.0  # s a change seen in /list may wait for its callback


class BridgeWatcher:
    """One bridge's watch; the hub runs `run()` as a task."""

    def __init__(
        self,
        bridge_id: str,
        *,
        poll: Callable[[], Awaitable[int]],
        register: Callable[[], Awaitable[bool]] | None,
        on_unreached: Callable[[str], None],
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timing: BridgeWatchTiming | None = None,
    ) -> None:
        """Create a watch; nothing runs until the hub starts `run()`.

        Args:
            bridge_id: names the log lines.
            poll: reads /list, emits what changed; returns how many devices changed.
            register: makes sure our callback is registered (None: no callback server).
            on_unreached: called with a reason when callbacks do not reach us.
            clock: the hub's clock.
            sleep: the hub's sleep.
            timing: tunables.
        """
        self.bridge_id = bridge_id
        self._poll = poll
        self._register = register
        self._on_unreached = on_unreached
        self._clock = clock
        self._sleep = sleep
        self.timing = timing or BridgeWatchTiming()
        self.last_callback: datetime = clock()
        self._last_register: datetime = clock()
        self._away = False
        self._waiting_since: datetime | None = None
        self.polls = 0
        self.registrations = 0

    def callback_seen(self) -> None:
        """A callback arrived: callbacks reach us."""
        self.last_callback = self._clock()
        self._waiting_since = None

    def bridge_away(self) -> None:
        """A request to the bridge failed; read and re-register once it answers again."""
        self._away = True

    async def run(self) -> None:
        """Watch until cancelled."""
        while True:
            await self._sleep(self.timing.poll_interval)
            await self.check()

    async def check(self) -> None:
        """One round: poll when quiet or after an absence, re-register when due."""
        now = self._clock()
        quiet = now - self.last_callback >= timedelta(seconds=self.timing.quiet_after)
        came_back = self._away
        if quiet or came_back:
            try:
                changed = await self._poll()
            except NukiError as err:
                self._away = True
                _LOGGER.debug(
                    "bridge %s: still unreachable (%s)", self.bridge_id, type(err).__name__
                )
                return
            self.polls += 1
            self._away = False
            self._note_missed(changed, now)
        due = now - self._last_register >= timedelta(seconds=self.timing.reregister_interval)
        if self._register is not None and (came_back or due):
            self._last_register = now
            try:
                if await self._register():
                    self.registrations += 1
                    _LOGGER.info("bridge %s: callback registered again", self.bridge_id)
            except NukiError as err:
                _LOGGER.warning(
                    "bridge %s: cannot check the callback registration: %s",
                    self.bridge_id,
                    type(err).__name__,
                )

    def _note_missed(self, changed: int, now: datetime) -> None:
        """The bridge showed changes no callback told us about: say so once they are late."""
        if changed and self._waiting_since is None:
            self._waiting_since = now
        if self._waiting_since is None or self._register is None:
            return
        late = now - self._waiting_since >= timedelta(seconds=self.timing.callback_grace)
        if late and self.last_callback < self._waiting_since:
            self._on_unreached(
                "the bridge reported changes by /list but no callback came: "
                "it may not reach the registered URL"
            )
            self._waiting_since = None
