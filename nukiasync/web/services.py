"""Partner services (tag Service): list them, link, sync and unlink one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nukiasync._parse import parse_list
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web._core import WebApiCore
from nukiasync.web._results import one
from nukiasync.web.models.service import Service

if TYPE_CHECKING:
    from collections.abc import Sequence


def _service_id(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value:
        msg = "service_id must be a non-empty name such as 'airbnb'"
        raise ValueError(msg)
    return value.strip()


class ServicesMixin(WebApiCore):
    """Operations of the Service tag."""

    async def services(self, *, service_ids: Sequence[str] | None = None) -> list[Service]:
        """The partner services, optionally only some (e.g. ``["airbnb", "smoobu"]``)."""
        params = {"serviceIds": None if service_ids is None else list(service_ids)}
        data = await self._request("GET", "/service", params=params)
        return parse_list(data, Service.from_api, "service")

    async def service(self, service_id: str) -> Service:
        """One partner service.

        Raises:
            ValueError: an empty service id.
        """
        data = await self._request("GET", f"/service/{_service_id(service_id)}")
        return one(data, Service.from_api, "GET /service/{serviceId}")

    async def link_service(self, service_id: str) -> str:
        """Start linking a partner service; returns what Nuki answers (the link to follow).

        Raises:
            ValueError: an empty service id.
        """
        path = f"/service/{_service_id(service_id)}/link"
        data = await self._request("POST", path)
        if not isinstance(data, str):
            msg = "The Nuki Web API answered POST /service/{serviceId}/link without a string"
            raise NukiInvalidResponseError(msg, status=200)
        return data

    async def sync_service(self, service_id: str) -> None:
        """Fetch a linked service's bookings now.

        Raises:
            ValueError: an empty service id.
        """
        await self._request("POST", f"/service/{_service_id(service_id)}/sync")

    async def unlink_service(self, service_id: str) -> None:
        """Unlink a partner service.

        Raises:
            ValueError: an empty service id.
        """
        await self._request("POST", f"/service/{_service_id(service_id)}/unlink")
