"""Smartlock logs (tag SmartlockLog): pages newest first, walked with the ``id`` cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync._parse import parse_list
from nukiasync.web._core import WebApiCore
from nukiasync.web.models.log import SmartlockLog

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime

    from nukiasync.const import LogAction

# The Web API returns at most 50 entries per request, whatever `limit` asks for.
MAX_LOG_PAGE = 50


class LogsMixin(WebApiCore):
    """Operations of the SmartlockLog tag."""

    async def logs(
        self,
        smartlock_id: int | None = None,
        *,
        limit: int = 20,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        action: LogAction | int | None = None,
        auth_id: str | None = None,
        account_user_id: int | None = None,
        before_id: str | None = None,
        retry: bool = True,
    ) -> list[SmartlockLog]:
        """One page of log entries, newest first: one lock's, or the whole account's.

        ``before_id`` is the cursor: only entries older than that entry are returned.
        ``retry=False`` fails at once instead of backing off, for callers (the hub) that
        schedule their own next read.

        Raises:
            ValueError: ``auth_id`` without ``smartlock_id`` (the account-wide endpoint
                has no such filter), or ``limit`` outside 1..50.
        """
        if not 1 <= limit <= MAX_LOG_PAGE:
            msg = f"limit must be between 1 and {MAX_LOG_PAGE}, got {limit}"
            raise ValueError(msg)
        params: dict[str, Any] = {
            "accountUserId": account_user_id,
            "fromDate": from_date,
            "toDate": to_date,
            "action": None if action is None else int(action),
            "id": before_id,
            "limit": limit,
        }
        if smartlock_id is None:
            if auth_id is not None:
                msg = "auth_id filters only one lock's log: pass smartlock_id too"
                raise ValueError(msg)
            path = "/smartlock/log"
        else:
            params["authId"] = auth_id
            path = f"/smartlock/{int(smartlock_id)}/log"
        data = await self._request("GET", path, params=params, retry=retry)
        return parse_list(data, SmartlockLog.from_api, "log entry")

    async def iter_logs(
        self,
        smartlock_id: int | None = None,
        *,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        action: LogAction | int | None = None,
        auth_id: str | None = None,
        account_user_id: int | None = None,
        page_size: int = MAX_LOG_PAGE,
        max_entries: int | None = None,
        retry: bool = True,
    ) -> AsyncIterator[SmartlockLog]:
        """Every matching log entry, newest first, fetching pages as they are consumed."""
        cursor: str | None = None
        yielded = 0
        seen: set[str] = set()
        while True:
            page = await self.logs(
                smartlock_id,
                limit=page_size,
                from_date=from_date,
                to_date=to_date,
                action=action,
                auth_id=auth_id,
                account_user_id=account_user_id,
                before_id=cursor,
                retry=retry,
            )
            fresh = [entry for entry in page if entry.id not in seen]
            for entry in fresh:
                seen.add(entry.id)
                yield entry
                yielded += 1
                if max_entries is not None and yielded >= max_entries:
                    return
            if len(page) < page_size or not fresh:
                return
            cursor = page[-1].id
