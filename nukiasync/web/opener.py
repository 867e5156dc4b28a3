"""Intercom catalogue (tag Opener): which intercoms an Opener supports and how to wire them."""

from __future__ import annotations

from nukiasync._parse import parse_list
from nukiasync.web._core import WebApiCore
from nukiasync.web._results import one
from nukiasync.web.models.opener import OpenerBrand, OpenerIntercom


class OpenerMixin(WebApiCore):
    """Operations of the Opener tag."""

    async def opener_brands(self) -> list[OpenerBrand]:
        """Every intercom brand Nuki knows."""
        data = await self._request("GET", "/opener/brand")
        return parse_list(data, OpenerBrand.from_api, "intercom brand")

    async def opener_brand(self, brand_id: int) -> OpenerBrand:
        """One intercom brand."""
        data = await self._request("GET", f"/opener/brand/{int(brand_id)}")
        return one(data, OpenerBrand.from_api, "GET /opener/brand/{brandId}")

    async def opener_intercoms(
        self,
        *,
        brand_id: int | None = None,
        ignore_verified: bool | None = None,
        recently_changed: bool | None = None,
    ) -> list[OpenerIntercom]:
        """Intercom models of a brand, or those changed recently.

        Raises:
            ValueError: neither ``brand_id`` nor ``recently_changed`` given (Nuki needs one).
        """
        if brand_id is None and not recently_changed:
            msg = "give brand_id, or recently_changed=True"
            raise ValueError(msg)
        params = {
            "brandId": brand_id,
            "ignoreVerified": ignore_verified,
            "recentlyChanged": recently_changed,
        }
        data = await self._request("GET", "/opener/intercom", params=params)
        return parse_list(data, OpenerIntercom.from_api, "intercom model")

    async def opener_intercom(self, intercom_id: int) -> OpenerIntercom:
        """One intercom model with its wiring."""
        data = await self._request("GET", f"/opener/intercom/{int(intercom_id)}")
        return one(data, OpenerIntercom.from_api, "GET /opener/intercom/{intercomId}")
