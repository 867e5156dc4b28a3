"""The hub's state file: where the log was read up to, and what was already emitted.

Delivery after a crash is at least once with stable ids (decision 0002): a log-derived event is
written to the outbox *before* it is published, and leaves it only once every consumer has
taken it. After a restart the outbox is published again, with the same event ids, and the
log is re-read from a watermark minus a margin; entries are deduplicated by id, never by date
(an entry uploaded late keeps an old date). Writes are atomic (temp file, fsync, rename) and
run off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync import events as ev
from nukiasync._parse import parse_datetime
from nukiasync.const import DeviceType

if TYPE_CHECKING:
    from collections.abc import Callable

    from nukiasync.hub.bus import EventBus

_LOGGER = logging.getLogger(__name__)

# Entries that reach the Web API late keep their old date: re-read this far behind.
REREAD_MARGIN = timedelta(minutes=15)
FORMAT_VERSION = 1

_EVENT_TYPES: dict[str, type[ev.NukiEvent]] = {
    cls.__name__: cls
    for cls in (
        ev.ActionAttributed,
        ev.AttributionUnavailable,
        ev.LogEntryObserved,
        ev.Gap,
        ev.LockStateChanged,  # a change only the log showed (decision 0011)
    )
}


@attrs.define
class Checkpoint:
    """Mutable state of one Web API account's log reading."""

    watermark: datetime | None = None
    since: datetime | None = None  # first use of the state file: nothing older is reported
    emitted: dict[str, datetime] = attrs.field(factory=dict)  # log id -> entry date
    outbox: dict[str, dict[str, Any]] = attrs.field(factory=dict)  # event id -> event
    pending: list[dict[str, Any]] = attrs.field(factory=list)  # changes waiting for an entry
    # Per smartlock id: its entries' dates minus callback times, in seconds (learnt slowly).
    offsets: dict[str, list[float]] = attrs.field(factory=dict)
    # Per smartlock id: its recent states, [seen at (ISO), state], as of ``history_until``:
    # entries left unclaimed at a restart are still told against what the hub believed.
    history: dict[str, list[list[Any]]] = attrs.field(factory=dict)
    history_until: datetime | None = None

    def seen(self, log_id: str) -> bool:
        """Whether an entry was emitted, or is on its way out."""
        return log_id in self.emitted or any(
            item.get("log_entry_id") == log_id for item in self.outbox.values()
        )

    def mark_emitted(self, log_id: str, date: datetime) -> None:
        """Record an entry as delivered and move the watermark, pruning old ids."""
        self.emitted[log_id] = date
        if self.watermark is None or date > self.watermark:
            self.watermark = date
        floor = self.watermark - REREAD_MARGIN
        for old in [key for key, when in self.emitted.items() if when < floor]:
            del self.emitted[old]

    def read_from(self) -> datetime | None:
        """Where a catch-up read starts: the watermark minus the margin, not before ``since``."""
        if self.watermark is None:
            return self.since
        start = self.watermark - REREAD_MARGIN
        return start if self.since is None else max(start, self.since)

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "version": FORMAT_VERSION,
            "watermark": None if self.watermark is None else self.watermark.isoformat(),
            "since": None if self.since is None else self.since.isoformat(),
            "emitted": {key: when.isoformat() for key, when in self.emitted.items()},
            "outbox": self.outbox,
            "pending": self.pending,
            "offsets": self.offsets,
            "history": self.history,
            "history_until": None if self.history_until is None else self.history_until.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Read the file's content; anything unreadable starts afresh (with a warning).

        Raises:
            ValueError: the content is not a checkpoint of this version.
        """
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            msg = "not a nukiasync checkpoint of a known version"
            raise ValueError(msg)
        watermark = data.get("watermark")
        since = data.get("since")
        return cls(
            watermark=parse_datetime(watermark) if watermark else None,
            since=parse_datetime(since) if since else None,
            emitted={str(k): parse_datetime(v) for k, v in dict(data["emitted"]).items()},
            outbox={str(k): dict(v) for k, v in dict(data["outbox"]).items()},
            pending=[dict(item) for item in list(data.get("pending") or [])],
            offsets={
                str(int(k)): [float(x) for x in v]
                for k, v in dict(data.get("offsets") or {}).items()
            },
            history={
                str(int(k)): [[str(when), int(state)] for when, state in v]
                for k, v in dict(data.get("history") or {}).items()
            },
            history_until=parse_datetime(until) if (until := data.get("history_until")) else None,
        )


class StateFile:
    """Loads and saves a `Checkpoint` atomically, off the event loop."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"StateFile({str(self.path)!r})"

    async def load(self) -> Checkpoint:
        """The saved checkpoint, or an empty one when there is none (or it is damaged)."""
        try:
            text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return Checkpoint()
        try:
            return Checkpoint.from_json(json.loads(text))
        except (ValueError, TypeError, KeyError) as err:
            _LOGGER.warning("Ignoring unreadable state file %s: %s", self.path, err)
            return Checkpoint()

    async def save(self, checkpoint: Checkpoint) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half."""
        payload = json.dumps(checkpoint.to_json(), separators=(",", ":"))
        async with self._lock:
            await asyncio.to_thread(_write_atomically, self.path, payload)


def _write_atomically(path: Path, payload: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def event_to_record(event: ev.NukiEvent) -> dict[str, Any]:
    """An outbox record of an event (JSON-ready)."""
    return ev.event_to_dict(event)


def event_from_record(record: dict[str, Any]) -> ev.NukiEvent:
    """Rebuild an event from its outbox record, with the same id and fields.

    Raises:
        ValueError: the record is not an event this version writes.
    """
    cls = _EVENT_TYPES.get(str(record.get("type")))
    if cls is None:
        msg = f"unknown event type in state file: {record.get('type')!r}"
        raise ValueError(msg)
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name not in record:
            continue
        value = record[field.name]
        if value is not None:
            value = _convert(field.name, value)
        values[field.name] = value
    return cls(**values)


def _convert(name: str, value: Any) -> Any:
    if name.endswith("_at") or name in {"since", "until"}:
        return parse_datetime(value)
    if name == "device_type":
        return DeviceType[str(value).upper()]
    if name == "source":
        return ev.EventSource(value)
    if name == "reason" and value in ev.AttributionFailure._value2member_map_:
        return ev.AttributionFailure(value)
    if name == "actor":
        return ev.Actor(**value)
    return value


class Outbox:
    """Publishes log-derived events so that a crash loses none of them (decision 0002).

    With a state file, an event is written to the outbox before it is published, and moves
    to the checkpoint's emitted ids once every consumer has taken it. Without one, the same
    bookkeeping runs in memory, so entries are still reported once per run.
    """

    def __init__(
        self, bus: EventBus, state_file: StateFile | None, clock: Callable[[], datetime]
    ) -> None:
        self.bus = bus
        self.state_file = state_file
        self.checkpoint = Checkpoint()
        self._clock = clock
        self._sequence: dict[str, tuple[int, str, datetime]] = {}

    async def load(self) -> None:
        """Read the state file and publish again what had not been taken before a stop."""
        if self.state_file is None:
            return
        self.checkpoint = await self.state_file.load()
        if self.checkpoint.since is None:
            # A crash before the first emission must not lose what happened since this start.
            self.checkpoint.since = self._clock()
            await self.state_file.save(self.checkpoint)
        for record in list(self.checkpoint.outbox.values()):
            try:
                event = event_from_record(record)
            except (ValueError, TypeError, KeyError) as err:
                _LOGGER.warning("Dropping an unreadable event from the state file: %s", err)
                self.checkpoint.outbox.pop(str(record.get("event_id")), None)
                continue
            self.bus.publish(event)
            log_id = str(record.get("log_entry_id") or "")
            when = event.occurred_at or self._clock()
            self._sequence[event.event_id] = (self.bus.sequence, log_id, when)

    async def publish(self, event: ev.NukiEvent, log_id: str | None, date: datetime | None) -> None:
        """Outbox first (with a state file), then the bus."""
        if self.state_file is not None:
            self.checkpoint.outbox[event.event_id] = event_to_record(event)
            await self.state_file.save(self.checkpoint)
        self.bus.publish(event)
        self._sequence[event.event_id] = (self.bus.sequence, log_id or "", date or self._clock())

    async def save_pending(self, pending: list[dict[str, Any]]) -> None:
        """Keep the changes still waiting for their entry, so a restart can resume them."""
        if pending == self.checkpoint.pending:
            return
        self.checkpoint.pending = pending
        if self.state_file is not None:
            await self.state_file.save(self.checkpoint)

    async def settle(self, *, force_save: bool = False) -> None:
        """Move what every consumer has taken from the outbox to the emitted ids."""
        taken = self.bus.taken_watermark()
        done = [eid for eid, (seq, _, _) in self._sequence.items() if seq <= taken]
        for event_id in done:
            _seq, log_id, date = self._sequence.pop(event_id)
            self.checkpoint.outbox.pop(event_id, None)
            if log_id:
                self.checkpoint.mark_emitted(log_id, date)
        if self.state_file is not None and (done or force_save):
            await self.state_file.save(self.checkpoint)
