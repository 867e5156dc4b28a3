"""Notification operations and models."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.models.notification import (
    Notification,
    NotificationOs,
    NotificationSetting,
    NotificationStatus,
)
from nukiasync.web.notifications import NotificationsMixin
from tests.support.canary import WEB_TOKEN
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
    from collections.abc import AsyncIterator


class _Client(NotificationsMixin):
    pass


@pytest.fixture
async def web() -> AsyncIterator[_Client]:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE)


NOTIFICATIONS = load_fixture("web/notifications.json")
NOTIFICATION_ID = "65a1f0c2e4b0a1b2c3d4e5ee"
LOCK = 17618910285
SETTINGS = [
    NotificationSetting(
        trigger_events=["lock", "unlock"], smartlock_id=LOCK, auth_ids=["65219648fe57075d71a6cb01"]
    ),
    NotificationSetting(trigger_events=("warnings",)),
]
SETTINGS_JSON = [
    {
        "triggerEvents": ["lock", "unlock"],
        "smartlockId": LOCK,
        "authIds": ["65219648fe57075d71a6cb01"],
    },
    {"triggerEvents": ["warnings"]},
]


def _is_first(result: Any) -> bool:
    return isinstance(result, Notification) and result.notification_id == NOTIFICATION_ID


CASES = [
    Case("notifications", ("GET", "/notification"),
         lambda w: w.notifications(reference_id="crm-42"), "/notification",
         params={"referenceId": "crm-42"}, status=200, response=NOTIFICATIONS,
         check=lambda r: [n.os for n in r] == [NotificationOs.WEBHOOK, NotificationOs.UNKNOWN]),
    Case("notifications_plain", ("GET", "/notification"), lambda w: w.notifications(),
         "/notification", status=200, response=[], check=lambda r: r == []),
    Case("create_notification", ("PUT", "/notification"),
         lambda w: w.create_notification(
             push_id="https://hooks.example.com/push/1", os=NotificationOs.WEBHOOK,
             settings=SETTINGS, language="en", reference_id="crm-42",
             secret="8d41a187c3954f886f9de3a88c2ef22df0eac190"),
         "/notification",
         body={"pushId": "https://hooks.example.com/push/1", "os": 2, "settings": SETTINGS_JSON,
               "language": "en", "referenceId": "crm-42",
               "secret": "8d41a187c3954f886f9de3a88c2ef22df0eac190"},
         status=200, response=NOTIFICATIONS[0], check=_is_first),
    Case("create_notification_minimal", ("PUT", "/notification"),
         lambda w: w.create_notification(push_id="fcm-token", os=0, settings=[]),
         "/notification", body={"pushId": "fcm-token", "os": 0, "settings": []},
         status=200, response=NOTIFICATIONS[1],
         check=lambda r: r.status is NotificationStatus.INIT),
    Case("delete_notification", ("DELETE", "/notification/{notificationId}"),
         lambda w: w.delete_notification(NOTIFICATION_ID), f"/notification/{NOTIFICATION_ID}"),
    Case("notification", ("GET", "/notification/{notificationId}"),
         lambda w: w.notification(NOTIFICATION_ID), f"/notification/{NOTIFICATION_ID}",
         status=200, response=NOTIFICATIONS[0], check=_is_first),
    Case("update_notification_full", ("POST", "/notification/{notificationId}"),
         lambda w: w.update_notification(NOTIFICATION_ID, push_id="p", os=1, settings=[],
                                         reference_id="r", secret="s" * 40),
         f"/notification/{NOTIFICATION_ID}",
         body={"pushId": "p", "os": 1, "settings": [], "referenceId": "r", "secret": "s" * 40},
         status=200, response=NOTIFICATIONS[0], check=_is_first),
]  # fmt: skip

OPERATION_CALLS: list[tuple[str, str, Call]] = operation_calls(CASES)

# A partial update, completed from the current notification (sent by the spec request test).
REQUEST_CALLS: list[Call] = [
    lambda w: w.update_notification(NOTIFICATION_ID, settings=SETTINGS[1:], language="de")
]


async def test_partial_update_is_completed_from_the_current_notification(web: _Client) -> None:
    current = NOTIFICATIONS[0]
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        read = router.get(f"/notification/{NOTIFICATION_ID}").respond(200, json=current)
        write = router.post(f"/notification/{NOTIFICATION_ID}").respond(200, json=current)
        result = await REQUEST_CALLS[0](web)
    assert _is_first(result)
    assert (read.call_count, write.call_count) == (1, 1)
    sent = json.loads(write.calls.last.request.content)
    assert sent["settings"] == [{"triggerEvents": ["warnings"]}]
    assert sent["language"] == "de"
    assert (sent["pushId"], sent["os"]) == (current["pushId"], current["os"])
    assert "secret" not in sent  # never copied from the read


def test_cases_cover_every_operation_of_the_tag() -> None:
    expected = spec_operations("Notification")
    assert len(expected) == 5
    assert {(method, path) for method, path, _ in OPERATION_CALLS} == expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_operation(web: _Client, case: Case) -> None:
    request = await run_case(web, case)
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.notification(""),
        lambda w: w.update_notification(""),
        lambda w: w.delete_notification(""),
    ],
)
async def test_bad_arguments_raise_before_any_request(web: _Client, call: Call) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with pytest.raises(ValueError, match=r"\w"):
            await call(web)
    assert not route.called


@pytest.mark.parametrize(
    "answer",
    [
        {"notificationId": "a", "lastActiveDate": "never"},
        {"notificationId": "a", "settings": {"triggerEvents": []}},
        {"notificationId": "a", "settings": ["lock"]},
        {"notificationId": "a", "os": "android"},
    ],
)
async def test_single_object_with_bad_body_raises(web: _Client, answer: Any) -> None:
    with respx.mock() as mock:
        mock.route().mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(NukiInvalidResponseError):
            await web.notification("a")


async def test_list_skips_a_bad_item_with_a_warning(
    web: _Client, caplog: pytest.LogCaptureFixture
) -> None:
    answer = [NOTIFICATIONS[0], {"notificationId": "b", "settings": "x"}]
    with respx.mock() as mock:
        mock.get(f"{BASE}/notification").mock(return_value=httpx.Response(200, json=answer))
        with caplog.at_level(logging.WARNING):
            result = await web.notifications()
    assert [n.notification_id for n in result] == [NOTIFICATION_ID]
    assert any(r.levelno == logging.WARNING for r in caplog.records)


def test_notification_model() -> None:
    webhook, phone = (Notification.from_api(item) for item in NOTIFICATIONS)
    assert webhook.os is NotificationOs.WEBHOOK
    assert webhook.os_code == 2
    assert webhook.status is NotificationStatus.ACTIVE
    assert webhook.reference_id == "crm-42"
    assert webhook.last_active_date == datetime(2026, 11, 20, 7, tzinfo=UTC)
    assert webhook.settings == (
        NotificationSetting(
            trigger_events=("lock", "unlock", "doorsensor"),
            smartlock_id=LOCK,
            auth_ids=("65219648fe57075d71a6cb01",),
        ),
        NotificationSetting(trigger_events=("warnings",)),
    )
    assert phone.os is NotificationOs.UNKNOWN
    assert phone.os_code == 9
    assert phone.settings == ()
    text = repr(webhook) + repr(phone)
    for hidden in ("hooks.example.com", "8d41a187c3954f886f9de3a88c2ef22df0eac190", "fcm-token"):
        assert hidden not in text
    sparse = Notification.from_api({"notificationId": "x"})
    assert sparse.status is NotificationStatus.UNKNOWN
    assert sparse.status_code is None


def test_setting_round_trip() -> None:
    for item in NOTIFICATIONS[0]["settings"]:
        assert NotificationSetting.from_api(item).to_api() == item
    assert NotificationSetting().to_api() == {"triggerEvents": []}
    with pytest.raises(TypeError, match="one string"):
        NotificationSetting(trigger_events="lock")


def test_drift() -> None:
    assert unmapped_keys(Notification.from_api, NOTIFICATIONS) == set()
