"""Smartlock activity log entries: who did what, when, with what outcome."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_int, parse_bool, parse_datetime
from nukiasync._redact import redact
from nukiasync.const import (
    DeviceType,
    LogAction,
    LogSource,
    LogState,
    LogTrigger,
    OpenerLogSource,
)


@attrs.frozen(kw_only=True)
class OpenerLog:
    """Opener details of a log entry: what was active and what activated it."""

    active_cm: bool = False
    active_rto: bool = False
    flag_geo_fence: bool = False
    flag_force: bool = False
    flag_doorbell_suppression: bool = False
    source: OpenerLogSource = OpenerLogSource.UNKNOWN
    source_code: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``openerLog`` JSON object."""
        source = optional_int(data.get("source"))
        return cls(
            active_cm=parse_bool(data.get("activeCm")),
            active_rto=parse_bool(data.get("activeRto")),
            flag_geo_fence=parse_bool(data.get("flagGeoFence")),
            flag_force=parse_bool(data.get("flagForce")),
            flag_doorbell_suppression=parse_bool(data.get("flagDoorbellSuppression")),
            source=OpenerLogSource.parse(source),
            source_code=source,
        )


@attrs.frozen(kw_only=True)
class SmartlockLog:
    """One entry of ``GET /smartlock/log`` or ``GET /smartlock/{smartlockId}/log``.

    ``state`` is the outcome of the action (0 success), not a lock state; the spec's
    ``minimum: 1`` for it is wrong and not enforced.
    """

    id: str
    smartlock_id: int
    device_type: DeviceType = DeviceType.UNKNOWN
    device_type_code: int | None = None
    action: LogAction
    action_code: int
    trigger: LogTrigger = LogTrigger.UNKNOWN
    trigger_code: int | None = None
    state: LogState = LogState.SUCCESS
    state_code: int = 0
    source: LogSource = LogSource.DEFAULT
    source_code: int | None = None
    name: str = attrs.field(default="", repr=redact)
    auth_id: str | None = None
    account_user_id: int | None = None
    auto_unlock: bool = False
    date: datetime
    ajar_timeout: int | None = None
    error: str | None = None
    opener_log: OpenerLog | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def succeeded(self) -> bool:
        """Whether the logged action completed (log state 0)."""
        return self.state_code == 0

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        action = optional_int(data["action"])
        if action is None:
            msg = "log entry without action"
            raise ValueError(msg)
        trigger = optional_int(data.get("trigger"))
        state = optional_int(data.get("state"))
        source = optional_int(data.get("source"))
        device_type = optional_int(data.get("deviceType"))
        auth_id = data.get("authId")
        opener = data.get("openerLog")
        smartlock_id = optional_int(data["smartlockId"])
        if smartlock_id is None:
            msg = "log entry without smartlockId"
            raise ValueError(msg)
        return cls(
            id=str(data["id"]),
            smartlock_id=smartlock_id,
            device_type=DeviceType.parse(device_type),
            device_type_code=device_type,
            action=LogAction.parse(action),
            action_code=action,
            trigger=LogTrigger.parse(trigger),
            trigger_code=trigger,
            state=LogState.parse(0 if state is None else state),
            state_code=0 if state is None else state,
            source=LogSource.parse(0 if source is None else source),
            source_code=source,
            name=str(data.get("name") or ""),
            auth_id=None if auth_id in (None, "") else str(auth_id),
            account_user_id=optional_int(data.get("accountUserId")),
            auto_unlock=parse_bool(data.get("autoUnlock")),
            date=parse_datetime(data["date"]),
            ajar_timeout=optional_int(data.get("ajarTimeout")),
            error=data.get("error") or None,
            opener_log=OpenerLog.from_api(opener) if isinstance(opener, Mapping) else None,
            raw=data,
        )
