"""SmartlockAuth operations: request shapes, pages, keypad-code rules, secrets kept out."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from nukiasync.const import AuthType
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.auths import AuthsMixin
from nukiasync.web.models.auth import SmartlockAuthUpdate
from tests.support.canary import KEYPAD_CODE, WEB_TOKEN
from tests.support.paths import load_fixture

BASE = "https://api.nuki.test"
SL = 17618910285
SL2 = 9028975693
AUTH = "65f1c0a2e4b0c1d2e3f4a5b6"
AUTH2 = "65f1c0a2e4b0c1d2e3f4a5b7"
USER = 512001

Call = Callable[[Any], Awaitable[Any]]


class _Client(AuthsMixin):
    pass


@pytest.fixture
async def web() -> Any:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)


OPERATION_CALLS: list[tuple[str, str, Call]] = [
    ("DELETE", "/smartlock/auth", lambda web: web.delete_auths([AUTH])),
    ("GET", "/smartlock/auth", lambda web: web.auths()),
    (
        "POST",
        "/smartlock/auth",
        lambda web: web.update_auths([SmartlockAuthUpdate(id=AUTH, name="Anna")]),
    ),
    (
        "PUT",
        "/smartlock/auth",
        lambda web: web.create_auths([SL], name="Anna", account_user_id=USER),
    ),
    ("GET", "/smartlock/auth/paged", lambda web: web.auths_page()),
    ("GET", "/smartlock/{smartlockId}/auth", lambda web: web.smartlock_auths(SL)),
    (
        "PUT",
        "/smartlock/{smartlockId}/auth",
        lambda web: web.create_smartlock_auth(SL, name="Anna", account_user_id=USER),
    ),
    (
        "POST",
        "/smartlock/{smartlockId}/auth/advanced/sharedkey",
        lambda web: web.create_shared_key_auth(SL, name="Anna"),
    ),
    (
        "DELETE",
        "/smartlock/{smartlockId}/auth/{id}",
        lambda web: web.delete_smartlock_auth(SL, AUTH),
    ),
    ("GET", "/smartlock/{smartlockId}/auth/{id}", lambda web: web.smartlock_auth(SL, AUTH)),
    (
        "POST",
        "/smartlock/{smartlockId}/auth/{id}",
        lambda web: web.update_smartlock_auth(SL, AUTH, name="Anna"),
    ),
]

FROM = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 4, 11, 0, tzinfo=timezone(timedelta(hours=1)))

WINDOW_ARGS: dict[str, Any] = {
    "allowed_from_date": FROM,
    "allowed_until_date": UNTIL,
    "allowed_week_days": 127,
    "allowed_from_time": 0,
    "allowed_until_time": 1439,
}
WINDOW_BODY: dict[str, Any] = {
    "allowedFromDate": "2026-12-01T15:00:00.000Z",
    "allowedUntilDate": "2026-12-04T10:00:00.000Z",
    "allowedWeekDays": 127,
    "allowedFromTime": 0,
    "allowedUntilTime": 1439,
}


def _sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


WRITES: list[Any] = [
    pytest.param(
        lambda web: web.create_smartlock_auth(
            SL, name="Anna", account_user_id=USER, remote_allowed=True, **WINDOW_ARGS
        ),
        ("PUT", f"/smartlock/{SL}/auth"),
        {"name": "Anna", "type": 0, "remoteAllowed": True, "accountUserId": USER, **WINDOW_BODY},
        id="create_app_auth",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(
            SL,
            name="Cleaner",
            type=AuthType.KEYPAD_CODE,
            code=KEYPAD_CODE,
            smart_actions_enabled=False,
            allowed_week_days=96,
        ),
        ("PUT", f"/smartlock/{SL}/auth"),
        {
            "name": "Cleaner",
            "type": 13,
            "remoteAllowed": False,
            "code": KEYPAD_CODE,
            "smartActionsEnabled": False,
            "allowedWeekDays": 96,
        },
        id="create_keypad_code",
    ),
    pytest.param(
        lambda web: web.create_auths(
            [SL, SL2], name="Fob", type=AuthType.FOB, account_user_id=USER
        ),
        ("PUT", "/smartlock/auth"),
        {
            "name": "Fob",
            "type": 2,
            "remoteAllowed": False,
            "accountUserId": USER,
            "smartlockIds": [SL, SL2],
        },
        id="create_auths",
    ),
    pytest.param(
        lambda web: web.update_smartlock_auth(
            SL, AUTH2, name="Cleaner", enabled=False, code=KEYPAD_CODE, allowed_from_time=480
        ),
        ("POST", f"/smartlock/{SL}/auth/{AUTH2}"),
        {"name": "Cleaner", "enabled": False, "code": KEYPAD_CODE, "allowedFromTime": 480},
        id="update_smartlock_auth",
    ),
    pytest.param(
        lambda web: web.update_auths(
            [
                SmartlockAuthUpdate(id=AUTH, name="Anna", remote_allowed=False),
                SmartlockAuthUpdate(
                    id=AUTH2, name="Cleaner", account_user_id=USER, allowed_until_date=UNTIL
                ),
            ]
        ),
        ("POST", "/smartlock/auth"),
        [
            {"id": AUTH, "name": "Anna", "remoteAllowed": False},
            {
                "id": AUTH2,
                "name": "Cleaner",
                "accountUserId": USER,
                "allowedUntilDate": "2026-12-04T10:00:00.000Z",
            },
        ],
        id="update_auths",
    ),
    pytest.param(
        lambda web: web.delete_smartlock_auth(SL, AUTH),
        ("DELETE", f"/smartlock/{SL}/auth/{AUTH}"),
        None,
        id="delete_smartlock_auth",
    ),
    pytest.param(
        lambda web: web.delete_auths([AUTH, AUTH2]),
        ("DELETE", "/smartlock/auth"),
        [AUTH, AUTH2],
        id="delete_auths",
    ),
]


@pytest.mark.parametrize(("call", "where", "body"), WRITES)
async def test_write_request_shape(web, call, where, body) -> None:
    method, path = where
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.route(method=method, path=path).respond(204)
        assert await call(web) is None
    assert route.call_count == 1
    request = route.calls.last.request
    assert dict(request.url.params) == {}
    assert _sent_json(request) == body


async def test_auths_of_all_devices(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/auth").respond(
            200, json=load_fixture("web/smartlock_auths.json")
        )
        auths = await web.auths(account_user_id=-1, types=[AuthType.APP, 13])
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"
    assert dict(request.url.params) == {"accountUserId": "-1", "types": "0,13"}
    assert [a.type for a in auths] == [
        AuthType.APP,
        AuthType.KEYPAD_CODE,
        AuthType.FOB,
        AuthType.KEYPAD,
    ]
    assert auths[1].code == KEYPAD_CODE
    assert str(KEYPAD_CODE) not in repr(auths)


async def test_auths_of_one_device(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get(f"/smartlock/{SL}/auth").respond(
            200, json=load_fixture("web/smartlock_auths.json")[:1]
        )
        auths = await web.smartlock_auths(SL, types=[2])
    assert dict(route.calls.last.request.url.params) == {"types": "2"}
    assert auths[0].auth_id == 3


async def test_one_auth(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get(f"/smartlock/{SL}/auth/{AUTH2}").respond(
            200, json=load_fixture("web/smartlock_auths.json")[1]
        )
        auth = await web.smartlock_auth(SL, AUTH2)
    assert route.calls.last.request.method == "GET"
    assert auth.is_keypad_code


async def test_one_auth_unusable(web) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get(f"/smartlock/{SL}/auth/{AUTH}").respond(200, json={"name": "no ids"})
        with pytest.raises(NukiInvalidResponseError):
            await web.smartlock_auth(SL, AUTH)


async def test_shared_key_auth(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.post(f"/smartlock/{SL}/auth/advanced/sharedkey").respond(
            200, json=load_fixture("web/smartlock_auths.json")[:1]
        )
        created = await web.create_shared_key_auth(
            SL, name="Anna", account_user_id=USER, **WINDOW_ARGS
        )
    assert _sent_json(route.calls.last.request) == {
        "name": "Anna",
        "accountUserId": USER,
        **WINDOW_BODY,
    }
    assert created[0].id == AUTH


async def test_auths_page(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/auth/paged").respond(
            200, json=load_fixture("web/smartlock_auths_page.json")
        )
        page = await web.auths_page(page=0, size=2, types=[0, 13], account_user_id=USER)
    assert dict(route.calls.last.request.url.params) == {
        "page": "0",
        "size": "2",
        "types": "0,13",
        "accountUserId": str(USER),
    }
    assert [a.id for a in page.results] == [AUTH, AUTH2]
    assert (page.total_items, page.total_pages, page.current_page, page.page_size) == (4, 2, 0, 2)
    assert page.next_page == "1"
    assert page.prev_page is None
    assert page.has_next


async def test_auths_page_defaults_and_bad_page(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/auth/paged").respond(200, json=["not", "a", "page"])
        with pytest.raises(NukiInvalidResponseError):
            await web.auths_page()
    assert dict(route.calls.last.request.url.params) == {"page": "0", "size": "100"}


async def test_iter_auths_walks_pages(web) -> None:
    auths = load_fixture("web/smartlock_auths.json")

    def page(number: int) -> dict[str, Any]:
        return {
            "results": auths[number * 2 : number * 2 + 2],
            "pagination": {"totalItems": 4, "totalPages": 2, "currentPage": number, "pageSize": 2},
        }

    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/auth/paged")
        route.side_effect = [httpx.Response(200, json=page(0)), httpx.Response(200, json=page(1))]
        seen = [auth.id async for auth in web.iter_auths(page_size=2, types=[0])]
    assert len(seen) == 4
    assert [dict(call.request.url.params)["page"] for call in route.calls] == ["0", "1"]


async def test_iter_auths_stops_on_an_empty_page(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/auth/paged").respond(
            200, json={"results": [], "pagination": {"nextPage": "1"}}
        )
        assert [auth async for auth in web.iter_auths()] == []
    assert route.call_count == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"results": None, "pagination": {"totalItems": 0, "totalPages": 0, "currentPage": 0}},
        {"results": None, "pagination": None},
        {"pagination": {"currentPage": 0}},
    ],
)
async def test_null_results_are_an_empty_page(web, answer) -> None:
    """Issue 12: "results": null failed the whole page; a null optional list is empty."""
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.get("/smartlock/auth/paged").respond(200, json=answer)
        page = await web.auths_page()
        assert page.results == []
        assert [auth async for auth in web.iter_auths()] == []
    assert route.call_count == 2


BAD_CALLS: list[Any] = [
    pytest.param(lambda web: web.create_smartlock_auth(SL, name="A"), id="no_account_user"),
    pytest.param(
        lambda web: web.create_smartlock_auth(SL, name="", account_user_id=USER), id="empty_name"
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(SL, name="Code", type=AuthType.KEYPAD_CODE),
        id="keypad_without_code",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(SL, name="Code", type=13, code=123450),
        id="code_with_zero",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(SL, name="Code", type=13, code=12345),
        id="code_five_digits",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(SL, name="Code", type=13, code=True),
        id="code_bool",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(
            SL, name="App", account_user_id=USER, code=KEYPAD_CODE
        ),
        id="code_for_app",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(
            SL, name="App", account_user_id=USER, allowed_week_days=128
        ),
        id="weekdays",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(
            SL, name="App", account_user_id=USER, allowed_until_time=1440
        ),
        id="until_time",
    ),
    pytest.param(
        lambda web: web.create_smartlock_auth(
            SL,
            name="App",
            account_user_id=USER,
            allowed_from_date=datetime(2026, 1, 1),  # noqa: DTZ001
        ),
        id="naive_date",
    ),
    pytest.param(lambda web: web.create_auths([], name="A", account_user_id=USER), id="no_locks"),
    pytest.param(lambda web: web.create_shared_key_auth(SL, name=""), id="shared_no_name"),
    pytest.param(
        lambda web: web.update_smartlock_auth(SL, AUTH, name="A", code=99999), id="update_code"
    ),
    pytest.param(lambda web: web.update_smartlock_auth(SL, "", name="A"), id="update_empty_id"),
    pytest.param(
        lambda web: web.update_auths([SmartlockAuthUpdate(id="", name="A")]), id="multi_empty_id"
    ),
    pytest.param(lambda web: web.update_auths([]), id="no_updates"),
    pytest.param(lambda web: web.delete_auths([]), id="delete_none"),
    pytest.param(lambda web: web.delete_auths(AUTH), id="delete_a_string"),
    pytest.param(lambda web: web.delete_smartlock_auth(SL, "a/b"), id="slash"),
    pytest.param(lambda web: web.smartlock_auth(SL, " "), id="blank"),
    pytest.param(lambda web: web.auths_page(page=-1), id="negative_page"),
    pytest.param(lambda web: web.auths_page(size=0), id="zero_size"),
]


@pytest.mark.parametrize("call", BAD_CALLS)
async def test_bad_arguments_raise_before_io(web, call) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.route().respond(204)
        with pytest.raises(ValueError, match=r"\w") as info:
            await call(web)
    assert route.call_count == 0
    assert str(KEYPAD_CODE) not in str(info.value)


def test_update_item_repr_hides_code_and_name() -> None:
    update = SmartlockAuthUpdate(id=AUTH, name="Jonas Keller", code=KEYPAD_CODE)
    assert str(KEYPAD_CODE) not in repr(update)
    assert "Jonas" not in repr(update)


async def test_shared_key_auth_minimal_body(web) -> None:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.post(f"/smartlock/{SL}/auth/advanced/sharedkey").respond(200, json=[])
        assert await web.create_shared_key_auth(SL, name="Anna") == []
    assert _sent_json(route.calls.last.request) == {"name": "Anna"}
