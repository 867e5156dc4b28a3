"""ApiKey operations and the API key, token and Advanced API key models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from nukiasync.const import WebhookFeature
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.apikeys import ApiKeysMixin
from nukiasync.web.models.apikey import (
    AdvancedApiKey,
    ApiKey,
    ApiKeyToken,
    features_to_api,
    webhook_features,
)
from tests.support.canary import OAUTH_CLIENT_SECRET, WEB_TOKEN
from tests.support.paths import load_fixture
from tests.support.web_cases import (
    BASE,
    Call,
    Case,
    operation_calls,
    run_case,
    spec_operations,
    unmapped_keys,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping


class _Client(ApiKeysMixin):
    pass


@pytest.fixture
async def web() -> AsyncIterator[_Client]:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE)


KEYS = load_fixture("web/api_keys.json")
TOKENS = load_fixture("web/api_key_tokens.json")
ADVANCED = load_fixture("web/advanced_api_key.json")
TOKEN_ID = "65a1f0c2e4b0a1b2c3d4e5cc"

APPLICATION = {
    "name": "Example Hosting GmbH",
    "email": "dev@example.com",
    "country": "AT",
    "url": "https://example.com",
    "description": "Short-rental check-in",
    "type": "SHORT_RENTAL",
    "restricted": False,
    "webhookUrl": "https://hooks.example.com/nuki",
    "webhookFeatures": ["DEVICE_LOGS", "DEVICE_STATUS"],
}

CASES = [
    Case("api_keys", ("GET", "/api/key"), lambda w: w.api_keys(), "/api/key", status=200,
         response=KEYS, check=lambda r: [k.api_key_id for k in r] == [2201]),
    Case("create_api_key", ("PUT", "/api/key"),
         lambda w: w.create_api_key(description="dev", redirect_uris=["https://e.x/cb"]),
         "/api/key", body={"description": "dev", "redirectUris": ["https://e.x/cb"]},
         status=200, response=KEYS[0], check=lambda r: r.api_key_id == 2201),
    Case("create_api_key_empty", ("PUT", "/api/key"), lambda w: w.create_api_key(),
         "/api/key", body={}, status=200, response=KEYS[0],
         check=lambda r: isinstance(r, ApiKey)),
    Case("delete_api_key", ("DELETE", "/api/key/{apiKeyId}"),
         lambda w: w.delete_api_key(2201), "/api/key/2201"),
    Case("update_api_key", ("POST", "/api/key/{apiKeyId}"),
         lambda w: w.update_api_key(2201, description="renamed", redirect_uris=()),
         "/api/key/2201", body={"description": "renamed", "redirectUris": []}),
    Case("delete_advanced_api_key", ("DELETE", "/api/key/{apiKeyId}/advanced"),
         lambda w: w.delete_advanced_api_key(2201), "/api/key/2201/advanced"),
    Case("advanced_api_key", ("GET", "/api/key/{apiKeyId}/advanced"),
         lambda w: w.advanced_api_key(2201), "/api/key/2201/advanced", status=200,
         response=ADVANCED, check=lambda r: r.status == "TESTING"),
    Case("update_advanced_api_key", ("POST", "/api/key/{apiKeyId}/advanced"),
         lambda w: w.update_advanced_api_key(
             2201, webhook_url="https://hooks.example.com/new",
             webhook_features=[WebhookFeature.DEVICE_AUTHS, "DEVICE_AUTHS", "ACCOUNT_USER"]),
         "/api/key/2201/advanced",
         body={"webhookUrl": "https://hooks.example.com/new",
               "webhookFeatures": ["DEVICE_AUTHS", "ACCOUNT_USER"]}),
    Case("create_advanced_api_key", ("PUT", "/api/key/{apiKeyId}/advanced"),
         lambda w: w.create_advanced_api_key(
             2201, name="Example Hosting GmbH", email="dev@example.com", country="AT",
             url="https://example.com", description="Short-rental check-in",
             type="SHORT_RENTAL", restricted=False,
             webhook_url="https://hooks.example.com/nuki",
             webhook_features=(WebhookFeature.DEVICE_LOGS, WebhookFeature.DEVICE_STATUS)),
         "/api/key/2201/advanced", body=APPLICATION),
    Case("reactivate_advanced_api_key", ("POST", "/api/key/{apiKeyId}/advanced/reactivate"),
         lambda w: w.reactivate_advanced_api_key(2201), "/api/key/2201/advanced/reactivate"),
    Case("api_key_tokens", ("GET", "/api/key/{apiKeyId}/token"),
         lambda w: w.api_key_tokens(2201), "/api/key/2201/token", status=200,
         response=TOKENS, check=lambda r: [t.id for t in r] == [TOKEN_ID, TOKENS[1]["id"]]),
    Case("create_api_key_token", ("PUT", "/api/key/{apiKeyId}/token"),
         lambda w: w.create_api_key_token(2201, description="HA", scopes=["account"]),
         "/api/key/2201/token", body={"description": "HA", "scopes": ["account"]},
         status=200, response=TOKENS[1], check=lambda r: r.access_token == WEB_TOKEN),
    Case("delete_api_key_token", ("DELETE", "/api/key/{apiKeyId}/token/{id}"),
         lambda w: w.delete_api_key_token(2201, TOKEN_ID), f"/api/key/2201/token/{TOKEN_ID}"),
    Case("update_api_key_token", ("POST", "/api/key/{apiKeyId}/token/{id}"),
         lambda w: w.update_api_key_token(2201, TOKEN_ID, scopes=("smartlock.log",)),
         f"/api/key/2201/token/{TOKEN_ID}", body={"scopes": ["smartlock.log"]}),
]  # fmt: skip

OPERATION_CALLS: list[tuple[str, str, Call]] = operation_calls(CASES)


def test_cases_cover_every_operation_of_the_tag() -> None:
    expected = spec_operations("ApiKey")
    assert len(expected) == 13
    assert {(method, path) for method, path, _ in OPERATION_CALLS} == expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_operation(web: _Client, case: Case) -> None:
    request = await run_case(web, case)
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.update_api_key(0),
        lambda w: w.delete_api_key(-1),
        lambda w: w.advanced_api_key(0),
        lambda w: w.update_advanced_api_key(1, webhook_url="https://x", webhook_features=[]),
        lambda w: w.api_key_tokens(0),
        lambda w: w.delete_api_key_token(1, ""),
        lambda w: w.update_api_key_token(0, TOKEN_ID),
    ],
)
async def test_bad_arguments_raise_before_any_request(web: _Client, call: Call) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with pytest.raises(ValueError, match=r"\w"):
            await call(web)
    assert not route.called


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda w: w.create_api_key(), {"apiKeyId": None}),
        (lambda w: w.create_api_key_token(1), {"id": ""}),
        (lambda w: w.advanced_api_key(1), {"webhookFeatures": "DEVICE_LOGS"}),
    ],
)
async def test_single_object_with_bad_body_raises(web: _Client, call: Call, answer: Any) -> None:
    with respx.mock() as mock:
        mock.route().mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(NukiInvalidResponseError):
            await call(web)


def test_api_key_model() -> None:
    key = ApiKey.from_api(KEYS[0])
    assert key.account_id == 412345
    assert key.redirect_uris == ("https://example.com/oauth/callback",)
    assert key.creation_date == datetime(2025, 7, 8, 9, 10, 11, tzinfo=UTC)
    assert "a1b2c3d4e5f6a7b8" not in repr(key)


def test_api_key_token_model_redacts_the_token() -> None:
    listed, created = (ApiKeyToken.from_api(item) for item in TOKENS)
    assert listed.access_token is None
    assert listed.scopes == ("smartlock.readOnly", "smartlock.log", "smartlock.action")
    assert created.access_token == WEB_TOKEN
    assert WEB_TOKEN not in repr(created)
    assert WEB_TOKEN not in str(created)


def test_advanced_api_key_model() -> None:
    key = AdvancedApiKey.from_api(ADVANCED)
    assert key.secret == OAUTH_CLIENT_SECRET
    assert key.webhook_features == (
        WebhookFeature.DEVICE_STATUS,
        WebhookFeature.DEVICE_LOGS,
        "SOMETHING_NEW",
    )
    assert key.restricted is False
    assert key.webhook_status == "ACTIVE"
    assert key.update_date == datetime(2025, 2, 1, tzinfo=UTC)
    text = repr(key)
    for hidden in (OAUTH_CLIENT_SECRET, "dev@example.com", "hooks.example.com"):
        assert hidden not in text


def test_feature_helpers() -> None:
    assert webhook_features(None) == ()
    assert features_to_api(["DEVICE_LOGS", WebhookFeature.DEVICE_LOGS]) == ["DEVICE_LOGS"]
    with pytest.raises(ValueError, match="feature"):
        features_to_api([])
    with pytest.raises((TypeError, ValueError), match="list"):
        webhook_features("DEVICE_LOGS")


@pytest.mark.parametrize(
    ("parser", "fixture"),
    [
        (ApiKey.from_api, "web/api_keys.json"),
        (ApiKeyToken.from_api, "web/api_key_tokens.json"),
        (AdvancedApiKey.from_api, "web/advanced_api_key.json"),
    ],
)
def test_drift(parser: Callable[[Mapping[str, Any]], Any], fixture: str) -> None:
    assert unmapped_keys(parser, load_fixture(fixture)) == set()
