"""SmartlockLog operations and model: request shapes, the id cursor, tolerant parsing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from nukiasync.const import DeviceType, LogAction, LogSource, LogState, LogTrigger, OpenerLogSource
from nukiasync.web.logs import LogsMixin
from nukiasync.web.models.log import SmartlockLog
from tests.support.canary import WEB_TOKEN
from tests.support.paths import load_fixture

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

BASE = "https://api.nuki.test"
SL = 17618910285


class _Client(LogsMixin):
    pass


@pytest.fixture
async def web() -> Any:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE)


OPERATION_CALLS: list[tuple[str, str, Callable[[Any], Awaitable[Any]]]] = [
    ("GET", "/smartlock/log", lambda web: web.logs()),
    ("GET", "/smartlock/{smartlockId}/log", lambda web: web.logs(SL)),
]


def _entry(i: int, smartlock_id: int = SL) -> dict[str, Any]:
    return {
        "id": f"{i:024x}",
        "smartlockId": smartlock_id,
        "action": 2,
        "trigger": 6,
        "state": 0,
        "name": "",
        "date": f"2026-11-20T07:{i % 60:02d}:00.000Z",
    }


async def test_account_wide_logs_request_shape(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/log").respond(
            200, json=load_fixture("web/smartlock_log.json")
        )
        entries = await web.logs(
            limit=50,
            from_date=datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
            to_date=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            action=LogAction.UNLOCK,
            account_user_id=123456,
            before_id="65a1f0c2e4b0a1b2c3d4e5f6",
        )
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"
    assert dict(request.url.params) == {
        "limit": "50",
        "fromDate": "2026-11-20T07:00:00.000Z",
        "toDate": "2026-11-20T08:00:00.000Z",
        "action": "1",
        "accountUserId": "123456",
        "id": "65a1f0c2e4b0a1b2c3d4e5f6",
    }
    assert request.content == b""
    assert next(e.id for e in entries) == "65a1f0c2e4b0a1b2c3d4e5f6"
    assert len(entries) == 5


async def test_one_lock_logs_with_auth_filter(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get(f"/smartlock/{SL}/log").respond(200, json=[])
        assert await web.logs(SL, auth_id="65219648fe57075d71a6cb01") == []
    assert dict(route.calls.last.request.url.params) == {
        "limit": "20",
        "authId": "65219648fe57075d71a6cb01",
    }


async def test_logs_argument_validation(web) -> None:
    with pytest.raises(ValueError, match="limit"):
        await web.logs(limit=51)
    with pytest.raises(ValueError, match="limit"):
        await web.logs(limit=0)
    with pytest.raises(ValueError, match="smartlock_id"):
        await web.logs(auth_id="x")


async def test_iter_logs_walks_the_id_cursor(web) -> None:
    pages = [[_entry(i) for i in range(p * 50, p * 50 + 50)] for p in range(2)]
    pages.append([_entry(i) for i in range(100, 110)])
    with respx.mock(base_url=BASE) as router:
        route = router.get(f"/smartlock/{SL}/log")
        route.side_effect = [httpx.Response(200, json=page) for page in pages]
        ids = [entry.id async for entry in web.iter_logs(SL)]
    assert len(ids) == 110
    assert len(set(ids)) == 110
    cursors = [call.request.url.params.get("id") for call in route.calls]
    assert cursors == [None, f"{49:024x}", f"{99:024x}"]
    assert {call.request.url.params["limit"] for call in route.calls} == {"50"}


async def test_iter_logs_stops_at_max_entries_and_on_repeated_pages(web) -> None:
    page = [_entry(i) for i in range(50)]
    with respx.mock(base_url=BASE) as router:
        route = router.get("/smartlock/log").respond(200, json=page)
        first = [e async for e in web.iter_logs(max_entries=3)]
        assert len(first) == 3
        assert route.call_count == 1
        # A server that ignores the cursor must not make us loop forever.
        everything = [e async for e in web.iter_logs()]
    assert len(everything) == 50
    assert route.call_count == 3


async def test_iter_logs_empty(web) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/smartlock/log").respond(200, json=[])
        assert [e async for e in web.iter_logs()] == []


def test_model_parses_fixture_tolerantly() -> None:
    entries = [SmartlockLog.from_api(d) for d in load_fixture("web/smartlock_log.json")]
    app, keypad, door, ring, ajar = entries
    assert app.action is LogAction.UNLOCK
    assert app.trigger is LogTrigger.APP
    assert app.succeeded
    assert app.auth_id == "65219648fe57075d71a6cb01"
    assert app.account_user_id == 123456
    assert app.device_type is DeviceType.SMARTLOCK_3
    assert app.date == datetime(2026, 11, 20, 7, 15, 2, tzinfo=UTC)
    assert keypad.state is LogState.INVALID_CODE
    assert keypad.state_code == 224
    assert not keypad.succeeded
    assert keypad.source is LogSource.KEYPAD_CODE
    assert door.action is LogAction.DOOR_CLOSED
    assert door.auth_id is None
    assert ring.action is LogAction.DOORBELL_RECOGNITION
    assert ring.opener_log is not None
    assert ring.opener_log.active_rto
    assert ring.opener_log.source is OpenerLogSource.DOORBELL
    assert ajar.ajar_timeout == 5
    assert ajar.action is LogAction.DOOR_WARNING_AJAR


def test_model_keeps_unknown_codes_and_redacts_names() -> None:
    data = {
        **_entry(1),
        "action": 99,
        "trigger": 77,
        "state": 230,
        "source": 9,
        "deviceType": 9,
        "authId": 12345,
        "name": "Alice Example",
        "futureKey": {"x": 1},
    }
    entry = SmartlockLog.from_api(data)
    assert (entry.action, entry.action_code) == (LogAction.UNKNOWN, 99)
    assert (entry.trigger, entry.trigger_code) == (LogTrigger.UNKNOWN, 77)
    assert (entry.state, entry.state_code) == (LogState.UNKNOWN, 230)
    assert (entry.source, entry.source_code) == (LogSource.UNKNOWN, 9)
    assert (entry.device_type, entry.device_type_code) == (DeviceType.UNKNOWN, 9)
    assert entry.auth_id == "12345"
    assert entry.raw["futureKey"] == {"x": 1}
    assert "Alice" not in repr(entry)
    assert "Alice" not in str(entry)


@pytest.mark.parametrize(
    "broken",
    [
        {"smartlockId": SL, "action": 1, "date": "2026-11-20T07:00:00Z"},  # no id
        {"id": "a", "smartlockId": SL, "action": None, "date": "2026-11-20T07:00:00Z"},
        {"id": "a", "smartlockId": None, "action": 1, "date": "2026-11-20T07:00:00Z"},
        {"id": "a", "smartlockId": SL, "action": 1, "date": "yesterday"},
        {"id": "a", "smartlockId": SL, "action": 1, "date": 12},
        {"id": "a", "smartlockId": SL, "action": True, "date": "2026-11-20T07:00:00Z"},
    ],
)
async def test_bad_list_item_is_skipped_with_warning(web, broken, caplog) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/smartlock/log").respond(200, json=[_entry(1), broken, "nope", _entry(2)])
        with caplog.at_level(logging.WARNING):
            entries = await web.logs()
    assert [e.id for e in entries] == [f"{1:024x}", f"{2:024x}"]
    assert sum("Skipping log entry" in r.message for r in caplog.records) == 2


async def test_list_endpoint_answering_an_object_is_invalid(web) -> None:
    from nukiasync.errors import NukiInvalidResponseError

    with respx.mock(base_url=BASE) as router:
        router.get("/smartlock/log").respond(200, json={"not": "a list"})
        with pytest.raises(NukiInvalidResponseError):
            await web.logs()


# Keys of the fixture the model does not map, on purpose.
IGNORED_KEYS: set[str] = set()
MAPPED_KEYS = {
    "id", "smartlockId", "deviceType", "accountUserId", "authId", "name", "action", "trigger",
    "state", "autoUnlock", "date", "source", "ajarTimeout", "openerLog", "error",
}  # fmt: skip


def test_fixture_has_no_unmapped_keys() -> None:
    keys = {key for entry in load_fixture("web/smartlock_log.json") for key in entry}
    assert keys - MAPPED_KEYS - IGNORED_KEYS == set()
