"""Unified events: what changed on a door at once, then who did it, or why that is unknown.

Every event is a frozen attrs class with a stable ``event_id``: the same log entry (or the same
device, state and callback) gives the same id after a restart, so consumers deduplicate by it.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import Any

import attrs

from nukiasync._redact import redact
from nukiasync.const import DeviceType, DoorSensorState
from nukiasync.how import How, how_of


class EventSource(enum.StrEnum):
    """Where an event's facts came from."""

    BRIDGE_CALLBACK = "bridge_callback"  # a callback the bridge pushed
    BRIDGE_POLL = "bridge_poll"  # the bridge's /list, read by the hub
    WEB_LOG = "web_log"  # a Web API log entry
    MQTT = "mqtt"  # what a lock published on the owner's MQTT broker
    WEBHOOK = "webhook"  # a log entry the Web API pushed (decentral webhook)
    HUB = "hub"  # the hub itself (health, gaps)


class AttributionFailure(enum.StrEnum):
    """Why no one could be named for a state change."""

    TIMED_OUT = "timed_out"  # the log never showed the action before the deadline
    NO_MATCHING_ENTRY = "no_matching_entry"  # the log moved past it without a match
    WEB_API_UNREACHABLE = "web_api_unreachable"
    UNAUTHORIZED = "unauthorized"
    NO_WEB_API = "no_web_api"  # the hub runs with a bridge only
    HUB_CLOSED = "hub_closed"  # the hub stopped before the answer came
    UNKNOWN_ACTOR = "unknown_actor"  # the action names an authorization no one can resolve


def stable_id(kind: str, *parts: object) -> str:
    """A deterministic event id: the same facts give the same id in every run."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(kind.encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(str(part).encode())
    return f"{kind}-{digest.hexdigest()}"


@attrs.frozen(kw_only=True)
class NukiEvent:
    """Fields every event has; device fields are None for hub-wide events.

    ``attributable``: whether a person or automation can have caused this event, so an
    `ActionAttributed` or `AttributionUnavailable` will follow for it. False on every event
    but a `LockStateChanged` a person or automation can have caused.
    """

    event_id: str
    received_at: datetime
    source: EventSource
    occurred_at: datetime | None = None
    smartlock_id: int | None = None
    nuki_id: int | None = None
    device_type: DeviceType | None = None
    device_name: str | None = None
    bridge_id: str | None = None
    attributable: bool = False


@attrs.frozen(kw_only=True)
class LockStateChanged(NukiEvent):
    """The lock's state changed; emitted at once, before anyone is known.

    ``confirmed`` (also on door, battery and ring events): True when the bridge's
    ``/list`` confirmed every field before the event was emitted (``confirm="before_emit"``,
    or read from ``/list`` itself); False when ``/list`` cannot confirm it (a ring
    older than the last one ``/list`` keeps); None when nothing was checked first.
    """

    previous_state: int | None
    state: int
    state_name: str
    mode: int | None = None
    attributable: bool = True  # False: no action explains it (a motor state, a follow-on)
    confirmed: bool | None = None


@attrs.frozen(kw_only=True)
class DoorSensorChanged(NukiEvent):
    """The door sensor reported a new state."""

    previous_state: DoorSensorState | None
    state: DoorSensorState
    state_code: int
    confirmed: bool | None = None  # see `LockStateChanged`


@attrs.frozen(kw_only=True)
class BatteryChanged(NukiEvent):
    """A battery level or warning changed (lock or keypad)."""

    battery_critical: bool | None = None
    battery_charging: bool | None = None
    battery_charge_state: int | None = None
    keypad_battery_critical: bool | None = None
    confirmed: bool | None = None  # see `LockStateChanged`


@attrs.frozen(kw_only=True)
class RingActionReceived(NukiEvent):
    """Someone rang at an Opener."""

    ringaction_timestamp: datetime | None = None
    confirmed: bool | None = None  # False: /list shows a newer ring (see `LockStateChanged`)


@attrs.frozen(kw_only=True)
class StateCorrected(NukiEvent):
    """The bridge contradicted an event we emitted from a callback; this is the truth.

    ``state_event_id`` names the event it retracts (a `LockStateChanged`, or for other
    fields the event that carried them); that change is never attributed and gets no
    `AttributionUnavailable`. ``state`` is the lock state the bridge reports now (-1 when
    it lists no such device); ``field`` says what was false (``state`` here; the
    subclasses cover the others), ``claimed`` and ``actual`` the two values.
    """

    wrong_state: int
    state: int
    state_name: str
    state_event_id: str | None = None
    field: str = "state"
    claimed: int | bool | datetime | None = None
    actual: int | bool | datetime | None = None


@attrs.frozen(kw_only=True)
class ClaimCorrected(StateCorrected):
    """The bridge contradicted a field other than the lock state, which was right.

    ``field`` is ``mode`` (of a `LockStateChanged`), ``door_sensor``, ``battery_critical``,
    ``battery_charging``, ``battery_charge_state``, ``keypad_battery_critical`` or
    ``ring``; ``actual`` is what the bridge reports (None: it reports no such ring).
    ``wrong_state`` equals ``state``: the lock state the bridge reports.
    """


@attrs.frozen(kw_only=True)
class DeviceRetracted(StateCorrected):
    """The bridge lists no such device: every event a callback gave for it is retracted.

    A phantom ``nukiId``, or a real one with the wrong ``deviceType`` (which makes
    another ``smartlock_id``). ``field`` is ``device``, ``state`` -1; ``state_event_id``
    names the first retracted event, ``retracted_event_ids`` all of them. The hub forgets
    the device.
    """

    retracted_event_ids: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Actor:
    """Who acted: the authorization and account user behind a log entry."""

    name: str = attrs.field(default="", repr=redact)
    auth_id: str | None = None
    auth_type: str | None = None  # app, keypad_code, fob, bridge, web, ...
    account_user_id: int | None = None


def _derived_how(event: Any) -> How:
    """``how`` from the event's own codes, when whoever built the event did not give it."""
    return how_of(trigger=event.trigger, auth_type=event.actor.auth_type, action=event.action)


@attrs.frozen(kw_only=True)
class ActionAttributed(NukiEvent):
    """A state change is explained by a Web API log entry: who, how, and when."""

    state_event_id: str
    actor: Actor
    action: int
    action_name: str
    trigger: int | None
    trigger_name: str
    log_entry_id: str
    latency: float  # seconds from the state event to this answer
    how: How = attrs.field(default=attrs.Factory(_derived_how, takes_self=True), converter=How)


@attrs.frozen(kw_only=True)
class AttributionUnavailable(NukiEvent):
    """No one can be named for a state change, and why."""

    state_event_id: str
    reason: AttributionFailure
    latency: float


@attrs.frozen(kw_only=True)
class LogEntryObserved(NukiEvent):
    """A log entry no callback claimed: missed callbacks, failed attempts, door events."""

    log_entry_id: str
    actor: Actor
    action: int
    action_name: str
    trigger: int | None
    trigger_name: str
    succeeded: bool
    outcome_name: str
    how: How = attrs.field(default=attrs.Factory(_derived_how, takes_self=True), converter=How)


@attrs.frozen(kw_only=True)
class Gap(NukiEvent):
    """Events were skipped, and this says which; the only way anything is skipped."""

    reason: str  # "consumer_overflow" or "catch_up_bound"
    dropped: int = 0
    since: datetime | None = None
    until: datetime | None = None


@attrs.frozen(kw_only=True)
class HealthChanged(NukiEvent):
    """A part of the system became available or unavailable."""

    component: str  # "bridge", "web_api", "callback", "mqtt", "mqtt_lock"
    available: bool
    detail: str = ""


@attrs.frozen(kw_only=True)
class BridgeReachable(HealthChanged):
    """The bridge answers again."""


@attrs.frozen(kw_only=True)
class BridgeUnreachable(HealthChanged):
    """The bridge does not answer (offline, rebooting, busy for too long)."""


@attrs.frozen(kw_only=True)
class WebApiAvailable(HealthChanged):
    """The Web API answers again."""


@attrs.frozen(kw_only=True)
class WebApiUnavailable(HealthChanged):
    """The Web API fails (outage, rate limit, authentication)."""


@attrs.frozen(kw_only=True)
class CallbackRegistered(HealthChanged):
    """Our callback URL is registered with a bridge (or could not be)."""


def event_to_dict(event: NukiEvent) -> dict[str, Any]:
    """A JSON-ready dict of an event (enums as names, times as ISO strings)."""

    def convert(_inst: Any, _field: Any, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, enum.Enum):
            return value.name.lower() if isinstance(value, int) else value.value
        return value

    data = attrs.asdict(event, value_serializer=convert)
    data["type"] = type(event).__name__
    return data
