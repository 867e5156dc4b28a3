"""How the command line prints events: one readable line each, or JSON lines.

Each line is flushed before the callback returns, so a consumer reading our output has every
event the hub counts as taken (DECISIONS D2: the checkpoint moves only past taken events).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

from nukiasync.events import (
    ActionAttributed,
    AttributionUnavailable,
    BatteryChanged,
    ClaimCorrected,
    DeviceRetracted,
    DoorSensorChanged,
    Gap,
    HealthChanged,
    LockStateChanged,
    LogEntryObserved,
    NukiEvent,
    RingActionReceived,
    StateCorrected,
    event_to_dict,
)

if TYPE_CHECKING:
    from datetime import datetime

    from nukiasync.demo import DemoSummary


class EventPrinter:
    """A hub subscriber that prints every event."""

    def __init__(self, out: TextIO, *, json_lines: bool = False) -> None:
        self._out = out
        self._json = json_lines
        self._states: dict[str, str] = {}
        self.printed = 0

    def __call__(self, event: NukiEvent) -> None:
        """Print one event and flush."""
        """Print one event and flush."""
        if self._json:
            line = json.dumps(event_to_dict(event), sort_keys=True)
        else:
            line = self.describe(event)
        self._out.write(line + "\n")
        self._out.flush()
        self.printed += 1

    def describe(self, event: NukiEvent) -> str:
        """One readable line: time, lock, what, who, how, attribution latency."""
        when = _clock(event.received_at)
        lock = (event.device_name or (str(event.smartlock_id) if event.smartlock_id else "-"))[:18]
        what, who, how, latency = self._columns(event)
        return f"{when}  {lock:<18}  {what:<26}  {who:<10}  {how:<16}  {latency}".rstrip()

    def _columns(self, event: NukiEvent) -> tuple[str, str, str, str]:  # noqa: C901  (a table)
        if isinstance(event, LockStateChanged):
            self._states[event.event_id] = event.state_name
            pending = "..." if event.attributable else ""
            return event.state_name.replace("_", " "), pending, "", ""
        if isinstance(event, ActionAttributed):
            who = event.actor.name or "(no one)"
            how = event.actor.auth_type or event.trigger_name
            state = self._states.get(event.state_event_id, event.action_name)
            return f"  {state.replace('_', ' ')}: who", who, how, f"+{event.latency:.1f} s"
        if isinstance(event, AttributionUnavailable):
            reason = event.reason.value.replace("_", " ")
            return "  who: unknown", "-", reason, f"+{event.latency:.1f} s"
        if isinstance(event, LogEntryObserved):
            outcome = "" if event.succeeded else f" ({event.outcome_name.replace('_', ' ')})"
            what = f"log: {event.action_name.replace('_', ' ')}{outcome}"
            return what, event.actor.name or "-", event.trigger_name.replace("_", " "), ""
        if isinstance(event, DoorSensorChanged):
            return event.state.name.lower().replace("_", " "), "", "door sensor", ""
        if isinstance(event, RingActionReceived):
            return "ring", "", "doorbell", ""
        if isinstance(event, BatteryChanged):
            level = event.battery_charge_state
            return f"battery {'' if level is None else f'{level}%'}".strip(), "", "", ""
        if isinstance(event, ClaimCorrected):
            return f"corrected: {event.field.replace('_', ' ')}", "", "bridge /list", ""
        if isinstance(event, DeviceRetracted):
            return "retracted: no such device", "", "bridge /list", ""
        if isinstance(event, StateCorrected):
            return f"corrected: {event.state_name}", "", "bridge /list", ""
        if isinstance(event, Gap):
            return f"gap: {event.reason} ({event.dropped})", "", "", ""
        if isinstance(event, HealthChanged):
            state = "available" if event.available else "unavailable"
            subject = f"{event.component} {event.bridge_id or ''}".strip()
            return f"{subject} {state}", "", event.detail[:16], ""
        return type(event).__name__, "", "", ""  # pragma: no cover  (every event is above)


def print_summary(summary: DemoSummary, out: TextIO) -> None:
    """The demo's closing lines."""
    median = summary.median_latency
    worst = summary.max_latency
    latency = (
        "n/a" if median is None or worst is None else f"{median:.1f} s median, {worst:.1f} s max"
    )
    out.write(
        f"\nSummary: {summary.events} events; attributed {summary.attributed} of "
        f"{summary.attributable} attributable state changes ({summary.unavailable} answered "
        f"'unknown'); {summary.log_only} from the log alone.\n"
        f"Attribution latency: {latency}. Web API requests: {summary.web_requests}.\n"
    )
    out.flush()


def _clock(when: datetime) -> str:
    local = when.astimezone()
    return local.strftime("%H:%M:%S.") + f"{local.microsecond // 100_000}"
