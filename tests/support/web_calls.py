"""Every call the Web API test modules list (OPERATION_CALLS, every Case, WRITES and
REQUEST_CALLS), gathered from tests/web/ for the spec checks of requests and answers."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

import tests.web

Call = Callable[[Any], Awaitable[Any]]


def _call_of(entry: Any) -> Call:
    """The call of a Case or of a pytest.param whose first value is the call."""
    return entry.call if hasattr(entry, "call") else entry.values[0]


def _module_calls(module: Any) -> list[Call]:
    calls = [call for _, _, call in getattr(module, "OPERATION_CALLS", [])]
    calls += [_call_of(entry) for entry in getattr(module, "CASES", [])]
    calls += [_call_of(entry) for entry in getattr(module, "WRITES", [])]
    calls += list(getattr(module, "REQUEST_CALLS", []))
    return calls


def _all_calls() -> list[tuple[str, Call]]:
    found: list[tuple[str, Call]] = []
    for info in pkgutil.iter_modules(tests.web.__path__):
        if info.name.startswith("test_web_") and not info.name.startswith("test_web_spec_"):
            module = importlib.import_module(f"tests.web.{info.name}")
            found += [(f"{info.name}#{i}", call) for i, call in enumerate(_module_calls(module))]
    return found


CALLS = _all_calls()
