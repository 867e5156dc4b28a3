"""MQTT as a source: a lock's own broker messages give its state and who acted, locally.

Smart Lock 3.0 Pro and 4th-generation locks publish their state on retained topics and, before
an action runs, ``lockActionEvent`` naming who started it. From the `LockFeed`:

- state topics become the hub's state events (``source`` MQTT) through the same device table
  as bridge callbacks, so a lock with no bridge is a first-class device, and a change both
  report is one event. A retained value the source has not seen yet is the state the lock was
  in already (at start, or a topic first seen later): it is taken silently, never a change.
- ``lockActionEvent`` becomes a record for `PushMatcher`: the same rules as the Web API log
  pair it with the change the state topic (or a bridge) reports; `MqttNames` says who it
  names. An announcement nobody completes fails; a change nobody announced times out.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.attribution import ActionRecord
from nukiasync.const import DeviceType
from nukiasync.events import ActionAttributed, AttributionFailure, EventSource, stable_id
from nukiasync.hub.sources.mqtt_names import MqttNames, action_name, log_action
from nukiasync.hub.sources.mqtt_state import FIELDS, MqttLock, as_callback, set_known
from nukiasync.hub.sources.push_match import PushMatcher, PushTiming
from nukiasync.mqtt.feed import LOCK_ACTION_EVENT, DeviceMessage, LockFeed
from nukiasync.mqtt.messages import LockActionEvent

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Mapping
    from datetime import datetime

    from nukiasync.attribution import ObservedChange
    from nukiasync.hub.sources.base import SourceHost
    from nukiasync.mqtt.broker import MqttSettings
    from nukiasync.web.client import NukiWebClient

_LOGGER = logging.getLogger(__name__)

MQTT = "mqtt"


@attrs.define(kw_only=True)
class MqttSourceStats:
    """What the source did with the feed's messages."""

    states: int = 0
    announcements: int = 0
    stale: int = 0  # a retained lockActionEvent: an old one the broker kept
    unplaced: int = 0  # from a lock whose device type is not known yet
    bare: int = 0  # a button or fob pressed without an action


class MqttSource:
    """The hub's `ActionSource` over a lock feed: state events and who acted, from MQTT."""

    name = MQTT

    def __init__(
        self,
        settings: MqttSettings,
        *,
        web: NukiWebClient | None = None,
        auth_names: Mapping[int, str] | None = None,
        code_names: Mapping[int, str] | None = None,
        timing: PushTiming | None = None,
    ) -> None:
        self._settings = settings
        self._web = web
        self._auth_names = auth_names
        self._code_names = code_names
        self.timing = timing or PushTiming()
        self._locks: dict[int, MqttLock] = {}
        self._records: dict[str, LockActionEvent] = {}
        self._sequence = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._host: SourceHost | None = None
        self.feed: LockFeed | None = None
        self.matcher: PushMatcher | None = None
        self.names: MqttNames | None = None
        self.stats = MqttSourceStats()

    def __repr__(self) -> str:
        return f"MqttSource(broker={self._settings.origin!r})"

    async def prepare(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Set up matching and names; the feed connects at `start`."""
        self._host = host
        self.matcher = PushMatcher(self.timing, started=host.clock())
        self.names = MqttNames(
            None if self._web is None else self._web.auths,
            clock=host.clock,
            auth_names=self._auth_names,
            code_names=self._code_names,
        )
        await self.names.refresh()
        self.feed = LockFeed(
            self._settings,
            self._on_message,
            clock=host.clock,
            on_health=lambda ok, detail: host.health.mqtt(available=ok, detail=detail),
            sleep=host.sleep,
        )
        stack.push_async_callback(self._close)

    async def start(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:  # noqa: ARG002
        """Connect (and reconnect) in the background, and start answering."""
        if self.feed is None or self.matcher is None:
            return
        await self.feed.start()
        self._task = asyncio.create_task(
            self._run(host, self.matcher), name="nukiasync.hub.mqtt_source"
        )

    async def wait_subscribed(self) -> None:
        """Return once the feed is subscribed (wrap it in a timeout)."""
        if self.feed is not None:
            await self.feed.wait_subscribed()

    def covers(self, change: ObservedChange) -> bool:
        """Whether the change is of a lock seen on the broker."""
        return any(lock.smartlock_id == change.smartlock_id for lock in self._locks.values())

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """Wait for the change's announcement."""
        if self.matcher is not None:
            self.matcher.add(change, attributable=attributable)
            self._wake.set()

    def retract(self, change_id: str) -> bool:
        """Drop a contradicted change."""
        return self.matcher is not None and self.matcher.retract(change_id)

    def answered(self, change_id: str) -> None:
        """Another source answered: waiting costs nothing here, and cross-checks it."""

    def reconsider(self) -> None:
        """Nothing here waits on the bridge's checks."""

    def diagnostics(self) -> dict[str, Any]:
        """Counters of the feed, the link and the matching; never a payload or a password."""
        feed = self.feed
        task = {} if self._task is None else {"mqtt_source": _state(self._task)}
        return {
            "broker": self._settings.origin,
            "locks": len(self._locks),
            "feed": None if feed is None else attrs.asdict(feed.stats),
            "link": None if feed is None else attrs.asdict(feed.link),
            "source": attrs.asdict(self.stats),
            "pending": 0 if self.matcher is None else self.matcher.pending_count,
            "unknown_actors": 0 if self.names is None else self.names.unknown,
            "tasks": task,
        }

    # Messages

    def _on_message(self, message: DeviceMessage) -> None:
        lock = self._locks.setdefault(message.nuki_id, MqttLock(message.nuki_id))
        if message.name == LOCK_ACTION_EVENT:
            self._announced(lock, message)
        elif message.name == "deviceType":
            self._typed(lock, message)
        elif message.name in FIELDS:
            self._state(lock, message)
        else:
            lock.other[message.name] = message.value
            if message.name == "name" and lock.smartlock_id is not None and self._host is not None:
                self._host.devices.name(lock.smartlock_id, str(message.value))
            if message.name == "connected" and self._host is not None:
                # False is the lock's last will: it left the broker (Wi-Fi, power, restart).
                name = str(lock.other.get("name") or f"{lock.nuki_id:08X}")
                self._host.health.mqtt_lock(lock.nuki_id, name, available=message.value is True)

    def _typed(self, lock: MqttLock, message: DeviceMessage) -> None:
        code = int(message.value) if isinstance(message.value, int) else DeviceType.UNKNOWN
        if code < 0 or lock.device_type is not None:
            return  # a lock does not change its kind; the first word stands
        lock.device_type = code
        waiting, lock.waiting = lock.waiting, {}
        for name, value in waiting.items():
            self._seed(lock, name, value, message.received_at)
        sid = lock.smartlock_id
        if "name" in lock.other and self._host is not None and sid is not None:
            self._host.devices.name(sid, str(lock.other["name"]))

    def _state(self, lock: MqttLock, message: DeviceMessage) -> None:
        host, sid = self._host, lock.smartlock_id
        if host is None or sid is None:
            if message.name not in lock.seen:
                lock.waiting[message.name] = message.value
            lock.seen.add(message.name)
            return
        if message.retained and message.name not in lock.seen:
            self._seed(lock, message.name, message.value, message.received_at)
            return
        lock.seen.add(message.name)
        self.stats.states += 1
        device = host.devices.get(sid)
        callback = as_callback(lock, device, FIELDS[message.name], message.value)
        if callback is None:
            set_known(device, FIELDS[message.name], message.value, message.received_at)
            return
        state, kind = callback.state_code, callback.device_type_code
        bridged = device.bridge_id is not None
        # A bridge reports this lock too: a late "unlocking" would undo its news, and with
        # confirm="before_emit" only what its /list confirmed may be emitted (it will be).
        if not bridged or (host.confirm != "before_emit" and not device.moving(state)):
            diff = host.devices.diff(
                callback, device.bridge_id, message.received_at, source=EventSource.MQTT
            )
            if not diff.duplicate:
                host.emit(diff, device.bridge_id)
        if message.name == "state" and self.matcher is not None and not device.moving(state):
            self.matcher.fail(sid, state, kind, message.received_at)
        self._wake.set()

    def _seed(self, lock: MqttLock, name: str, value: object, now: datetime) -> None:
        """A value the lock already had: the hub takes it without an event."""
        lock.seen.add(name)
        sid = lock.smartlock_id
        if self._host is None or sid is None or name not in FIELDS:
            return
        set_known(self._host.devices.get(sid), FIELDS[name], value, now)

    def _announced(self, lock: MqttLock, message: DeviceMessage) -> None:
        event = message.value
        if not isinstance(event, LockActionEvent):
            return
        if message.retained:
            self.stats.stale += 1
            return
        sid = lock.smartlock_id
        if sid is None or lock.device_type is None or self.matcher is None:
            self.stats.unplaced += 1
            return
        action = log_action(event, lock.device_type)
        if action is None:
            self.stats.bare += 1
            return
        self.stats.announcements += 1
        now = message.received_at
        record_id = stable_id("mqtt", lock.nuki_id, now.isoformat(), next(self._sequence))
        self._records[record_id] = event
        self.matcher.record(
            ActionRecord(
                record_id=record_id,
                smartlock_id=sid,
                action=action,
                succeeded=True,  # until the state shows otherwise
                occurred_at=now,
            )
        )
        self._wake.set()

    # Answers

    async def _run(self, host: SourceHost, matcher: PushMatcher) -> None:
        while True:
            self._wake.clear()
            await self._answer(host, matcher)
            deadline = matcher.next_deadline()
            waiter = asyncio.ensure_future(self._wake.wait())
            waits: set[asyncio.Future[Any]] = {waiter}
            if deadline is not None:
                seconds = max(0.0, (deadline - host.clock()).total_seconds())
                waits.add(asyncio.ensure_future(host.sleep(seconds)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for future in waits:
                    future.cancel()
                await asyncio.gather(*waits, return_exceptions=True)

    async def _answer(self, host: SourceHost, matcher: PushMatcher) -> None:
        now = host.clock()
        decided = matcher.evaluate(now)
        for change, record in decided.attributed:
            event = self._records.get(record.record_id)
            found = None
            if event is not None and self.names is not None:
                found = await self.names.actor_for(change.smartlock_id, event)
            if event is None or found is None:
                host.outcomes.unavailable(change, AttributionFailure.UNKNOWN_ACTOR, MQTT)
                continue
            actor, how = found
            if not host.outcomes.first(change.change_id, MQTT, actor.name):
                continue
            host.counters.attributed += 1
            identity = host.devices.get(change.smartlock_id).identity()
            answer = ActionAttributed(
                event_id=stable_id("attributed", record.record_id),
                received_at=now,
                source=EventSource.MQTT,
                occurred_at=record.occurred_at,
                state_event_id=change.change_id,
                actor=actor,
                action=record.action,
                action_name=action_name(record.action, change.device_type),
                trigger=None,
                trigger_name=event.trigger.name.lower(),
                log_entry_id=record.record_id,
                latency=(now - change.observed_at).total_seconds(),
                how=how,
                **identity,
            )
            await host.outbox.publish(answer, None, None)
        for change, reason in decided.unavailable:
            host.outcomes.unavailable(change, reason, MQTT)
        if decided.attributed:
            await host.outbox.settle()
        live = {key for key in self._records if matcher.knows(key)}
        self._records = {key: value for key, value in self._records.items() if key in live}

    async def _close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.feed is not None:
            await self.feed.close()
        if self.matcher is not None and self._host is not None:
            for pending in self.matcher.drop_pending():
                if pending.attributable:
                    self._host.outcomes.unavailable(
                        pending.change, AttributionFailure.HUB_CLOSED, MQTT
                    )


def _state(task: asyncio.Task[None]) -> str:
    return "done" if task.done() else "running"
