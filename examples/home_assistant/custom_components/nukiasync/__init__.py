"""nukiasync in Home Assistant: lock state the moment the bridge reports it, then who did it.

The intended integration in a few lines each: Home Assistant's shared ``httpx`` client is
borrowed for the Web API, bridge callbacks arrive on a Home Assistant webhook and go to
``hub.handle_callback``, lock entities ``subscribe`` to the hub, and every attribution is
fired on the bus as ``nukiasync_attributed``. There is no ``CallbackServer`` here: the webhook
is the callback endpoint, and the hub is given its URL (``callback_url``), so it registers it
with the bridge, re-registers it after a reboot and reports when callbacks stop coming.
With the ``log_push`` option (Advanced API accounts), a second, internet-facing webhook takes
Nuki's signed log pushes and hands them to ``hub.handle_webhook``.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers.httpx_client import get_async_client
from homeassistant.helpers.network import NoURLAvailableError

from nukiasync import (
    ActionAttributed,
    AttributionUnavailable,
    NukiBridgeAuthenticationError,
    NukiBridgeClient,
    NukiError,
    NukiHub,
    NukiWebClient,
    event_to_dict,
)

from .const import (
    CONF_ADVERTISE_URL,
    CONF_BRIDGE_ID,
    CONF_BRIDGE_TOKEN,
    CONF_LOG_PUSH,
    CONF_WEB_API_URL,
    CONF_WEB_TOKEN,
    CONF_WEBHOOK_ID,
    DOMAIN,
    EVENT_ATTRIBUTED,
    EVENT_UNAVAILABLE,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant

    from nukiasync import BridgeDevice, NukiEvent
    from nukiasync.web import DecentralWebhook

_LOGGER = logging.getLogger(__name__)

PLATFORMS = [Platform.LOCK]


@dataclass
class NukiData:
    """What one config entry (one bridge and its Web API account) runs."""

    hub: NukiHub
    bridge: NukiBridgeClient
    web: NukiWebClient
    devices: list[BridgeDevice]
    bridge_key: str  # the hub's name for the bridge, given to handle_callback
    webhook_url: str
    log_push: DecentralWebhook | None = None  # registered with Nuki's cloud, removed on unload


NukiConfigEntry = ConfigEntry[NukiData]


async def async_setup_entry(hass: HomeAssistant, entry: NukiConfigEntry) -> bool:
    """Start the hub, hook the bridge's callbacks to a webhook, set up the lock entities."""
    data = entry.data
    bridge_key = str(data[CONF_BRIDGE_ID])
    url = _webhook_url(hass, entry)
    # Borrowed: Home Assistant owns this client; the Web client never closes or changes it.
    web_client = NukiWebClient(
        data[CONF_WEB_TOKEN], client=get_async_client(hass), base_url=data[CONF_WEB_API_URL]
    )
    # The bridge client owns its transport: its tokens travel in the query (decision 0004).
    bridge = NukiBridgeClient(
        data[CONF_HOST], data[CONF_BRIDGE_TOKEN], port=data[CONF_PORT], bridge_id=bridge_key
    )
    try:
        devices = await bridge.devices()
    except NukiBridgeAuthenticationError as err:
        await bridge.close()
        msg = "the bridge refused its token; pair again"
        raise ConfigEntryAuthFailed(msg) from err
    except NukiError as err:
        await bridge.close()
        msg = f"bridge {data[CONF_HOST]} unreachable: {type(err).__name__}"
        raise ConfigEntryNotReady(msg) from err
    push = None
    if entry.options.get(CONF_LOG_PUSH):
        try:
            push = await _register_log_push(web_client, _log_push_url(hass, entry))
        except NukiError as err:
            await bridge.close()
            msg = f"Nuki's cloud refused the log push webhook: {type(err).__name__}"
            raise ConfigEntryNotReady(msg) from err
    hub = NukiHub(
        web=web_client,
        bridge=bridge,
        callback_url=url,
        webhook_secret=None if push is None else push.secret,
    )
    runtime = NukiData(hub, bridge, web_client, devices, bridge_key, url, push)
    if push is not None:
        webhook.async_register(
            hass,
            DOMAIN,
            f"Nuki log push {bridge_key}",
            _log_push_id(entry),
            _make_push_handler(runtime),
            local_only=False,  # Nuki's cloud posts it; the signature proves who sent it
            allowed_methods=["POST"],
        )
    webhook.async_register(
        hass,
        DOMAIN,
        f"Nuki bridge {bridge_key}",
        data[CONF_WEBHOOK_ID],
        _make_handler(runtime),
        local_only=True,  # the bridge is on the LAN; Nabu Casa's cloud relay is refused
        allowed_methods=["POST"],
    )
    try:
        await hub.start()  # registers the webhook's URL with the bridge
    except (NukiError, ValueError) as err:
        await _shutdown(hass, entry, runtime)
        if isinstance(err, ValueError):  # https, or too long: no retry will help
            msg = f"the bridge cannot post to this URL: {err}"
            raise ConfigEntryError(msg) from err
        msg = f"could not start: {type(err).__name__}"
        raise ConfigEntryNotReady(msg) from err
    entry.runtime_data = runtime
    entry.async_on_unload(hub.subscribe(_bus_forwarder(hass), types=_BUS_EVENTS))
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: NukiConfigEntry) -> bool:
    """Remove the entities, then the callback, the webhook and the hub."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    await _shutdown(hass, entry, entry.runtime_data)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: NukiConfigEntry) -> None:
    """A new ``advertise_url`` means a new callback URL: start over."""
    await hass.config_entries.async_reload(entry.entry_id)


# The webhook


def _make_handler(
    runtime: NukiData,
) -> Callable[[HomeAssistant, str, web.Request], Awaitable[web.Response]]:
    async def handle(_hass: HomeAssistant, _webhook_id: str, request: web.Request) -> web.Response:
        if runtime.hub.state != "running":
            return web.Response(status=503)  # starting or stopping: the bridge posts again
        # The hub reads no body it would refuse: compressed (415) or too large (413).
        return await runtime.hub.handle_request(request, bridge_id=runtime.bridge_key)

    return handle


def _make_push_handler(
    runtime: NukiData,
) -> Callable[[HomeAssistant, str, web.Request], Awaitable[web.Response]]:
    async def handle(_hass: HomeAssistant, _webhook_id: str, request: web.Request) -> web.Response:
        if runtime.hub.state != "running":
            return web.Response(status=503)
        # The hub checks the signature over the raw body and drops entries it already has.
        return await runtime.hub.handle_webhook(request)

    return handle


def _log_push_id(entry: NukiConfigEntry) -> str:
    return f"{entry.data[CONF_WEBHOOK_ID]}_log_push"


def _log_push_url(hass: HomeAssistant, entry: NukiConfigEntry) -> str:
    """Where Nuki's cloud can post: Home Assistant's external URL.

    (Home Assistant Cloud users would get a cloudhook instead: ``cloud.async_create_cloudhook``;
    left out of this example, whose tests run without the cloud component.)
    """
    try:
        return webhook.async_generate_url(hass, _log_push_id(entry), allow_internal=False)
    except NoURLAvailableError as err:
        msg = "log push needs an external URL that Nuki's cloud can reach"
        raise ConfigEntryError(msg) from err


async def _register_log_push(web_client: NukiWebClient, url: str) -> DecentralWebhook:
    """Register with Nuki's cloud, first removing one left at this URL by a crash."""
    for old in await web_client.decentral_webhooks():
        if old.webhook_url == url and old.id is not None:
            await web_client.delete_decentral_webhook(old.id)
    push = await web_client.register_decentral_webhook(
        webhook_url=url, webhook_features=["DEVICE_LOGS"]
    )
    if not push.secret:
        msg = "Nuki's cloud sent no webhook secret"
        raise NukiError(msg)
    return push


def _webhook_url(hass: HomeAssistant, entry: NukiConfigEntry) -> str:
    """The URL the bridge posts to: the ``advertise_url`` option, else HA's internal URL."""
    path = webhook.async_generate_path(entry.data[CONF_WEBHOOK_ID])
    base = entry.options.get(CONF_ADVERTISE_URL)
    if base:
        return str(base).rstrip("/") + path
    try:
        # The bridge speaks http on the LAN: never the external (cloud, https) URL.
        return webhook.async_generate_url(
            hass,
            entry.data[CONF_WEBHOOK_ID],
            allow_external=False,
            allow_ip=True,
            prefer_external=False,
        )
    except NoURLAvailableError as err:
        msg = "no local URL for the bridge to call: set Home Assistant's local network URL"
        raise ConfigEntryError(msg) from err


async def _shutdown(hass: HomeAssistant, entry: NukiConfigEntry, runtime: NukiData) -> None:
    """Stop listening, close the hub (it removes its registration), then the clients."""
    webhook.async_unregister(hass, entry.data[CONF_WEBHOOK_ID])
    if runtime.log_push is not None:
        webhook.async_unregister(hass, _log_push_id(entry))
        if runtime.log_push.id is not None:
            with contextlib.suppress(NukiError):  # the next setup removes it (same URL)
                await runtime.web.delete_decentral_webhook(runtime.log_push.id)
    await runtime.hub.close()
    await runtime.bridge.close()
    await runtime.web.close()  # borrowed client: stays open for the rest of Home Assistant


# The bus

_BUS_EVENTS = (ActionAttributed, AttributionUnavailable)


def _bus_forwarder(hass: HomeAssistant) -> Callable[[NukiEvent], None]:
    """Fire each attribution answer on Home Assistant's bus (a sync hub subscriber)."""

    def forward(event: NukiEvent) -> None:
        name = EVENT_ATTRIBUTED if isinstance(event, ActionAttributed) else EVENT_UNAVAILABLE
        hass.bus.async_fire(name, event_to_dict(event))

    return forward
