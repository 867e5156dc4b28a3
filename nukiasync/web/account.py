"""The account, its users, sub accounts, integrations, settings and companies.

Tags Account, AccountUser and Company. Account users are the people authorizations and
log entries point to (``account_user_id``); sub accounts are logins with limited rights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from nukiasync._parse import parse_list
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web._core import WebApiCore
from nukiasync.web.models._common import omit_none
from nukiasync.web.models.account import (
    Account,
    AccountConfig,
    AccountIntegration,
    AccountProfile,
    AccountSetting,
    AccountUser,
    Company,
    OtpSecret,
    StaleDevice,
)

if TYPE_CHECKING:
    from nukiasync.const import AccountUserType

_T = TypeVar("_T")


def parse_object(data: Any, parser: Callable[[Mapping[str, Any]], _T], what: str) -> _T:
    """Parse a single-object answer; a body of the wrong shape is the server's fault.

    Raises:
        NukiInvalidResponseError: the body is not the object promised.
    """
    if not isinstance(data, Mapping):
        msg = f"The Nuki Web API answered with a {what} that is not an object"
        raise NukiInvalidResponseError(msg, status=200)
    try:
        return parser(data)
    except (KeyError, ValueError, TypeError, OverflowError) as err:
        msg = f"The Nuki Web API answered with an unusable {what} ({type(err).__name__})"
        raise NukiInvalidResponseError(msg, status=200) from err


def _positive(value: int, name: str) -> int:
    if value <= 0:
        msg = f"{name} must be a positive id, got {value}"
        raise ValueError(msg)
    return int(value)


def _body(**fields: Any) -> dict[str, Any]:
    return omit_none(fields)


class AccountMixin(WebApiCore):
    """Operations of the Account, AccountUser and Company tags."""

    async def account(self) -> Account:
        """The account the token belongs to."""
        data = await self._request("GET", "/account")
        return parse_object(data, Account.from_api, "account")

    async def update_account(
        self,
        *,
        language: str,
        email: str | None = None,
        name: str | None = None,
        password: str | None = None,
        config: AccountConfig | None = None,
        profile: AccountProfile | None = None,
        delete_api_tokens: bool | None = None,
    ) -> None:
        """Change the account; a new password destroys API tokens unless told not to."""
        body = _body(
            language=language,
            email=email,
            name=name,
            password=password,
            config=None if config is None else config.to_api(),
            profile=None if profile is None else profile.to_api(),
        )
        await self._request(
            "POST",
            "/account",
            params={"deleteApiTokens": delete_api_tokens},
            json_body=body,
        )

    async def delete_account(self) -> None:
        """Delete the account, its devices' links and every token: there is no undo."""
        await self._request("DELETE", "/account")

    async def change_account_email(self, *, email: str) -> None:
        """Send the mail that confirms a change of the account's e-mail address."""
        await self._request("POST", "/account/email/change", json_body={"email": email})

    async def verify_account_email(self) -> None:
        """Send the verification mail for the account's current e-mail again."""
        await self._request("POST", "/account/email/verify")

    async def account_integrations(self) -> list[AccountIntegration]:
        """Apps, devices and API tokens that have access to the account."""
        data = await self._request("GET", "/account/integration")
        return parse_list(data, AccountIntegration.from_api, "account integration")

    async def delete_account_integration(
        self, *, api_key_id: int | None = None, token_id: str | int | None = None
    ) -> None:
        """Revoke an integration: a whole API key (with its tokens) or one token.

        Raises:
            ValueError: neither ``api_key_id`` nor ``token_id`` given.
        """
        if api_key_id is None and token_id is None:
            msg = "pass api_key_id, token_id or both"
            raise ValueError(msg)
        await self._request(
            "DELETE",
            "/account/integration",
            params={"apiKeyId": api_key_id, "tokenId": token_id},
        )

    async def create_account_otp_secret(self) -> OtpSecret:
        """A new one-time-password secret, to enrol before `enable_account_otp`."""
        data = await self._request("PUT", "/account/otp")
        if not isinstance(data, str) or not data:
            msg = "The Nuki Web API answered PUT /account/otp without a secret"
            raise NukiInvalidResponseError(msg, status=200)
        return OtpSecret(secret=data)

    async def enable_account_otp(self, *, otp: str) -> None:
        """Turn on two-factor login, proving the secret with a current one-time code."""
        await self._request("POST", "/account/otp", json_body={"otp": otp})

    async def disable_account_otp(self) -> None:
        """Turn off two-factor login."""
        await self._request("DELETE", "/account/otp")

    async def reset_account_password(
        self, *, email: str, delete_api_tokens: bool | None = None
    ) -> None:
        """Send a password-reset mail (needs an API key, not a user token)."""
        body = _body(email=email, deleteApiTokens=delete_api_tokens)
        await self._request("POST", "/account/password/reset", json_body=body)

    async def account_setting(self) -> AccountSetting:
        """Nuki Web's display settings for the account."""
        data = await self._request("GET", "/account/setting")
        return parse_object(data, AccountSetting.from_api, "account setting")

    async def update_account_setting(
        self,
        *,
        device_sort_type: str | None = None,
        device_view_type: str | None = None,
        nuki_club_dismissed: bool | None = None,
        marked_staled_devices: Sequence[StaleDevice] | None = None,
        removed_staled_devices: Sequence[StaleDevice] | None = None,
    ) -> AccountSetting:
        """Create or change Nuki Web's display settings; returns them as stored."""
        web = _body(
            deviceSortType=device_sort_type,
            deviceViewType=device_view_type,
            nukiClubDismissed=nuki_club_dismissed,
            markedStaledDevices=None
            if marked_staled_devices is None
            else [device.to_api() for device in marked_staled_devices],
            removedStaledDevices=None
            if removed_staled_devices is None
            else [device.to_api() for device in removed_staled_devices],
        )
        data = await self._request("PUT", "/account/setting", json_body={"web": web})
        return parse_object(data, AccountSetting.from_api, "account setting")

    async def delete_account_setting(self) -> None:
        """Reset Nuki Web's display settings."""
        await self._request("DELETE", "/account/setting")

    async def sub_accounts(self, *, email: str | None = None) -> list[Account]:
        """The sub accounts, optionally those whose e-mail matches a regex."""
        data = await self._request("GET", "/account/sub", params={"email": email})
        if isinstance(data, Mapping):  # the spec declares one object for this list: take both
            data = [data]
        return parse_list(data, Account.from_api, "sub account")

    async def create_sub_account(
        self,
        *,
        email: str,
        name: str,
        password: str,
        language: str,
        rights: int,
        profile: AccountProfile | None = None,
    ) -> Account:
        """Create a login with limited ``rights`` (a bitmask) under this account."""
        body = _body(
            email=email,
            name=name,
            password=password,
            language=language,
            rights=rights,
            profile=None if profile is None else profile.to_api(),
        )
        data = await self._request("PUT", "/account/sub", json_body=body)
        return parse_object(data, Account.from_api, "sub account")

    async def sub_account(self, account_id: int) -> Account:
        """One sub account.

        Raises:
            ValueError: ``account_id`` is not positive.
        """
        path = f"/account/sub/{_positive(account_id, 'account_id')}"
        data = await self._request("GET", path)
        return parse_object(data, Account.from_api, "sub account")

    async def update_sub_account(
        self,
        account_id: int,
        *,
        language: str,
        email: str | None = None,
        name: str | None = None,
        password: str | None = None,
        rights: int | None = None,
        config: AccountConfig | None = None,
        profile: AccountProfile | None = None,
    ) -> None:
        """Change a sub account.

        Raises:
            ValueError: ``account_id`` is not positive.
        """
        path = f"/account/sub/{_positive(account_id, 'account_id')}"
        body = _body(
            language=language,
            email=email,
            name=name,
            password=password,
            rights=rights,
            config=None if config is None else config.to_api(),
            profile=None if profile is None else profile.to_api(),
        )
        await self._request("POST", path, json_body=body)

    async def delete_sub_account(self, account_id: int) -> None:
        """Delete a sub account.

        Raises:
            ValueError: ``account_id`` is not positive.
        """
        await self._request("DELETE", f"/account/sub/{_positive(account_id, 'account_id')}")

    async def account_users(
        self,
        *,
        email: str | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[AccountUser]:
        """Account users, a page at a time (the server caps ``limit`` silently).

        Raises:
            ValueError: ``offset`` negative or ``limit`` below 1.
        """
        if offset is not None and offset < 0:
            msg = f"offset must not be negative, got {offset}"
            raise ValueError(msg)
        if limit is not None and limit < 1:
            msg = f"limit must be at least 1, got {limit}"
            raise ValueError(msg)
        params = {"email": email, "offset": offset, "limit": limit}
        data = await self._request("GET", "/account/user", params=params)
        return parse_list(data, AccountUser.from_api, "account user")

    async def create_account_user(
        self,
        *,
        email: str,
        name: str,
        language: str | None = None,
        type: AccountUserType | int | None = None,
    ) -> AccountUser:
        """Create an account user to link authorizations to (``type``: caretakers)."""
        body = _body(
            email=email,
            name=name,
            language=language,
            type=None if type is None else int(type),
        )
        data = await self._request("PUT", "/account/user", json_body=body)
        return parse_object(data, AccountUser.from_api, "account user")

    async def account_user(self, account_user_id: int) -> AccountUser:
        """One account user.

        Raises:
            ValueError: ``account_user_id`` is not positive.
        """
        path = f"/account/user/{_positive(account_user_id, 'account_user_id')}"
        data = await self._request("GET", path)
        return parse_object(data, AccountUser.from_api, "account user")

    async def update_account_user(
        self,
        account_user_id: int,
        *,
        email: str | None = None,
        name: str | None = None,
        language: str | None = None,
    ) -> AccountUser | None:
        """Change an account user; the stored user, or None if the answer is empty.

        Raises:
            ValueError: ``account_user_id`` is not positive.
        """
        path = f"/account/user/{_positive(account_user_id, 'account_user_id')}"
        body = _body(email=email, name=name, language=language)
        data = await self._request("POST", path, json_body=body)
        if data is None:
            return None
        return parse_object(data, AccountUser.from_api, "account user")

    async def delete_account_user(self, account_user_id: int) -> None:
        """Delete an account user; the server finishes it asynchronously.

        Raises:
            ValueError: ``account_user_id`` is not positive.
        """
        path = f"/account/user/{_positive(account_user_id, 'account_user_id')}"
        await self._request("DELETE", path)

    async def companies(self) -> list[Company]:
        """The companies the account is linked to."""
        data = await self._request("GET", "/company")
        return parse_list(data, Company.from_api, "company")
