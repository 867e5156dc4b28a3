"""Deterministic answers generated from the spec's schemas, and a check that results carry them.

`answer(schema, mode)` builds a JSON value the spec allows, in one of four shapes:
``required`` (only required properties), ``all`` (every property), ``nulls`` (required ones
set, optional ones null, as Nuki sends for unset fields) and ``extra`` (every property plus
unknown keys at every level, as a newer API version would). Values come from a hash of
the JSON path, so each field gets its own value (a swapped mapping shows) and every run is
the same. `mismatches(sent, result)` walks the answer and the typed result side by side.
"""

from __future__ import annotations

import enum
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from nukiasync._parse import parse_datetime
from nukiasync.web.models._common import parse_operation_id
from tests.support.spec_requests import DEFINITIONS

MODES = ("required", "all", "nulls", "extra")
UNKNOWN_KEY = "zzFutureField"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _seed(path: str) -> int:
    return zlib.crc32(path.encode())


def _scalar(schema: Mapping[str, Any], path: str) -> Any:
    n = _seed(path)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][n % len(schema["enum"])]
    if kind == "integer":
        low = int(schema.get("minimum", 1))
        high = int(schema.get("maximum", low + 99_999))
        return low + n % (high - low + 1)
    if kind == "number":
        return n % 1000 + 0.25
    if kind == "boolean":
        return n % 2 == 0
    if schema.get("format") == "date-time":
        when = _EPOCH + timedelta(seconds=n % 50_000_000, milliseconds=n % 1000)
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return f"v{n % 1_000_000}"


def answer(schema: Mapping[str, Any], mode: str, path: str = "$", depth: int = 0) -> Any:
    """A spec-valid JSON value for ``schema`` in ``mode`` (see the module docstring)."""
    if "$ref" in schema:
        return answer(DEFINITIONS[schema["$ref"].rsplit("/", 1)[-1]], mode, path, depth + 1)
    if schema.get("type") == "array":
        count = 1 if mode == "required" else 2
        return [answer(schema["items"], mode, f"{path}[{i}]", depth + 1) for i in range(count)]
    properties = schema.get("properties")
    if properties is None:
        if schema.get("type") == "object":
            return {} if mode == "required" else {"key": f"v{_seed(path) % 1000}"}
        return _scalar(schema, path)
    if depth > 8:
        return {}
    required = set(schema.get("required", ()))
    result: dict[str, Any] = {}
    for key, prop in sorted(properties.items()):
        if key in required or mode in ("all", "extra"):
            result[key] = answer(prop, mode, f"{path}.{key}", depth + 1)
        elif mode == "nulls":
            result[key] = None
    if mode == "extra":
        result[UNKNOWN_KEY] = {"nested": [1, "x", None], "flag": True}
    return result


def snake(name: str) -> str:
    """``fobAction1`` -> ``fob_action_1``, ``keypad2Paired`` -> ``keypad2_paired``."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return re.sub(r"(?<=[a-z])(\d)$", r"_\1", name)


def _empty(value: Any) -> bool:
    if isinstance(value, enum.Enum) and value.name == "UNKNOWN":
        return True
    return value in (None, (), [], "", False, {}) or value == {}


def _same_scalar(sent: Any, got: Any) -> bool:
    if isinstance(sent, dict) and isinstance(got, str):  # a BSON ObjectId, kept as hex
        return parse_operation_id(sent) == got
    if isinstance(got, datetime) and isinstance(sent, str):
        return parse_datetime(sent) == got
    if isinstance(got, enum.Enum) and not isinstance(got, int):
        return got.value == sent
    if isinstance(got, str) and not isinstance(sent, str):
        return got == str(sent)
    if isinstance(sent, bool) or isinstance(got, bool):
        return got is sent
    return bool(got == sent)


@attrs.frozen
class Rules:
    """How wire keys ("Type.key") map where the attribute is not the key's snake_case."""

    aliases: Mapping[str, str] = attrs.field(factory=dict)  # -> attribute name
    flattened: Mapping[str, str] = attrs.field(factory=dict)  # -> prefix of its attributes
    ignored: Mapping[str, str] = attrs.field(factory=dict)  # -> why no model maps it


def _attribute(result: Any, key: str, rules: Rules, prefix: str) -> tuple[bool, Any]:
    """The attribute of ``result`` holding wire ``key`` (raw ``_code`` twins preferred)."""
    if isinstance(result, Mapping):
        return (key in result, result.get(key))
    alias = rules.aliases.get(f"{type(result).__name__}.{key}", "")
    for name in (alias, prefix + snake(key) + "_code", prefix + snake(key)):
        if name and hasattr(result, name) and not callable(getattr(result, name)):
            return True, getattr(result, name)
    return False, None


def _object_mismatches(
    sent: dict[str, Any], result: Any, rules: Rules, path: str, prefix: str
) -> tuple[list[str], set[str]]:
    wrong: list[str] = []
    unmapped: set[str] = set()
    for key, value in sent.items():
        qualified = f"{type(result).__name__}.{key}"
        if key == UNKNOWN_KEY or qualified in rules.ignored:
            continue
        if qualified in rules.flattened:
            if value is None:  # a null block: its flattened attributes stay unset
                continue
            w, u = mismatches(value, result, rules, f"{path}.{key}", rules.flattened[qualified])
        else:
            found, got = _attribute(result, key, rules, prefix)
            if not found:
                unmapped.add(qualified)
                continue
            w, u = mismatches(value, got, rules, f"{path}.{key}")
        wrong += w
        unmapped |= u
    return wrong, unmapped


def mismatches(
    sent: Any, result: Any, rules: Rules, path: str = "$", prefix: str = ""
) -> tuple[list[str], set[str]]:
    """(values the result does not carry, wire keys it has no attribute for)."""
    if isinstance(sent, dict) and (attrs.has(type(result)) or isinstance(result, Mapping)):
        return _object_mismatches(sent, result, rules, path, prefix)
    if sent is None:
        return ([] if _empty(result) else [f"{path}: sent null, got {result!r}"]), set()
    if not isinstance(sent, list):
        ok = _same_scalar(sent, result)
        return ([] if ok else [f"{path}: sent {sent!r}, got {result!r}"]), set()
    if not isinstance(result, list | tuple) or len(result) != len(sent):
        return [f"{path}: sent {len(sent)} items, got {result!r}"], set()
    wrong: list[str] = []
    unmapped: set[str] = set()
    for i, (item, got) in enumerate(zip(sent, result, strict=True)):
        w, u = mismatches(item, got, rules, f"{path}[{i}]")
        wrong += w
        unmapped |= u
    return wrong, unmapped
