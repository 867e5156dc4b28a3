"""Building the hub's events from what the log watcher decided: one place for their fields.

Event ids are stable (decision 0002): the same log entry gives the same id in every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync.events import (
    ActionAttributed,
    Actor,
    AttributionFailure,
    AttributionUnavailable,
    BridgeReachable,
    BridgeUnreachable,
    CallbackRegistered,
    EventSource,
    Gap,
    HealthChanged,
    LockStateChanged,
    LogEntryObserved,
    NukiEvent,
    WebApiAvailable,
    WebApiUnavailable,
    stable_id,
)
from nukiasync.how import How, how_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from nukiasync.attribution import ObservedChange
    from nukiasync.hub.sources.log_watcher import CatchUpGap
    from nukiasync.web.models.log import SmartlockLog


def attributed(
    change: ObservedChange,
    entry: SmartlockLog,
    actor: Actor,
    identity: dict[str, Any],
    now: datetime,
    *,
    source: EventSource = EventSource.WEB_LOG,
) -> ActionAttributed:
    """The answer to "who" for a state change (``source``: read, or pushed by a webhook)."""
    return ActionAttributed(
        event_id=stable_id("attributed", entry.id),
        received_at=now,
        source=source,
        state_event_id=change.change_id,
        latency=(now - change.observed_at).total_seconds(),
        **_entry_fields(entry, actor),
        **identity,
    )


def unavailable(
    change: ObservedChange, reason: AttributionFailure, identity: dict[str, Any], now: datetime
) -> AttributionUnavailable:
    """The explicit "could not attribute" for a state change."""
    return AttributionUnavailable(
        event_id=stable_id("unavailable", change.change_id),
        received_at=now,
        source=EventSource.HUB,
        state_event_id=change.change_id,
        reason=reason,
        latency=(now - change.observed_at).total_seconds(),
        **identity,
    )


def hidden_state(
    entry: SmartlockLog,
    *,
    previous: int | None,
    state: int,
    name: str,
    identity: dict[str, Any],
    now: datetime,
) -> LockStateChanged:
    """A state no callback reported, proven by a log entry (decision 0011).

    ``source`` is the Web log and ``occurred_at`` the entry's date, before the state the
    hub reports now: history for a consumer's record, never the current state.
    """
    return LockStateChanged(
        event_id=stable_id("hidden", entry.id),
        received_at=now,
        source=EventSource.WEB_LOG,
        occurred_at=entry.date,
        previous_state=previous,
        state=state,
        state_name=name,
        attributable=True,
        **identity,
    )


def observed(
    entry: SmartlockLog,
    actor: Actor,
    identity: dict[str, Any],
    now: datetime,
    *,
    source: EventSource = EventSource.WEB_LOG,
) -> LogEntryObserved:
    """A log entry that no callback claimed."""
    return LogEntryObserved(
        event_id=stable_id("log", entry.id),
        received_at=now,
        source=source,
        succeeded=entry.succeeded,
        outcome_name=entry.state.name.lower(),
        **_entry_fields(entry, actor),
        **identity,
    )


def _entry_fields(entry: SmartlockLog, actor: Actor) -> dict[str, Any]:
    """What every event told from a log entry says of it."""
    return {
        "occurred_at": entry.date,
        "log_entry_id": entry.id,
        "actor": actor,
        "action": entry.action_code,
        "action_name": entry.action.name.lower(),
        "trigger": entry.trigger_code,
        "trigger_name": entry.trigger.name.lower(),
        "how": how_of_entry(entry, actor),
    }


def how_of_entry(entry: SmartlockLog, actor: Actor) -> How:
    """The one wording of "how" for a log entry (see ``nukiasync.how``)."""
    return how_of(
        trigger=entry.trigger_code,
        auth_type=actor.auth_type,
        source=entry.source_code,
        action=entry.action_code,
        auto_unlock=entry.auto_unlock,
        opener_source=None if entry.opener_log is None else entry.opener_log.source_code,
    )


def catch_up_gap(gap: CatchUpGap, now: datetime) -> Gap:
    """Entries between these dates were not read: the catch-up bound was hit."""
    return Gap(
        event_id=stable_id("gap", gap.since.isoformat(), gap.until.isoformat()),
        received_at=now,
        source=EventSource.WEB_LOG,
        reason="catch_up_bound",
        since=gap.since,
        until=gap.until,
    )


def health(
    cls: type[HealthChanged],
    component: str,
    *,
    available: bool,
    detail: str,
    bridge_id: str | None,
    now: datetime,
) -> HealthChanged:
    """A part of the system came or went."""
    return cls(
        event_id=stable_id("health", component, bridge_id, available, now.isoformat()),
        received_at=now,
        source=EventSource.HUB,
        component=component,
        available=available,
        detail=detail,
        bridge_id=bridge_id,
    )


class HealthBoard:
    """Publishes a health event when a part's availability changes, not on every check."""

    def __init__(self, publish: Callable[[NukiEvent], None], clock: Callable[[], datetime]) -> None:
        self._publish = publish
        self._clock = clock
        self._state: dict[str, bool] = {}

    def bridge(self, bridge_id: str, *, available: bool, detail: str) -> None:
        """The bridge answers, or does not."""
        cls = BridgeReachable if available else BridgeUnreachable
        self._set(
            f"bridge:{bridge_id}",
            cls,
            "bridge",
            available=available,
            detail=detail,
            bridge_id=bridge_id,
        )

    def callback(self, bridge_id: str, *, available: bool, detail: str) -> None:
        """Our callback is registered and reaches us, or does not."""
        self._set(
            f"callback:{bridge_id}",
            CallbackRegistered,
            "callback",
            available=available,
            detail=detail,
            bridge_id=bridge_id,
        )

    def web(self, *, available: bool, detail: str) -> None:
        """The Web API answers, or does not."""
        cls = WebApiAvailable if available else WebApiUnavailable
        self._set("web", cls, "web_api", available=available, detail=detail, bridge_id=None)

    def mqtt(self, *, available: bool, detail: str) -> None:
        """The MQTT broker is connected, or not (a source's link; it reconnects by itself)."""
        self._set("mqtt", HealthChanged, "mqtt", available=available, detail=detail, bridge_id=None)

    def mqtt_lock(self, nuki_id: int, name: str, *, available: bool) -> None:
        """A lock is connected to the MQTT broker, or left it (its last will)."""
        where = "connected to" if available else "gone from"
        self._set(
            f"mqtt_lock:{nuki_id:08X}",
            HealthChanged,
            "mqtt_lock",
            available=available,
            detail=f"{name} is {where} the MQTT broker",
            bridge_id=None,
        )

    def _set(
        self,
        key: str,
        cls: type[HealthChanged],
        component: str,
        *,
        available: bool,
        detail: str,
        bridge_id: str | None,
    ) -> None:
        if self._state.get(key) is available:
            return
        self._state[key] = available
        self._publish(
            health(
                cls,
                component,
                available=available,
                detail=detail,
                bridge_id=bridge_id,
                now=self._clock(),
            )
        )
