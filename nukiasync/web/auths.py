"""Authorizations (tag SmartlockAuth): who may operate a device, with which key, and when.

Creating, updating and deleting are asynchronous at Nuki: the 204 means "accepted"; the
change shows in a later read (or a DEVICE_AUTHS webhook). Arguments are checked before any
request, keypad codes above all, and a code never appears in a message or a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync._parse import parse_list
from nukiasync.const import AuthType
from nukiasync.web._core import WebApiCore
from nukiasync.web._results import one
from nukiasync.web.models.auth import (
    SmartlockAuth,
    SmartlockAuthUpdate,
    auth_access_fields,
    check_keypad_code,
)
from nukiasync.web.models.page import Page

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence
    from datetime import datetime

# The Web API's default page size for /smartlock/auth/paged.
DEFAULT_AUTH_PAGE_SIZE = 100


def _types(types: Sequence[AuthType | int] | None) -> list[int] | None:
    return None if types is None else [int(t) for t in types]


def _create_body(
    *,
    name: str,
    type: AuthType | int,
    remote_allowed: bool,
    account_user_id: int | None,
    code: int | None,
    smart_actions_enabled: bool | None,
    window: dict[str, Any],
) -> dict[str, Any]:
    """The body shared by both create operations, checked by Nuki's rules.

    Raises:
        ValueError: see `AuthsMixin.create_smartlock_auth`.
    """
    if not name:
        msg = "name must not be empty"
        raise ValueError(msg)
    type_code = int(type)
    if type_code == AuthType.KEYPAD_CODE:
        if code is None:
            msg = "a keypad code authorization (type 13) needs code"
            raise ValueError(msg)
        check_keypad_code(code)
    else:
        if code is not None:
            msg = "code is only for keypad code authorizations (type 13)"
            raise ValueError(msg)
        if account_user_id is None:
            msg = "account_user_id is required unless type is 13 (keypad code)"
            raise ValueError(msg)
    body: dict[str, Any] = {"name": name, "remoteAllowed": remote_allowed, "type": type_code}
    if account_user_id is not None:
        body["accountUserId"] = account_user_id
    if code is not None:
        body["code"] = code
    if smart_actions_enabled is not None:
        body["smartActionsEnabled"] = smart_actions_enabled
    body.update(window)
    return body


class AuthsMixin(WebApiCore):
    """Operations of the SmartlockAuth tag."""

    async def auths(
        self,
        *,
        account_user_id: int | None = None,
        types: Sequence[AuthType | int] | None = None,
    ) -> list[SmartlockAuth]:
        """Authorizations of every device (a negative account_user_id: those without one)."""
        params = {"accountUserId": account_user_id, "types": _types(types)}
        data = await self._request("GET", "/smartlock/auth", params=params)
        return parse_list(data, SmartlockAuth.from_api, "authorization")

    async def auths_page(
        self,
        *,
        page: int = 0,
        size: int = DEFAULT_AUTH_PAGE_SIZE,
        account_user_id: int | None = None,
        types: Sequence[AuthType | int] | None = None,
    ) -> Page[SmartlockAuth]:
        """One page of the authorizations of every device; pages count from 0.

        Raises:
            ValueError: a negative page or a size below 1.
        """
        if page < 0 or size < 1:
            msg = f"page must be >= 0 and size >= 1, got page={page}, size={size}"
            raise ValueError(msg)
        params = {
            "page": page,
            "size": size,
            "accountUserId": account_user_id,
            "types": _types(types),
        }
        data = await self._request("GET", "/smartlock/auth/paged", params=params)
        return one(data, _auth_page, "GET /smartlock/auth/paged")

    async def iter_auths(
        self,
        *,
        page_size: int = DEFAULT_AUTH_PAGE_SIZE,
        account_user_id: int | None = None,
        types: Sequence[AuthType | int] | None = None,
    ) -> AsyncIterator[SmartlockAuth]:
        """Every authorization of every device, fetching pages as they are consumed."""
        page = 0
        while True:
            result = await self.auths_page(
                page=page, size=page_size, account_user_id=account_user_id, types=types
            )
            for auth in result.results:
                yield auth
            if not result.results or not result.has_next:
                return
            page += 1

    async def smartlock_auths(
        self, smartlock_id: int, *, types: Sequence[AuthType | int] | None = None
    ) -> list[SmartlockAuth]:
        """Authorizations of one device."""
        data = await self._request(
            "GET", f"/smartlock/{int(smartlock_id)}/auth", params={"types": _types(types)}
        )
        return parse_list(data, SmartlockAuth.from_api, "authorization")

    async def smartlock_auth(self, smartlock_id: int, id: str) -> SmartlockAuth:
        """One authorization, by its 24-hex ``id`` (not the device's numeric auth_id).

        Raises:
            ValueError: an empty id.
        """
        path = f"/smartlock/{int(smartlock_id)}/auth/{_auth_uid(id)}"
        data = await self._request("GET", path)
        return one(data, SmartlockAuth.from_api, "GET /smartlock/{smartlockId}/auth/{id}")

    async def create_smartlock_auth(
        self,
        smartlock_id: int,
        *,
        name: str,
        type: AuthType | int = AuthType.APP,
        account_user_id: int | None = None,
        remote_allowed: bool = False,
        code: int | None = None,
        smart_actions_enabled: bool | None = None,
        allowed_from_date: datetime | None = None,
        allowed_until_date: datetime | None = None,
        allowed_week_days: int | None = None,
        allowed_from_time: int | None = None,
        allowed_until_time: int | None = None,
    ) -> None:
        """Grant access to one device: an app user, a fob, or a keypad code (type 13).

        Raises:
            ValueError: an empty name; type 13 without a valid ``code`` (6 digits, 1-9);
                a ``code`` for another type; no ``account_user_id`` for a type other than
                13; a bad time window.
        """
        window = auth_access_fields(
            allowed_from_date=allowed_from_date,
            allowed_until_date=allowed_until_date,
            allowed_week_days=allowed_week_days,
            allowed_from_time=allowed_from_time,
            allowed_until_time=allowed_until_time,
        )
        body = _create_body(
            name=name,
            type=type,
            remote_allowed=remote_allowed,
            account_user_id=account_user_id,
            code=code,
            smart_actions_enabled=smart_actions_enabled,
            window=window,
        )
        await self._request("PUT", f"/smartlock/{int(smartlock_id)}/auth", json_body=body)

    async def create_auths(
        self,
        smartlock_ids: Sequence[int],
        *,
        name: str,
        type: AuthType | int = AuthType.APP,
        account_user_id: int | None = None,
        remote_allowed: bool = False,
        code: int | None = None,
        smart_actions_enabled: bool | None = None,
        allowed_from_date: datetime | None = None,
        allowed_until_date: datetime | None = None,
        allowed_week_days: int | None = None,
        allowed_from_time: int | None = None,
        allowed_until_time: int | None = None,
    ) -> None:
        """Grant the same access to several devices at once.

        Raises:
            ValueError: no device, or any reason of `create_smartlock_auth`.
        """
        if not smartlock_ids:
            msg = "smartlock_ids must name at least one device"
            raise ValueError(msg)
        window = auth_access_fields(
            allowed_from_date=allowed_from_date,
            allowed_until_date=allowed_until_date,
            allowed_week_days=allowed_week_days,
            allowed_from_time=allowed_from_time,
            allowed_until_time=allowed_until_time,
        )
        body = _create_body(
            name=name,
            type=type,
            remote_allowed=remote_allowed,
            account_user_id=account_user_id,
            code=code,
            smart_actions_enabled=smart_actions_enabled,
            window=window,
        )
        body["smartlockIds"] = [int(smartlock_id) for smartlock_id in smartlock_ids]
        await self._request("PUT", "/smartlock/auth", json_body=body)

    async def create_shared_key_auth(
        self,
        smartlock_id: int,
        *,
        name: str,
        account_user_id: int | None = None,
        allowed_from_date: datetime | None = None,
        allowed_until_date: datetime | None = None,
        allowed_week_days: int | None = None,
        allowed_from_time: int | None = None,
        allowed_until_time: int | None = None,
    ) -> list[SmartlockAuth]:
        """Create an authorization with a shared key (Advanced API) and return it.

        Raises:
            ValueError: an empty name or a bad time window.
        """
        if not name:
            msg = "name must not be empty"
            raise ValueError(msg)
        body: dict[str, Any] = {"name": name}
        if account_user_id is not None:
            body["accountUserId"] = account_user_id
        body.update(
            auth_access_fields(
                allowed_from_date=allowed_from_date,
                allowed_until_date=allowed_until_date,
                allowed_week_days=allowed_week_days,
                allowed_from_time=allowed_from_time,
                allowed_until_time=allowed_until_time,
            )
        )
        data = await self._request(
            "POST", f"/smartlock/{int(smartlock_id)}/auth/advanced/sharedkey", json_body=body
        )
        return parse_list(data, SmartlockAuth.from_api, "authorization")

    async def update_smartlock_auth(
        self,
        smartlock_id: int,
        id: str,
        *,
        name: str,
        enabled: bool | None = None,
        remote_allowed: bool | None = None,
        account_user_id: int | None = None,
        code: int | None = None,
        allowed_from_date: datetime | None = None,
        allowed_until_date: datetime | None = None,
        allowed_week_days: int | None = None,
        allowed_from_time: int | None = None,
        allowed_until_time: int | None = None,
    ) -> None:
        """Change one authorization (Nuki requires its name in every update).

        Raises:
            ValueError: an empty id, a bad keypad code or time window.
        """
        update = SmartlockAuthUpdate(
            id=_auth_uid(id),
            name=name,
            enabled=enabled,
            remote_allowed=remote_allowed,
            account_user_id=account_user_id,
            code=code,
            allowed_from_date=allowed_from_date,
            allowed_until_date=allowed_until_date,
            allowed_week_days=allowed_week_days,
            allowed_from_time=allowed_from_time,
            allowed_until_time=allowed_until_time,
        )
        body = update.to_api()
        del body["id"]
        await self._request(
            "POST", f"/smartlock/{int(smartlock_id)}/auth/{update.id}", json_body=body
        )

    async def update_auths(self, updates: Sequence[SmartlockAuthUpdate]) -> None:
        """Change several authorizations at once.

        Raises:
            ValueError: no update, or an invalid one.
        """
        if not updates:
            msg = "updates must hold at least one authorization"
            raise ValueError(msg)
        body = [update.to_api() for update in updates]
        await self._request("POST", "/smartlock/auth", json_body=body)

    async def delete_smartlock_auth(self, smartlock_id: int, id: str) -> None:
        """Revoke one authorization.

        Raises:
            ValueError: an empty id.
        """
        await self._request("DELETE", f"/smartlock/{int(smartlock_id)}/auth/{_auth_uid(id)}")

    async def delete_auths(self, ids: Sequence[str]) -> None:
        """Revoke several authorizations, by their 24-hex ids.

        Raises:
            ValueError: no id, or an empty one.
        """
        if not ids or isinstance(ids, str):
            msg = "ids must be a non-empty sequence of authorization ids"
            raise ValueError(msg)
        body = [_auth_uid(auth_uid) for auth_uid in ids]
        await self._request("DELETE", "/smartlock/auth", json_body=body)


def _auth_page(data: Mapping[str, Any]) -> Page[SmartlockAuth]:
    return Page.from_api(data, SmartlockAuth.from_api, "authorization")


def _auth_uid(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value:
        msg = "an authorization id must be a non-empty string (the 24-hex id)"
        raise ValueError(msg)
    return value.strip()
