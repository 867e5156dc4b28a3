"""What each event says in the table: the words a person reads, one row per event.

Kept apart from the printer (layout, times, references) so the wording can be read and
tested alone. "How" comes from ``nukiasync.how`` through the events, never from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from nukiasync.const import DeviceType, LogAction
from nukiasync.events import (
    ActionAttributed,
    AttributionFailure,
    AttributionUnavailable,
    BatteryChanged,
    ClaimCorrected,
    DeviceRetracted,
    DoorSensorChanged,
    EventSource,
    Gap,
    HealthChanged,
    LockStateChanged,
    LogEntryObserved,
    RingActionReceived,
    StateCorrected,
)
from nukiasync.how import How

if TYPE_CHECKING:
    from nukiasync.events import NukiEvent

REASONS = {
    AttributionFailure.TIMED_OUT: "the log did not show it in time",
    AttributionFailure.NO_MATCHING_ENTRY: "no log entry matches",
    AttributionFailure.WEB_API_UNREACHABLE: "the Web API is unreachable",
    AttributionFailure.UNAUTHORIZED: "the Web API refused the token",
    AttributionFailure.NO_WEB_API: "no Web API token given",
    AttributionFailure.HUB_CLOSED: "stopped before the answer came",
}
# What an error's class name means for a person, in health rows.
FAULTS = {
    "NukiBridgeAuthenticationError": "the bridge refused the token",
    "NukiAuthenticationError": "the token was refused",
    "NukiConnectionError": "cannot connect",
    "NukiTimeoutError": "no answer in time",
    "NukiBridgeBusyError": "the bridge is busy",
    "NukiServerError": "server error",
    "NukiRateLimitError": "rate limited",
    "NukiInvalidResponseError": "unreadable answer",
    "NukiCallbackSlotsFullError": "all callback slots are taken",
}
_COMPONENTS = {"bridge": "bridge", "web_api": "Web API", "callback": "callback"}
_STATES = {
    "unlocked_lock_n_go": "unlocked (lock 'n' go)",
    "rto_active": "ring to open on",
    "continuous_mode_active": "continuous mode on",
}
# Actions nobody does by hand: the lock or a schedule did them.
_NO_ONE = frozenset({How.AUTO_LOCK, How.AUTO_UNLOCK, How.AUTOMATION, How.DOOR_SENSOR})
# The state a successful log entry proves, for entries no callback reported.
_PROVES = {
    LogAction.UNLOCK: "unlocked",
    LogAction.LOCK: "locked",
    LogAction.UNLATCH: "unlatched",
    LogAction.LOCK_N_GO: "unlocked (lock 'n' go)",
    LogAction.LOCK_N_GO_UNLATCH: "unlatched (lock 'n' go)",
    LogAction.DOOR_OPENED: "door opened",
    LogAction.DOOR_CLOSED: "door closed",
    LogAction.DOORBELL_RECOGNITION: "doorbell rang",
}
_OPENER_PROVES = {
    LogAction.UNLOCK: "ring to open on",
    LogAction.LOCK: "ring to open off",
    LogAction.UNLATCH: "opened",
    LogAction.ACTIVATE_CONTINUOUS_MODE: "continuous mode on",
    LogAction.DEACTIVATE_CONTINUOUS_MODE: "continuous mode off",
}


@attrs.frozen
class Row:
    """The words of one table row; the printer adds time, place and reference."""

    what: str
    who: str = ""
    how: str = ""
    note: str = ""


def words(name: str) -> str:
    """``door_closed`` -> ``door closed``; a few lock states in plainer words."""
    return _STATES.get(name, name.replace("_", " "))


def nameless(how: How) -> str:
    """WHO when the log names no one: no one for automatic actions, else someone."""
    return "(no one)" if how in _NO_ONE else "(someone)"


def fault(detail: str) -> str:
    """A health detail (often an error class name) as words."""
    return FAULTS.get(detail, detail)


def place(event: NukiEvent, names: dict[int, str]) -> str:
    """The DOOR column: the device's name, else the part of the system the row is about."""
    if isinstance(event, HealthChanged):
        subject = _COMPONENTS.get(event.component, event.component)
        if event.bridge_id and event.bridge_id != "bridge":
            return f"{subject} {event.bridge_id}"
        return subject
    if event.device_name:
        return event.device_name
    if event.smartlock_id is not None:
        return names.get(event.smartlock_id, f"device {event.smartlock_id}")
    return "-"


def row(event: NukiEvent, *, expect_who: bool) -> Row:  # noqa: C901  (a table)
    """The words for one event."""
    if isinstance(event, LockStateChanged):
        pending = "..." if event.attributable and expect_who else ""
        note = "" if event.source is EventSource.BRIDGE_CALLBACK else _source_note(event.source)
        return Row(words(event.state_name), pending, "", note)
    if isinstance(event, ActionAttributed):
        who = event.actor.name or nameless(event.how)
        return Row("by", who, event.how.label, f"known after {event.latency:.1f} s")
    if isinstance(event, AttributionUnavailable):
        return Row("by", "unknown", "", REASONS.get(event.reason, words(event.reason.value)))
    if isinstance(event, LogEntryObserved):
        return _log_row(event)
    if isinstance(event, DoorSensorChanged):
        return Row(_door(event), "", "door sensor")
    if isinstance(event, RingActionReceived):
        return Row("doorbell rang", "", "doorbell")
    if isinstance(event, BatteryChanged):
        return Row(_battery(event))
    if isinstance(event, StateCorrected):
        return _correction_row(event)
    if isinstance(event, Gap):
        return Row("gap", "", "", _gap(event))
    if isinstance(event, HealthChanged):
        state = "up" if event.available else "down"
        detail = "" if event.available else fault(event.detail)
        if event.component == "callback":
            state = "registered" if event.available else "not registered"
            if event.available and event.detail not in {"", "registered"}:
                detail = event.detail  # "re-registered", "callbacks arrive again"
        return Row(f"health: {state}", "", "", detail)
    return Row(type(event).__name__)  # pragma: no cover  (every event kind is above)


def _correction_row(event: StateCorrected) -> Row:
    if isinstance(event, DeviceRetracted):
        return Row("no such device", "", "", "the bridge does not list it: callbacks retracted")
    if isinstance(event, ClaimCorrected):
        return Row(f"{words(event.field)} corrected", "", "", "the bridge contradicts a callback")
    return Row(f"is {words(event.state_name)}", "", "", "the bridge corrected a callback")


def _log_row(event: LogEntryObserved) -> Row:
    action = LogAction.parse(event.action)
    who = event.actor.name
    if not event.succeeded:
        outcome = words(event.outcome_name)
        failed = f"{words(event.action_name)} failed"
        return Row(failed, who or nameless(event.how), event.how.label, outcome)
    table = _OPENER_PROVES if event.device_type is DeviceType.OPENER else {}
    proven = table.get(action) or _PROVES.get(action) or words(event.action_name)
    return Row(proven, who, event.how.label, "from the log only")


def _door(event: DoorSensorChanged) -> str:
    name = words(event.state.name.lower())
    return name if name.startswith("door") else f"door {name}"


def _battery(event: BatteryChanged) -> str:
    if event.battery_critical:
        return "battery critical"
    if event.keypad_battery_critical:
        return "keypad battery critical"
    level = event.battery_charge_state
    charging = " (charging)" if event.battery_charging else ""
    return f"battery {level}%{charging}" if level is not None else f"battery ok{charging}"


def _gap(event: Gap) -> str:
    if event.reason == "consumer_overflow":
        return f"{event.dropped} events skipped (this output was too slow)"
    return "older log entries were not read (catch-up limit)"


def _source_note(source: EventSource) -> str:
    notes = {EventSource.BRIDGE_POLL: "read from the bridge", EventSource.WEB_LOG: "from the log"}
    return notes.get(source, "")
