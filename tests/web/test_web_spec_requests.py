"""Every request the Web API client sends conforms to the spec: bodies, query, path.

The calls are those the tests/web/test_web_*.py modules already list (OPERATION_CALLS, every
Case, WRITES and REQUEST_CALLS), so each of the 104 operations is checked with at least one
real call and most with several variants. See tests/support/spec_requests.py for the rules.
"""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import httpx
import pytest
import respx

from nukiasync.errors import NukiError
from nukiasync.web.client import NukiWebClient
from nukiasync.web.models._read_only import READ_ONLY, REQUIRED
from nukiasync.web.models.smartlock_update import (
    OpenerAdvancedConfigUpdate,
    SmartdoorAdvancedConfigUpdate,
    SmartlockAdvancedConfigUpdate,
    SmartlockConfigUpdate,
)
from tests.support.canary import WEB_TOKEN
from tests.support.paths import load_fixture
from tests.support.spec_requests import DEFINITIONS, SPEC, operation_of, request_errors
from tests.support.web_calls import CALLS, Call
from tests.support.web_cases import DEVICE

BASE = "https://api.nuki.test"
NOTIFICATION = load_fixture("web/notifications.json")[0]
SL = 17618910285


async def _sent(call: Call) -> list[httpx.Request]:
    async with httpx.AsyncClient() as http:
        web = NukiWebClient(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)
        with respx.mock(base_url=BASE, assert_all_called=False) as router:
            # A partial settings update first reads the device it completes the body from.
            router.get(path__regex=r"^/smartlock/\d+$").respond(200, json=DEVICE)
            router.get(path__regex=r"^/notification/[^/]+$").respond(200, json=NOTIFICATION)
            router.route().respond(204)
            with contextlib.suppress(NukiError):  # a 204 is not every read's answer
                await call(web)
            return [request for request, _ in router.calls]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
async def test_request_conforms_to_the_spec(name: str, call: Call) -> None:
    requests = await _sent(call)
    assert requests, f"{name} sent nothing"
    for request in requests:
        assert request_errors(request) == []


async def test_every_operation_is_checked() -> None:
    checked: set[tuple[str, str]] = set()
    for _, call in CALLS:
        for request in await _sent(call):
            spec_path, _, _ = operation_of(request.method, request.url.path)
            checked.add((request.method, spec_path))
    spec = {
        (method.upper(), path)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete"}
    }
    assert spec - checked == set()


def test_read_only_table_matches_the_spec() -> None:
    """The library's table of read-only properties is the spec's, for every request body."""
    bodies: set[str] = set()

    def walk(schema: dict[str, Any]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in bodies:
                bodies.add(name)
                for prop in DEFINITIONS[name].get("properties", {}).values():
                    walk(prop)
        if "items" in schema:
            walk(schema["items"])

    for item in SPEC["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                if param["in"] == "body":
                    walk(param["schema"])
    expected = {
        name: frozenset(
            key for key, prop in DEFINITIONS[name].get("properties", {}).items()
            if prop.get("readOnly")
        )
        for name in bodies
    }  # fmt: skip
    assert dict(READ_ONLY) == {name: keys for name, keys in expected.items() if keys}
    for name, keys in REQUIRED.items():
        writable_required = set(DEFINITIONS[name]["required"]) - READ_ONLY.get(name, set())
        assert keys == writable_required, name


# One value per JSON type, for filling every field of an update model.
_SAMPLES = {"bool": True, "int": 1, "float": 1.5, "str": "x"}


def _every_field_set(cls: type[Any], definition: str) -> Any:
    """``cls`` with every field set to a value its spec property allows."""
    values = {}
    for field in attrs.fields(cls):
        sample = _SAMPLES[str(field.type).split(" | ")[0]]
        (wire,) = cls(**{field.name: sample}).to_api()
        values[field.name] = DEFINITIONS[definition]["properties"][wire].get("enum", [sample])[0]
    return cls(**values)


UPDATES = [
    ("update_config", SmartlockConfigUpdate, "Smartlock.Config"),
    ("update_advanced_config", SmartlockAdvancedConfigUpdate, "Smartlock.AdvancedConfig"),
    (
        "update_opener_advanced_config",
        OpenerAdvancedConfigUpdate,
        "Smartlock.OpenerAdvancedConfig",
    ),
    (
        "update_smartdoor_advanced_config",
        SmartdoorAdvancedConfigUpdate,
        "Smartlock.SmartdoorAdvancedConfig",
    ),
]


@pytest.mark.parametrize(("method", "cls", "definition"), UPDATES, ids=[u[0] for u in UPDATES])
async def test_update_models_send_only_writable_fields(
    method: str, cls: type[Any], definition: str
) -> None:
    """Every field an update model has goes on the wire, and each one is writable."""
    update = _every_field_set(cls, definition)
    (request,) = await _sent(lambda web: getattr(web, method)(SL, update))
    assert request_errors(request) == []
    assert len(update.to_api()) == len(attrs.fields(cls)), "a field is silently dropped"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"action": 2, "option": 4}, None),
        ({"action": 2, "option": 4, "full": True}, "Additional properties"),
        ({"option": 4}, "'action' is a required property"),
        ({"action": "2"}, "is not of type 'integer'"),
        ({"action": 8}, "greater than the maximum"),
    ],
)
def test_the_checker_fails_on_extra_missing_and_mistyped_fields(body, error) -> None:
    request = httpx.Request("POST", f"{BASE}/smartlock/{SL}/action", json=body)
    errors = request_errors(request)
    assert (errors == []) if error is None else any(error in e for e in errors), errors


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "error"),
    [
        ("POST", f"/smartlock/{SL}/config", {"json": {"name": "x", "wifiEnabled": True}},
         "'wifiEnabled' was unexpected"),
        ("POST", f"/smartlock/{SL}/advanced/config", {"json": {"totalDegrees": 720}},
         "'totalDegrees' was unexpected"),
        ("GET", "/smartlock", {"params": {"typ": "0"}}, "'typ' is not in the spec"),
        ("GET", "/smartlock", {"params": {"type": "x"}}, "is not an integer"),
        ("GET", "/smartlock/x", {}, "is not an integer"),
        ("POST", f"/smartlock/{SL}/sync", {"json": {}}, "declares none"),
        ("POST", f"/smartlock/{SL}/action", {}, "required body missing"),
        ("PUT", "/smartlock/auth/advanced",
         {"json": {"smartlockIds": [1], "name": "n", "accountUserId": 1, "remoteAllowed": True,
                   "allowedFromDate": "yesterday"}}, "is not a 'date-time'"),
    ],
)  # fmt: skip
def test_the_checker_fails_on_read_only_and_undeclared_values(method, path, kwargs, error):
    request = httpx.Request(method, BASE + path, **kwargs)
    errors = request_errors(request)
    assert any(error in e for e in errors), errors
