"""The request-table runner, the drift recorder and a device with every block: shared by the
Web API test modules (tests/web/)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
import httpx
import respx

from tests.support.paths import FIXTURES, load_fixture

BASE = "https://api.nuki.test"
SPEC = FIXTURES / "spec" / "nuki-web-api-swagger.json"
Call = Callable[[Any], Awaitable[Any]]


# --- shared helpers -----------------------------------------------------------------------


@attrs.frozen
class Case:
    """One operation call and exactly what it must send; `check` looks at the result."""

    id: str
    spec: tuple[str, str]  # (method, path template as in the spec)
    call: Call
    path: str
    params: Mapping[str, str] = attrs.field(factory=dict)
    body: Any = None  # None: no request body at all
    status: int = 204
    response: Any = None
    check: Callable[[Any], None] | None = None


def operation_calls(cases: Iterable[Case]) -> list[tuple[str, str, Call]]:
    """One (method, spec path, call) per spec operation, for the lead's coverage test."""
    seen: dict[tuple[str, str], Call] = {}
    for case in cases:
        seen.setdefault(case.spec, case.call)
    return [(method, path, call) for (method, path), call in seen.items()]


def spec_operations(*tags: str) -> set[tuple[str, str]]:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if set(operation.get("tags", ())) & set(tags)
    }


async def run_case(web: Any, case: Case) -> httpx.Request:
    """Send the case's call against a catch-all mock; assert what went out."""
    if case.response is None:
        answer = httpx.Response(case.status)
    else:
        answer = httpx.Response(case.status, json=case.response)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.route().mock(return_value=answer)
        result = await case.call(web)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == case.spec[0]
    assert request.url.host == "api.nuki.test"
    assert request.url.path == case.path
    assert dict(request.url.params) == dict(case.params)
    if case.body is None:
        assert request.content == b""
    else:
        assert json.loads(request.content) == case.body
    if case.check is None:
        assert result is None
    else:
        assert case.check(result) in (None, True)
    return request


class Recorder(dict[str, Any]):
    """A dict that notes which keys a parser reads (nested objects too)."""

    def __init__(self, data: Mapping[str, Any], prefix: str, seen: set[str]) -> None:
        super().__init__(data)
        self._prefix = prefix
        self._seen = seen

    def _wrap(self, key: str, value: Any) -> Any:
        path = self._prefix + key
        self._seen.add(path)
        return _wrap(value, path, self._seen)

    def __getitem__(self, key: str) -> Any:
        return self._wrap(key, super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.keys():
            return self._wrap(key, super().__getitem__(key))
        return default

    def items(self) -> Any:
        return [(key, self._wrap(key, value)) for key, value in super().items()]


def _wrap(value: Any, path: str, seen: set[str]) -> Any:
    if isinstance(value, Mapping):
        return Recorder(value, path + ".", seen)
    if isinstance(value, list):
        return [_wrap(item, path + "[]", seen) for item in value]
    return value


def _paths(value: Any, path: str = "") -> set[str]:
    result: set[str] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            result.add(path + key)
            result |= _paths(item, path + key + ".")
    elif isinstance(value, list):
        for item in value:
            result |= _paths(item, path.removesuffix(".") + "[].")
    return result


def unmapped_keys(
    parser: Callable[[Mapping[str, Any]], Any], fixture: Any, ignored: Iterable[str] = ()
) -> set[str]:
    """Keys (dotted paths) of the fixture that the parser never reads and nobody ignored."""
    items = fixture if isinstance(fixture, list) else [fixture]
    seen: set[str] = set()
    every: set[str] = set()
    for item in items:
        parser(Recorder(item, "", seen))
        every |= _paths(item)
    prefixes = tuple(ignored)
    return {path for path in every - seen if not path.startswith(prefixes)}


def _device_with_every_block() -> dict[str, Any]:
    lock, opener = load_fixture("web/smartlocks.json")
    smartdoor = {"autoLock": True, "batteryType": 3, "buzzerVolume": 1, "lngTimeout": 20}
    return lock | {
        "openerAdvancedConfig": opener["openerAdvancedConfig"],
        "smartdoorAdvancedConfig": smartdoor,
    }


DEVICE = _device_with_every_block()
