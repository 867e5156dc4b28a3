"""G21: no token, path secret, HMAC secret or keypad code in ``repr``/``str`` of any public
object that holds one, nor of errors raised on real failure paths (their causes included).
The session-wide log canary (conftest.py) covers the log records of all of this too.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.pairing import request_token
from nukiasync.bridge.receiver import CallbackReceiver
from nukiasync.bridge.server import CallbackServer
from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBridgeAuthenticationError,
    NukiCallbackSlotsFullError,
    NukiError,
    NukiPairingError,
    NukiTimeoutError,
)
from nukiasync.web.client import NukiWebClient
from nukiasync.web.models.apikey import DecentralWebhook
from nukiasync.web.models.auth import SmartlockAuth
from nukiasync.web.oauth import NukiOAuth2, OAuth2Token
from tests.support import canary
from tests.support.simulator import make_world, receiver

if TYPE_CHECKING:
    from nukiasync.simulator import World

PATH_SECRET = canary.register("canaryPathSecret0123456789abcdef")
WRONG_TOKEN = canary.register("canary-wrong-web-token-42")
WRONG_BRIDGE = canary.register("cnryWrong7")
FOREIGN_SECRET = canary.register("foreignPathSecret0987654321")


def texts(obj: object) -> list[str]:
    """repr and str of an object, and of every exception it chains to."""
    out = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        out.append("".join(traceback.format_exception(obj)))
        seen: set[int] = set()
        cause: BaseException | None = obj
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            out += [repr(cause), str(cause)]
            cause = cause.__cause__ or cause.__context__
    return out


def assert_clean(*objects: object) -> None:
    for obj in objects:
        for text in texts(obj):
            hits = [s for s in canary.secrets() if s in text]
            assert not hits, f"{type(obj).__name__} shows {hits}: {text[:300]}"


def keypad_auth() -> SmartlockAuth:
    data: dict[str, Any] = {
        "id": "a1",
        "smartlockId": 1,
        "authId": 3,
        "type": 13,
        "name": "Bob's code",
        "code": canary.KEYPAD_CODE,
        "enabled": True,
    }
    return SmartlockAuth.from_api(data)


async def test_objects_holding_secrets() -> None:
    token = OAuth2Token(
        access_token=canary.OAUTH_ACCESS_TOKEN, refresh_token=canary.OAUTH_REFRESH_TOKEN
    )
    oauth = NukiOAuth2("client-id", canary.OAUTH_CLIENT_SECRET, token=token)
    receiver_obj = CallbackReceiver(lambda cb: None, allowed_sources=["127.0.0.2"])
    server = CallbackServer(
        lambda cb: None,
        host="127.0.0.1",
        allowed_sources=["127.0.0.2"],
        path_secret=PATH_SECRET,
    )
    webhook = DecentralWebhook.from_api(
        {
            "id": 1,
            "webhookUrl": f"https://hooks.example.invalid/{PATH_SECRET}",
            "webhookFeatures": ["DEVICE_STATUS"],
            "secret": canary.WEBHOOK_SECRET,
        }
    )
    objects: list[object] = [
        token,
        oauth,
        NukiWebClient(canary.WEB_TOKEN),
        NukiWebClient(oauth),
        receiver_obj,
        server,
        webhook,
        keypad_auth(),
    ]
    objects += [
        NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, token_mode=mode)  # type: ignore[arg-type]
        for mode in ("plain", "hashed", "encrypted")
    ]
    assert_clean(*objects)
    for client in objects:
        if isinstance(client, NukiWebClient | NukiBridgeClient):
            await client.close()


async def test_simulator_objects() -> None:
    async with make_world() as world:
        bob = world.person("Bob")
        assert_clean(world, world.bridge, world.web, world.knobs, bob, *world.auths, *world.devices)
        assert_clean(*world.people.values())


def bridge_port(world: World) -> int:
    port = urlsplit(world.bridge_url).port
    assert port is not None
    return port


async def test_errors_from_real_failure_paths() -> None:
    errors: list[NukiError] = []
    async with make_world(auth_window=0.2) as world:
        web = NukiWebClient(WRONG_TOKEN, base_url=world.web_url, retry_attempts=1)
        with pytest.raises(NukiAuthenticationError) as web401:
            await web.smartlocks()
        errors.append(web401.value)
        await web.close()
        world.knobs.fail_web(1, hang=True)
        world.knobs.web_hang = 1.0
        web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, timeout=0.2)
        with pytest.raises(NukiTimeoutError) as web_timeout:
            await web.unlatch((4 << 32) | 0x1A2B3C4D)
        errors.append(web_timeout.value)
        await web.close()
        port = bridge_port(world)
        for mode in ("plain", "hashed", "encrypted"):
            async with NukiBridgeClient(
                "127.0.0.1",
                WRONG_BRIDGE,
                port=port,
                token_mode=mode,
                min_spacing=0,  # type: ignore[arg-type]
            ) as bridge:
                with pytest.raises(NukiBridgeAuthenticationError) as bridge401:
                    await bridge.devices()
                errors.append(bridge401.value)
        world.knobs.bridge_request_time = 0.5
        async with NukiBridgeClient(
            "127.0.0.1", canary.BRIDGE_TOKEN, port=port, token_mode="plain", timeout=0.2
        ) as bridge:
            with pytest.raises(NukiTimeoutError) as bridge_timeout:
                await bridge.lock_action(0x1A2B3C4D, 1, device_type=4)
            errors.append(bridge_timeout.value)
        await world.wait_until(lambda: not world.bridge.busy)
        world.knobs.bridge_request_time = 0.0
        async with (
            receiver() as rec,
            NukiBridgeClient(
                "127.0.0.1", canary.BRIDGE_TOKEN, port=port, token_mode="plain", min_spacing=0
            ) as bridge,
        ):
            for n in range(3):
                await bridge.add_callback(rec.url(f"/other{n}/{FOREIGN_SECRET}"))
            with pytest.raises(NukiCallbackSlotsFullError) as full:
                await bridge.ensure_callback(rec.url(f"/nukiasync/bridge/{PATH_SECRET}"))
            errors.append(full.value)
        with pytest.raises(NukiPairingError) as pairing:
            await request_token("127.0.0.1", port, timeout=2)
        errors.append(pairing.value)
    assert len(errors) == 8
    assert_clean(*errors)
    assert all("127.0.0.1" in str(e) or "Web API" in str(e) for e in errors)


async def test_callback_server_error_texts_and_urls() -> None:
    """What the server says about itself names no secret; only callback_url() holds it."""
    async with CallbackServer(
        lambda cb: None, host="127.0.0.1", allowed_sources=["127.0.0.2"], path_secret=PATH_SECRET
    ) as server:
        assert PATH_SECRET in server.callback_url()
        assert_clean(server, server.stats, server.receiver(), server.receiver().stats, server.url)
