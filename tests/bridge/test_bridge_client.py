"""NukiBridgeClient: request shapes, errors, retries, discipline, a real stand-in."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from nacl.secret import SecretBox

from nukiasync.bridge import (
    BridgeCallbackEntry,
    BridgeDevice,
    BridgeDeviceState,
    BridgeInfo,
    BridgeLogEntry,
    LockActionResult,
    NukiBridgeClient,
    callback_marker,
    is_ours,
    request_token,
)
from nukiasync.bridge import _session as client_module
from nukiasync.bridge._http import build_url
from nukiasync.bridge.callback_urls import check_callback_url, check_marker
from nukiasync.bridge.token import auth_params
from nukiasync.const import DeviceType, LockAction, OpenerAction, OpenerState
from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBadRequestError,
    NukiBridgeAuthenticationError,
    NukiBridgeBusyError,
    NukiBridgeError,
    NukiCallbackSlotsFullError,
    NukiConnectionError,
    NukiInvalidResponseError,
    NukiNotFoundError,
    NukiPairingError,
    NukiResponseError,
    NukiServerError,
    NukiTimeoutError,
)
from tests.support import canary
from tests.support.bridge_standin import BridgeStandIn
from tests.support.paths import load_fixture

TOKEN = canary.BRIDGE_TOKEN
HOST = "127.0.0.1"  # respx answers; nothing is ever sent elsewhere
BASE = f"http://{HOST}:8080"
LOCK_ID = 527875674  # in list_go-nukibridgeapi.json
OPENER_ID = 519611324
SECRET_PATH = canary.register("pathsecret-7f3a9c1d")
OUR_URL = f"http://127.0.0.1:9999/nukiasync/br1/{SECRET_PATH}"


class FakeTime:
    """Monotonic clock and sleep that only move when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def bridge(fake_time: FakeTime) -> AsyncIterator[NukiBridgeClient]:
    client = NukiBridgeClient(
        HOST, TOKEN, token_mode="plain", clock=fake_time.clock, sleep=fake_time.sleep
    )
    async with client:
        yield client


@pytest.fixture
def mock() -> respx.MockRouter:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def _sent(route: respx.Route, index: int = -1) -> dict[str, str]:
    return dict(route.calls[index].request.url.params)


def _without_auth(params: dict[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in params.items()
        if k not in {"token", "ctoken", "nonce", "ts", "rnr", "hash"}
    }


# Construction, lifecycle, repr


async def test_construction_does_no_io_and_repr_hides_the_token(
    mock: respx.MockRouter,
) -> None:
    client = NukiBridgeClient(HOST, TOKEN, bridge_id=448942400)
    assert client._transport is None
    assert TOKEN not in repr(client)
    assert repr(client) == (
        "NukiBridgeClient(host='127.0.0.1', port=8080, token_mode='encrypted', "
        "bridge_id='448942400')"
    )
    assert (client.host, client.port, client.bridge_id) == (HOST, 8080, "448942400")
    await client.close()
    assert not mock.calls


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"host": ""}, "host"),
        ({"token": ""}, "token"),
        ({"min_spacing": -1}, "min_spacing"),
        ({"timeout": 0}, "timeout"),
        ({"port": 0}, "port"),
        ({"token_mode": "clear"}, "token_mode"),
    ],
)
def test_construction_validates(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"host": HOST, "token": TOKEN, **kwargs}
    with pytest.raises(ValueError, match=match):
        NukiBridgeClient(**args)


async def test_closed_client_refuses_use(mock: respx.MockRouter) -> None:
    mock.get("/list").respond(json=[])
    client = NukiBridgeClient(HOST, TOKEN, min_spacing=0)
    async with client as entered:
        assert entered is client
        assert await client.devices() == []
    with pytest.raises(RuntimeError, match="client closed"):
        await client.devices()
    with pytest.raises(RuntimeError, match="client closed"):
        await client.__aenter__()
    await client.close()


def test_build_url_brackets_ipv6() -> None:
    assert build_url("::1", 8080) == "http://[::1]:8080"
    assert build_url("[::1]", 80) == "http://[::1]:80"
    with pytest.raises(ValueError, match="port"):
        build_url(HOST, 70000)


# Request shapes, every endpoint

Call = Callable[[NukiBridgeClient], Coroutine[Any, Any, Any]]

ENDPOINTS: list[tuple[str, Call, str, dict[str, str], Any, Any]] = [
    (
        "list",
        lambda b: b.devices(),
        "/list",
        {},
        load_fixture("bridge/list_go-nukibridgeapi.json"),
        list,
    ),
    (
        "info",
        lambda b: b.info(),
        "/info",
        {},
        load_fixture("bridge/info_go-nukibridgeapi.json"),
        BridgeInfo,
    ),
    (
        "lockState",
        lambda b: b.lock_state(OPENER_ID, DeviceType.OPENER),
        "/lockState",
        {"nukiId": str(OPENER_ID), "deviceType": "2"},
        load_fixture("bridge/lockstate_doc-1.13.3.json"),
        BridgeDeviceState,
    ),
    (
        "lockAction",
        lambda b: b.lock_action(
            OPENER_ID,
            OpenerAction.ELECTRIC_STRIKE_ACTUATION,
            device_type=DeviceType.OPENER,
            nowait=True,
        ),
        "/lockAction",
        {"nukiId": str(OPENER_ID), "deviceType": "2", "action": "3", "nowait": "1"},
        load_fixture("bridge/lockaction_doc-1.13.3.json"),
        LockActionResult,
    ),
    (
        "lockAction-int",
        lambda b: b.lock_action(1, 2, device_type=0),
        "/lockAction",
        {"nukiId": "1", "deviceType": "0", "action": "2", "nowait": "0"},
        {"success": True},
        LockActionResult,
    ),
    (
        "lock",
        lambda b: b.lock(LOCK_ID, device_type=DeviceType.SMARTLOCK_3),
        "/lock",
        {"nukiId": str(LOCK_ID), "deviceType": "4"},
        {"success": True, "batteryCritical": False},
        LockActionResult,
    ),
    (
        "unlock",
        lambda b: b.unlock(OPENER_ID, device_type=DeviceType.OPENER),
        "/unlock",
        {"nukiId": str(OPENER_ID), "deviceType": "2"},
        {"success": True, "batteryCritical": True},
        LockActionResult,
    ),
    (
        "unpair",
        lambda b: b.unpair(LOCK_ID, device_type=0),
        "/unpair",
        {"nukiId": str(LOCK_ID), "deviceType": "0"},
        {"success": True},
        type(None),
    ),
    (
        "configAuth",
        lambda b: b.config_auth(False),
        "/configAuth",
        {"enable": "0"},
        {"success": True},
        type(None),
    ),
    (
        "callback/add",
        lambda b: b.add_callback(OUR_URL),
        "/callback/add",
        {"url": OUR_URL},
        {"success": True},
        type(None),
    ),
    (
        "callback/list",
        lambda b: b.callbacks(),
        "/callback/list",
        {},
        load_fixture("bridge/callback_list_doc-1.13.3.json"),
        list,
    ),
    (
        "callback/remove",
        lambda b: b.remove_callback(2),
        "/callback/remove",
        {"id": "2"},
        {"success": True},
        type(None),
    ),
    (
        "log",
        lambda b: b.log(offset=5, count=20),
        "/log",
        {"offset": "5", "count": "20"},
        load_fixture("bridge/log_go-nukibridgeapi.json"),
        list,
    ),
    ("clearlog", lambda b: b.clear_log(), "/clearlog", {}, None, type(None)),
    (
        "fwupdate",
        lambda b: b.fw_update(),
        "/fwupdate",
        {"scope": "0"},
        None,
        type(None),
    ),
    (
        "fwupdate-device",
        lambda b: b.fw_update(scope=2, nuki_id=OPENER_ID, device_type=DeviceType.OPENER),
        "/fwupdate",
        {"scope": "2", "nukiId": str(OPENER_ID), "deviceType": "2"},
        None,
        type(None),
    ),
    (
        "fwupdate-default-type",
        lambda b: b.fw_update(scope=1, nuki_id=3),
        "/fwupdate",
        {"scope": "1", "nukiId": "3", "deviceType": "0"},
        None,
        type(None),
    ),
    ("reboot", lambda b: b.reboot(), "/reboot", {}, None, type(None)),
    (
        "factoryReset",
        lambda b: b.factory_reset(),
        "/factoryReset",
        {},
        None,
        type(None),
    ),
]


@pytest.mark.parametrize(
    ("call", "path", "params", "answer", "kind"),
    [e[1:] for e in ENDPOINTS],
    ids=[e[0] for e in ENDPOINTS],
)
async def test_endpoint_shapes(  # noqa: PLR0917 - pytest parameters
    bridge: NukiBridgeClient,
    mock: respx.MockRouter,
    call: Call,
    path: str,
    params: dict[str, str],
    answer: Any,
    kind: type,
) -> None:
    route = (
        mock.get(path).respond(200, json=answer)
        if answer is not None
        else mock.get(path).respond(200)
    )
    result = await call(bridge)
    assert isinstance(result, kind)
    assert route.call_count == 1
    sent = _sent(route)
    assert sent.pop("token") == TOKEN
    assert sent == params
    assert route.calls.last.request.method == "GET"


async def test_parsed_results(bridge: NukiBridgeClient, mock: respx.MockRouter) -> None:
    mock.get("/list").respond(json=load_fixture("bridge/list_go-nukibridgeapi.json"))
    mock.get("/callback/list").respond(json=load_fixture("bridge/callback_list_doc-1.13.3.json"))
    mock.get("/log").respond(json=load_fixture("bridge/log_go-nukibridgeapi.json"))
    mock.get("/lockState").respond(json={"state": 3, "mode": 2, "success": True})
    devices = await bridge.devices()
    assert all(isinstance(d, BridgeDevice) for d in devices)
    assert devices[1].device_type is DeviceType.OPENER
    callbacks = await bridge.callbacks()
    assert callbacks[1] == BridgeCallbackEntry(id=1, url="http://192.168.0.21/test")
    log = await bridge.log()
    assert isinstance(log[0], BridgeLogEntry)
    state = await bridge.lock_state(OPENER_ID, DeviceType.OPENER)
    assert state.lock_state is OpenerState.RTO_ACTIVE


async def test_maintenance_endpoints_accept_a_non_json_body(
    bridge: NukiBridgeClient, mock: respx.MockRouter
) -> None:
    mock.get("/reboot").respond(200, text="OK")
    assert await bridge.reboot() is None


@pytest.mark.parametrize("mode", ["encrypted", "hashed"])
async def test_time_based_auth_params(mock: respx.MockRouter, mode: str) -> None:
    route = mock.get("/list").respond(json=[])
    async with NukiBridgeClient(HOST, TOKEN, token_mode=mode, min_spacing=0) as client:  # type: ignore[arg-type]
        before = datetime.now(UTC).replace(microsecond=0)
        await client.devices()
        await client.devices()
    first, second = _sent(route, 0), _sent(route, 1)
    assert "token" not in first
    for params in (first, second):
        for value in params.values():
            canary.register(value)
    if mode == "encrypted":
        assert set(first) == {"ctoken", "nonce"}
        assert first["nonce"] != second["nonce"]
        box = SecretBox(hashlib.sha256(TOKEN.encode()).digest())
        plain = box.decrypt(bytes.fromhex(first["ctoken"]), bytes.fromhex(first["nonce"]))
        ts = plain.decode().split(",")[0]
    else:
        assert set(first) == {"ts", "rnr", "hash"}
        assert first["hash"] != second["hash"]
        ts = first["ts"]
    when = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= when <= datetime.now(UTC)


# Error mapping


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (400, NukiBadRequestError, "refused the parameters"),
        (403, NukiAuthenticationError, "authentication is disabled"),
        (404, NukiNotFoundError, "DeviceType.OPENER"),
        (500, NukiServerError, r"failed \(500\)"),
        (418, NukiResponseError, "answered 418"),
    ],
)
async def test_status_mapping(
    bridge: NukiBridgeClient,
    mock: respx.MockRouter,
    status: int,
    error: type,
    text: str,
) -> None:
    mock.get("/lockState").respond(status, text=f"HTTP {status}")
    with pytest.raises(error, match=text) as info:
        await bridge.lock_state(LOCK_ID, 0)
    assert info.value.status == status
    assert "GET /lockState" in str(info.value)
    assert TOKEN not in str(info.value)
    assert "nukiId" not in str(info.value)
    assert not isinstance(info.value, NukiBridgeAuthenticationError)


@pytest.mark.parametrize(
    ("mode", "clock"), [("plain", False), ("hashed", True), ("encrypted", True)]
)
async def test_401_says_what_can_be_known(mock: respx.MockRouter, mode: str, clock: bool) -> None:
    mock.get("/info").respond(401, text="HTTP 401")
    async with NukiBridgeClient(HOST, TOKEN, token_mode=mode) as client:  # type: ignore[arg-type]
        with pytest.raises(NukiBridgeAuthenticationError, match="token is wrong") as info:
            await client.info()
    assert ("more than 60 s" in str(info.value)) is clock
    assert isinstance(info.value, NukiAuthenticationError)


async def test_success_false_and_bad_bodies(
    bridge: NukiBridgeClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/lockState")
    route.respond(json={"success": False})
    with pytest.raises(NukiBridgeError, match="reported failure") as info:
        await bridge.lock_state(LOCK_ID, 0)
    assert info.value.reason is None
    mock.get("/callback/add").respond(
        json={"success": "false", "message": "too many callbacks registered"}
    )
    with pytest.raises(NukiBridgeError, match="too many callbacks") as info:
        await bridge.add_callback(OUR_URL)
    assert info.value.reason == "too many callbacks registered"
    route.respond(json={"success": "perhaps"})
    with pytest.raises(NukiInvalidResponseError, match="success flag"):
        await bridge.lock_state(LOCK_ID, 0)
    route.respond(text="<html>busy</html>")
    with pytest.raises(NukiInvalidResponseError, match="not JSON"):
        await bridge.lock_state(LOCK_ID, 0)
    mock.get("/list").respond(json={"not": "a list"})
    with pytest.raises(NukiInvalidResponseError, match="list of device"):
        await bridge.devices()
    mock.get("/callback/list").respond(json={})
    with pytest.raises(NukiInvalidResponseError, match="KeyError"):
        await bridge.callbacks()
    mock.get("/info").respond(json={"ids": "nope"})
    with pytest.raises(NukiInvalidResponseError, match="AttributeError"):
        await bridge.info()


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ReadTimeout("slow"), NukiTimeoutError),
        (httpx.ConnectTimeout("slow"), NukiTimeoutError),
        (httpx.RemoteProtocolError("cut"), NukiConnectionError),
    ],
)
async def test_transport_errors_are_not_retried_for_reads(
    bridge: NukiBridgeClient, mock: respx.MockRouter, exc: Exception, error: type
) -> None:
    route = mock.get("/list").mock(side_effect=exc)
    with pytest.raises(error, match="GET /list"):
        await bridge.devices()
    assert route.call_count == 1


# Retries, backoff and spacing


async def test_reads_retry_503_with_fresh_credentials(
    mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = mock.get("/list").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(503),
            httpx.Response(200, json=[]),
        ]
    )
    async with NukiBridgeClient(
        HOST, TOKEN, clock=fake_time.clock, sleep=fake_time.sleep
    ) as client:
        assert await client.devices() == []
    assert route.call_count == 3
    nonces = {_sent(route, i)["nonce"] for i in range(3)}
    assert len(nonces) == 3
    assert all(0 <= s <= client_module.BACKOFF_CAP for s in fake_time.sleeps)


async def test_read_backoff_is_capped_and_gives_up(
    mock: respx.MockRouter, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "READ_ATTEMPTS", 10)
    route = mock.get("/info").respond(503)
    async with NukiBridgeClient(
        HOST, TOKEN, min_spacing=0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as client:
        with pytest.raises(NukiBridgeBusyError):
            await client.info()
    assert route.call_count == 10
    assert len(fake_time.sleeps) == 9
    assert max(fake_time.sleeps) <= client_module.BACKOFF_CAP
    assert sum(fake_time.sleeps) > 0


async def test_reads_retry_refused_connections(
    bridge: NukiBridgeClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/list").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(NukiConnectionError, match="off or rebooting"):
        await bridge.devices()
    assert route.call_count == client_module.READ_ATTEMPTS


async def test_min_spacing_with_a_fake_clock(
    bridge: NukiBridgeClient, mock: respx.MockRouter, fake_time: FakeTime
) -> None:
    mock.get("/list").respond(json=[])
    await bridge.devices()
    await bridge.devices()
    fake_time.now += 0.1
    await bridge.devices()
    fake_time.now += 1.0
    await bridge.devices()
    assert fake_time.sleeps == pytest.approx([0.25, 0.15])


# Lock actions are never re-sent after an ambiguous failure (decision 0006, G18)


@pytest.mark.parametrize(
    ("effect", "error"),
    [
        (httpx.ReadTimeout("slow"), NukiTimeoutError),
        (httpx.Response(500), NukiServerError),
        (httpx.Response(503), NukiBridgeBusyError),
        (httpx.Response(502), NukiServerError),
        (httpx.RemoteProtocolError("cut"), NukiConnectionError),
        (httpx.ConnectTimeout("slow"), NukiTimeoutError),
    ],
)
@pytest.mark.parametrize("path", ["/lockAction", "/lock", "/unlock"])
async def test_actions_are_not_resent_after_ambiguous_failures(
    bridge: NukiBridgeClient,
    mock: respx.MockRouter,
    path: str,
    effect: Any,
    error: type,
) -> None:
    route = mock.get(path).mock(side_effect=[effect, httpx.Response(200, json={"success": True})])
    calls = {
        "/lockAction": lambda: bridge.lock_action(
            LOCK_ID, LockAction.UNLATCH, device_type=DeviceType.SMARTLOCK
        ),
        "/lock": lambda: bridge.lock(LOCK_ID, device_type=0),
        "/unlock": lambda: bridge.unlock(LOCK_ID, device_type=0),
    }
    with pytest.raises(error):
        await calls[path]()
    assert route.call_count == 1


async def test_action_resent_once_after_refused_connection(
    bridge: NukiBridgeClient, mock: respx.MockRouter
) -> None:
    route = mock.get("/lockAction").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"success": True}),
        ]
    )
    result = await bridge.lock_action(LOCK_ID, LockAction.UNLATCH, device_type=0)
    assert result.success
    assert route.call_count == 2
    route.mock(side_effect=httpx.ConnectError("refused"))
    route.reset()
    with pytest.raises(NukiConnectionError):
        await bridge.lock_action(LOCK_ID, LockAction.UNLATCH, device_type=0)
    assert route.call_count == client_module.ACTION_ATTEMPTS == 2


async def test_action_validation_happens_before_io(
    bridge: NukiBridgeClient, mock: respx.MockRouter
) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        await bridge.lock_action(OPENER_ID, LockAction.UNLATCH, device_type=DeviceType.OPENER)
    with pytest.raises(ValueError, match="does not fit"):
        await bridge.lock_action(LOCK_ID, OpenerAction.ACTIVATE_RTO, device_type=0)
    with pytest.raises(ValueError, match="known lock action"):
        await bridge.lock_action(LOCK_ID, 0, device_type=0)
    with pytest.raises(ValueError, match="32-bit"):
        await bridge.lock(-1, device_type=0)
    with pytest.raises(ValueError, match="32-bit"):
        await bridge.lock(1, device_type=DeviceType.UNKNOWN)
    with pytest.raises(ValueError, match="scope"):
        await bridge.fw_update(scope=3)
    with pytest.raises(ValueError, match="offset"):
        await bridge.log(count=0)
    assert not mock.calls


# Logging


async def test_debug_line_is_redacted(
    bridge: NukiBridgeClient, mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    mock.get("/callback/add").respond(json={"success": True})
    mock.get("/lockAction").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"success": True}),
        ]
    )
    with caplog.at_level(logging.DEBUG, logger="nukiasync"):
        await bridge.add_callback(OUR_URL)
        await bridge.lock_action(LOCK_ID, 2, device_type=0)
    assert "GET /callback/add" in caplog.text
    assert "retrying" in caplog.text
    assert SECRET_PATH not in caplog.text
    assert TOKEN not in caplog.text


# Callback registration


def test_callback_helpers() -> None:
    assert callback_marker() == "/nukiasync/"
    assert callback_marker(448942400) == "/nukiasync/448942400/"
    assert is_ours(OUR_URL, callback_marker("br1"))
    assert not is_ours(OUR_URL, callback_marker("br2"))
    assert not is_ours("http://[::1/x", "/nukiasync/")
    for bad in ("", "a/b"):
        with pytest.raises(ValueError, match="bridge_id"):
            callback_marker(bad)
    for marker in ("/", "nukiasync/", "/nukiasync"):
        with pytest.raises(ValueError, match="marker"):
            check_marker(marker)
    for url in (
        "https://10.0.0.1/x",
        "http:///nohost",
        "ftp://a/b",
        "http://[::1/x",
        "http://a/" + "x" * 250,
    ):
        with pytest.raises(ValueError, match="callback URL") as info:
            check_callback_url(url)
        assert url not in str(info.value)


async def test_bad_callback_urls_are_refused_before_io(
    bridge: NukiBridgeClient, mock: respx.MockRouter
) -> None:
    with pytest.raises(ValueError, match="http://"):
        await bridge.ensure_callback("https://127.0.0.1/nukiasync/br1/x")
    with pytest.raises(ValueError, match="254"):
        await bridge.add_callback("http://127.0.0.1/" + "x" * 260)
    assert not mock.calls


@pytest.fixture
async def standin() -> AsyncIterator[BridgeStandIn]:
    async with BridgeStandIn(TOKEN) as server:
        yield server


def _client(server: BridgeStandIn, **kwargs: Any) -> NukiBridgeClient:
    options: dict[str, Any] = {
        "port": server.port,
        "min_spacing": 0,
        "timeout": 2.0,
        **kwargs,
    }
    return NukiBridgeClient(HOST, TOKEN, **options)


async def test_ensure_callback_is_idempotent(standin: BridgeStandIn) -> None:
    other = {"id": 2, "url": "http://10.0.0.5:8000/other-tool"}
    standin.callbacks = [dict(other)]
    async with _client(standin, bridge_id="br1") as client:
        assert await client.ensure_callback(OUR_URL) is True
        assert await client.ensure_callback(OUR_URL) is False
        assert [e.url for e in await client.callbacks()] == [other["url"], OUR_URL]
        assert standin.count("/callback/add") == 1
        assert await client.remove_callback_url(OUR_URL) == 1
        assert await client.remove_callback_url(OUR_URL) == 0
        assert standin.callbacks == [other]


async def test_ensure_callback_replaces_our_stale_entries_only(
    standin: BridgeStandIn,
) -> None:
    standin.callbacks = [
        {"id": 0, "url": "http://10.0.0.5:8000/other-tool"},
        {"id": 1, "url": "http://127.0.0.1:1234/nukiasync/br1/oldsecret"},
        {"id": 2, "url": "http://10.0.0.6/nukiasync/br9/someone-else"},
    ]
    async with _client(standin, bridge_id="br1") as client:
        assert await client.ensure_callback(OUR_URL) is True
    urls = sorted(e["url"] for e in standin.callbacks)
    assert urls == sorted(
        [
            "http://10.0.0.5:8000/other-tool",
            "http://10.0.0.6/nukiasync/br9/someone-else",
            OUR_URL,
        ]
    )


async def test_ensure_callback_drops_duplicates_and_honours_marker(
    standin: BridgeStandIn,
) -> None:
    standin.callbacks = [
        {"id": 0, "url": OUR_URL},
        {"id": 1, "url": OUR_URL},
        {"id": 2, "url": "http://10.0.0.7/mine/old"},
    ]
    async with _client(standin) as client:
        assert await client.ensure_callback(OUR_URL, marker="/mine/") is False
    assert standin.callbacks == [{"id": 0, "url": OUR_URL}]


async def test_ensure_callback_never_evicts_foreign_entries(
    standin: BridgeStandIn,
) -> None:
    foreign = [
        {"id": 0, "url": "http://10.0.0.5:8000/tool-a-secret"},
        {"id": 1, "url": "http://10.0.0.6/tool-b-secret?key=x"},
        {"id": 2, "url": "http://nas.local:81/tool-c-secret"},
    ]
    standin.callbacks = [dict(e) for e in foreign]
    async with _client(standin, bridge_id="br1") as client:
        with pytest.raises(NukiCallbackSlotsFullError) as info:
            await client.ensure_callback(OUR_URL)
    assert info.value.occupied == (
        "http://10.0.0.5:8000",
        "http://10.0.0.6",
        "http://nas.local:81",
    )
    assert "secret" not in str(info.value)
    assert standin.callbacks == foreign
    assert standin.count("/callback/add") == 0


# Against the real stand-in: token modes, Opener device type, discipline, faults


@pytest.mark.parametrize("mode", ["encrypted", "hashed", "plain"])
async def test_token_modes_against_the_standin(standin: BridgeStandIn, mode: str) -> None:
    async with _client(standin, token_mode=mode) as client:
        devices = await client.devices()
        info = await client.info()
        log = await client.log(offset=3, count=2)
    assert [d.nuki_id for d in devices] == [LOCK_ID, OPENER_ID]
    assert info.server_id == 448942400
    assert [e.nuki_id for e in log] == [0x1E5FE23A, 0x1E5FE23A]


@pytest.mark.parametrize("mode", ["encrypted", "hashed", "plain"])
async def test_wrong_token_is_refused(standin: BridgeStandIn, mode: str) -> None:
    async with NukiBridgeClient(HOST, "wrong-token", port=standin.port, token_mode=mode) as client:  # type: ignore[arg-type]
        with pytest.raises(NukiBridgeAuthenticationError):
            await client.devices()


async def test_clock_skew_fails_time_based_modes_only() -> None:
    async with BridgeStandIn(TOKEN, clock_offset=120) as server:
        for mode in ("encrypted", "hashed"):
            async with _client(server, token_mode=mode) as client:
                with pytest.raises(NukiBridgeAuthenticationError, match="more than 60 s"):
                    await client.info()
        async with _client(server, token_mode="plain") as client:
            assert (await client.info()).uptime == 1278


async def _raw_get(port: int, path: str, params: dict[str, str]) -> int:
    """GET through a bare transport: httpx's client logs the query (token) at INFO."""
    request = httpx.Request("GET", f"http://{HOST}:{port}{path}", params=params)
    async with httpx.AsyncHTTPTransport() as transport:
        response = await transport.handle_async_request(request)
        await response.aread()
        await response.aclose()
    return response.status_code


async def test_standin_rejects_replayed_credentials(standin: BridgeStandIn) -> None:
    for mode in ("encrypted", "hashed"):
        params = auth_params(TOKEN, mode)  # type: ignore[arg-type]
        assert await _raw_get(standin.port, "/list", params) == 200
        assert await _raw_get(standin.port, "/list", params) == 401
    https = {"token": TOKEN, "url": "https://x/y"}
    assert await _raw_get(standin.port, "/callback/add", https) == 400
    opener = {"token": TOKEN, "nukiId": str(OPENER_ID)}
    assert await _raw_get(standin.port, "/lockState", opener) == 404
    assert await _raw_get(standin.port, "/nothing", {"token": TOKEN}) == 404


async def test_opener_needs_its_device_type(standin: BridgeStandIn) -> None:
    async with _client(standin) as client:
        with pytest.raises(NukiNotFoundError, match="OPENER"):
            await client.lock_state(OPENER_ID, DeviceType.SMARTLOCK)
        state = await client.lock_state(OPENER_ID, DeviceType.OPENER)
        assert state.lock_state is OpenerState.ONLINE
        await client.lock_action(
            OPENER_ID, OpenerAction.ACTIVATE_RTO, device_type=DeviceType.OPENER
        )
        assert (
            await client.lock_state(OPENER_ID, DeviceType.OPENER)
        ).lock_state is OpenerState.RTO_ACTIVE
        await client.lock(LOCK_ID, device_type=0)
        await client.unlock(LOCK_ID, device_type=0)
        await client.config_auth(True)
        await client.clear_log()
        await client.fw_update()
        await client.reboot()
        await client.factory_reset()
        await client.unpair(OPENER_ID, device_type=DeviceType.OPENER)
        assert [d.nuki_id for d in await client.devices()] == [LOCK_ID]


async def test_fifty_concurrent_callers_one_in_flight_with_spacing(
    standin: BridgeStandIn,
) -> None:
    spacing = 0.02
    async with _client(standin, min_spacing=spacing) as client:
        results = await asyncio.gather(*(client.devices() for _ in range(50)))
    assert all(len(r) == 2 for r in results)
    assert standin.max_in_flight == 1
    assert standin.rejected_busy == 0
    records = sorted(standin.requests, key=lambda r: r.start)
    assert len(records) == 50
    gaps = [b.start - a.end for a, b in itertools.pairwise(records)]
    assert min(gaps) >= spacing - 0.001


async def test_standin_answers_503_when_busy() -> None:
    async with BridgeStandIn(TOKEN, handle_delay=0.2) as server:
        first = asyncio.create_task(_raw_get(server.port, "/info", {"token": TOKEN}))
        await asyncio.wait_for(server.request_seen.wait(), 2)
        assert await _raw_get(server.port, "/info", {"token": TOKEN}) == 503
        assert await first == 200
    assert server.rejected_busy == 1


async def _no_wait(_delay: float) -> None:
    await asyncio.sleep(0)


async def test_reads_retry_503_against_the_standin(standin: BridgeStandIn) -> None:
    standin.script["/list"] = [503, 503]
    async with _client(standin, sleep=_no_wait) as client:
        assert len(await client.devices()) == 2
    assert standin.count("/list") == 3


@pytest.mark.parametrize("fault", [500, 503, "hang"])
async def test_action_sent_once_after_ambiguous_failure_on_the_wire(
    standin: BridgeStandIn, fault: int | str
) -> None:
    standin.script["/lockAction"] = [fault]
    async with _client(standin, timeout=0.3, sleep=_no_wait) as client:
        with pytest.raises((NukiServerError, NukiTimeoutError)):
            await client.lock_action(LOCK_ID, LockAction.UNLATCH, device_type=0)
    assert standin.count("/lockAction") == 1


async def test_action_resent_once_when_the_bridge_comes_back() -> None:
    async with BridgeStandIn(TOKEN, listen=False) as server:

        async def listen_now(_delay: float) -> None:
            await server.listen()

        async with _client(server, sleep=listen_now) as client:
            result = await client.lock_action(LOCK_ID, LockAction.LOCK, device_type=0)
        assert result.success
        assert server.count("/lockAction") == 1


# Pairing


async def test_pairing(standin: BridgeStandIn) -> None:
    token = await request_token(HOST, standin.port)
    assert token == TOKEN
    standin.pairing = "deny"
    with pytest.raises(NukiPairingError, match="within 30 s") as info:
        await request_token(HOST, standin.port)
    assert info.value.reason == "button not pressed"
    standin.pairing = "forbidden"
    with pytest.raises(NukiPairingError, match="disabled") as info:
        await request_token(HOST, standin.port)
    assert info.value.reason == "auth disabled"
    standin.pairing = "hang"
    with pytest.raises(NukiPairingError, match="within 30 s") as info:
        await request_token(HOST, standin.port, timeout=0.2)
    assert info.value.reason == "timeout"


async def test_pairing_without_a_token_in_the_answer(mock: respx.MockRouter) -> None:
    mock.get("/auth").respond(json={"success": True})
    with pytest.raises(NukiInvalidResponseError, match="without a token"):
        await request_token(HOST)
    mock.get("/auth").respond(json=load_fixture("bridge/auth_doc-1.13.3.json"))
    assert await request_token(HOST) == "token123"


async def test_web_api_actions_never_reach_the_bridge() -> None:
    from nukiasync.const import WebLockAction, WebOpenerAction
    from nukiasync.errors import NukiInvalidActionError

    async with NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=1) as bridge:
        with pytest.raises(NukiInvalidActionError, match="OpenerAction"):
            await bridge.lock_action(
                0x1E5FE23A,
                WebOpenerAction.ACTIVATE_CONTINUOUS_MODE,
                device_type=DeviceType.OPENER,
            )
        with pytest.raises(NukiInvalidActionError, match="LockAction"):
            await bridge.lock_action(
                0x1A2B3C4D,
                WebLockAction.LOCK,
                device_type=DeviceType.SMARTLOCK_3,
            )
