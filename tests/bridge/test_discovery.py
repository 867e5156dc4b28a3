"""discover_bridges: the discovery endpoint's shape, errors, client rules, and the simulator."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from nukiasync.bridge import NukiBridgeClient
from nukiasync.bridge import discovery as discovery_module
from nukiasync.bridge.discovery import DiscoveredBridge, discover_bridges
from nukiasync.errors import (
    NukiConnectionError,
    NukiInvalidResponseError,
    NukiRateLimitError,
    NukiResponseError,
    NukiServerError,
    NukiTimeoutError,
)
from tests.support import canary
from tests.support.paths import load_fixture
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import World

pytestmark = pytest.mark.sockets

BASE = "https://discovery.nuki.test"  # respx answers; nothing is sent anywhere
SAMPLE = load_fixture("bridge/discover_go-nukibridgeapi.json")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def test_from_api_reads_the_sample() -> None:
    bridge = DiscoveredBridge.from_api(SAMPLE["bridges"][0])
    assert bridge == DiscoveredBridge(
        bridge_id=448942400,
        ip="192.168.1.50",
        port=8080,
        date_updated=datetime(2020, 10, 24, 17, 47, 13, tzinfo=UTC),
    )
    assert bridge.api_enabled
    assert bridge.host == "192.168.1.50"
    assert bridge.raw == SAMPLE["bridges"][0]
    assert "raw" not in repr(bridge)


OFF = "0.0.0.0"  # noqa: S104 - Nuki's "HTTP API off" marker, nothing binds to it


@pytest.mark.parametrize(("ip", "port"), [(OFF, 0), (OFF, 8080), ("10.0.0.2", 0)])
def test_http_api_disabled(ip: str, port: int) -> None:
    bridge = DiscoveredBridge.from_api({"bridgeId": 1, "ip": ip, "port": port})
    assert not bridge.api_enabled
    assert bridge.host is None
    assert bridge.date_updated is None


@pytest.mark.parametrize(
    "item",
    [{"ip": "1.2.3.4"}, {"bridgeId": "7"}, {"bridgeId": True}, {"bridgeId": 1, "port": "80"}],
)
def test_from_api_refuses_bad_items(item: dict[str, Any]) -> None:
    with pytest.raises((KeyError, ValueError)):
        DiscoveredBridge.from_api(item)


async def test_borrowed_client_is_used_per_request_and_left_alone(
    http: httpx.AsyncClient,
) -> None:
    before = (str(http.base_url), dict(http.headers), dict(http.event_hooks), http.timeout)
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/discover/bridges").respond(200, json=SAMPLE)
        bridges = await discover_bridges(base_url=BASE + "/", client=http, timeout=3.5)
    assert [b.bridge_id for b in bridges] == [448942400]
    assert not http.is_closed
    assert (str(http.base_url), dict(http.headers), dict(http.event_hooks), http.timeout) == before
    sent = route.calls.last.request
    assert sent.headers["Accept"] == "application/json"
    assert "authorization" not in sent.headers
    assert sent.extensions["timeout"]["read"] == 3.5


async def test_owned_client_builds_tls_off_the_loop_and_closes(monkeypatch) -> None:
    threads: list[int] = []
    clients: list[httpx.AsyncClient] = []
    real_context = discovery_module.ssl.create_default_context
    real_client = discovery_module.httpx.AsyncClient

    def spy_context(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real_context(*args, **kwargs)

    def spy_client(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        clients.append(real_client(*args, **kwargs))
        return clients[-1]

    monkeypatch.setattr(discovery_module.ssl, "create_default_context", spy_context)
    monkeypatch.setattr(discovery_module.httpx, "AsyncClient", spy_client)
    # The default base URL is Nuki's; respx answers, so nothing leaves this host.
    with respx.mock(base_url="https://api.nuki.io", assert_all_called=True) as router:
        router.get("/discover/bridges").respond(200, json={"bridges": [], "errorCode": 0})
        assert await discover_bridges() == []
    assert threads
    assert threading.get_ident() not in threads
    assert len(clients) == 1
    assert clients[0].is_closed


@pytest.mark.parametrize(
    ("response", "error", "text"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}), NukiRateLimitError, "429"),
        (httpx.Response(503, text="<html>down</html>"), NukiServerError, "503"),
        (httpx.Response(404), NukiResponseError, "404"),
        (httpx.Response(200, text="not json"), NukiInvalidResponseError, "not JSON"),
        (httpx.Response(200, json=[1]), NukiInvalidResponseError, "list, not an object"),
        (httpx.Response(200, json={"errorCode": 3}), NukiResponseError, "errorCode 3"),
    ],
)
async def test_error_mapping(
    http: httpx.AsyncClient, response: httpx.Response, error: type[Exception], text: str
) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/discover/bridges").mock(return_value=response)
        with pytest.raises(error, match=text) as info:
            await discover_bridges(base_url=BASE, client=http)
    if isinstance(info.value, NukiRateLimitError):
        assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("2", 2.0), ("soon", None), ("-1", None), ("inf", None)]
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert discovery_module._retry_after(value) == expected


@pytest.mark.parametrize(
    ("side_effect", "error"),
    [(httpx.ConnectTimeout("slow"), NukiTimeoutError), (httpx.ConnectError("no"), None)],
)
async def test_transport_failures(
    http: httpx.AsyncClient, side_effect: Exception, error: type[Exception] | None
) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/discover/bridges").mock(side_effect=side_effect)
        with pytest.raises(error or NukiConnectionError, match="discovery service") as info:
            await discover_bridges(base_url=BASE, client=http)
    assert isinstance(info.value, NukiConnectionError)
    assert isinstance(info.value.__cause__, httpx.TransportError)


async def test_unreadable_items_are_skipped(http: httpx.AsyncClient, caplog) -> None:
    body = {"bridges": [{"ip": "x"}, "junk", SAMPLE["bridges"][0]], "errorCode": 0}
    with respx.mock(base_url=BASE) as router:
        router.get("/discover/bridges").respond(200, json=body)
        with caplog.at_level(logging.WARNING):
            bridges = await discover_bridges(base_url=BASE, client=http)
    assert [b.bridge_id for b in bridges] == [448942400]
    assert sum("discovered bridge" in r.getMessage() for r in caplog.records) == 2


# Against the simulator: discover, then talk to what was found.


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = make_world()
    w.add_bridge("Garage", token=canary.register("garageToken42"))
    w.add_lock("Garage door", nuki_id=0x3C4D5E6F, bridge="Garage")
    async with w:
        yield w


async def test_discovery_on_the_simulator(world: World) -> None:
    bridges = await discover_bridges(base_url=world.web_url)
    by_id = {b.bridge_id: b for b in bridges}
    assert set(by_id) == {world.bridge.bridge_id, world.bridges["Garage"].bridge_id}
    for bridge in world.bridges.values():
        found = by_id[bridge.bridge_id]
        assert (found.ip, found.port, found.api_enabled) == ("127.0.0.1", bridge.port, True)
        assert found.date_updated is not None
        host = found.host
        assert host is not None
        async with NukiBridgeClient(host, bridge.token, port=found.port) as client:
            names = {d.name for d in await client.devices()}
        assert names == {d.name for d in bridge.devices}
    assert "Garage door" in {d.name for d in world.bridges["Garage"].devices}
    assert "Garage door" not in {d.name for d in world.bridge.devices}


async def test_discovery_shows_a_disabled_http_api(world: World, http: httpx.AsyncClient) -> None:
    world.bridges["Garage"].http_api = False
    bridges = await discover_bridges(base_url=world.web_url, client=http)
    garage = next(b for b in bridges if b.bridge_id == world.bridges["Garage"].bridge_id)
    assert (garage.ip, garage.port, garage.api_enabled) == (OFF, 0, False)
    response = await http.get(world.bridges["Garage"].url + "/list")
    assert response.status_code == 403
    world.knobs.fail_web(status=502)
    with pytest.raises(NukiServerError):
        await discover_bridges(base_url=world.web_url, client=http)
