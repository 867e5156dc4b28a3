"""Advanced API (tag AdvancedApi): decentral webhooks, actions that report by webhook.

These need an approved Advanced API key. A ``..._advanced`` call answers at once with a
``request_id``; the outcome arrives later as a webhook carrying that id (see
`nukiasync.web.webhooks.parse_webhook`). Like every write, none of them is ever retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync._parse import format_datetime, parse_list
from nukiasync.web._actions import action_body
from nukiasync.web._core import WebApiCore
from nukiasync.web.account import parse_object
from nukiasync.web.models.apikey import (
    AdvancedConfirmation,
    DecentralWebhook,
    WebhookLog,
    features_to_api,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from nukiasync.const import WebhookFeature, WebLockAction, WebOpenerAction
    from nukiasync.web.models.smartlock import ActionOption

# Nuki keeps the last 300 deliveries and returns at most 100 per request.
MAX_WEBHOOK_LOG_PAGE = 100
# Allowed weekdays are a 7-bit mask: 64 Monday ... 1 Sunday.
ALL_WEEK_DAYS = 0b1111111


def _smartlock_path(smartlock_id: int, suffix: str) -> str:
    if smartlock_id <= 0:
        msg = f"smartlock_id must be a positive id, got {smartlock_id}"
        raise ValueError(msg)
    return f"/smartlock/{int(smartlock_id)}{suffix}"


class AdvancedApiMixin(WebApiCore):
    """Operations of the AdvancedApi tag."""

    async def decentral_webhooks(self) -> list[DecentralWebhook]:
        """The decentral webhooks this integration registered (without secrets)."""
        data = await self._request("GET", "/api/decentralWebhook")
        return parse_list(data, DecentralWebhook.from_api, "decentral webhook")

    async def register_decentral_webhook(
        self, *, webhook_url: str, webhook_features: Iterable[WebhookFeature | str]
    ) -> DecentralWebhook:
        """Register a webhook (https only); keep its ``secret``: it is sent only now.

        Raises:
            ValueError: ``webhook_url`` is empty or no feature is given.
        """
        if not webhook_url:
            msg = "webhook_url must not be empty"
            raise ValueError(msg)
        body = {
            "webhookUrl": webhook_url,
            "webhookFeatures": features_to_api(webhook_features),
        }
        data = await self._request("PUT", "/api/decentralWebhook", json_body=body)
        return parse_object(data, DecentralWebhook.from_api, "decentral webhook")

    async def delete_decentral_webhook(self, webhook_id: int) -> None:
        """Unregister a decentral webhook.

        Raises:
            ValueError: ``webhook_id`` is not positive.
        """
        if webhook_id <= 0:
            msg = f"webhook_id must be a positive id, got {webhook_id}"
            raise ValueError(msg)
        await self._request("DELETE", f"/api/decentralWebhook/{int(webhook_id)}")

    async def webhook_logs(
        self, api_key_id: int, *, limit: int | None = None, before_id: str | None = None
    ) -> list[WebhookLog]:
        """One page of an Advanced API key's webhook deliveries, newest first.

        ``before_id`` is the cursor: only deliveries older than that one are returned.

        Raises:
            ValueError: ``api_key_id`` is not positive or ``limit`` is outside 1..100.
        """
        if api_key_id <= 0:
            msg = f"api_key_id must be a positive id, got {api_key_id}"
            raise ValueError(msg)
        if limit is not None and not 1 <= limit <= MAX_WEBHOOK_LOG_PAGE:
            msg = f"limit must be between 1 and {MAX_WEBHOOK_LOG_PAGE}, got {limit}"
            raise ValueError(msg)
        path = f"/api/key/{int(api_key_id)}/webhook/logs"
        data = await self._request("GET", path, params={"id": before_id, "limit": limit})
        return parse_list(data, WebhookLog.from_api, "webhook log")

    async def create_smartlock_auths_advanced(
        self,
        *,
        smartlock_ids: Sequence[int],
        name: str,
        account_user_id: int,
        remote_allowed: bool,
        allowed_from_date: datetime | None = None,
        allowed_until_date: datetime | None = None,
        allowed_week_days: int | None = None,
        allowed_from_time: int | None = None,
        allowed_until_time: int | None = None,
        smart_actions_enabled: bool | None = None,
    ) -> AdvancedConfirmation:
        """Create an auth on several locks; an AuthCreation webhook tells the outcome.

        Raises:
            ValueError: no smartlock id, or ``allowed_week_days`` is not a 7-bit mask.
        """
        if not smartlock_ids:
            msg = "smartlock_ids must name at least one lock"
            raise ValueError(msg)
        if allowed_week_days is not None and not 0 <= allowed_week_days <= ALL_WEEK_DAYS:
            msg = f"allowed_week_days must be a mask in 0..127, got {allowed_week_days}"
            raise ValueError(msg)
        body: dict[str, Any] = {
            "smartlockIds": [int(smartlock_id) for smartlock_id in smartlock_ids],
            "name": name,
            "accountUserId": account_user_id,
            "remoteAllowed": remote_allowed,
        }
        optional: dict[str, Any] = {
            "allowedFromDate": None
            if allowed_from_date is None
            else format_datetime(allowed_from_date),
            "allowedUntilDate": None
            if allowed_until_date is None
            else format_datetime(allowed_until_date),
            "allowedWeekDays": allowed_week_days,
            "allowedFromTime": allowed_from_time,
            "allowedUntilTime": allowed_until_time,
            "smartActionsEnabled": smart_actions_enabled,
        }
        body.update((key, value) for key, value in optional.items() if value is not None)
        data = await self._request("PUT", "/smartlock/auth/advanced", json_body=body)
        return parse_object(data, AdvancedConfirmation.from_api, "advanced confirmation")

    async def action_advanced(
        self,
        smartlock_id: int,
        *,
        action: WebLockAction | WebOpenerAction,
        full_lock: bool = False,
        force: bool = False,
        option: ActionOption | int | None = None,
    ) -> AdvancedConfirmation:
        """Send an action; a SmartlockAction webhook with the request id tells the end.

        Takes the Web API's numbering, as `NukiWebClient.action` does: full lock is
        ``WebLockAction.LOCK`` with ``full_lock=True``, ``force`` sets option 2.

        Raises:
            ValueError: ``smartlock_id`` is not positive.
            NukiInvalidActionError: a Bridge code, a bare number, UNKNOWN, an undefined
                option bit or full lock on another action (also a ValueError).
        """
        path = _smartlock_path(smartlock_id, "/action/advanced")
        body = action_body(action, full_lock=full_lock, force=force, option=option)
        data = await self._request("POST", path, json_body=body)
        return parse_object(data, AdvancedConfirmation.from_api, "advanced confirmation")

    async def lock_advanced(self, smartlock_id: int) -> AdvancedConfirmation:
        """Lock; the outcome comes as a LockAction webhook with the request id.

        Raises:
            ValueError: ``smartlock_id`` is not positive.
        """
        path = _smartlock_path(smartlock_id, "/action/lock/advanced")
        data = await self._request("POST", path)
        return parse_object(data, AdvancedConfirmation.from_api, "advanced confirmation")

    async def unlock_advanced(self, smartlock_id: int) -> AdvancedConfirmation:
        """Unlock; the outcome comes as an UnlockAction webhook with the request id.

        Raises:
            ValueError: ``smartlock_id`` is not positive.
        """
        path = _smartlock_path(smartlock_id, "/action/unlock/advanced")
        data = await self._request("POST", path)
        return parse_object(data, AdvancedConfirmation.from_api, "advanced confirmation")
