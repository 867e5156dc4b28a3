"""The Web API's activity log as the cloud keeps it, and the World's ground-truth journal.

A log entry exists from the moment the device records it, with the device's own date, but
the Web API shows it only after its upload time (``visible_at``): the lag every "who did it"
consumer has to live with. Entries are listed newest first by date; the ``id`` cursor means
"older than this entry", like Nuki's ``id`` parameter ("filter for older logs").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.simulator.devices import web_time

if TYPE_CHECKING:
    import random
    from collections.abc import Iterable

MAX_PAGE = 50  # Nuki's documented maximum; larger limits are clamped silently
DEFAULT_PAGE = 20  # Nuki's default page size


class ObjectIds:
    """Makes 24-hex, Mongo-style ids that sort in creation order (as Nuki's do)."""

    def __init__(self, rng: random.Random) -> None:
        self._machine = f"{rng.getrandbits(40):010x}"
        self._counter = rng.getrandbits(16)

    def next(self, when: datetime) -> str:
        """Return a fresh id stamped with ``when``."""
        self._counter = (self._counter + 1) & 0xFFFFFF
        return f"{int(when.timestamp()) & 0xFFFFFFFF:08x}{self._machine}{self._counter:06x}"


@attrs.frozen(kw_only=True)
class LogEntry:
    """One ``SmartlockLog`` entry with its upload time."""

    id: str
    seq: int
    smartlock_id: int
    device_type: int
    action: int
    trigger: int
    state: int
    date: datetime
    visible_at: datetime
    name: str = ""
    auth_id: str | None = None
    account_user_id: int | None = None
    source: int = 0
    auto_unlock: bool = False
    opener_log: dict[str, Any] | None = None

    def web_json(self) -> dict[str, Any]:
        """The Web API JSON, keys in the spec's order; absent values are left out."""
        body: dict[str, Any] = {
            "id": self.id,
            "smartlockId": self.smartlock_id,
            "deviceType": self.device_type,
        }
        if self.account_user_id is not None:
            body["accountUserId"] = self.account_user_id
        if self.auth_id is not None:
            body["authId"] = self.auth_id
        body.update(
            name=self.name,
            action=self.action,
            trigger=self.trigger,
            state=self.state,
            autoUnlock=self.auto_unlock,
            date=web_time(self.date),
        )
        if self.opener_log is not None:
            body["openerLog"] = dict(self.opener_log)
        body["source"] = self.source
        return body


@attrs.frozen(kw_only=True)
class ActionRecord:
    """Ground truth of one thing that happened, for tests to compare attributions against.

    ``person`` is who really did it (``None`` for the lock itself: auto-lock, door sensor);
    ``log_id`` the Web API entry it produced (``None`` if it produced none);
    ``resulting_state`` the state the bridge reported by callback (``None`` if no callback).
    Times are the simulated host times; ``device_date`` is the entry's (skewed) date.
    """

    seq: int
    person: str | None
    via: str
    lock: str
    smartlock_id: int
    nuki_id: int
    device_type: int
    action: int
    trigger: int
    state: int
    started_at: datetime
    completed_at: datetime
    log_id: str | None = None
    auth_id: str | None = None
    auth_name: str = ""
    account_user_id: int | None = None
    device_date: datetime | None = None
    visible_at: datetime | None = None
    resulting_state: int | None = None


def _newest_first(entry: LogEntry) -> tuple[datetime, int]:
    return (entry.date, entry.seq)


@attrs.define
class LogBook:
    """All log entries of an account."""

    entries: list[LogEntry] = attrs.field(factory=list)

    def add(self, entry: LogEntry) -> None:
        """Store an entry (visible from ``entry.visible_at``)."""
        self.entries.append(entry)

    def find(self, entry_id: str) -> LogEntry | None:
        """Return the entry with this id, uploaded or not."""
        return next((entry for entry in self.entries if entry.id == entry_id), None)

    def query(
        self,
        now: datetime,
        *,
        smartlock_id: int | None = None,
        auth_id: str | None = None,
        account_user_id: int | None = None,
        action: int | None = None,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        older_than: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> list[LogEntry]:
        """Return one page, newest first, of the entries uploaded by ``now``.

        ``fromDate`` and ``toDate`` are inclusive. An ``older_than`` id that is not known
        gives an empty page.
        """
        visible: Iterable[LogEntry] = (e for e in self.entries if e.visible_at <= now)
        if older_than is not None:
            cursor = self.find(older_than)
            if cursor is None:
                return []
            key = _newest_first(cursor)
            visible = (e for e in visible if _newest_first(e) < key)
        selected = [
            entry
            for entry in visible
            if (smartlock_id is None or entry.smartlock_id == smartlock_id)
            and (auth_id is None or entry.auth_id == auth_id)
            and (account_user_id is None or entry.account_user_id == account_user_id)
            and (action is None or entry.action == action)
            and (from_date is None or entry.date >= from_date)
            and (to_date is None or entry.date <= to_date)
        ]
        selected.sort(key=_newest_first, reverse=True)
        return selected[: max(1, min(limit, MAX_PAGE))]
