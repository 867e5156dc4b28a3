"""NukiBridgeClient: every endpoint of the Bridge HTTP API 1.13.3, one at a time.

What each endpoint sends and returns lives here; how a request reaches the bridge (one at a
time, spaced, retried only when that is safe) lives in `BridgeSession`.
"""

from __future__ import annotations

import logging
from typing import Any

from nukiasync._parse import parse_list
from nukiasync._redact import origin_of
from nukiasync.bridge._session import BridgeSession
from nukiasync.bridge.callback_urls import (
    MAX_CALLBACKS,
    callback_marker,
    check_callback_url,
    check_marker,
    is_ours,
)
from nukiasync.bridge.models import (
    BridgeCallbackEntry,
    BridgeDevice,
    BridgeDeviceState,
    BridgeInfo,
    BridgeLogEntry,
    LockActionResult,
)
from nukiasync.const import DeviceType, LockAction, OpenerAction, WebLockAction, WebOpenerAction
from nukiasync.errors import NukiCallbackSlotsFullError, NukiInvalidActionError

_LOGGER = logging.getLogger(__name__)

Action = LockAction | OpenerAction | int


class NukiBridgeClient(BridgeSession):
    """Client of one Nuki Bridge's local HTTP API.

    It owns its HTTP transport and takes no borrowed ``httpx.AsyncClient``: the bridge
    expects its credentials in the query string, and httpx's client logs every request
    URL at INFO and shows it in its errors. So the client builds ``httpx.Request``
    objects, sends them through its own ``httpx.AsyncHTTPTransport`` and logs a redacted
    line of its own (docs/decisions/0004-secrets.md).

    Construction does no I/O; use ``async with`` or call :meth:`close`.
    """

    def __repr__(self) -> str:
        return (
            f"NukiBridgeClient(host={self._host!r}, port={self._port}, "
            f"token_mode={self._token_mode!r}, bridge_id={self._bridge_id!r})"
        )

    @property
    def host(self) -> str:
        """The bridge's address."""
        return self._host

    @property
    def port(self) -> int:
        """The bridge's HTTP API port."""
        return self._port

    @property
    def bridge_id(self) -> str | None:
        """The bridge id given at construction, used in the callback marker."""
        return self._bridge_id

    # Reads

    async def devices(self) -> list[BridgeDevice]:
        """Return the paired devices with their cached state (``/list``, cheap)."""
        data = await self._get("/list")
        return self._parse("/list", lambda: parse_list(data, BridgeDevice.from_api, "device"))

    async def info(self) -> BridgeInfo:
        """Return the bridge's versions, ids and the devices in range (``/info``)."""
        data = await self._get("/info")
        return self._parse("/info", lambda: BridgeInfo.from_api(data))

    async def lock_state(self, nuki_id: int, device_type: DeviceType | int) -> BridgeDeviceState:
        """Ask the device over BLE (``/lockState``); it drains batteries, do not poll.

        Raises:
            NukiNotFoundError: unknown ``nuki_id``, or an Opener sent without its type.
            NukiBridgeError: the bridge could not reach the device (``success: false``).
        """
        params = _device_params(nuki_id, device_type)
        data = await self._get("/lockState", params)
        return self._parse("/lockState", lambda: BridgeDeviceState.from_api(data, device_type))

    async def callbacks(self) -> list[BridgeCallbackEntry]:
        """Return the registered callbacks (``/callback/list``)."""
        data = await self._get("/callback/list")
        return self._parse(
            "/callback/list",
            lambda: parse_list(data["callbacks"], BridgeCallbackEntry.from_api, "callback"),
        )

    async def log(self, *, offset: int = 0, count: int = 100) -> list[BridgeLogEntry]:
        """Return the bridge's debug log (``/log``, hardware bridges only)."""
        if offset < 0 or count < 1:
            msg = "offset must be >= 0 and count >= 1"
            raise ValueError(msg)
        data = await self._get("/log", {"offset": offset, "count": count})
        return self._parse("/log", lambda: parse_list(data, BridgeLogEntry.from_api, "log entry"))

    # Lock actions: never re-sent after an ambiguous failure

    async def lock_action(
        self,
        nuki_id: int,
        action: Action,
        *,
        device_type: DeviceType | int,
        nowait: bool = False,
    ) -> LockActionResult:
        """Send a lock action (``/lockAction``); ``nowait`` answers before it completes.

        Raises:
            ValueError: the action does not fit the device type.
            NukiBridgeError: the device reported failure (``success: false``).
            NukiTimeoutError: no answer in time; the action may or may not have run.
        """
        params = _device_params(nuki_id, device_type)
        params["action"] = _check_action(action, device_type)
        params["nowait"] = int(nowait)
        data = await self._send("/lockAction", params)
        return self._parse("/lockAction", lambda: LockActionResult.from_api(data))

    async def lock(self, nuki_id: int, *, device_type: DeviceType | int) -> LockActionResult:
        """Send the simple "lock" action (``/lock``); the device picks what it means."""
        data = await self._send("/lock", _device_params(nuki_id, device_type))
        return self._parse("/lock", lambda: LockActionResult.from_api(data))

    async def unlock(self, nuki_id: int, *, device_type: DeviceType | int) -> LockActionResult:
        """Send the simple "unlock" (``/unlock``): a knob lock or an Opener *opens*."""
        data = await self._send("/unlock", _device_params(nuki_id, device_type))
        return self._parse("/unlock", lambda: LockActionResult.from_api(data))

    # Other writes

    async def unpair(self, nuki_id: int, *, device_type: DeviceType | int) -> None:
        """Remove the pairing with a device (``/unpair``, hardware bridges only)."""
        await self._send("/unpair", _device_params(nuki_id, device_type))

    async def config_auth(self, enable: bool) -> None:
        """Enable or disable ``/auth`` pairing and discovery (``/configAuth``)."""
        await self._send("/configAuth", {"enable": int(enable)})

    async def add_callback(self, url: str) -> None:
        """Register a callback URL (``/callback/add``); prefer :meth:`ensure_callback`.

        Raises:
            ValueError: the URL is not ``http://`` or longer than 254 characters.
        """
        check_callback_url(url)
        await self._send("/callback/add", {"url": url})

    async def remove_callback(self, id: int) -> None:
        """Remove a callback by its id (``/callback/remove``)."""
        await self._send("/callback/remove", {"id": id})

    async def clear_log(self) -> None:
        """Clear the bridge's debug log (``/clearlog``)."""
        await self._send("/clearlog", expect_json=False)

    async def fw_update(
        self,
        *,
        scope: int = 0,
        nuki_id: int | None = None,
        device_type: DeviceType | int | None = None,
    ) -> None:
        """Check for and install firmware now (``/fwupdate``).

        ``scope``: 0 the bridge and all devices, 1 the bridge, 2 the devices only.
        """
        if scope not in (0, 1, 2):
            msg = f"scope must be 0, 1 or 2, got {scope!r}"
            raise ValueError(msg)
        params: dict[str, Any] = {"scope": scope}
        if nuki_id is not None:
            params.update(_device_params(nuki_id, device_type or DeviceType.SMARTLOCK))
        await self._send("/fwupdate", params, expect_json=False)

    async def reboot(self) -> None:
        """Reboot the bridge (``/reboot``)."""
        await self._send("/reboot", expect_json=False)

    async def factory_reset(self) -> None:
        """Reset the bridge to factory settings (``/factoryReset``); irreversible."""
        await self._send("/factoryReset", expect_json=False)

    # Callback registration

    async def ensure_callback(self, url: str, *, marker: str | None = None) -> bool:
        """Register ``url`` once, replacing our own stale registrations; True if added.

        Entries whose URL path starts with ``marker`` are ours (default
        ``/nukiasync/<bridge_id>/``, see :func:`callback_marker`); other tools' entries
        are never removed.

        Raises:
            ValueError: the URL is not ``http://`` or longer than 254 characters.
            NukiCallbackSlotsFullError: all slots belong to other tools.
        """
        check_callback_url(url)
        mark = check_marker(marker if marker is not None else callback_marker(self._bridge_id))
        entries = await self.callbacks()
        keep = next((entry for entry in entries if entry.url == url), None)
        stale = [e for e in entries if e is not keep and (e.url == url or is_ours(e.url, mark))]
        for entry in stale:
            _LOGGER.debug("%s: removing our stale callback #%s", self._log_name, entry.id)
            await self.remove_callback(entry.id)
        if keep is not None:
            return False
        others = [e for e in entries if e not in stale]
        if len(others) >= MAX_CALLBACKS:
            occupied = tuple(origin_of(entry.url) for entry in others)
            msg = (
                f"All {MAX_CALLBACKS} callback slots of {self._log_name} belong to "
                f"other tools ({', '.join(occupied)}); free one for nukiasync"
            )
            raise NukiCallbackSlotsFullError(msg, occupied=occupied)
        await self.add_callback(url)
        _LOGGER.info("%s: callback registered at %s", self._log_name, origin_of(url))
        return True

    async def remove_callback_url(self, url: str) -> int:
        """Remove every registration of ``url`` (for shutdown); return how many."""
        removed = 0
        for entry in await self.callbacks():
            if entry.url == url:
                await self.remove_callback(entry.id)
                removed += 1
        return removed

    # Internals


def _device_params(nuki_id: int, device_type: DeviceType | int) -> dict[str, Any]:
    """Return ``nukiId`` and ``deviceType``; always sent (Openers get 404 without)."""
    code = int(device_type)
    if code < 0 or not 0 <= nuki_id <= 0xFFFFFFFF:
        msg = "nuki_id must be a 32-bit unsigned integer and device_type a known type"
        raise ValueError(msg)
    return {"nukiId": nuki_id, "deviceType": code}


def _check_action(action: Action, device_type: DeviceType | int) -> int:
    """Refuse an action enum of the other device family or of the Web API (other meanings)."""
    if isinstance(action, WebLockAction | WebOpenerAction):
        msg = (
            f"{action!r} is a Web API action; the Bridge numbers differ: use "
            f"{'OpenerAction' if isinstance(action, WebOpenerAction) else 'LockAction'}"
        )
        raise NukiInvalidActionError(msg)
    is_opener = int(device_type) == DeviceType.OPENER
    if (isinstance(action, LockAction) and is_opener) or (
        isinstance(action, OpenerAction) and not is_opener
    ):
        msg = f"{action!r} does not fit device type {int(device_type)}"
        raise ValueError(msg)
    code = int(action)
    if not 1 <= code <= 255:
        msg = f"action must be a known lock action, got {action!r}"
        raise ValueError(msg)
    return code
