"""Addresses (tags Address, AddressReservation, AddressToken): properties, units, bookings.

Address token ids travel in URL paths, and httpx logs request URLs at INFO: raise the
``httpx`` logger to WARNING where those logs are kept (README, "Logging").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nukiasync._parse import parse_list
from nukiasync.web._core import WebApiCore
from nukiasync.web._results import one
from nukiasync.web.models.address import (
    Address,
    AddressToken,
    AddressTokenInfo,
    AddressUnit,
    Reservation,
)
from nukiasync.web.models.apikey import AdvancedConfirmation

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Minutes in a day: check-in/check-out times count minutes from midnight.
MINUTES_PER_DAY = 24 * 60


def _segment(value: str, what: str) -> str:
    """A string id checked for use as one URL path segment.

    Raises:
        ValueError: empty, or holding a slash.
    """
    if not isinstance(value, str) or not value.strip() or "/" in value:
        msg = f"{what} must be a non-empty string without '/'"
        raise ValueError(msg)
    return value.strip()


class AddressesMixin(WebApiCore):
    """Operations of the Address, AddressReservation and AddressToken tags."""

    async def addresses(self) -> list[Address]:
        """Every address of the account."""
        data = await self._request("GET", "/address")
        return parse_list(data, Address.from_api, "address")

    async def create_address(self, *, name: str, smartlock_ids: Sequence[int]) -> Address:
        """Create an address for some devices and return it.

        Raises:
            ValueError: an empty name.
        """
        if not name:
            msg = "name must not be empty"
            raise ValueError(msg)
        body = {"name": name, "smartlockIds": [int(sid) for sid in smartlock_ids]}
        data = await self._request("PUT", "/address", json_body=body)
        return one(data, Address.from_api, "PUT /address")

    async def update_address(
        self,
        address_id: int,
        *,
        name: str | None = None,
        smartlock_ids: Sequence[int] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Rename an address, change its devices or its settings.

        Raises:
            ValueError: nothing to change.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if smartlock_ids is not None:
            body["smartlockIds"] = [int(sid) for sid in smartlock_ids]
        if settings is not None:
            body["settings"] = dict(settings)
        if not body:
            msg = "nothing to update: give name, smartlock_ids or settings"
            raise ValueError(msg)
        await self._request("POST", f"/address/{int(address_id)}", json_body=body)

    async def delete_address(self, address_id: int) -> None:
        """Delete an address."""
        await self._request("DELETE", f"/address/{int(address_id)}")

    async def address_units(self, address_id: int) -> list[AddressUnit]:
        """The units of an address."""
        data = await self._request("GET", f"/address/{int(address_id)}/unit")
        return parse_list(data, AddressUnit.from_api, "address unit")

    async def create_address_unit(self, address_id: int, *, name: str) -> AddressUnit:
        """Add a unit to an address and return it.

        Raises:
            ValueError: an empty name.
        """
        if not name:
            msg = "name must not be empty"
            raise ValueError(msg)
        path = f"/address/{int(address_id)}/unit"
        data = await self._request("PUT", path, json_body={"name": name})
        return one(data, AddressUnit.from_api, "PUT /address/{addressId}/unit")

    async def delete_address_units(
        self, address_id: int, ids: Sequence[str]
    ) -> AdvancedConfirmation:
        """Delete units of an address (asynchronously; the answer names the request).

        Raises:
            ValueError: no id, or an empty one.
        """
        if not ids or isinstance(ids, str):
            msg = "ids must be a non-empty sequence of unit ids"
            raise ValueError(msg)
        body = [_segment(unit_id, "a unit id") for unit_id in ids]
        path = f"/address/{int(address_id)}/unit"
        data = await self._request("DELETE", path, json_body=body)
        return one(data, AdvancedConfirmation.from_api, "DELETE /address/{addressId}/unit")

    async def delete_address_unit(self, address_id: int, id: str) -> AdvancedConfirmation:
        """Delete one unit of an address (asynchronously).

        Raises:
            ValueError: an empty id.
        """
        path = f"/address/{int(address_id)}/unit/{_segment(id, 'id')}"
        data = await self._request("DELETE", path)
        return one(data, AdvancedConfirmation.from_api, "DELETE /address/{addressId}/unit/{id}")

    async def address_reservations(self, address_id: int) -> list[Reservation]:
        """The guest reservations of an address."""
        data = await self._request("GET", f"/address/{int(address_id)}/reservation")
        return parse_list(data, Reservation.from_api, "reservation")

    async def issue_reservation(self, address_id: int, id: str) -> None:
        """Issue the guests' authorizations for a reservation now.

        Raises:
            ValueError: an empty id.
        """
        path = f"/address/{int(address_id)}/reservation/{_segment(id, 'id')}/issue"
        await self._request("POST", path)

    async def revoke_reservation(self, address_id: int, id: str) -> None:
        """Revoke the guests' authorizations of a reservation.

        Raises:
            ValueError: an empty id.
        """
        path = f"/address/{int(address_id)}/reservation/{_segment(id, 'id')}/revoke"
        await self._request("POST", path)

    async def update_reservation_access_times(
        self,
        address_id: int,
        id: str,
        *,
        check_in_time: int | None = None,
        check_out_time: int | None = None,
    ) -> None:
        """Set a reservation's own check-in/check-out times (minutes from midnight).

        Raises:
            ValueError: an empty id, no time, or a time outside 0..1439.
        """
        body: dict[str, Any] = {}
        for key, minutes in (("checkInTime", check_in_time), ("checkOutTime", check_out_time)):
            if minutes is None:
                continue
            if not 0 <= minutes < MINUTES_PER_DAY:
                msg = f"{key} counts minutes from midnight (0..1439), got {minutes}"
                raise ValueError(msg)
            body[key] = minutes
        if not body:
            msg = "give check_in_time, check_out_time or both"
            raise ValueError(msg)
        path = f"/address/{int(address_id)}/reservation/{_segment(id, 'id')}/update/accesstimes"
        await self._request("POST", path, json_body=body)

    async def address_tokens(self, address_id: int) -> list[AddressToken]:
        """The invitation tokens of an address."""
        data = await self._request("GET", f"/address/{int(address_id)}/token")
        return parse_list(data, AddressToken.from_api, "address token")

    async def address_token_info(self, id: str) -> AddressTokenInfo:
        """What an invitation token grants (address and device names).

        Raises:
            ValueError: an empty token id.
        """
        data = await self._request("GET", f"/address/token/{_segment(id, 'id')}")
        return one(data, AddressTokenInfo.from_api, "GET /address/token/{id}")

    async def redeemed_address_token(self, id: str) -> AddressToken:
        """An invitation token as redeemed by this account.

        Raises:
            ValueError: an empty token id.
        """
        data = await self._request("GET", f"/address/token/{_segment(id, 'id')}/redeem")
        return one(data, AddressToken.from_api, "GET /address/token/{id}/redeem")

    async def redeem_address_token(self, id: str, *, email: bool | None = None) -> None:
        """Redeem an invitation token for this account (``email=False``: send no e-mail).

        Raises:
            ValueError: an empty token id.
        """
        await self._request(
            "POST", f"/address/token/{_segment(id, 'id')}/redeem", params={"email": email}
        )
