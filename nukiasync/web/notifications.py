"""Push and webhook notification configurations (tag Notification).

These are Nuki's own notifications (to the Nuki app, or to a URL when ``os`` is
webhook), not the Advanced API's decentral webhooks of `nukiasync.web.advanced`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync._parse import parse_list
from nukiasync.web._core import WebApiCore
from nukiasync.web.account import parse_object
from nukiasync.web.models._common import omit_none
from nukiasync.web.models.notification import (
    Notification,
    NotificationOs,
    NotificationSetting,
    settings_to_api,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

# What the spec requires in a notification body (``Notification``): an update that lacks one
# is completed from the notification's current values.
_REQUIRED = frozenset({"pushId", "os", "settings"})


def _notification_path(notification_id: str) -> str:
    if not notification_id:
        msg = "notification_id must not be empty"
        raise ValueError(msg)
    return f"/notification/{notification_id}"


def _notification_body(
    *,
    push_id: str | None,
    os: NotificationOs | int | None,
    settings: Iterable[NotificationSetting] | None,
    language: str | None,
    reference_id: str | None,
    secret: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pushId": push_id,
        "os": None if os is None else int(os),
        "settings": None if settings is None else settings_to_api(settings),
        "language": language,
        "referenceId": reference_id,
        "secret": secret,
    }
    return omit_none(body)


def _current_body(current: Notification) -> dict[str, Any]:
    """The settable values of a notification as it is (never its secret)."""
    return _notification_body(
        push_id=current.push_id or None,
        os=current.os_code,
        settings=current.settings,
        language=current.language,
        reference_id=current.reference_id,
        secret=None,
    )


class NotificationsMixin(WebApiCore):
    """Operations of the Notification tag."""

    async def notifications(self, *, reference_id: str | None = None) -> list[Notification]:
        """The notification configurations, optionally of one foreign system."""
        data = await self._request("GET", "/notification", params={"referenceId": reference_id})
        return parse_list(data, Notification.from_api, "notification")

    async def create_notification(
        self,
        *,
        push_id: str,
        os: NotificationOs | int,
        settings: Iterable[NotificationSetting],
        language: str | None = None,
        reference_id: str | None = None,
        secret: str | None = None,
    ) -> Notification:
        """Create a notification configuration (``push_id``: a webhook's URL)."""
        body = _notification_body(
            push_id=push_id,
            os=os,
            settings=settings,
            language=language,
            reference_id=reference_id,
            secret=secret,
        )
        data = await self._request("PUT", "/notification", json_body=body)
        return parse_object(data, Notification.from_api, "notification")

    async def notification(self, notification_id: str) -> Notification:
        """One notification configuration.

        Raises:
            ValueError: ``notification_id`` is empty.
        """
        data = await self._request("GET", _notification_path(notification_id))
        return parse_object(data, Notification.from_api, "notification")

    async def update_notification(
        self,
        notification_id: str,
        *,
        push_id: str | None = None,
        os: NotificationOs | int | None = None,
        settings: Iterable[NotificationSetting] | None = None,
        language: str | None = None,
        reference_id: str | None = None,
        secret: str | None = None,
    ) -> Notification:
        """Change a notification configuration; unset values keep their current ones.

        The spec requires push id, os and settings in every body: when one is not given,
        the notification is read first and the unset values are copied from it.

        Raises:
            ValueError: ``notification_id`` is empty.
        """
        path = _notification_path(notification_id)
        body = _notification_body(
            push_id=push_id,
            os=os,
            settings=settings,
            language=language,
            reference_id=reference_id,
            secret=secret,
        )
        if not body.keys() >= _REQUIRED:
            current = await self.notification(notification_id)
            body = {**_current_body(current), **body}
        data = await self._request("POST", path, json_body=body)
        return parse_object(data, Notification.from_api, "notification")

    async def delete_notification(self, notification_id: str) -> None:
        """Delete a notification configuration.

        Raises:
            ValueError: ``notification_id`` is empty.
        """
        await self._request("DELETE", _notification_path(notification_id))
