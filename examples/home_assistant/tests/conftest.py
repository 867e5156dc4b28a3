"""A simulated Nuki world on loopback, and Home Assistant's web server on a real socket.

The simulated bridge posts its callbacks over real HTTP to Home Assistant's webhook, so the
tests run Home Assistant's app on an aiohttp test server bound to 127.0.0.1 and tell the
integration that URL (the ``advertise_url`` option, or Home Assistant's internal URL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from blockbuster import blockbuster_ctx
from custom_components.nukiasync.const import DOMAIN
from ha_support import BRIDGE_TOKEN, WEB_TOKEN, entry_for
from homeassistant.config_entries import ConfigEntryState
from homeassistant.setup import async_setup_component

from nukiasync.simulator import Knobs, World

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from homeassistant.core import HomeAssistant


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/nukiasync."""


@pytest.fixture
def knobs() -> Knobs:
    return Knobs(
        log_lag=0.2,
        motor_time=0.05,
        unlatch_hold=0.2,
        web_action_delay=0.0,
        auth_window=5.0,
        callback_timeout=1.0,
    )


@pytest.fixture
async def world(socket_enabled: None, knobs: Knobs) -> AsyncIterator[World]:
    w = World(seed=4, knobs=knobs, bridge_token=BRIDGE_TOKEN, web_token=WEB_TOKEN, owner="Alice")
    w.add_lock("Front door", nuki_id=0x1A2B3C4D, door_sensor=True, keypad=True)
    w.add_opener("Entrance", nuki_id=0x1E5FE23A)
    w.add_person("Alice", email="alice@example.invalid", app=["Front door", "Entrance"])
    w.add_person("Bob", email="bob@example.invalid", app=["Front door"])
    async with w:
        yield w


@pytest.fixture
async def ha_url(hass: HomeAssistant, hass_client_no_auth: Any) -> str:
    """Home Assistant's app (webhook and diagnostics set up) listening on 127.0.0.1."""
    # Components that add routes come first: the test server freezes the router.
    assert await async_setup_component(hass, "webhook", {})
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client_no_auth()
    return str(client.make_url("")).rstrip("/")


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, world: World, ha_url: str) -> Any:
    """The integration set up against the world (unloaded by the fixture below)."""
    entry = entry_for(world, advertise_url=ha_url)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture(autouse=True)
async def unload_before_the_world_closes(hass: HomeAssistant, world: World) -> AsyncIterator[None]:
    """Unload every entry while the bridge still answers, so none waits on a dead bridge."""
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture(autouse=True)
def no_blocking_on_the_loop(hass: HomeAssistant) -> Iterator[None]:
    """Fail a test whose code blocks the event loop (file I/O, time.sleep, blocking sockets).

    Only calls made from nukiasync or the integration count: Home Assistant's own start-up
    checks its files on the loop in tests. The test log's stream handler may write.
    """
    with blockbuster_ctx(["nukiasync", "custom_components"]) as blockbuster:
        blockbuster.functions["io.TextIOWrapper.write"].can_block_in(
            "logging/__init__.py", {"emit"}
        )
        yield
