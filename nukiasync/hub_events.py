"""Building the hub's events from what the log watcher decided: one place for their fields.

Event ids are stable (DECISIONS D2): the same log entry gives the same id in every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync.events import (
    ActionAttributed,
    Actor,
    AttributionFailure,
    AttributionUnavailable,
    EventSource,
    Gap,
    HealthChanged,
    LogEntryObserved,
    StateCorrected,
    stable_id,
)

if TYPE_CHECKING:
    from datetime import datetime

    from nukiasync.attribution import ObservedChange
    from nukiasync.log_watcher import CatchUpGap
    from nukiasync.web.models.log import SmartlockLog


def attributed(
    change: ObservedChange,
    entry: SmartlockLog,
    actor: Actor,
    identity: dict[str, Any],
    now: datetime,
) -> ActionAttributed:
    """The answer to "who" for a state change."""
    return ActionAttributed(
        event_id=stable_id("attributed", entry.id),
        received_at=now,
        source=EventSource.WEB_LOG,
        occurred_at=entry.date,
        state_event_id=change.change_id,
        actor=actor,
        action=entry.action_code,
        action_name=entry.action.name.lower(),
        trigger=entry.trigger_code,
        trigger_name=entry.trigger.name.lower(),
        log_entry_id=entry.id,
        latency=(now - change.observed_at).total_seconds(),
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


def observed(
    entry: SmartlockLog, actor: Actor, identity: dict[str, Any], now: datetime
) -> LogEntryObserved:
    """A log entry that no callback claimed."""
    return LogEntryObserved(
        event_id=stable_id("log", entry.id),
        received_at=now,
        source=EventSource.WEB_LOG,
        occurred_at=entry.date,
        log_entry_id=entry.id,
        actor=actor,
        action=entry.action_code,
        action_name=entry.action.name.lower(),
        trigger=entry.trigger_code,
        trigger_name=entry.trigger.name.lower(),
        succeeded=entry.succeeded,
        outcome_name=entry.state.name.lower(),
        **identity,
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


def corrected(
    wrong: int | None, state: int, name: str, identity: dict[str, Any], now: datetime
) -> StateCorrected:
    """The bridge contradicted a state emitted from a callback."""
    return StateCorrected(
        event_id=stable_id("corrected", identity["smartlock_id"], wrong, state, now.isoformat()),
        received_at=now,
        source=EventSource.BRIDGE_POLL,
        wrong_state=-1 if wrong is None else wrong,
        state=state,
        state_name=name,
        **identity,
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
