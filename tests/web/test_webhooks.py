"""Web API webhooks: HMAC signature checks and the typed parser."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nukiasync.const import (
    AccountUserType,
    AuthType,
    DeviceType,
    DoorSensorState,
    LockState,
    LogAction,
    LogTrigger,
    OpenerState,
    ServerState,
)
from nukiasync.errors import NukiCallbackError, NukiError, NukiWebhookSignatureError
from nukiasync.web.models.smartlock import AdminPinState
from nukiasync.web.webhooks import (
    SIGNATURE_HEADER,
    AccountUserWebhook,
    ActionResultWebhook,
    AuthCreationDetail,
    AuthCreationWebhook,
    DeviceAuthsWebhook,
    DeviceDataWebhook,
    DeviceLogsWebhook,
    DeviceStatusWebhook,
    WebhookEvent,
    parse_webhook,
    verify_webhook_signature,
)
from tests.support.canary import KEYPAD_CODE, WEBHOOK_SECRET
from tests.support.paths import FIXTURES

LOCK = 17618910285


def _raw(name: str) -> bytes:
    return (FIXTURES / "web" / f"webhook_{name}.json").read_bytes()


def _sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- signatures -----------------------------------------------------------------------------


def test_signature_matches() -> None:
    body = _raw("device_status")
    verify_webhook_signature(body, _sign(body), WEBHOOK_SECRET)
    verify_webhook_signature(body, f"  {_sign(body).upper()}\n", WEBHOOK_SECRET)
    assert SIGNATURE_HEADER == "X-Nuki-Signature-SHA256"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "abc",
        "z" * 64,
        "é" * 64,
        _sign(b"other body"),
        _sign(_raw("device_status"), "another-secret"),
        hashlib.sha1(_raw("device_status")).hexdigest(),  # noqa: S324  (the legacy header)
    ],
)
def test_signature_mismatch_or_malformed(header: str | None) -> None:
    body = _raw("device_status")
    expected = _sign(body)
    with pytest.raises(NukiWebhookSignatureError) as info:
        verify_webhook_signature(body, header, WEBHOOK_SECRET)
    text = str(info.value)
    assert WEBHOOK_SECRET not in text
    assert expected not in text


def test_signature_over_the_raw_bytes_not_the_json() -> None:
    body = _raw("device_status")
    reserialised = json.dumps(json.loads(body)).encode()
    assert reserialised != body
    with pytest.raises(NukiWebhookSignatureError):
        verify_webhook_signature(reserialised, _sign(body), WEBHOOK_SECRET)


def test_empty_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        verify_webhook_signature(b"{}", "0" * 64, "")


# --- parsing --------------------------------------------------------------------------------


def test_device_logs_nested() -> None:
    event = parse_webhook(_raw("device_logs_nested"))
    assert isinstance(event, DeviceLogsWebhook)
    assert event.feature == "DEVICE_LOGS"
    assert event.complete
    log = event.log
    assert log.id == "65a1f0c2e4b0a1b2c3d4e5f6"
    assert log.auth_id == "65219648fe57075d71a6cb01"
    assert log.account_user_id == 123456
    assert log.action is LogAction.UNLOCK
    assert log.trigger is LogTrigger.APP
    assert log.date == datetime(2026, 11, 20, 7, 15, 2, tzinfo=UTC)
    assert event.raw["feature"] == "DEVICE_LOGS"
    assert "Alice Example" not in repr(event)


def test_device_logs_flat_without_id_or_auth() -> None:
    event = parse_webhook(_raw("device_logs_flat"))
    assert isinstance(event, DeviceLogsWebhook)
    assert not event.complete
    assert event.log.id == ""
    assert event.log.auth_id is None
    assert event.log.smartlock_id == LOCK
    assert event.log.action is LogAction.LOCK
    assert event.log.trigger is LogTrigger.KEYPAD


def test_device_logs_nested_without_id() -> None:
    body = json.loads(_raw("device_logs_nested"))
    del body["smartlockLog"]["id"]
    event = parse_webhook(json.dumps(body).encode())
    assert isinstance(event, DeviceLogsWebhook)
    assert event.log.id == ""
    assert not event.complete


def test_device_status() -> None:
    event = parse_webhook(_raw("device_status"))
    assert isinstance(event, DeviceStatusWebhook)
    assert event.smartlock_id == LOCK
    assert event.device_type is DeviceType(4)
    assert event.state.state is LockState.LOCKED
    assert event.state.door_state is DoorSensorState.DOOR_CLOSED
    assert event.state.battery_charge == 84
    assert event.server_state is ServerState.OK
    assert event.admin_pin_state is AdminPinState.OK


def test_device_status_of_an_opener_with_flat_state() -> None:
    body = {"feature": "DEVICE_STATUS", "smartlockId": 2 << 32 | 5, "deviceType": 2, "state": 3}
    event = parse_webhook(json.dumps(body).encode())
    assert isinstance(event, DeviceStatusWebhook)
    assert event.device_type is DeviceType.OPENER
    assert event.state.state is OpenerState.RTO_ACTIVE
    assert event.server_state is ServerState.UNKNOWN
    assert event.server_state_code is None


def test_device_auths_keeps_the_code_out_of_repr() -> None:
    event = parse_webhook(_raw("device_auths"))
    assert isinstance(event, DeviceAuthsWebhook)
    assert not event.deleted
    assert event.auth.type is AuthType.KEYPAD_CODE
    assert event.auth.code == KEYPAD_CODE
    assert str(KEYPAD_CODE) not in repr(event)
    assert "Bob Keypad" not in repr(event)


def test_device_auths_flat() -> None:
    body = json.loads(_raw("device_auths"))
    flat = {"feature": "DEVICE_AUTHS", "deleted": True, **body["smartlockAuth"]}
    event = parse_webhook(json.dumps(flat).encode())
    assert isinstance(event, DeviceAuthsWebhook)
    assert event.deleted
    assert event.auth.auth_id == 4


def test_account_user_nested_and_flat() -> None:
    nested = parse_webhook(_raw("account_user"))
    assert isinstance(nested, AccountUserWebhook)
    assert nested.deleted
    assert nested.account_user.account_user_id == 123457
    assert nested.account_user.type is AccountUserType.USER
    assert "bob@example.com" not in repr(nested)
    body = json.loads(_raw("account_user"))
    flat = {"feature": "ACCOUNT_USER", **body["accountUser"]}
    event = parse_webhook(json.dumps(flat).encode())
    assert isinstance(event, AccountUserWebhook)
    assert not event.deleted
    assert event.account_user == nested.account_user


@pytest.mark.parametrize("feature", ["DEVICE_MASTERDATA", "DEVICE_CONFIG"])
def test_device_data_kept_raw(feature: str) -> None:
    body = json.loads(_raw("device_masterdata"))
    body["feature"] = feature
    event = parse_webhook(json.dumps(body).encode())
    assert isinstance(event, DeviceDataWebhook)
    assert event.feature == feature
    assert event.smartlock_id == LOCK
    assert not event.deleted
    assert event.raw["firmwareVersion"] == 262656


@pytest.mark.parametrize("kind", ["LockAction", "UnlockAction", "SmartlockAction"])
def test_action_results(kind: str) -> None:
    body = json.loads(_raw("lock_action"))
    body["type"] = kind
    event = parse_webhook(json.dumps(body).encode())
    assert isinstance(event, ActionResultWebhook)
    assert event.feature == kind
    assert event.request_id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert event.smartlock_id == LOCK
    assert not event.success
    assert event.error_code == "0x45"


def test_auth_creation() -> None:
    event = parse_webhook(_raw("auth_creation"))
    assert isinstance(event, AuthCreationWebhook)
    assert event.success
    assert event.error_code is None
    assert event.details == (
        AuthCreationDetail(
            smartlock_id=LOCK, success=True, id="65219648fe57075d71a6cb09", auth_id=7
        ),
        AuthCreationDetail(smartlock_id=8589934593, success=False, error_code=402),
    )
    assert "ABCD1234" not in repr(event)
    bare = parse_webhook(b'{"type": "AuthCreation", "requestId": "r", "success": false}')
    assert isinstance(bare, AuthCreationWebhook)
    assert bare.details == ()


@pytest.mark.parametrize(
    "body",
    [b'{"feature": "DEVICE_FUTURE", "x": 1}', b'{"type": "BatteryAction", "requestId": "r"}'],
)
def test_unknown_feature_or_type_kept_raw(body: bytes) -> None:
    event = parse_webhook(body)
    assert type(event) is WebhookEvent
    assert event.raw == json.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"DEVICE_LOGS"',
        b"{}",
        b'{"feature": 5}',
        b'{"feature": "", "type": ""}',
        b'{"feature": "DEVICE_LOGS"}',
        b'{"feature": "DEVICE_LOGS", "smartlockLog": 5}',
        b'{"feature": "DEVICE_LOGS", "smartlockLog": {"smartlockId": 1, "action": 1}}',
        b'{"feature": "DEVICE_STATUS"}',
        b'{"feature": "DEVICE_STATUS", "smartlockId": null}',
        b'{"feature": "DEVICE_STATUS", "smartlockId": 1, "serverState": "ok"}',
        b'{"feature": "DEVICE_AUTHS", "smartlockAuth": []}',
        b'{"feature": "DEVICE_AUTHS", "deleted": "maybe", "id": "a", "smartlockId": 1}',
        b'{"feature": "ACCOUNT_USER", "accountUser": {"name": "no id"}}',
        b'{"feature": "DEVICE_MASTERDATA", "smartlockId": [1]}',
        b'{"type": "LockAction"}',
        b'{"type": "LockAction", "requestId": ""}',
        b'{"type": "AuthCreation", "requestId": "r", "detail": {"a": 1}}',
        b'{"type": "AuthCreation", "requestId": "r", "detail": [1]}',
        b"[" * 100_000,
        b'{"feature": "DEVICE_STATUS", "smartlockId": ' + b"9" * 5000 + b"}",
    ],
)
def test_malformed_bodies_raise_a_callback_error(body: bytes) -> None:
    with pytest.raises(NukiCallbackError) as info:
        parse_webhook(body)
    assert info.value.reason == "malformed"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise_anything_but_nuki_errors(body: bytes) -> None:
    try:
        event = parse_webhook(body)
    except NukiError:
        return
    assert isinstance(event, WebhookEvent)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2026-11-20T07:15:02.000Z", "65a1f0c2e4b0a1b2c3d4e5f6", "13"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "smartlockId", "id", "authId", "action", "trigger", "state", "date", "deviceType",
        "name", "deleted", "requestId", "success", "errorCode", "detail", "smartlockLog",
        "smartlockAuth", "accountUser", "accountUserId", "type", "serverState", "openerLog",
        "enabled", "code", "fingerprints", "mode", "doorState", "creationDate",
    ]
)  # fmt: skip
_SELECTOR = st.one_of(
    st.fixed_dictionaries(
        {"feature": st.sampled_from(["DEVICE_LOGS", "DEVICE_STATUS", "DEVICE_AUTHS",
                                     "ACCOUNT_USER", "DEVICE_CONFIG", "OTHER"])}
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["LockAction", "SmartlockAction", "AuthCreation", "Other"])}
    ),
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    _SELECTOR,
    st.dictionaries(_KEYS, _JSON, max_size=8),
    st.sampled_from([None, "smartlockLog", "smartlockAuth", "accountUser"]),
)
def test_json_shaped_bodies_never_raise_anything_but_nuki_errors(
    selector: dict[str, str], fields: dict[str, Any], nest: str | None
) -> None:
    body: dict[str, Any] = {**fields, **selector}
    if nest is not None:
        body = {**selector, nest: fields}
    try:
        event = parse_webhook(json.dumps(body).encode())
    except NukiError:
        return
    assert isinstance(event, WebhookEvent)
    repr(event)
