"""The account, its users, sub accounts, integrations and settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int
from nukiasync._redact import redact
from nukiasync.const import AccountUserType, TolerantIntEnum
from nukiasync.web.models._common import (
    omit_none,
    optional_bool,
    optional_str,
    required_int,
    str_list,
)


class AccountType(TolerantIntEnum):
    """Kind of a Nuki Web account (``Account.type``)."""

    UNKNOWN = -1
    USER = 0
    COMPANY = 1
    CARETAKER = 2


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


@attrs.frozen(kw_only=True)
class AccountConfig:
    """The voice assistants' unlock PINs (``Account.Config``); also an input."""

    alexa_pin: str | None = attrs.field(default=None, repr=redact)
    gactions_home_pin: str | None = attrs.field(default=None, repr=redact)
    otp_enabled_date: datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``config`` JSON object."""
        return cls(
            alexa_pin=optional_str(data.get("alexaPin")),
            gactions_home_pin=optional_str(data.get("gactionsHomePin")),
            otp_enabled_date=optional_datetime(data.get("otpEnabledDate")),
        )

    def to_api(self) -> dict[str, Any]:
        """The request JSON: the PINs that are set (the OTP date is read-only)."""
        return omit_none({"alexaPin": self.alexa_pin, "gactionsHomePin": self.gactions_home_pin})


@attrs.frozen(kw_only=True)
class AccountProfile:
    """The postal profile of an account (``Account.Profile``); also an input."""

    first_name: str | None = attrs.field(default=None, repr=redact)
    last_name: str | None = attrs.field(default=None, repr=redact)
    address: str | None = attrs.field(default=None, repr=redact)
    zip: str | None = attrs.field(default=None, repr=redact)
    city: str | None = attrs.field(default=None, repr=redact)
    country: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``profile`` JSON object."""
        return cls(
            first_name=optional_str(data.get("firstName")),
            last_name=optional_str(data.get("lastName")),
            address=optional_str(data.get("address")),
            zip=optional_str(data.get("zip")),
            city=optional_str(data.get("city")),
            country=optional_str(data.get("country")),
        )

    def to_api(self) -> dict[str, Any]:
        """The request JSON, without the fields that are not set."""
        return omit_none(
            {
                "firstName": self.first_name,
                "lastName": self.last_name,
                "address": self.address,
                "zip": self.zip,
                "city": self.city,
                "country": self.country,
            }
        )


@attrs.frozen(kw_only=True)
class TermsOfUse:
    """Whether the account accepted the API terms of use, and when."""

    state: str | None = None
    acceptance_date: datetime | None = None
    publish_date: datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``apiTermsOfUse`` JSON object."""
        return cls(
            state=optional_str(data.get("state")),
            acceptance_date=optional_datetime(data.get("acceptanceDate")),
            publish_date=optional_datetime(data.get("publishDate")),
        )


@attrs.frozen(kw_only=True)
class Account:
    """The account of ``GET /account``, or a sub account (with ``rights`` set)."""

    account_id: int
    type: AccountType = AccountType.UNKNOWN
    type_code: int | None = None
    email: str = attrs.field(default="", repr=redact)
    name: str = attrs.field(default="", repr=redact)
    language: str | None = None
    email_verified: bool | None = None
    master_account_id: int | None = None
    rights: int | None = None
    b2b_active: bool | None = None
    shs_subscription_type: str | None = None
    descent_origin: str | None = None
    config: AccountConfig | None = None
    profile: AccountProfile | None = None
    api_terms_of_use: TermsOfUse | None = None
    secret: tuple[str, ...] = attrs.field(default=(), repr=False)
    creation_date: datetime | None = None
    update_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object (``MyAccount`` or ``Account``)."""
        type_code = optional_int(data.get("type"))
        config = _mapping(data.get("config"))
        profile = _mapping(data.get("profile"))
        terms = _mapping(data.get("apiTermsOfUse"))
        descent = _mapping(data.get("descent"))
        return cls(
            account_id=required_int(data, "accountId"),
            type=AccountType.parse(type_code),
            type_code=type_code,
            email=str(data.get("email") or ""),
            name=str(data.get("name") or ""),
            language=optional_str(data.get("language")),
            email_verified=optional_bool(data.get("emailVerified")),
            master_account_id=optional_int(data.get("masterAccountId")),
            rights=optional_int(data.get("rights")),
            b2b_active=optional_bool(data.get("b2bActive")),
            shs_subscription_type=optional_str(data.get("shsSubscriptionType")),
            descent_origin=None if descent is None else optional_str(descent.get("origin")),
            config=None if config is None else AccountConfig.from_api(config),
            profile=None if profile is None else AccountProfile.from_api(profile),
            api_terms_of_use=None if terms is None else TermsOfUse.from_api(terms),
            secret=str_list(data.get("secret")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AccountUser:
    """A person (or company) that authorizations can be linked to."""

    account_user_id: int
    account_id: int | None = None
    type: AccountUserType = AccountUserType.USER
    type_code: int | None = None
    email: str = attrs.field(default="", repr=redact)
    name: str = attrs.field(default="", repr=redact)
    language: str | None = None
    operation_id: str | None = None
    creation_date: datetime | None = None
    update_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        type_code = optional_int(data.get("type"))
        return cls(
            account_user_id=required_int(data, "accountUserId"),
            account_id=optional_int(data.get("accountId")),
            type=AccountUserType.USER if type_code is None else AccountUserType.parse(type_code),
            type_code=type_code,
            email=str(data.get("email") or ""),
            name=str(data.get("name") or ""),
            language=optional_str(data.get("language")),
            operation_id=optional_str(data.get("operationId")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class StaleDevice:
    """A device Nuki Web marked as stale (not seen for long); also an input."""

    smartlock_id: int | None = None
    name: str | None = attrs.field(default=None, repr=redact)
    read: bool | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from a ``StaleDevice`` JSON object."""
        return cls(
            smartlock_id=optional_int(data.get("smartlockId")),
            name=optional_str(data.get("name")),
            read=optional_bool(data.get("read")),
        )

    def to_api(self) -> dict[str, Any]:
        """The request JSON, without the fields that are not set."""
        return omit_none({"smartlockId": self.smartlock_id, "name": self.name, "read": self.read})


def _stale_devices(value: object) -> tuple[StaleDevice, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(StaleDevice.from_api(item) for item in value if isinstance(item, Mapping))


@attrs.frozen(kw_only=True)
class AccountSetting:
    """Nuki Web's display settings for the account (``AccountSetting.web``)."""

    device_sort_type: str | None = None
    device_view_type: str | None = None
    nuki_club_dismissed: bool | None = None
    marked_staled_devices: tuple[StaleDevice, ...] = ()
    removed_staled_devices: tuple[StaleDevice, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object (``{"web": {...}}``)."""
        web = _mapping(data.get("web")) or {}
        return cls(
            device_sort_type=optional_str(web.get("deviceSortType")),
            device_view_type=optional_str(web.get("deviceViewType")),
            nuki_club_dismissed=optional_bool(web.get("nukiClubDismissed")),
            marked_staled_devices=_stale_devices(web.get("markedStaledDevices")),
            removed_staled_devices=_stale_devices(web.get("removedStaledDevices")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AccountIntegration:
    """An app, device or API token that has access to the account."""

    client_id: str
    name: str | None = None
    vendor_key: str | None = None
    version: str | None = None
    description: str | None = None
    device: bool | None = None
    scopes: tuple[str, ...] = ()
    token_id: str | None = None
    advanced_state: str | None = None
    advanced_type: str | None = None
    sort_order: int | None = None
    sub_account: bool | None = None
    sub_account_id: int | None = None
    sub_account_name: str | None = attrs.field(default=None, repr=redact)
    warning: bool | None = None
    created_at: datetime | None = None
    last_active_at: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            client_id=str(data["clientId"]),
            name=optional_str(data.get("name")),
            vendor_key=optional_str(data.get("vendorKey")),
            version=optional_str(data.get("version")),
            description=optional_str(data.get("description")),
            device=optional_bool(data.get("device")),
            scopes=str_list(data.get("scopes")),
            token_id=optional_str(data.get("tokenId")),
            advanced_state=optional_str(data.get("advancedState")),
            advanced_type=optional_str(data.get("advancedType")),
            sort_order=optional_int(data.get("sortOrder")),
            sub_account=optional_bool(data.get("subAccount")),
            sub_account_id=optional_int(data.get("subAccountId")),
            sub_account_name=optional_str(data.get("subAccountName")),
            warning=optional_bool(data.get("warning")),
            created_at=optional_datetime(data.get("createdAt")),
            last_active_at=optional_datetime(data.get("lastActiveAt")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class Company:
    """A company the account is linked to (``GET /company``)."""

    name: str | None = None
    email: str | None = attrs.field(default=None, repr=redact)
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            name=optional_str(data.get("name")),
            email=optional_str(data.get("email")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class OtpSecret:
    """A new one-time-password secret: enrol it in an authenticator, then enable OTP."""

    secret: str = attrs.field(repr=redact)
