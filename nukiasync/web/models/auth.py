"""Smartlock authorizations: who (app, fob, keypad code, ...) may operate which device, when."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import format_datetime, optional_datetime, optional_int, parse_bool
from nukiasync._redact import redact
from nukiasync.const import AuthType
from nukiasync.web.models._common import omit_none, optional_str, parse_operation_id

# Nuki keypad codes: six digits from a keypad whose keys are 1 to 9 (there is no 0 key).
KEYPAD_CODE_DIGITS = 6
# Minutes in a day: allowed from/until times count minutes from midnight.
MINUTES_PER_DAY = 24 * 60
# Weekday bitmask: 64 Monday ... 1 Sunday.
ALL_WEEK_DAYS = 0x7F


def check_keypad_code(code: int) -> int:
    """Return ``code`` if a Nuki keypad can take it.

    Raises:
        ValueError: not six digits of 1 to 9 (the message never shows the code).
    """
    text = str(code) if isinstance(code, int) and not isinstance(code, bool) else ""
    if len(text) != KEYPAD_CODE_DIGITS or not all("1" <= digit <= "9" for digit in text):
        msg = "a keypad code must be 6 digits, each 1 to 9 (the keypad has no 0)"
        raise ValueError(msg)
    return code


def auth_access_fields(
    *,
    allowed_from_date: datetime | None = None,
    allowed_until_date: datetime | None = None,
    allowed_week_days: int | None = None,
    allowed_from_time: int | None = None,
    allowed_until_time: int | None = None,
) -> dict[str, Any]:
    """The time-window keys of an auth request body, checked, with unset ones left out.

    Raises:
        ValueError: a naive datetime, a weekday mask outside 0..127, or a time outside the
            day (0..1439 minutes).
    """
    if allowed_week_days is not None and not 0 <= allowed_week_days <= ALL_WEEK_DAYS:
        msg = f"allowed_week_days is a 7-bit mask (0..127), got {allowed_week_days}"
        raise ValueError(msg)
    for label, minutes in (
        ("allowed_from_time", allowed_from_time),
        ("allowed_until_time", allowed_until_time),
    ):
        if minutes is not None and not 0 <= minutes < MINUTES_PER_DAY:
            msg = f"{label} counts minutes from midnight (0..1439), got {minutes}"
            raise ValueError(msg)
    body: dict[str, Any] = {
        "allowedFromDate": None
        if allowed_from_date is None
        else format_datetime(allowed_from_date),
        "allowedUntilDate": (
            None if allowed_until_date is None else format_datetime(allowed_until_date)
        ),
        "allowedWeekDays": allowed_week_days,
        "allowedFromTime": allowed_from_time,
        "allowedUntilTime": allowed_until_time,
    }
    return omit_none(body)


@attrs.frozen(kw_only=True)
class SmartlockAuthUpdate:
    """One item of ``POST /smartlock/auth`` (update several authorizations at once)."""

    id: str
    name: str = attrs.field(repr=redact)
    enabled: bool | None = None
    remote_allowed: bool | None = None
    account_user_id: int | None = None
    code: int | None = attrs.field(default=None, repr=redact)
    allowed_from_date: datetime | None = None
    allowed_until_date: datetime | None = None
    allowed_week_days: int | None = None
    allowed_from_time: int | None = None
    allowed_until_time: int | None = None

    def to_api(self) -> dict[str, Any]:
        """The JSON item, checked, with unset fields left out.

        Raises:
            ValueError: an empty id, a bad keypad code or time window.
        """
        if not self.id:
            msg = "id (the authorization's 24-hex id) must not be empty"
            raise ValueError(msg)
        body: dict[str, Any] = {"id": self.id, "name": self.name}
        optional = {
            "enabled": self.enabled,
            "remoteAllowed": self.remote_allowed,
            "accountUserId": self.account_user_id,
            "code": None if self.code is None else check_keypad_code(self.code),
        }
        body.update(omit_none(optional))
        body.update(
            auth_access_fields(
                allowed_from_date=self.allowed_from_date,
                allowed_until_date=self.allowed_until_date,
                allowed_week_days=self.allowed_week_days,
                allowed_from_time=self.allowed_from_time,
                allowed_until_time=self.allowed_until_time,
            )
        )
        return body


@attrs.frozen(kw_only=True)
class SmartlockAuth:
    """One entry of ``GET /smartlock/auth`` or ``GET /smartlock/{smartlockId}/auth``.

    ``id`` is the Web API's 24-hex id (used in paths); ``auth_id`` is the device's own number,
    the one a log entry or Bridge callback names. ``type`` goes beyond the spec's maximum of 2
    (13 keypad code, 14 z-key, 15 virtual). The keypad ``code`` and the ``name`` never appear
    in ``repr``.
    """

    id: str
    auth_id: int | None = None
    smartlock_id: int
    type: AuthType = AuthType.UNKNOWN
    type_code: int | None = None
    name: str = attrs.field(default="", repr=redact)
    enabled: bool = False
    remote_allowed: bool = False
    lock_count: int = 0
    allowed_from_date: datetime | None = None
    allowed_until_date: datetime | None = None
    allowed_week_days: int | None = None
    allowed_from_time: int | None = None
    allowed_until_time: int | None = None
    account_user_id: int | None = None
    app_id: int | None = None
    code: int | None = attrs.field(default=None, repr=redact)
    fingerprints: Mapping[str, str] = attrs.field(factory=dict, repr=redact)
    last_active_date: datetime | None = None
    creation_date: datetime | None = None
    update_date: datetime | None = None
    operation_id: str | None = None
    error: str | None = None
    auth_type_as_string: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def is_keypad_code(self) -> bool:
        """Whether this authorization is a keypad code (type 13)."""
        return self.type is AuthType.KEYPAD_CODE

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        auth_uid = data["id"]
        if not isinstance(auth_uid, str) or not auth_uid:
            msg = "authorization without id"
            raise ValueError(msg)
        smartlock_id = optional_int(data["smartlockId"])
        if smartlock_id is None:
            msg = "authorization without smartlockId"
            raise ValueError(msg)
        type_code = optional_int(data.get("type"))
        fingerprints = data.get("fingerprints")
        return cls(
            id=auth_uid,
            auth_id=optional_int(data.get("authId")),
            smartlock_id=smartlock_id,
            type=AuthType.parse(type_code),
            type_code=type_code,
            name=str(data.get("name") or ""),
            enabled=parse_bool(data.get("enabled")),
            remote_allowed=parse_bool(data.get("remoteAllowed")),
            lock_count=optional_int(data.get("lockCount")) or 0,
            allowed_from_date=optional_datetime(data.get("allowedFromDate")),
            allowed_until_date=optional_datetime(data.get("allowedUntilDate")),
            allowed_week_days=optional_int(data.get("allowedWeekDays")),
            allowed_from_time=optional_int(data.get("allowedFromTime")),
            allowed_until_time=optional_int(data.get("allowedUntilTime")),
            account_user_id=optional_int(data.get("accountUserId")),
            app_id=optional_int(data.get("appId")),
            code=optional_int(data.get("code")),
            fingerprints=(
                {str(k): str(v) for k, v in fingerprints.items()}
                if isinstance(fingerprints, Mapping)
                else {}
            ),
            last_active_date=optional_datetime(data.get("lastActiveDate")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            operation_id=parse_operation_id(data.get("operationId")),
            error=optional_str(data.get("error")),
            auth_type_as_string=optional_str(data.get("authTypeAsString")),
            raw=data,
        )
