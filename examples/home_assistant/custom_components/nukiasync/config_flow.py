"""Set up a bridge: discover it, press its button for a token, then give a Web API token.

``user`` asks for the Web API's URL (Nuki's by default; a test or the simulator passes its
own) and discovers the bridges there; ``bridge`` picks one when there are several; ``pair``
waits for the button while ``request_token`` holds the bridge's ``/auth`` open (a progress
step, so Home Assistant's UI shows "press the button" meanwhile); ``web`` checks the Web API
token, which is what tells who did it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers.httpx_client import get_async_client

from nukiasync import (
    NukiAuthenticationError,
    NukiError,
    NukiPairingError,
    NukiWebClient,
    discover_bridges,
    request_token,
)
from nukiasync.const import DEFAULT_WEB_URL

from .const import (
    CONF_ADVERTISE_URL,
    CONF_BRIDGE_ID,
    CONF_BRIDGE_TOKEN,
    CONF_LOG_PUSH,
    CONF_WEB_API_URL,
    CONF_WEB_TOKEN,
    CONF_WEBHOOK_ID,
    DOMAIN,
)

if TYPE_CHECKING:
    import asyncio

    from homeassistant.config_entries import ConfigEntry

    from nukiasync import DiscoveredBridge

CONF_BRIDGE = "bridge"


class NukiConfigFlow(ConfigFlow, domain=DOMAIN):
    """Discover, pair, authorise."""

    VERSION = 1

    def __init__(self) -> None:
        self._web_api_url = DEFAULT_WEB_URL
        self._bridges: dict[str, DiscoveredBridge] = {}
        self._bridge: DiscoveredBridge | None = None
        self._bridge_token: str | None = None
        self._pairing: asyncio.Task[str] | None = None
        self._pairing_error: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> NukiOptionsFlow:  # noqa: ARG004
        """The options: where the bridge reaches Home Assistant, and log push."""
        return NukiOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Discover the bridges Nuki's cloud knows on this network."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._web_api_url = user_input[CONF_WEB_API_URL]
            try:
                found = await discover_bridges(
                    base_url=self._web_api_url, client=get_async_client(self.hass)
                )
            except NukiError:
                errors["base"] = "cannot_connect"
            else:
                self._bridges = {str(b.bridge_id): b for b in found if b.api_enabled}
                if not self._bridges:
                    return self.async_abort(reason="no_bridges")
                if len(self._bridges) == 1:
                    return await self._async_use(next(iter(self._bridges.values())))
                return await self.async_step_bridge()
        schema = vol.Schema({vol.Required(CONF_WEB_API_URL, default=self._web_api_url): str})
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_bridge(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose one of several bridges."""
        if user_input is not None:
            return await self._async_use(self._bridges[user_input[CONF_BRIDGE]])
        choices = {key: f"{b.ip}:{b.port} (id {key})" for key, b in self._bridges.items()}
        schema = vol.Schema({vol.Required(CONF_BRIDGE): vol.In(choices)})
        return self.async_show_form(step_id="bridge", data_schema=schema)

    async def async_step_pair(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:  # noqa: ARG002
        """Hold ``/auth`` open until someone presses the bridge's button (30 s)."""
        bridge = self._bridge
        assert bridge is not None  # noqa: S101 - set by _async_use
        assert bridge.host is not None  # noqa: S101 - api_enabled was checked
        if self._pairing is None:
            self._pairing = self.hass.async_create_task(
                request_token(bridge.host, bridge.port), "nukiasync pairing"
            )
        if not self._pairing.done():
            return self.async_show_progress(
                step_id="pair", progress_action="press_button", progress_task=self._pairing
            )
        pairing, self._pairing = self._pairing, None
        try:
            self._bridge_token = pairing.result()
        except NukiPairingError as err:
            self._pairing_error = err.reason or "button not pressed"
            return self.async_show_progress_done(next_step_id="pair_failed")
        except NukiError:
            self._pairing_error = "cannot connect"
            return self.async_show_progress_done(next_step_id="pair_failed")
        return self.async_show_progress_done(next_step_id="web")

    async def async_step_pair_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Say why pairing failed; submitting tries again."""
        if user_input is not None:
            return await self.async_step_pair()
        return self.async_show_form(
            step_id="pair_failed",
            description_placeholders={"reason": self._pairing_error or ""},
        )

    async def async_step_web(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Check the Web API token: it reads the activity log that names who did it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            client = NukiWebClient(
                user_input[CONF_WEB_TOKEN],
                client=get_async_client(self.hass),
                base_url=self._web_api_url,
            )
            try:
                await client.smartlocks()
            except NukiAuthenticationError:
                errors["base"] = "invalid_auth"
            except NukiError:
                errors["base"] = "cannot_connect"
            else:
                return self._async_finish(user_input[CONF_WEB_TOKEN])
            finally:
                await client.close()  # borrowed: a no-op for Home Assistant's client
        schema = vol.Schema({vol.Required(CONF_WEB_TOKEN): str})
        return self.async_show_form(step_id="web", data_schema=schema, errors=errors)

    async def _async_use(self, bridge: DiscoveredBridge) -> ConfigFlowResult:
        await self.async_set_unique_id(str(bridge.bridge_id))
        self._abort_if_unique_id_configured()
        self._bridge = bridge
        return await self.async_step_pair()

    @callback
    def _async_finish(self, web_token: str) -> ConfigFlowResult:
        bridge = self._bridge
        assert bridge is not None  # noqa: S101 - set by _async_use
        return self.async_create_entry(
            title=f"Nuki bridge {bridge.bridge_id}",
            data={
                CONF_BRIDGE_ID: bridge.bridge_id,
                CONF_HOST: bridge.host,
                CONF_PORT: bridge.port,
                CONF_BRIDGE_TOKEN: self._bridge_token,
                CONF_WEB_TOKEN: web_token,
                CONF_WEB_API_URL: self._web_api_url,
                # Unguessable; it is the callback path's secret.
                CONF_WEBHOOK_ID: webhook.async_generate_id(),
            },
        )


class NukiOptionsFlow(OptionsFlow):
    """Where the bridge reaches Home Assistant, and whether Nuki's cloud pushes log entries."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for ``advertise_url`` (empty: Home Assistant's internal URL) and ``log_push``."""
        if user_input is not None:
            url = user_input.get(CONF_ADVERTISE_URL, "").strip()
            options: dict[str, Any] = {CONF_ADVERTISE_URL: url} if url else {}
            if user_input.get(CONF_LOG_PUSH):
                options[CONF_LOG_PUSH] = True
            return self.async_create_entry(data=options)
        current = self.config_entry.options.get(CONF_ADVERTISE_URL, "")
        push = bool(self.config_entry.options.get(CONF_LOG_PUSH, False))
        schema = vol.Schema(
            {
                vol.Optional(CONF_ADVERTISE_URL, description={"suggested_value": current}): str,
                vol.Optional(CONF_LOG_PUSH, default=push): bool,
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)
