"""Devices (tag Smartlock): list, read, rename, configure, sync and operate them.

Actions answer 204 when Nuki has *accepted* them, not when the device has moved; follow the
state or the log for the outcome. Like every write they are sent exactly once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from nukiasync._parse import parse_list
from nukiasync.const import DeviceType, WebLockAction, WebOpenerAction
from nukiasync.web._actions import action_body
from nukiasync.web._core import WebApiCore
from nukiasync.web._results import one
from nukiasync.web.models._read_only import REQUIRED
from nukiasync.web.models.smartlock import ActionOption, Smartlock, WebConfig
from nukiasync.web.models.smartlock_update import (
    OpenerAdvancedConfigUpdate,
    SmartdoorAdvancedConfigUpdate,
    SmartlockAdvancedConfigUpdate,
    SmartlockConfigUpdate,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


_LOGGER = logging.getLogger(__name__)


class _Update(Protocol):
    def to_api(self) -> dict[str, Any]: ...


# Per settings endpoint: spec definition, the Smartlock attribute holding the current
# settings, and the update class that copies them (``from_config``).
_BLOCKS: dict[str, tuple[str, str, Any]] = {
    "config": ("Smartlock.Config", "config", SmartlockConfigUpdate),
    "advanced/config": (
        "Smartlock.AdvancedConfig",
        "advanced_config",
        SmartlockAdvancedConfigUpdate,
    ),
    "advanced/openerconfig": (
        "Smartlock.OpenerAdvancedConfig",
        "opener_advanced_config",
        OpenerAdvancedConfigUpdate,
    ),
    "advanced/smartdoorconfig": (
        "Smartlock.SmartdoorAdvancedConfig",
        "smartdoor_advanced_config",
        SmartdoorAdvancedConfigUpdate,
    ),
}


def _body_or_raise(body: dict[str, Any], what: str) -> dict[str, Any]:
    if not body:
        msg = f"nothing to update: set at least one field of the {what}"
        raise ValueError(msg)
    return body


class SmartlocksMixin(WebApiCore):
    """Operations of the Smartlock tag."""

    async def smartlocks(
        self, *, auth_id: int | None = None, device_type: DeviceType | int | None = None
    ) -> list[Smartlock]:
        """Every device of the account, optionally only those of one auth or type."""
        params = {
            "authId": auth_id,
            "type": None if device_type is None else int(device_type),
        }
        data = await self._request("GET", "/smartlock", params=params)
        return parse_list(data, Smartlock.from_api, "smartlock")

    async def smartlock(self, smartlock_id: int) -> Smartlock:
        """One device, with its state and configuration."""
        data = await self._request("GET", f"/smartlock/{int(smartlock_id)}")
        return one(data, Smartlock.from_api, "GET /smartlock/{smartlockId}")

    async def update_smartlock(
        self, smartlock_id: int, *, name: str | None = None, favorite: bool | None = None
    ) -> None:
        """Rename a device or change its favorite flag.

        Raises:
            ValueError: neither ``name`` nor ``favorite`` given.
        """
        body = {
            key: value
            for key, value in (("name", name), ("favorite", favorite))
            if value is not None
        }
        await self._request(
            "POST", f"/smartlock/{int(smartlock_id)}", json_body=_body_or_raise(body, "smartlock")
        )

    async def delete_smartlock(self, smartlock_id: int) -> None:
        """Remove a device from the account."""
        await self._request("DELETE", f"/smartlock/{int(smartlock_id)}")

    async def action(
        self,
        smartlock_id: int,
        action: WebLockAction | WebOpenerAction,
        *,
        full_lock: bool = False,
        force: bool = False,
        option: ActionOption | int | None = None,
    ) -> None:
        """Send an action in the Web API's numbering; never retried.

        ``WebLockAction`` for locks, ``WebOpenerAction`` for Openers (continuous mode is 6/7
        here, 4/5 on the Bridge). Full lock is ``WebLockAction.LOCK`` with ``full_lock=True``
        (option 4); ``force`` sets option 2. ``option`` takes the raw mask instead.

        Raises:
            NukiInvalidActionError: a Bridge `LockAction`/`OpenerAction`, a bare number,
                UNKNOWN, an undefined option bit, or full lock on another action (also a
                ValueError); nothing is sent.
        """
        body = action_body(action, full_lock=full_lock, force=force, option=option)
        await self._request("POST", f"/smartlock/{int(smartlock_id)}/action", json_body=body)

    async def lock(self, smartlock_id: int) -> None:
        """Lock a Smart Lock (``/action/lock``)."""
        await self._request("POST", f"/smartlock/{int(smartlock_id)}/action/lock")

    async def unlock(self, smartlock_id: int) -> None:
        """Unlock a Smart Lock (``/action/unlock``)."""
        await self._request("POST", f"/smartlock/{int(smartlock_id)}/action/unlock")

    async def full_lock(self, smartlock_id: int) -> None:
        """Lock with two turns: the lock action with option 4, as the Web API models it."""
        await self.action(smartlock_id, WebLockAction.LOCK, full_lock=True)

    async def unlatch(self, smartlock_id: int) -> None:
        """Unlock and pull the latch, i.e. open the door."""
        await self.action(smartlock_id, WebLockAction.UNLATCH)

    async def lock_n_go(self, smartlock_id: int) -> None:
        """Unlock now and lock again after the lock 'n' go timeout."""
        await self.action(smartlock_id, WebLockAction.LOCK_N_GO)

    async def lock_n_go_unlatch(self, smartlock_id: int) -> None:
        """Lock 'n' go with unlatching first."""
        await self.action(smartlock_id, WebLockAction.LOCK_N_GO_UNLATCH)

    async def update_admin_pin(self, smartlock_id: int, admin_pin: int) -> None:
        """Tell Nuki Web the device's admin PIN (security code), so it can manage the device.

        Raises:
            ValueError: the PIN is negative.
        """
        if admin_pin < 0:
            msg = "admin_pin must not be negative"
            raise ValueError(msg)
        await self._request(
            "POST", f"/smartlock/{int(smartlock_id)}/admin/pin", json_body={"adminPin": admin_pin}
        )

    async def update_config(self, smartlock_id: int, config: SmartlockConfigUpdate) -> None:
        """Change settings stored on the device (name, LED, button, position, ...).

        Unset fields keep their current values. The spec requires some settings in every
        body (name, position, time zone, ...): if one is unset, the device is read first
        and the body completed from it. The same holds for the three advanced updates.

        Raises:
            ValueError: no field of ``config`` is set.
        """
        await self._send_settings(smartlock_id, "config", config, "config")

    async def update_advanced_config(
        self, smartlock_id: int, config: SmartlockAdvancedConfigUpdate
    ) -> None:
        """Change a Smart Lock's advanced settings (auto lock, calibration, buttons).

        Raises:
            ValueError: no field of ``config`` is set.
        """
        await self._send_settings(smartlock_id, "advanced/config", config, "advanced config")

    async def update_opener_advanced_config(
        self, smartlock_id: int, config: OpenerAdvancedConfigUpdate
    ) -> None:
        """Change an Opener's advanced settings (intercom, timings, sounds).

        Raises:
            ValueError: no field of ``config`` is set.
        """
        await self._send_settings(
            smartlock_id, "advanced/openerconfig", config, "opener advanced config"
        )

    async def update_smartdoor_advanced_config(
        self, smartlock_id: int, config: SmartdoorAdvancedConfigUpdate
    ) -> None:
        """Change a Smart Door's advanced settings.

        Raises:
            ValueError: no field of ``config`` is set.
        """
        await self._send_settings(
            smartlock_id, "advanced/smartdoorconfig", config, "smartdoor advanced config"
        )

    async def _send_settings(
        self, smartlock_id: int, suffix: str, update: _Update, what: str
    ) -> None:
        """POST a settings block, completed from the device's current settings if needed.

        The spec makes some settings of each block required (the Web API reads the body as
        the whole block); when the caller left one unset, the device is read once and every
        unset field is copied from its current settings, so only what was asked changes.
        """
        definition, attribute, update_class = _BLOCKS[suffix]
        body = _body_or_raise(update.to_api(), what)
        if not REQUIRED[definition] <= body.keys():
            current = getattr(await self.smartlock(smartlock_id), attribute)
            if current is None:
                _LOGGER.debug("No current %s to complete the update from", what)
            else:
                body = {**update_class.from_config(current).to_api(), **body}
        path = f"/smartlock/{int(smartlock_id)}/{suffix}"
        await self._request("POST", path, json_body=body)

    async def sync_smartlock(self, smartlock_id: int) -> None:
        """Ask Nuki to sync the device now (app-side changes otherwise wait up to a day)."""
        await self._request("POST", f"/smartlock/{int(smartlock_id)}/sync")

    async def update_web_config(
        self,
        smartlock_id: int,
        *,
        battery_warning_per_mail_enabled: bool | None = None,
        dismissed_lift_up_handle_warning: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        """Change Nuki Web's own settings for a device (an empty list clears the dismissals).

        Raises:
            ValueError: no setting given.
        """
        config = WebConfig(
            battery_warning_per_mail_enabled=battery_warning_per_mail_enabled,
            dismissed_lift_up_handle_warning=(
                None
                if dismissed_lift_up_handle_warning is None
                else tuple(dismissed_lift_up_handle_warning)
            ),
        )
        body = _body_or_raise(config.to_api(), "web config")
        await self._request("POST", f"/smartlock/{int(smartlock_id)}/web/config", json_body=body)

    async def update_web_configs(self, web_configs: Mapping[int, WebConfig]) -> None:
        """Change Nuki Web's settings of several devices at once (smartlockId -> settings).

        Raises:
            ValueError: no device given.
        """
        if not web_configs:
            msg = "web_configs must name at least one smartlock"
            raise ValueError(msg)
        body = {
            "webConfigRequests": [
                {"smartlockId": int(smartlock_id), "webConfig": config.to_api()}
                for smartlock_id, config in web_configs.items()
            ]
        }
        await self._request("POST", "/bulk-web-config", json_body=body)
