"""The set-up integration against the simulator, callbacks over real sockets to the webhook."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from custom_components.nukiasync.const import (
    CONF_ADVERTISE_URL,
    CONF_LOG_PUSH,
    EVENT_ATTRIBUTED,
    EVENT_UNAVAILABLE,
)
from ha_support import SECRETS, WEBHOOK_ID, entry_for, wait_for_state
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_LOCK
from multidict import CIMultiDict
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import pytest
    from homeassistant.core import HomeAssistant, State

    from nukiasync.simulator import World

OUR_LOGGERS = ("nukiasync", "custom_components.nukiasync")
FRONT = "lock.front_door"
ENTRANCE = "lock.entrance"


def _unlocked(state: State | None) -> bool:
    return state is not None and state.state == "unlocked"


def _attributed(state: State | None) -> bool:
    return state is not None and state.attributes.get("attribution") == "attributed"


async def test_entities_follow_callbacks_and_name_who(
    hass: HomeAssistant, world: World, loaded_entry: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    attributed = async_capture_events(hass, EVENT_ATTRIBUTED)
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ENTRANCE).state == "locked"  # an Opener with ring to open off

    await world.person("Alice").unlock("Front door", via="app")
    # State at once, from the callback: nobody is named until the log says who.
    state = await wait_for_state(hass, FRONT, _unlocked)
    assert state.attributes.get("changed_by") is None
    # Then the Web API log names Alice, on the entity and on the bus.
    state = await wait_for_state(hass, FRONT, _attributed)
    assert state.state == "unlocked"
    assert state.attributes["changed_by"] == "Alice"
    assert state.attributes["auth_type"] == "app"
    assert state.attributes["how"] == "app"
    assert len(attributed) == 1
    data = attributed[0].data
    assert data["actor"]["name"] == "Alice"
    assert data["device_name"] == "Front door"
    assert data["action_name"] == "unlock"

    # Bob locks: the state changes at once and Alice's name goes with the old state.
    await world.person("Bob").lock("Front door", via="app")
    state = await wait_for_state(hass, FRONT, lambda s: s is not None and s.state == "locked")
    assert state.attributes.get("changed_by") is None
    assert state.attributes["attribution"] == "pending"
    state = await wait_for_state(hass, FRONT, _attributed)
    assert state.attributes["changed_by"] == "Bob"
    assert [e.data["actor"]["name"] for e in attributed] == ["Alice", "Bob"]

    # Secrets never reach our log lines or an event. (Home Assistant itself logs webhook
    # paths: its access log and "Serving /api/webhook/...", at INFO and DEBUG.)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(OUR_LOGGERS)]
    assert ours  # the hub and the bridge client did log, at DEBUG
    text = "\n".join(ours) + json.dumps([e.data for e in attributed])
    assert [s for s in SECRETS if s in text] == []


async def test_lock_service_goes_through_the_bridge(
    hass: HomeAssistant, world: World, loaded_entry: Any
) -> None:
    await world.person("Alice").unlock("Front door", via="app")
    await wait_for_state(hass, FRONT, _unlocked)
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: FRONT}, blocking=True
    )
    state = await wait_for_state(hass, FRONT, lambda s: s is not None and s.state == "locked")
    assert state.state == "locked"
    # The lock action came from the bridge's own authorization.
    state = await wait_for_state(hass, FRONT, _attributed)
    assert state.attributes["auth_type"] == "bridge"
    assert state.attributes["how"] == "bridge"


async def test_no_answer_is_said_on_the_entity_and_the_bus(
    hass: HomeAssistant, world: World, loaded_entry: Any
) -> None:
    unavailable = async_capture_events(hass, EVENT_UNAVAILABLE)
    await world.person("Alice").unlock("Front door", via="app")
    state = await wait_for_state(hass, FRONT, _unlocked)
    assert state.attributes["attribution"] == "pending"
    # The hub stops before its first log read (2 s): the pending change gets its answer,
    # "unavailable", rather than silence or a stale name.
    await loaded_entry.runtime_data.hub.close()
    state = hass.states.get(FRONT)
    assert state.attributes["attribution"] == "unavailable: hub_closed"
    assert state.attributes.get("changed_by") is None
    assert [e.data["reason"] for e in unavailable] == ["hub_closed"]
    assert unavailable[0].data["device_name"] == "Front door"


async def test_webhook_refuses_compressed_and_foreign_bodies(
    hass: HomeAssistant, loaded_entry: Any, hass_client_no_auth: Any
) -> None:
    client = await hass_client_no_auth()
    url = f"/api/webhook/{WEBHOOK_ID}"
    gzip = await client.post(url, data=b"\x1f\x8b", headers={"Content-Encoding": "gzip"})
    assert gzip.status == 415
    two = CIMultiDict([("Content-Encoding", "identity"), ("Content-Encoding", "gzip")])
    assert (await client.post(url, data=b"\x1f\x8b", headers=two)).status == 415
    big = await client.post(url, data=b"{" + b" " * 5000 + b"}")
    assert big.status == 413
    bad = await client.post(url, data=b"not json")
    assert bad.status == 400


async def test_webhook_reads_a_body_sent_in_pieces(
    hass: HomeAssistant, world: World, loaded_entry: Any, hass_client_no_auth: Any
) -> None:
    body = json.dumps(
        {"nukiId": 0x1A2B3C4D, "deviceType": 4, "mode": 2, "state": 3, "stateName": "unlocked"}
    ).encode()

    async def pieces() -> AsyncIterator[bytes]:
        yield body[:20]
        yield body[20:]

    client = await hass_client_no_auth()
    response = await client.post(f"/api/webhook/{WEBHOOK_ID}", data=pieces())
    assert response.status == 200
    # State at once from the callback; then the bridge's /list, read in the background,
    # contradicts this made-up claim and the entity is corrected (decision 0001).
    assert (await wait_for_state(hass, FRONT, _unlocked)).state == "unlocked"
    state = await wait_for_state(hass, FRONT, lambda s: s is not None and s.state == "locked")
    assert state.attributes["attribution"] == "none"


async def test_diagnostics_are_redacted(
    hass: HomeAssistant, world: World, loaded_entry: Any, hass_client: Any
) -> None:
    await world.person("Alice").unlock("Front door", via="app")
    await wait_for_state(hass, FRONT, _unlocked)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    text = json.dumps(diagnostics)
    assert [s for s in SECRETS if s in text] == []
    assert diagnostics["entry"]["data"]["bridge_token"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["web_token"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["webhook_id"] == "**REDACTED**"
    hub = diagnostics["hub"]
    assert hub["state"] == "running"
    assert hub["counters"]["emitted"] >= 1
    assert {d["name"] for d in hub["devices"]} == {"Front door", "Entrance"}


async def test_unload_cleans_up(
    hass: HomeAssistant, world: World, loaded_entry: Any, hass_client_no_auth: Any
) -> None:
    runtime = loaded_entry.runtime_data
    assert len(world.bridge.callbacks) == 1
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert world.bridge.callbacks == []  # the bridge no longer posts to us
    assert WEBHOOK_ID not in hass.data.get("webhook", {})
    assert runtime.hub.state == "closed"
    # A late POST finds no webhook: Home Assistant answers 200 and nothing runs.
    client = await hass_client_no_auth()
    assert (await client.post(f"/api/webhook/{WEBHOOK_ID}", data=b"{}")).status == 200


async def test_new_advertise_url_replaces_the_old_registration(
    hass: HomeAssistant, world: World, loaded_entry: Any
) -> None:
    (old,) = (url for _, url in world.bridge.callbacks)
    new_base = "http://127.0.0.2:8123"
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_ADVERTISE_URL: new_base})
    await hass.async_block_till_done()  # the update listener reloads the entry
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert [url for _, url in world.bridge.callbacks] == [new_base + old[old.index("/api") :]]
    assert loaded_entry.runtime_data.webhook_url.startswith(new_base)


async def test_log_push_names_who_through_a_second_webhook(
    hass: HomeAssistant, world: World, ha_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # Nuki's cloud posts to Home Assistant's external URL; here the test server on loopback.
    await hass.config.async_update(external_url=ha_url)
    push_url = f"{ha_url}/api/webhook/{WEBHOOK_ID}_log_push"
    stale = world.web.hooks.register(push_url, ["DEVICE_LOGS"])  # left by a crash
    entry = entry_for(world, advertise_url=ha_url)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={CONF_ADVERTISE_URL: ha_url, CONF_LOG_PUSH: True}
    )
    attributed = async_capture_events(hass, EVENT_ATTRIBUTED)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    (push,) = world.web.hooks.registrations.values()
    assert push.id != stale.id
    assert push.url == push_url
    assert push.features == ("DEVICE_LOGS",)

    await world.person("Alice").unlock("Front door", via="app")
    state = await wait_for_state(hass, FRONT, _attributed)
    assert state.attributes["changed_by"] == "Alice"
    assert [e.data["source"] for e in attributed] == ["webhook"]  # pushed, not read
    assert entry.runtime_data.hub.diagnostics()["sources"]["webhook"]["fed"] >= 1

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert world.web.hooks.registrations == {}
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(OUR_LOGGERS))
    assert push.secret not in ours
    assert f"{WEBHOOK_ID}_log_push" not in hass.data.get("webhook", {})
