"""Push and webhook notification configurations (tag Notification)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int
from nukiasync._redact import redact
from nukiasync.const import TolerantIntEnum
from nukiasync.web.models._common import optional_str, str_list


class NotificationOs(TolerantIntEnum):
    """Where a notification goes (``Notification.os``)."""

    UNKNOWN = -1
    ANDROID = 0
    IOS = 1
    WEBHOOK = 2


class NotificationStatus(TolerantIntEnum):
    """Delivery state of a notification configuration (``Notification.status``)."""

    UNKNOWN = -1
    INIT = 0
    ACTIVE = 1
    FAILED = 2


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):  # one word would become its letters
        msg = "expected a sequence of strings, got one string"
        raise TypeError(msg)
    return tuple(str(value) for value in values)


@attrs.frozen(kw_only=True)
class NotificationSetting:
    """Which events of which lock (None: all locks) notify; also an input.

    ``trigger_events`` are Nuki's words: lock, unlock, unlatch, lockngo, open, ring,
    doorsensor, warnings, smartlock. Empty ``auth_ids`` means every user and keypad.
    """

    trigger_events: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    smartlock_id: int | None = None
    auth_ids: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from a ``Notification.Setting`` JSON object."""
        return cls(
            trigger_events=str_list(data.get("triggerEvents")),
            smartlock_id=optional_int(data.get("smartlockId")),
            auth_ids=str_list(data.get("authIds")),
        )

    def to_api(self) -> dict[str, Any]:
        """The request JSON; an unset lock or an empty auth filter is left out."""
        body: dict[str, Any] = {"triggerEvents": list(self.trigger_events)}
        if self.smartlock_id is not None:
            body["smartlockId"] = self.smartlock_id
        if self.auth_ids:
            body["authIds"] = list(self.auth_ids)
        return body


def settings_to_api(settings: Iterable[NotificationSetting]) -> list[dict[str, Any]]:
    """The request JSON for a sequence of settings."""
    return [setting.to_api() for setting in settings]


def _settings(value: object) -> tuple[NotificationSetting, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        msg = "settings is not a list of objects"
        raise TypeError(msg)
    return tuple(NotificationSetting.from_api(item) for item in value)


@attrs.frozen(kw_only=True)
class Notification:
    """A notification configuration: a push id or webhook URL, and its triggers."""

    notification_id: str | None = None
    push_id: str = attrs.field(default="", repr=redact)
    os: NotificationOs = NotificationOs.UNKNOWN
    os_code: int | None = None
    status: NotificationStatus = NotificationStatus.UNKNOWN
    status_code: int | None = None
    language: str | None = None
    reference_id: str | None = None
    secret: str | None = attrs.field(default=None, repr=redact)
    settings: tuple[NotificationSetting, ...] = ()
    last_active_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        # The spec does not require notificationId in answers: None when Nuki leaves it out.
        notification_id = optional_str(data.get("notificationId"))
        os_code = optional_int(data.get("os"))
        status_code = optional_int(data.get("status"))
        return cls(
            notification_id=notification_id,
            push_id=str(data.get("pushId") or ""),
            os=NotificationOs.parse(os_code),
            os_code=os_code,
            status=NotificationStatus.parse(status_code),
            status_code=status_code,
            language=optional_str(data.get("language")),
            reference_id=optional_str(data.get("referenceId")),
            secret=optional_str(data.get("secret")),
            settings=_settings(data.get("settings")),
            last_active_date=optional_datetime(data.get("lastActiveDate")),
            raw=data,
        )
