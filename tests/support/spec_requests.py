"""Checks a request the Web API client sent against the repository's copy of Nuki's spec.

Swagger 2.0 rules, strictly: a body must match its schema with no extra property (Nuki's
schemas leave ``additionalProperties`` open; a client that sends a key the spec does not
name has a typo or a stale field), every required property present, every value of the
declared type, format and range, and no property the spec marks ``readOnly`` (those are
removed from the request schema, so sending one is an extra). Query and path parameters are
checked against their declarations. The spec's known errors are listed in
tests/fixtures/spec/KNOWN_ERRORS.md and applied in `KNOWN_REQUEST_ERRORS` below.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import jsonschema

from tests.support.paths import FIXTURES

if TYPE_CHECKING:
    import httpx

SPEC: dict[str, Any] = json.loads(
    (FIXTURES / "spec" / "nuki-web-api-swagger.json").read_text(encoding="utf-8")
)
DEFINITIONS: dict[str, Any] = SPEC["definitions"]
INT32 = 2**31

# Known errors of the spec that affect requests: (definition, property) -> replacement.
# See tests/fixtures/spec/KNOWN_ERRORS.md for the evidence.
KNOWN_REQUEST_ERRORS: dict[tuple[str, str], dict[str, Any]] = {
    # Java Map<String, Object> rendered as "values are objects"; any JSON value is meant.
    ("AddressUpdate", "settings"): {"type": "object"},
}

# Operations whose body the client builds from the caller's partial input, which the spec's
# required list does not allow for. Only "is a required property" errors are tolerated
# there; completing these bodies (as settings and notification updates are) is open work,
# not a spec error: a new sub account has no current profile to complete from.
PARTIAL_BODIES_ACCEPTED: dict[tuple[str, str], str] = {
    ("POST", "/account"): "Account.Profile: every address field required",
    ("PUT", "/account/sub"): "Account.Profile: every address field required",
    ("POST", "/account/sub/{accountId}"): "Account.Profile: every address field required",
}

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        msg = f"not an RFC 3339 date-time: {value}"
        raise ValueError(msg)
    datetime.fromisoformat(value)
    return True


def request_schema(schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """``schema`` with refs resolved, read-only properties removed and extras forbidden."""
    if depth > 12:
        msg = "schema nests too deep"
        raise AssertionError(msg)
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        resolved = copy.deepcopy(DEFINITIONS[name])
        for (definition, prop), fix in KNOWN_REQUEST_ERRORS.items():
            if definition == name:
                resolved["properties"][prop] = fix
        return request_schema(resolved, depth + 1)
    result = {key: value for key, value in schema.items() if key != "description"}
    if result.get("type") == "integer" and result.get("format") == "int32":
        result.setdefault("minimum", -INT32)
        result.setdefault("maximum", INT32 - 1)
    if "items" in result:
        result["items"] = request_schema(result["items"], depth + 1)
    if "properties" in result:
        properties = {
            key: request_schema(value, depth + 1)
            for key, value in result["properties"].items()
            if not value.get("readOnly")
        }
        result["properties"] = properties
        result["required"] = [key for key in result.get("required", []) if key in properties]
        if not result["required"]:
            del result["required"]
        result["additionalProperties"] = False
        result["type"] = "object"
    return result


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The spec path, operation and path parameters of a request (literal segments win)."""
    best: tuple[int, str, dict[str, str]] | None = None
    for spec_path, item in SPEC["paths"].items():
        if method.lower() not in item:
            continue
        names = re.findall(r"\{([^}]+)\}", spec_path)
        pattern = re.sub(r"\{[^}]+\}", "([^/]+)", spec_path)
        match = re.fullmatch(pattern, path)
        if match is None:
            continue
        literal = sum(not part.startswith("{") for part in spec_path.split("/"))
        if best is None or literal > best[0]:
            best = (literal, spec_path, dict(zip(names, match.groups(), strict=True)))
    assert best is not None, f"{method} {path} is not an operation of the spec"
    _, spec_path, values = best
    return spec_path, SPEC["paths"][spec_path][method.lower()], values


def _check_scalar(where: str, declared: dict[str, Any], raw: str) -> list[str]:
    kind = declared.get("type")
    if kind == "array":
        items = declared.get("items", {"type": "string"})
        return [e for part in raw.split(",") for e in _check_scalar(where, items, part)]
    value: Any = raw
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return [f"{where}: {raw!r} is not an integer"]
        value = int(raw)
    elif kind == "boolean":
        if raw not in ("true", "false"):
            return [f"{where}: {raw!r} is not a boolean"]
        value = raw == "true"
    elif kind == "number":
        try:
            value = float(raw)
        except ValueError:
            return [f"{where}: {raw!r} is not a number"]
    schema = {k: declared[k] for k in ("enum", "minimum", "maximum") if k in declared}
    errors = jsonschema.Draft4Validator(schema).iter_errors(value)
    return [f"{where}: {error.message}" for error in errors]


def request_errors(request: httpx.Request) -> list[str]:
    """Every way ``request`` departs from the spec; empty when it conforms."""
    spec_path, operation, path_values = operation_of(request.method, request.url.path)
    what = f"{request.method} {spec_path}"
    params = operation.get("parameters", [])
    errors: list[str] = []
    declared_query = {p["name"]: p for p in params if p["in"] == "query"}
    for name, raw in request.url.params.multi_items():
        if name not in declared_query:
            errors.append(f"{what}: query parameter {name!r} is not in the spec")
        else:
            errors += _check_scalar(f"{what} ?{name}", declared_query[name], raw)
    errors += [
        f"{what}: required query parameter {name!r} missing"
        for name, declared in declared_query.items()
        if declared.get("required") and name not in request.url.params
    ]
    for declared in (p for p in params if p["in"] == "path"):
        raw = path_values.get(declared["name"], "")
        errors += _check_scalar(f"{what} {{{declared['name']}}}", declared, raw)
    body_params = [p for p in params if p["in"] == "body"]
    if not body_params:
        if request.content:
            errors.append(f"{what}: sends a body, the spec declares none")
        return errors
    if not request.content:
        if body_params[0].get("required"):
            errors.append(f"{what}: required body missing")
        return errors
    if not request.headers.get("content-type", "").startswith("application/json"):
        errors.append(f"{what}: body is not sent as application/json")
    body = json.loads(request.content)
    validator = jsonschema.Draft4Validator(
        request_schema(body_params[0]["schema"]), format_checker=_FORMATS
    )
    partial_ok = (request.method, spec_path) in PARTIAL_BODIES_ACCEPTED
    errors += [
        f"{what}: body {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
        if not (partial_ok and error.validator == "required")
    ]
    return errors
