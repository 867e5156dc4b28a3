"""The config flow against the simulator: discover the bridge, press its button, give a token."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from custom_components.nukiasync.const import (
    CONF_ADVERTISE_URL,
    CONF_BRIDGE_TOKEN,
    CONF_LOG_PUSH,
    CONF_WEB_API_URL,
    CONF_WEB_TOKEN,
    DOMAIN,
)
from ha_support import BRIDGE_TOKEN, DEADLINE, WEB_TOKEN, entry_for, wait_for_state
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.network import NoURLAvailableError

if TYPE_CHECKING:
    import pytest
    from homeassistant.core import HomeAssistant

    from nukiasync.simulator import Knobs, World


async def _start(hass: HomeAssistant, world: World) -> dict:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEB_API_URL: world.web_url}
    )


async def _press(hass: HomeAssistant, world: World, flow_id: str) -> dict:
    await world.wait_until(lambda: world.bridge.busy, deadline=DEADLINE)  # /auth is held open
    world.bridge.press_button()
    await hass.async_block_till_done()  # the pairing task ends; the flow moves on by itself
    return await hass.config_entries.flow.async_configure(flow_id)


async def test_discover_pair_and_set_up(hass: HomeAssistant, world: World, ha_url: str) -> None:
    # The bridge reaches Home Assistant at its internal URL (no advertise_url option).
    await async_process_ha_core_config(hass, {"internal_url": ha_url})
    result = await _start(hass, world)
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "press_button"

    result = await _press(hass, world, result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "web"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEB_TOKEN: WEB_TOKEN}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == str(world.bridge.bridge_id)
    assert entry.data[CONF_BRIDGE_TOKEN] == BRIDGE_TOKEN  # what /auth handed out
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # The entry works end to end through the webhook at Home Assistant's internal URL.
    assert [url.startswith(ha_url + "/api/webhook/") for _, url in world.bridge.callbacks] == [True]
    await world.person("Alice").unlock("Front door", via="app")
    state = await wait_for_state(hass, "lock.front_door", lambda s: s and s.state == "unlocked")
    assert state.state == "unlocked"
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert world.bridge.callbacks == []


async def test_the_same_bridge_twice_aborts(hass: HomeAssistant, world: World) -> None:
    entry_for(world, advertise_url=None).add_to_hass(hass)
    result = await _start(hass, world)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_no_bridge_with_its_api_on_aborts(hass: HomeAssistant, world: World) -> None:
    world.bridge.http_api = False  # discovery lists it as 0.0.0.0:0
    result = await _start(hass, world)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_bridges"


async def test_button_not_pressed_then_retry(
    hass: HomeAssistant, world: World, knobs: Knobs
) -> None:
    knobs.auth_window = 0.3  # the bridge gives up before anyone presses
    result = await _start(hass, world)
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pair_failed"
    assert result["description_placeholders"] == {"reason": "button not pressed"}

    knobs.auth_window = 5.0
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    result = await _press(hass, world, result["flow_id"])
    assert result["step_id"] == "web"


async def test_wrong_web_token_is_refused(hass: HomeAssistant, world: World, ha_url: str) -> None:
    await async_process_ha_core_config(hass, {"internal_url": ha_url})
    result = await _press(hass, world, (await _start(hass, world))["flow_id"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEB_TOKEN: "wrongWebTokenNotKnownToTheWorld"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEB_TOKEN: WEB_TOKEN}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_no_url_for_the_bridge_is_a_clear_error(
    hass: HomeAssistant, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    entry = entry_for(world, advertise_url=None)
    entry.add_to_hass(hass)
    with patch("homeassistant.components.webhook.get_url", side_effect=NoURLAvailableError):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "local network URL" in caplog.text
    assert world.bridge.callbacks == []  # nothing registered, nothing left running


async def test_https_url_is_refused_before_the_bridge_sees_it(
    hass: HomeAssistant, world: World
) -> None:
    entry = entry_for(world, advertise_url="https://127.0.0.1:8123")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert world.bridge.callbacks == []


async def test_options_set_the_callback_url_and_log_push(hass: HomeAssistant, world: World) -> None:
    entry = entry_for(world, advertise_url=None)
    entry.add_to_hass(hass)
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert flow["type"] is FlowResultType.FORM
    done = await hass.config_entries.options.async_configure(
        flow["flow_id"], {CONF_ADVERTISE_URL: " http://192.0.2.7:8123 ", CONF_LOG_PUSH: True}
    )
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_ADVERTISE_URL: "http://192.0.2.7:8123", CONF_LOG_PUSH: True}
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    done = await hass.config_entries.options.async_configure(
        flow["flow_id"], {CONF_ADVERTISE_URL: "", CONF_LOG_PUSH: False}
    )
    assert entry.options == {}  # both off: Home Assistant's internal URL, no push
