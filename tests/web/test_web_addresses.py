"""Address, AddressReservation and AddressToken operations: request shapes and parsing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.addresses import AddressesMixin
from tests.support.canary import WEB_TOKEN
from tests.support.paths import load_fixture

BASE = "https://api.nuki.test"
SL = 17618910285
OPENER = 9028975693
ADDRESS = 3101
UNIT = "66a0b1c2d3e4f5a6b7c8d9e0"
RESERVATION = "66b1c2d3e4f5a6b7c8d9e0f1"
TOKEN = "66a0b1c2d3e4f5a6b7c8d9f1"
CONFIRMATION = {"requestId": "9b7f3c1e-2a4d-4c8b-9e1f-0a2b3c4d5e6f"}

Call = Callable[[Any], Awaitable[Any]]


class _Client(AddressesMixin):
    pass


@pytest.fixture
async def web() -> Any:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)


OPERATION_CALLS: list[tuple[str, str, Call]] = [
    ("GET", "/address", lambda web: web.addresses()),
    ("PUT", "/address", lambda web: web.create_address(name="Lakeside", smartlock_ids=[SL])),
    ("DELETE", "/address/{addressId}", lambda web: web.delete_address(ADDRESS)),
    ("POST", "/address/{addressId}", lambda web: web.update_address(ADDRESS, name="Lakeside")),
    ("DELETE", "/address/{addressId}/unit", lambda web: web.delete_address_units(ADDRESS, [UNIT])),
    ("GET", "/address/{addressId}/unit", lambda web: web.address_units(ADDRESS)),
    ("PUT", "/address/{addressId}/unit", lambda web: web.create_address_unit(ADDRESS, name="A2")),
    (
        "DELETE",
        "/address/{addressId}/unit/{id}",
        lambda web: web.delete_address_unit(ADDRESS, UNIT),
    ),
    ("GET", "/address/{addressId}/reservation", lambda web: web.address_reservations(ADDRESS)),
    (
        "POST",
        "/address/{addressId}/reservation/{id}/issue",
        lambda web: web.issue_reservation(ADDRESS, RESERVATION),
    ),
    (
        "POST",
        "/address/{addressId}/reservation/{id}/revoke",
        lambda web: web.revoke_reservation(ADDRESS, RESERVATION),
    ),
    (
        "POST",
        "/address/{addressId}/reservation/{id}/update/accesstimes",
        lambda web: web.update_reservation_access_times(ADDRESS, RESERVATION, check_in_time=900),
    ),
    ("GET", "/address/token/{id}", lambda web: web.address_token_info(TOKEN)),
    ("GET", "/address/token/{id}/redeem", lambda web: web.redeemed_address_token(TOKEN)),
    ("POST", "/address/token/{id}/redeem", lambda web: web.redeem_address_token(TOKEN)),
    ("GET", "/address/{addressId}/token", lambda web: web.address_tokens(ADDRESS)),
]


def _sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


# call, (method, path, query, body), (status, response JSON), check of the result
CASES: list[Any] = [
    pytest.param(
        lambda web: web.addresses(),
        ("GET", "/address", {}, None),
        (200, "web/addresses.json"),
        lambda r: r[0].smartlock_ids == (SL, OPENER) and r[0].time_zone == "Europe/Vienna",
        id="addresses",
    ),
    pytest.param(
        lambda web: web.create_address(name="Lakeside Apartments", smartlock_ids=[SL, OPENER]),
        ("PUT", "/address", {}, {"name": "Lakeside Apartments", "smartlockIds": [SL, OPENER]}),
        (200, ("web/addresses.json", 0)),
        lambda r: r.address_id == ADDRESS,
        id="create_address",
    ),
    pytest.param(
        lambda web: web.update_address(
            ADDRESS, name="Lakeside", smartlock_ids=[SL], settings={"language": "en"}
        ),
        (
            "POST",
            f"/address/{ADDRESS}",
            {},
            {"name": "Lakeside", "smartlockIds": [SL], "settings": {"language": "en"}},
        ),
        (204, None),
        lambda r: r is None,
        id="update_address",
    ),
    pytest.param(
        lambda web: web.delete_address(ADDRESS),
        ("DELETE", f"/address/{ADDRESS}", {}, None),
        (204, None),
        lambda r: r is None,
        id="delete_address",
    ),
    pytest.param(
        lambda web: web.address_units(ADDRESS),
        ("GET", f"/address/{ADDRESS}/unit", {}, None),
        (200, "web/address_units.json"),
        lambda r: r[0].id == UNIT and r[0].redeem_result == "SUCCESS",
        id="address_units",
    ),
    pytest.param(
        lambda web: web.create_address_unit(ADDRESS, name="Apartment 2"),
        ("PUT", f"/address/{ADDRESS}/unit", {}, {"name": "Apartment 2"}),
        (200, ("web/address_units.json", 0)),
        lambda r: r.address_id == ADDRESS,
        id="create_address_unit",
    ),
    pytest.param(
        lambda web: web.delete_address_units(ADDRESS, [UNIT, "66a0b1c2d3e4f5a6b7c8d9e2"]),
        ("DELETE", f"/address/{ADDRESS}/unit", {}, [UNIT, "66a0b1c2d3e4f5a6b7c8d9e2"]),
        (200, CONFIRMATION),
        lambda r: r.request_id == CONFIRMATION["requestId"],
        id="delete_address_units",
    ),
    pytest.param(
        lambda web: web.delete_address_unit(ADDRESS, UNIT),
        ("DELETE", f"/address/{ADDRESS}/unit/{UNIT}", {}, None),
        (200, CONFIRMATION),
        lambda r: r.error is None,
        id="delete_address_unit",
    ),
    pytest.param(
        lambda web: web.address_reservations(ADDRESS),
        ("GET", f"/address/{ADDRESS}/reservation", {}, None),
        (200, "web/address_reservations.json"),
        lambda r: r[0].guests == 2 and r[0].checked_in is None and r[0].keypad_issued,
        id="address_reservations",
    ),
    pytest.param(
        lambda web: web.issue_reservation(ADDRESS, RESERVATION),
        ("POST", f"/address/{ADDRESS}/reservation/{RESERVATION}/issue", {}, None),
        (204, None),
        lambda r: r is None,
        id="issue_reservation",
    ),
    pytest.param(
        lambda web: web.revoke_reservation(ADDRESS, RESERVATION),
        ("POST", f"/address/{ADDRESS}/reservation/{RESERVATION}/revoke", {}, None),
        (204, None),
        lambda r: r is None,
        id="revoke_reservation",
    ),
    pytest.param(
        lambda web: web.update_reservation_access_times(
            ADDRESS, RESERVATION, check_in_time=900, check_out_time=600
        ),
        (
            "POST",
            f"/address/{ADDRESS}/reservation/{RESERVATION}/update/accesstimes",
            {},
            {"checkInTime": 900, "checkOutTime": 600},
        ),
        (204, None),
        lambda r: r is None,
        id="update_reservation_access_times",
    ),
    pytest.param(
        lambda web: web.address_tokens(ADDRESS),
        ("GET", f"/address/{ADDRESS}/token", {}, None),
        (200, "web/address_tokens.json"),
        lambda r: r[0].redeem_account_id == 402999 and r[0].invite_keys == ("K7Q2-9XPA",),
        id="address_tokens",
    ),
    pytest.param(
        lambda web: web.address_token_info(TOKEN),
        ("GET", f"/address/token/{TOKEN}", {}, None),
        (200, "web/address_token_info.json"),
        lambda r: r.smartlock_names == ("Front door", "Building entrance"),
        id="address_token_info",
    ),
    pytest.param(
        lambda web: web.redeemed_address_token(TOKEN),
        ("GET", f"/address/token/{TOKEN}/redeem", {}, None),
        (200, ("web/address_tokens.json", 0)),
        lambda r: r.id == TOKEN,
        id="redeemed_address_token",
    ),
    pytest.param(
        lambda web: web.redeem_address_token(TOKEN, email=False),
        ("POST", f"/address/token/{TOKEN}/redeem", {"email": "false"}, None),
        (204, None),
        lambda r: r is None,
        id="redeem_address_token",
    ),
]


def _response(spec: Any) -> Any:
    if isinstance(spec, str):
        return load_fixture(spec)
    if isinstance(spec, tuple):
        return load_fixture(spec[0])[spec[1]]
    return spec


@pytest.mark.parametrize(("call", "expected", "answer", "check"), CASES)
async def test_operation(web, call, expected, answer, check) -> None:
    method, path, query, body = expected
    status, response = answer
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.route(method=method, path=path)
        if response is None:
            route.respond(status)
        else:
            route.respond(status, json=_response(response))
        result = await call(web)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"
    assert dict(request.url.params) == query
    assert _sent_json(request) == body
    assert check(result)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda web: web.create_address(name="A", smartlock_ids=[SL]), "/address"),
        (lambda web: web.delete_address_unit(ADDRESS, UNIT), f"/address/{ADDRESS}/unit/{UNIT}"),
        (lambda web: web.address_token_info(TOKEN), f"/address/token/{TOKEN}"),
    ],
)
async def test_unusable_object_raises(web, call, path) -> None:
    with respx.mock(base_url=BASE) as router:
        router.route(path=path).respond(200, json={"unexpected": True})
        with pytest.raises(NukiInvalidResponseError) as info:
            await call(web)
    assert TOKEN not in str(info.value)


async def test_list_that_is_not_a_list_raises(web) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get("/address").respond(204)
        with pytest.raises(NukiInvalidResponseError):
            await web.addresses()


@pytest.mark.parametrize(
    "call",
    [
        lambda web: web.create_address(name="", smartlock_ids=[SL]),
        lambda web: web.update_address(ADDRESS),
        lambda web: web.create_address_unit(ADDRESS, name=""),
        lambda web: web.delete_address_units(ADDRESS, []),
        lambda web: web.delete_address_units(ADDRESS, UNIT),
        lambda web: web.delete_address_units(ADDRESS, [""]),
        lambda web: web.delete_address_unit(ADDRESS, "a/b"),
        lambda web: web.issue_reservation(ADDRESS, ""),
        lambda web: web.update_reservation_access_times(ADDRESS, RESERVATION),
        lambda web: web.update_reservation_access_times(ADDRESS, RESERVATION, check_out_time=1440),
        lambda web: web.address_token_info(""),
    ],
)
async def test_bad_arguments_raise_before_io(web, call) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.route().respond(204)
        with pytest.raises(ValueError, match=r"\w"):
            await call(web)
    assert route.call_count == 0
