"""Every operation that answers a body is served generated, spec-valid answers.

Four shapes per operation (tests/support/spec_answers.py): only the required properties, all of
them, optional ones null, and unknown extra keys. The typed result must carry every value
sent, with no item of a list dropped and no exception; keys the models deliberately do not
map are listed in UNMAPPED with the reason.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
import respx

from nukiasync.errors import NukiError
from nukiasync.web.client import NukiWebClient
from tests.support.canary import WEB_TOKEN
from tests.support.spec_answers import MODES, Rules, answer, mismatches
from tests.support.spec_requests import SPEC, operation_of
from tests.support.web_calls import CALLS, Call

BASE = "https://api.nuki.test"

RULES = Rules(
    # Wire keys whose attribute is not the key's snake_case (or its raw ``_code`` twin).
    aliases={
        "WebhookLog.duration": "duration_ms",
        "Reservation.isCurrentlyIssuingAuth": "currently_issuing_auth",
        "Reservation.isCurrentlyRevokingAuth": "currently_revoking_auth",
    },
    # Nested objects the model flattens into prefixed attributes.
    flattened={"Account.descent": "descent_", "AccountSetting.web": ""},
    # Wire keys no model maps, with the reason; anything else unmapped fails the test.
    ignored={
        "Smartlock.box": "deprecated per-kind flag; `type` says the same",
        "Smartlock.keyturner": "deprecated per-kind flag; `type` says the same",
        "Smartlock.opener": "deprecated per-kind flag; `type` says the same",
        "Smartlock.smartDoor": "deprecated per-kind flag; `type` says the same",
        "Smartlock.currentSubscription": "Nuki's paid plans; kept in `raw` only",
        "Smartlock.previousSubscriptions": "Nuki's paid plans; kept in `raw` only",
        "Service.context": "Restlet server internals leaked into the schema",
        "Reservation.currentlyIssuingAuth": "old spelling, read when isCurrently... is unset",
        "Reservation.currentlyRevokingAuth": "old spelling, read when isCurrently... is unset",
    },
)

# What of a result to compare when the client returns more or other than the answer.
VIEWS: dict[tuple[str, str], Any] = {
    # The spec answers one Account; the client returns a list (Nuki sends one per sub).
    ("GET", "/account/sub"): lambda result: result[0] if len(result) == 1 else result,
    ("PUT", "/account/otp"): lambda result: result.secret,  # a string, kept in OtpSecret
}

# Operations whose declared answer is too loose to generate a useful one from.
SCHEMA_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    # PaginatedResponse.results is "array of object"; the auth page holds SmartlockAuths.
    ("GET", "/smartlock/auth/paged"): {
        "type": "object",
        "properties": {
            "results": {"type": "array", "items": {"$ref": "#/definitions/SmartlockAuth"}},
            "pagination": {"$ref": "#/definitions/Pagination"},
        },
    },
}


def _answer_schema(method: str, spec_path: str) -> dict[str, Any] | None:
    if (method, spec_path) in SCHEMA_OVERRIDES:
        return SCHEMA_OVERRIDES[method, spec_path]
    responses = SPEC["paths"][spec_path][method.lower()]["responses"]
    schema = responses.get("200", {}).get("schema")
    return schema if isinstance(schema, dict) else None


async def _probe(call: Call) -> list[httpx.Request]:
    async with httpx.AsyncClient() as http:
        web = NukiWebClient(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)
        with respx.mock(base_url=BASE, assert_all_called=False) as router:
            router.route().respond(204)
            with contextlib.suppress(NukiError):
                await call(web)
            return [request for request, _ in router.calls]


def _reads() -> list[Any]:
    """One call per operation with an answer schema, found by what the calls send."""
    import asyncio

    chosen: dict[tuple[str, str], Any] = {}
    for name, call in CALLS:
        requests = asyncio.run(_probe(call))
        if len(requests) != 1:
            continue
        request = requests[0]
        spec_path, _, _ = operation_of(request.method, request.url.path)
        key = (request.method, spec_path)
        schema = _answer_schema(*key)
        if schema is not None and key not in chosen:
            chosen[key] = (name, call, request.url.path, schema)
    return [
        pytest.param(
            call, (method, spec_path), path, schema, mode, id=f"{method} {spec_path} {mode}"
        )
        for (method, spec_path), (_, call, path, schema) in sorted(chosen.items())
        for mode in MODES
    ]


READS = _reads()


def test_every_operation_with_an_answer_is_served() -> None:
    served = {param.id.rsplit(" ", 1)[0] for param in READS}
    expected = {
        f"{method.upper()} {path}"
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        if isinstance(operation.get("responses", {}).get("200", {}).get("schema"), dict)
    }
    assert expected - served == set()


@pytest.mark.parametrize(("call", "operation", "path", "schema", "mode"), READS)
async def test_result_carries_the_values_sent(call, operation, path, schema, mode) -> None:
    method = operation[0]
    sent = answer(schema, mode, path=f"{method} {path}")
    async with httpx.AsyncClient() as http:
        web = NukiWebClient(WEB_TOKEN, client=http, base_url=BASE, retry_attempts=1)
        with respx.mock(base_url=BASE) as router:
            router.route(method=method, path=path).respond(200, json=sent)
            result = await call(web)
    if operation in VIEWS:
        result = VIEWS[operation](result)
    target = result.results if hasattr(result, "results") and isinstance(sent, dict) else result
    sent_part = sent.get("results") if target is not result else sent
    wrong, unmapped = mismatches(sent_part, target, RULES)
    assert wrong == []
    assert unmapped == set()
