"""AdvancedApi operations: decentral webhooks, webhook logs, advanced auths and actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from nukiasync.const import (
    LockAction,
    OpenerAction,
    WebhookFeature,
    WebLockAction,
    WebOpenerAction,
)
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.advanced import AdvancedApiMixin
from nukiasync.web.models.apikey import (
    AdvancedConfirmation,
    DecentralWebhook,
    WebhookLog,
    WebhookMessage,
)
from tests.support.canary import WEB_TOKEN, WEBHOOK_SECRET
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


class _Client(AdvancedApiMixin):
    pass


@pytest.fixture
async def web() -> AsyncIterator[_Client]:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE)


HOOK = load_fixture("web/decentral_webhook.json")
HOOKS = load_fixture("web/decentral_webhooks.json")
LOGS = load_fixture("web/webhook_logs.json")
CONFIRMATION = load_fixture("web/advanced_confirmation.json")
REQUEST_ID = CONFIRMATION["requestId"]
LOCK = 17618910285
VIENNA = timezone(timedelta(hours=1))


def _confirmed(result: Any) -> bool:
    return isinstance(result, AdvancedConfirmation) and result.request_id == REQUEST_ID


CASES = [
    Case("decentral_webhooks", ("GET", "/api/decentralWebhook"),
         lambda w: w.decentral_webhooks(), "/api/decentralWebhook", status=200,
         response=HOOKS, check=lambda r: [h.id for h in r] == [301, 302]),
    Case("register_decentral_webhook", ("PUT", "/api/decentralWebhook"),
         lambda w: w.register_decentral_webhook(
             webhook_url="https://hooks.example.com/nuki/7f3a",
             webhook_features=[WebhookFeature.DEVICE_STATUS, "DEVICE_LOGS", "DEVICE_AUTHS"]),
         "/api/decentralWebhook",
         body={"webhookUrl": "https://hooks.example.com/nuki/7f3a",
               "webhookFeatures": ["DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_AUTHS"]},
         status=200, response=HOOK, check=lambda r: r.secret == WEBHOOK_SECRET),
    Case("delete_decentral_webhook", ("DELETE", "/api/decentralWebhook/{id}"),
         lambda w: w.delete_decentral_webhook(301), "/api/decentralWebhook/301"),
    Case("webhook_logs", ("GET", "/api/key/{apiKeyId}/webhook/logs"),
         lambda w: w.webhook_logs(2201, limit=100, before_id="65a1f0c2e4b0a1b2c3d4e5dd"),
         "/api/key/2201/webhook/logs",
         params={"limit": "100", "id": "65a1f0c2e4b0a1b2c3d4e5dd"}, status=200,
         response=LOGS, check=lambda r: [log.succeeded for log in r] == [True, False]),
    Case("webhook_logs_plain", ("GET", "/api/key/{apiKeyId}/webhook/logs"),
         lambda w: w.webhook_logs(2201), "/api/key/2201/webhook/logs", status=200,
         response=[], check=lambda r: r == []),
    Case("create_smartlock_auths_advanced", ("PUT", "/smartlock/auth/advanced"),
         lambda w: w.create_smartlock_auths_advanced(
             smartlock_ids=[LOCK, 8589934593], name="Guest", account_user_id=123456,
             remote_allowed=True,
             allowed_from_date=datetime(2026, 12, 1, 15, 0, tzinfo=VIENNA),
             allowed_until_date=datetime(2026, 12, 5, 10, 0, tzinfo=UTC),
             allowed_week_days=127, allowed_from_time=0, allowed_until_time=1439,
             smart_actions_enabled=False),
         "/smartlock/auth/advanced",
         body={"smartlockIds": [LOCK, 8589934593], "name": "Guest", "accountUserId": 123456,
               "remoteAllowed": True, "allowedFromDate": "2026-12-01T14:00:00.000Z",
               "allowedUntilDate": "2026-12-05T10:00:00.000Z", "allowedWeekDays": 127,
               "allowedFromTime": 0, "allowedUntilTime": 1439,
               "smartActionsEnabled": False},
         status=200, response=CONFIRMATION, check=_confirmed),
    Case("create_smartlock_auths_advanced_minimal", ("PUT", "/smartlock/auth/advanced"),
         lambda w: w.create_smartlock_auths_advanced(
             smartlock_ids=(LOCK,), name="Guest", account_user_id=1, remote_allowed=False),
         "/smartlock/auth/advanced",
         body={"smartlockIds": [LOCK], "name": "Guest", "accountUserId": 1,
               "remoteAllowed": False},
         status=200, response={**CONFIRMATION, "error": "17618910285 needs a subscription"},
         check=lambda r: r.error == "17618910285 needs a subscription"),
    Case("action_advanced", ("POST", "/smartlock/{smartlockId}/action/advanced"),
         lambda w: w.action_advanced(LOCK, action=WebLockAction.LOCK, full_lock=True),
         f"/smartlock/{LOCK}/action/advanced", body={"action": 2, "option": 4},
         status=200, response=CONFIRMATION, check=_confirmed),
    Case("action_advanced_option", ("POST", "/smartlock/{smartlockId}/action/advanced"),
         lambda w: w.action_advanced(LOCK, action=WebLockAction.UNLOCK, option=2),
         f"/smartlock/{LOCK}/action/advanced", body={"action": 1, "option": 2},
         status=200, response=CONFIRMATION, check=_confirmed),
    Case("action_advanced_opener", ("POST", "/smartlock/{smartlockId}/action/advanced"),
         lambda w: w.action_advanced(8589934593, action=WebOpenerAction.ACTIVATE_RTO),
         "/smartlock/8589934593/action/advanced", body={"action": 1},
         status=200, response=CONFIRMATION, check=_confirmed),
    Case("action_advanced_opener_cm", ("POST", "/smartlock/{smartlockId}/action/advanced"),
         lambda w: w.action_advanced(
             8589934593, action=WebOpenerAction.DEACTIVATE_CONTINUOUS_MODE),
         "/smartlock/8589934593/action/advanced", body={"action": 7},
         status=200, response=CONFIRMATION, check=_confirmed),
    Case("lock_advanced", ("POST", "/smartlock/{smartlockId}/action/lock/advanced"),
         lambda w: w.lock_advanced(LOCK), f"/smartlock/{LOCK}/action/lock/advanced",
         status=200, response=CONFIRMATION, check=_confirmed),
    Case("unlock_advanced", ("POST", "/smartlock/{smartlockId}/action/unlock/advanced"),
         lambda w: w.unlock_advanced(LOCK), f"/smartlock/{LOCK}/action/unlock/advanced",
         status=200, response=CONFIRMATION, check=_confirmed),
]  # fmt: skip

OPERATION_CALLS: list[tuple[str, str, Call]] = operation_calls(CASES)


def test_cases_cover_every_operation_of_the_tag() -> None:
    expected = spec_operations("AdvancedApi")
    assert len(expected) == 8
    assert {(method, path) for method, path, _ in OPERATION_CALLS} == expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_operation(web: _Client, case: Case) -> None:
    request = await run_case(web, case)
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.register_decentral_webhook(webhook_url="", webhook_features=["X"]),
        lambda w: w.register_decentral_webhook(webhook_url="https://x", webhook_features=[]),
        lambda w: w.delete_decentral_webhook(0),
        lambda w: w.webhook_logs(0),
        lambda w: w.webhook_logs(1, limit=0),
        lambda w: w.webhook_logs(1, limit=101),
        lambda w: w.create_smartlock_auths_advanced(
            smartlock_ids=[], name="G", account_user_id=1, remote_allowed=False
        ),
        lambda w: w.create_smartlock_auths_advanced(
            smartlock_ids=[1], name="G", account_user_id=1, remote_allowed=False,
            allowed_week_days=128,
        ),
        lambda w: w.action_advanced(0, action=WebLockAction.UNLOCK),
        lambda w: w.action_advanced(1, action=1),
        lambda w: w.action_advanced(1, action=LockAction.FULL_LOCK),
        lambda w: w.action_advanced(1, action=OpenerAction.ACTIVATE_CONTINUOUS_MODE),
        lambda w: w.action_advanced(1, action=WebOpenerAction.ELECTRIC_STRIKE_ACTUATION,
                                    full_lock=True),
        lambda w: w.lock_advanced(-1),
        lambda w: w.unlock_advanced(0),
    ],
)  # fmt: skip
async def test_bad_arguments_raise_before_any_request(web: _Client, call: Call) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with pytest.raises(ValueError, match=r"\w"):
            await call(web)
    assert not route.called


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda w: w.lock_advanced(1), {}),
        (lambda w: w.unlock_advanced(1), {"requestId": ""}),
        (
            lambda w: w.register_decentral_webhook(webhook_url="https://x", webhook_features=["A"]),
            {"id": "x"},
        ),
    ],
)
async def test_single_object_with_bad_body_raises(web: _Client, call: Call, answer: Any) -> None:
    with respx.mock() as mock:
        mock.route().mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(NukiInvalidResponseError):
            await call(web)


async def test_actions_are_never_retried(web: _Client) -> None:
    with respx.mock() as mock:
        route = mock.route().mock(return_value=httpx.Response(503))
        with pytest.raises(Exception, match="503"):
            await web.unlock_advanced(LOCK)
    assert route.call_count == 1


def test_decentral_webhook_model_redacts_secret_and_url() -> None:
    hook = DecentralWebhook.from_api(HOOK)
    assert hook.id == 301
    assert hook.secret == WEBHOOK_SECRET
    assert hook.webhook_features == (
        WebhookFeature.DEVICE_STATUS,
        WebhookFeature.DEVICE_LOGS,
        WebhookFeature.DEVICE_AUTHS,
    )
    text = repr(hook)
    assert WEBHOOK_SECRET not in text
    assert "hooks.example.com" not in text
    listed = DecentralWebhook.from_api(HOOKS[1])
    assert listed.secret is None
    assert listed.webhook_features == ("ACCOUNT_USER",)


def test_webhook_log_model() -> None:
    delivered, failed = (WebhookLog.from_api(item) for item in LOGS)
    assert delivered.request_id is None
    assert delivered.duration_ms == 182
    assert delivered.created == datetime(2026, 11, 20, 7, 15, 3, tzinfo=UTC)
    assert isinstance(delivered.request, WebhookMessage)
    assert delivered.request.body == {"feature": "DEVICE_STATUS", "smartlockId": LOCK}
    assert delivered.request.headers["Content-Type"].startswith("application/json")
    assert delivered.response is not None
    assert delivered.response.body is None
    assert failed.request is None
    assert failed.response_status == 502
    assert failed.request_id == REQUEST_ID
    assert "hooks.example.com" not in repr(delivered)
    assert "X-Nuki-Signature" not in repr(delivered)
    with pytest.raises(ValueError, match="id"):
        WebhookLog.from_api({"id": "", "created": "2026-01-01T00:00:00Z"})
    with pytest.raises(KeyError):
        WebhookLog.from_api({"id": "a"})


@pytest.mark.parametrize(
    ("parser", "fixture", "ignored"),
    [
        (DecentralWebhook.from_api, "web/decentral_webhook.json", ()),
        (DecentralWebhook.from_api, "web/decentral_webhooks.json", ()),
        (
            WebhookLog.from_api,
            "web/webhook_logs.json",
            ("request.body.", "request.headers.", "response.headers."),
        ),
        (AdvancedConfirmation.from_api, "web/advanced_confirmation.json", ()),
    ],
)
def test_drift(
    parser: Callable[[Mapping[str, Any]], Any], fixture: str, ignored: tuple[str, ...]
) -> None:
    assert unmapped_keys(parser, load_fixture(fixture), ignored) == set()
