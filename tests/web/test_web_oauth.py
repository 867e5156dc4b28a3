"""OAuth2: code exchange, refresh on expiry and on 401, persistence callback."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from nukiasync.errors import NukiAuthenticationError, NukiInvalidResponseError
from nukiasync.web.logs import LogsMixin
from nukiasync.web.oauth import NukiOAuth2, OAuth2Token
from tests.support.canary import OAUTH_ACCESS_TOKEN, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN

BASE = "https://api.nuki.test"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class _Client(LogsMixin):
    pass


def token_answer(n: int, *, refresh: bool = True) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "access_token": f"{OAUTH_ACCESS_TOKEN}-{n}",
        "token_type": "bearer",
        "expires_in": 3600,
        "scope": "smartlock smartlock.log offline_access",
    }
    if refresh:
        answer["refresh_token"] = f"{OAUTH_REFRESH_TOKEN}-{n}"
    return answer


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


async def test_exchange_code_then_requests_use_the_token(http) -> None:
    saved: list[OAuth2Token] = []
    oauth = NukiOAuth2("client-1", OAUTH_CLIENT_SECRET, on_token=saved.append)
    clock = Clock()
    web = _Client(oauth, client=http, base_url=BASE, clock=clock)
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        token_route = router.post("/oauth/token").respond(200, json=token_answer(1))
        logs_route = router.get("/smartlock/log").respond(200, json=[])
        await oauth.exchange_code(web, "the-code", "https://example.test/cb")
        await web.logs()
    sent = form(token_route.calls.last.request)
    assert sent == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://example.test/cb",
        "client_id": "client-1",
        "client_secret": OAUTH_CLIENT_SECRET,
    }
    assert (
        logs_route.calls.last.request.headers["Authorization"] == f"Bearer {OAUTH_ACCESS_TOKEN}-1"
    )
    assert len(saved) == 1
    assert saved[0].refresh_token == f"{OAUTH_REFRESH_TOKEN}-1"
    assert saved[0].expires_at == clock.now + timedelta(seconds=3600)
    assert oauth.token == saved[0]


async def test_refreshes_before_expiry_and_hands_over_the_new_pair(http) -> None:
    saved: list[OAuth2Token] = []

    async def persist(token: OAuth2Token) -> None:
        saved.append(token)

    clock = Clock()
    first = OAuth2Token.from_api(token_answer(1), now=clock.now)
    oauth = NukiOAuth2(
        "client-1", OAUTH_CLIENT_SECRET, token=first, on_token=persist, client_auth="basic"
    )
    web = _Client(oauth, client=http, base_url=BASE, clock=clock)
    with respx.mock(base_url=BASE) as router:
        token_route = router.post("/oauth/token").respond(200, json=token_answer(2))
        logs_route = router.get("/smartlock/log").respond(200, json=[])
        await web.logs()
        assert token_route.call_count == 0
        clock.now += timedelta(seconds=3600 - 30)  # inside the refresh margin
        await web.logs()
    assert token_route.call_count == 1
    request = token_route.calls.last.request
    assert form(request) == {
        "grant_type": "refresh_token",
        "refresh_token": f"{OAUTH_REFRESH_TOKEN}-1",
    }
    basic = base64.b64encode(f"client-1:{OAUTH_CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {basic}"
    assert (
        logs_route.calls.last.request.headers["Authorization"] == f"Bearer {OAUTH_ACCESS_TOKEN}-2"
    )
    assert [t.refresh_token for t in saved] == [f"{OAUTH_REFRESH_TOKEN}-2"]


async def test_401_refreshes_once_and_repeats_the_request(http) -> None:
    clock = Clock()
    oauth = NukiOAuth2(
        "client-1", OAUTH_CLIENT_SECRET, token=OAuth2Token.from_api(token_answer(1), now=clock.now)
    )
    web = _Client(oauth, client=http, base_url=BASE, clock=clock)
    with respx.mock(base_url=BASE) as router:
        router.post("/oauth/token").respond(200, json=token_answer(2, refresh=False))
        logs_route = router.get("/smartlock/log")
        logs_route.side_effect = [httpx.Response(401), httpx.Response(200, json=[])]
        assert await web.logs() == []
    assert logs_route.call_count == 2
    # The answer had no new refresh token: the old one stays.
    assert oauth.token is not None
    assert oauth.token.refresh_token == f"{OAUTH_REFRESH_TOKEN}-1"


async def test_concurrent_requests_refresh_once(http) -> None:
    clock = Clock()
    expired = OAuth2Token(
        access_token="old", refresh_token=OAUTH_REFRESH_TOKEN, expires_at=clock.now
    )
    oauth = NukiOAuth2("client-1", OAUTH_CLIENT_SECRET, token=expired)
    web = _Client(oauth, client=http, base_url=BASE, clock=clock)
    with respx.mock(base_url=BASE) as router:
        token_route = router.post("/oauth/token").respond(200, json=token_answer(3))
        router.get("/smartlock/log").respond(200, json=[])
        await asyncio.gather(*(web.logs() for _ in range(10)))
    assert token_route.call_count == 1


@pytest.mark.parametrize("status", [400, 401])
async def test_rejected_refresh_asks_for_reauth(http, status) -> None:
    clock = Clock()
    expired = OAuth2Token(
        access_token="old", refresh_token=OAUTH_REFRESH_TOKEN, expires_at=clock.now
    )
    oauth = NukiOAuth2("client-1", OAUTH_CLIENT_SECRET, token=expired)
    web = _Client(oauth, client=http, base_url=BASE, clock=clock)
    with respx.mock(base_url=BASE) as router:
        router.post("/oauth/token").respond(status, json={"error": "invalid_grant"})
        with pytest.raises(NukiAuthenticationError, match="authorize again") as info:
            await web.logs()
    assert OAUTH_REFRESH_TOKEN not in str(info.value)
    assert OAUTH_CLIENT_SECRET not in str(info.value)


async def test_no_token_or_no_refresh_token(http) -> None:
    web = _Client(NukiOAuth2("c", OAUTH_CLIENT_SECRET), client=http, base_url=BASE)
    with pytest.raises(NukiAuthenticationError, match="authorize again"):
        await web.logs()
    no_refresh = OAuth2Token(access_token="a", expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    web2 = _Client(
        NukiOAuth2("c", OAUTH_CLIENT_SECRET, token=no_refresh), client=http, base_url=BASE
    )
    with pytest.raises(NukiAuthenticationError):
        await web2.logs()


async def test_token_answer_without_access_token_is_invalid(http) -> None:
    oauth = NukiOAuth2("client-1", OAUTH_CLIENT_SECRET)
    web = _Client(oauth, client=http, base_url=BASE)
    with respx.mock(base_url=BASE) as router:
        router.post("/oauth/token").respond(200, json={"token_type": "bearer"})
        with pytest.raises(NukiInvalidResponseError):
            await oauth.exchange_code(web, "c", "https://example.test/cb")


async def test_failing_on_token_callback_does_not_break_requests(http, caplog) -> None:
    def broken(token: OAuth2Token) -> None:
        msg = "disk full"
        raise RuntimeError(msg)

    oauth = NukiOAuth2("client-1", OAUTH_CLIENT_SECRET, on_token=broken)
    web = _Client(oauth, client=http, base_url=BASE)
    with respx.mock(base_url=BASE) as router:
        router.post("/oauth/token").respond(200, json=token_answer(1))
        with caplog.at_level(logging.ERROR):
            token = await oauth.exchange_code(web, "c", "https://example.test/cb")
    assert token.access_token == f"{OAUTH_ACCESS_TOKEN}-1"
    assert "on_token" in caplog.text


def test_authorization_url_repr_and_validation() -> None:
    oauth = NukiOAuth2("client-1", OAUTH_CLIENT_SECRET)
    url = oauth.authorization_url("https://example.test/cb", ["smartlock", "smartlock.log"], "st8")
    assert url.startswith(
        "https://api.nuki.io/oauth/authorize?response_type=code&client_id=client-1"
    )
    assert "scope=smartlock+smartlock.log" in url
    assert "state=st8" in url
    assert OAUTH_CLIENT_SECRET not in url
    assert OAUTH_CLIENT_SECRET not in repr(oauth)
    token = OAuth2Token.from_api(token_answer(1), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert OAUTH_ACCESS_TOKEN not in repr(token)
    assert OAUTH_REFRESH_TOKEN not in repr(token)
    assert (
        OAuth2Token.from_api({"access_token": "x"}, now=datetime(2026, 1, 1, tzinfo=UTC)).expires_at
        is None
    )
    with pytest.raises(ValueError, match="empty"):
        NukiOAuth2("", "x")


async def test_client_exchange_code_and_token_endpoint_failures(http) -> None:
    from nukiasync.errors import NukiConnectionError, NukiTimeoutError
    from nukiasync.web.client import NukiWebClient

    saved: list[OAuth2Token] = []
    web = NukiWebClient(
        NukiOAuth2("client-1", OAUTH_CLIENT_SECRET, on_token=saved.append),
        client=http,
        base_url=BASE,
    )
    with respx.mock(base_url=BASE) as router:
        route = router.post("/oauth/token")
        route.side_effect = [
            httpx.Response(200, json=token_answer(1)),
            httpx.ConnectTimeout("slow"),
            httpx.ConnectError("refused"),
        ]
        await web.exchange_code("the-code", "https://example.test/cb")
        assert saved[0].access_token == f"{OAUTH_ACCESS_TOKEN}-1"
        with pytest.raises(NukiTimeoutError):
            await web.exchange_code("c", "https://example.test/cb")
        with pytest.raises(NukiConnectionError):
            await web.exchange_code("c", "https://example.test/cb")
    with pytest.raises(TypeError, match="NukiOAuth2"):
        await NukiWebClient("api-token", client=http).exchange_code("c", "u")
