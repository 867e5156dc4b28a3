"""Addresses (rental properties), their units, guest reservations and invitation tokens.

Guest names and e-mails, address names and token ids (an invitation works by its id) are
personal or secret, so they never appear in ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int, parse_bool
from nukiasync._redact import redact
from nukiasync.web.models._common import (
    int_list,
    optional_bool,
    optional_str,
    parse_operation_id,
    required_int,
    str_list,
)


def _required_str(data: Mapping[str, Any], key: str) -> str:
    value = optional_str(data[key])
    if value is None:
        msg = f"{key} must not be empty"
        raise ValueError(msg)
    return value


@attrs.frozen(kw_only=True)
class Address:
    """One entry of ``GET /address``: a property and the devices at it."""

    address_id: int
    account_id: int | None = None
    name: str = attrs.field(default="", repr=redact)
    smartlock_ids: tuple[int, ...] = ()
    settings: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    check_in_time: int | None = None
    check_out_time: int | None = None
    service_id: str | None = None
    time_zone: str | None = None
    creation_date: datetime | None = None
    update_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        settings = data.get("settings")
        return cls(
            address_id=required_int(data, "addressId"),
            account_id=optional_int(data.get("accountId")),
            name=str(data.get("name") or ""),
            smartlock_ids=int_list(data.get("smartlockIds")),
            settings=dict(settings) if isinstance(settings, Mapping) else {},
            check_in_time=optional_int(data.get("checkInTime")),
            check_out_time=optional_int(data.get("checkOutTime")),
            service_id=optional_str(data.get("serviceId")),
            time_zone=optional_str(data.get("timeZone")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            raw=data,
        )


def _first_set(data: Mapping[str, Any], *keys: str) -> object:
    """The first of ``keys`` that is present and not null (a spelling Nuki used)."""
    return next((data[key] for key in keys if data.get(key) is not None), None)


@attrs.frozen(kw_only=True)
class AddressUnit:
    """One unit (flat, room) of an address (``AddressUnitResponse``).

    ``id`` is None if Nuki left it out: the spec does not require it in answers.
    """

    id: str | None = None
    address_id: int | None = None
    address_token_id: str | None = attrs.field(default=None, repr=redact)
    name: str = attrs.field(default="", repr=redact)
    creation_date: datetime | None = None
    redeem_date: datetime | None = None
    redeem_result: str | None = None
    operation_id: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            id=optional_str(data.get("id")),
            address_id=optional_int(data.get("addressId")),
            address_token_id=optional_str(data.get("addressTokenId")),
            name=str(data.get("name") or ""),
            creation_date=optional_datetime(data.get("creationDate")),
            redeem_date=optional_datetime(data.get("redeemDate")),
            redeem_result=optional_str(data.get("redeemResult")),
            operation_id=parse_operation_id(data.get("operationId")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AddressToken:
    """An invitation to an address (``AddressToken``); whoever has its id can redeem it."""

    id: str = attrs.field(repr=redact)
    address_id: int | None = None
    creation_date: datetime | None = None
    redeem_date: datetime | None = None
    redeem_account_id: int | None = None
    redeem_result: str | None = None
    invite_keys: tuple[str, ...] = attrs.field(default=(), repr=redact)
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            id=_required_str(data, "id"),
            address_id=optional_int(data.get("addressId")),
            creation_date=optional_datetime(data.get("creationDate")),
            redeem_date=optional_datetime(data.get("redeemDate")),
            redeem_account_id=optional_int(data.get("redeemAccountId")),
            redeem_result=optional_str(data.get("redeemResult")),
            invite_keys=str_list(data.get("inviteKeys")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AddressTokenInfo:
    """What an invitation grants, shown before redeeming it (``AddressTokenInfo``)."""

    id: str = attrs.field(repr=redact)
    address_name: str = attrs.field(default="", repr=redact)
    smartlock_names: tuple[str, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            id=_required_str(data, "id"),
            address_name=str(data.get("addressName") or ""),
            smartlock_names=str_list(data.get("smartlockNames")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class Reservation:
    """A guest's booking at an address (``AddressReservation``).

    ``state`` and ``automation`` are kept as Nuki sends them: the spec gives no table.
    """

    id: str
    address_id: int | None = None
    account_id: int | None = None
    service_id: str | None = None
    reference: str | None = None
    state: str | None = None
    automation: int | None = None
    name: str = attrs.field(default="", repr=redact)
    email: str = attrs.field(default="", repr=redact)
    guests: int | None = None
    guests_issued: int | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    checked_in: bool | None = None
    keypad_issued: bool = False
    has_custom_access_times: bool = False
    currently_issuing_auth: bool = False
    currently_revoking_auth: bool = False
    update_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object (both spellings of the ``*IssuingAuth`` flags)."""
        issuing = _first_set(data, "isCurrentlyIssuingAuth", "currentlyIssuingAuth")
        revoking = _first_set(data, "isCurrentlyRevokingAuth", "currentlyRevokingAuth")
        return cls(
            id=_required_str(data, "id"),
            address_id=optional_int(data.get("addressId")),
            account_id=optional_int(data.get("accountId")),
            service_id=optional_str(data.get("serviceId")),
            reference=optional_str(data.get("reference")),
            state=optional_str(data.get("state")),
            automation=optional_int(data.get("automation")),
            name=str(data.get("name") or ""),
            email=str(data.get("email") or ""),
            guests=optional_int(data.get("guests")),
            guests_issued=optional_int(data.get("guestsIssued")),
            start_date=optional_datetime(data.get("startDate")),
            end_date=optional_datetime(data.get("endDate")),
            checked_in=optional_bool(data.get("checkedIn")),
            keypad_issued=parse_bool(data.get("keypadIssued")),
            has_custom_access_times=parse_bool(data.get("hasCustomAccessTimes")),
            currently_issuing_auth=parse_bool(issuing),
            currently_revoking_auth=parse_bool(revoking),
            update_date=optional_datetime(data.get("updateDate")),
            raw=data,
        )
