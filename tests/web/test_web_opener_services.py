"""Opener (intercom catalogue) and Service operations: request shapes and parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.models.opener import IntercomVerification
from nukiasync.web.opener import OpenerMixin
from nukiasync.web.services import ServicesMixin
from tests.support.canary import WEB_TOKEN
from tests.support.paths import load_fixture

BASE = "https://api.nuki.test"

Call = Callable[[Any], Awaitable[Any]]


class _Client(OpenerMixin, ServicesMixin):
    pass


@pytest.fixture
async def web() -> Any:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)


OPERATION_CALLS: list[tuple[str, str, Call]] = [
    ("GET", "/opener/brand", lambda web: web.opener_brands()),
    ("GET", "/opener/brand/{brandId}", lambda web: web.opener_brand(14)),
    ("GET", "/opener/intercom", lambda web: web.opener_intercoms(brand_id=14)),
    ("GET", "/opener/intercom/{intercomId}", lambda web: web.opener_intercom(1034)),
    ("GET", "/service", lambda web: web.services()),
    ("GET", "/service/{serviceId}", lambda web: web.service("airbnb")),
    ("POST", "/service/{serviceId}/link", lambda web: web.link_service("airbnb")),
    ("POST", "/service/{serviceId}/sync", lambda web: web.sync_service("airbnb")),
    ("POST", "/service/{serviceId}/unlink", lambda web: web.unlink_service("airbnb")),
]

LINK = "https://www.airbnb.com/oauth2/auth?client_id=nuki"

CASES: list[Any] = [
    pytest.param(
        lambda web: web.opener_brands(),
        ("GET", "/opener/brand", {}),
        "web/opener_brands.json",
        lambda r: [(b.brand_id, b.brand) for b in r] == [(14, "Siedle"), (22, "Ritto")],
        id="opener_brands",
    ),
    pytest.param(
        lambda web: web.opener_brand(14),
        ("GET", "/opener/brand/14", {}),
        ("web/opener_brands.json", 0),
        lambda r: r.brand == "Siedle",
        id="opener_brand",
    ),
    pytest.param(
        lambda web: web.opener_intercoms(brand_id=14, ignore_verified=True),
        ("GET", "/opener/intercom", {"brandId": "14", "ignoreVerified": "true"}),
        "web/opener_intercoms.json",
        lambda r: r[0].verified is IntercomVerification.VERIFIED and r[0].con_bus_audio is None,
        id="opener_intercoms",
    ),
    pytest.param(
        lambda web: web.opener_intercoms(recently_changed=True),
        ("GET", "/opener/intercom", {"recentlyChanged": "true"}),
        "web/opener_intercoms.json",
        lambda r: len(r) == 1,
        id="opener_intercoms_recent",
    ),
    pytest.param(
        lambda web: web.opener_intercom(1034),
        ("GET", "/opener/intercom/1034", {}),
        ("web/opener_intercoms.json", 0),
        lambda r: r.model == "HTA 811-0" and r.con_opendoor == "15",
        id="opener_intercom",
    ),
    pytest.param(
        lambda web: web.services(service_ids=["airbnb", "smoobu"]),
        ("GET", "/service", {"serviceIds": "airbnb,smoobu"}),
        "web/services.json",
        lambda r: r[0].enabled and r[0].started and not r[0].stopped,
        id="services",
    ),
    pytest.param(
        lambda web: web.service("airbnb"),
        ("GET", "/service/airbnb", {}),
        ("web/services.json", 0),
        lambda r: r.enabled,
        id="service",
    ),
    pytest.param(
        lambda web: web.link_service("airbnb"),
        ("POST", "/service/airbnb/link", {}),
        LINK,
        lambda r: r == LINK,
        id="link_service",
    ),
    pytest.param(
        lambda web: web.sync_service("airbnb"),
        ("POST", "/service/airbnb/sync", {}),
        None,
        lambda r: r is None,
        id="sync_service",
    ),
    pytest.param(
        lambda web: web.unlink_service("airbnb"),
        ("POST", "/service/airbnb/unlink", {}),
        None,
        lambda r: r is None,
        id="unlink_service",
    ),
]


def _response(spec: Any) -> Any:
    if isinstance(spec, str) and spec.startswith("web/"):
        return load_fixture(spec)
    if isinstance(spec, tuple):
        return load_fixture(spec[0])[spec[1]]
    return spec


@pytest.mark.parametrize(("call", "expected", "answer", "check"), CASES)
async def test_operation(web, call, expected, answer, check) -> None:
    method, path, query = expected
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        route = router.route(method=method, path=path)
        if answer is None:
            route.respond(204)
        else:
            route.respond(200, json=_response(answer))
        result = await call(web)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"
    assert dict(request.url.params) == query
    assert request.content == b""
    assert check(result)


async def test_link_service_without_a_string_raises(web) -> None:
    with respx.mock(base_url=BASE) as router:
        router.post("/service/airbnb/link").respond(200, json={"url": LINK})
        with pytest.raises(NukiInvalidResponseError):
            await web.link_service("airbnb")


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/opener/brand/14", lambda web: web.opener_brand(14)),
        ("/opener/intercom/7", lambda web: web.opener_intercom(7)),
        ("/service/airbnb", lambda web: web.service("airbnb")),
    ],
)
async def test_unusable_object_raises(web, path, call) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get(path).respond(200, json=[])
        with pytest.raises(NukiInvalidResponseError):
            await call(web)


@pytest.mark.parametrize(
    "call",
    [
        lambda web: web.opener_intercoms(),
        lambda web: web.opener_intercoms(recently_changed=False),
        lambda web: web.service(""),
        lambda web: web.link_service("a/b"),
        lambda web: web.sync_service(" "),
    ],
)
async def test_bad_arguments_raise_before_io(web, call) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.route().respond(204)
        with pytest.raises(ValueError, match=r"\w"):
            await call(web)
    assert route.call_count == 0
