"""Constants and helpers shared by the Home Assistant tests (a module, not a package)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from custom_components.nukiasync.const import (
    CONF_ADVERTISE_URL,
    CONF_BRIDGE_ID,
    CONF_BRIDGE_TOKEN,
    CONF_WEB_API_URL,
    CONF_WEB_TOKEN,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import Event, HomeAssistant

    from nukiasync.simulator import World

# Distinctive fake secrets: the tests look for them where they must never be.
BRIDGE_TOKEN = "brTok9Xq2"
WEB_TOKEN = "webTok7Lm4Zp0Qs8Vb1Nc5Xe3Rt6Yu2Io9Pa"
WEBHOOK_ID = "whk3c5e7a9b1d2f4e6a8c0b2d4f6e8a0c2e4a6b8"
SECRETS = (BRIDGE_TOKEN, WEB_TOKEN, WEBHOOK_ID)
DEADLINE = 10.0  # seconds for any awaited condition; attribution takes about 2 s


def entry_for(world: World, *, advertise_url: str | None) -> MockConfigEntry:
    bridge = world.bridge
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Nuki bridge {bridge.bridge_id}",
        unique_id=str(bridge.bridge_id),
        data={
            CONF_BRIDGE_ID: bridge.bridge_id,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: bridge.port,
            CONF_BRIDGE_TOKEN: BRIDGE_TOKEN,
            CONF_WEB_TOKEN: WEB_TOKEN,
            CONF_WEB_API_URL: world.web_url,
            CONF_WEBHOOK_ID: WEBHOOK_ID,
        },
        options={} if advertise_url is None else {CONF_ADVERTISE_URL: advertise_url},
    )


async def wait_for_state(hass: HomeAssistant, entity_id: str, check: Callable[[Any], bool]) -> Any:
    """Wait (no polling, no sleep) until the entity's state satisfies ``check``."""
    done = asyncio.Event()

    @callback  # run in the event loop, not in an executor thread
    def changed(event: Event[Any]) -> None:
        if event.data["entity_id"] == entity_id and check(event.data["new_state"]):
            done.set()

    unsubscribe = hass.bus.async_listen("state_changed", changed)
    try:
        if not check(hass.states.get(entity_id)):
            async with asyncio.timeout(DEADLINE):
                await done.wait()
    finally:
        unsubscribe()
    return hass.states.get(entity_id)
