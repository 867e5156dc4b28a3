"""Every operation of Nuki's spec is reached, measured by the requests actually sent.

Each tests/web/test_web_*.py module lists its calls in OPERATION_CALLS; this test runs them all
against a catch-all mock and matches what went over the wire to the spec's paths.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

import tests.web
from nukiasync.errors import NukiError
from nukiasync.web.client import NukiWebClient
from tests.support.canary import WEB_TOKEN
from tests.support.paths import FIXTURES

BASE = "https://api.nuki.test"
SPEC = json.loads((FIXTURES / "spec" / "nuki-web-api-swagger.json").read_text(encoding="utf-8"))
SPEC_OPERATIONS = {
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method in item
    if method in {"get", "put", "post", "delete", "patch"}
}

Call = tuple[str, str, Callable[[Any], Awaitable[Any]]]


def _collect_calls() -> list[Call]:
    calls: list[Call] = []
    for info in pkgutil.iter_modules(tests.web.__path__):
        if info.name.startswith("test_web_") and info.name != "test_web_spec_coverage":
            module = importlib.import_module(f"tests.web.{info.name}")
            calls.extend(getattr(module, "OPERATION_CALLS", []))
    return calls


def _matcher(path: str) -> tuple[re.Pattern[str], int]:
    literal = sum(not part.startswith("{") for part in path.split("/"))
    pattern = re.sub(r"\{[^}]+\}", "[^/]+", path)
    return re.compile(f"^{pattern}$"), literal


MATCHERS = {op: _matcher(op[1]) for op in SPEC_OPERATIONS}


def spec_operation(method: str, path: str) -> tuple[str, str] | None:
    """The spec operation a sent request belongs to (literal segments beat parameters)."""
    candidates = [
        (literal, op)
        for op, (regex, literal) in MATCHERS.items()
        if op[0] == method and regex.match(path)
    ]
    return max(candidates)[1] if candidates else None


def test_spec_has_104_operations() -> None:
    assert len(SPEC_OPERATIONS) == 104


def test_matcher_prefers_literal_segments() -> None:
    assert spec_operation("GET", "/smartlock/auth") == ("GET", "/smartlock/auth")
    assert spec_operation("GET", "/smartlock/17") == ("GET", "/smartlock/{smartlockId}")
    assert spec_operation("GET", "/nope") is None


async def test_every_spec_operation_is_sent() -> None:
    calls = _collect_calls()
    sent: set[tuple[str, str]] = set()
    unmatched: list[str] = []
    missing_own: list[str] = []
    async with httpx.AsyncClient() as http:
        web = NukiWebClient(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)
        for method, path, call in calls:
            with respx.mock(base_url=BASE) as router:
                route = router.route().respond(204)
                # The request went out; a 204 is not what every method expects.
                with contextlib.suppress(NukiError):
                    await call(web)
                ops = set()
                for request, _ in route.calls:
                    op = spec_operation(request.method, request.url.path)
                    if op is None:
                        unmatched.append(f"{request.method} {request.url.path}")
                    else:
                        ops.add(op)
            if (method, path) not in ops:
                missing_own.append(f"{method} {path}")
            sent |= ops
    assert not unmatched, f"requests outside the spec: {unmatched}"
    assert not missing_own, f"calls that did not send their declared operation: {missing_own}"
    never_sent = sorted(SPEC_OPERATIONS - sent)
    assert not never_sent, f"{len(never_sent)} spec operations never sent: {never_sent}"


@pytest.mark.parametrize(
    "name", ["logs", "smartlocks", "lock", "unlock", "account", "account_users"]
)
def test_core_names_exist(name) -> None:
    assert callable(getattr(NukiWebClient, name))
