"""Inbound Web API webhooks: check the signature, then turn the body into an event.

Nuki signs each POST with ``X-Nuki-Signature-SHA256``: the lowercase hex HMAC-SHA256 of
the raw body, keyed with the decentral webhook's ``secret`` (for central webhooks: the
OAuth client secret). Verify before parsing, on the bytes exactly as received::

    verify_webhook_signature(body, request.headers.get(SIGNATURE_HEADER), secret)
    event = parse_webhook(body)

Device-triggered bodies carry a ``feature``; results of Advanced API calls carry a
``type`` and the ``request_id`` those calls returned. Nuki documents two shapes for
DEVICE_LOGS and ACCOUNT_USER (the object nested under a key, or its fields flat in the
body); both are read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import string
from collections.abc import Callable, Mapping
from typing import Any, Self

import attrs

from nukiasync._parse import optional_int, parse_bool
from nukiasync._redact import redact
from nukiasync.const import DeviceType, ServerState
from nukiasync.errors import NukiCallbackError, NukiWebhookSignatureError
from nukiasync.ids import device_type_from
from nukiasync.web.models._common import optional_str
from nukiasync.web.models.account import AccountUser
from nukiasync.web.models.auth import SmartlockAuth
from nukiasync.web.models.log import SmartlockLog
from nukiasync.web.models.smartlock import AdminPinState, SmartlockState

_LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Nuki-Signature-SHA256"
# A hex SHA-256 digest is 64 characters; anything else is not a signature.
_DIGEST_LENGTH = 64
_HEX = frozenset(string.hexdigits)


def verify_webhook_signature(raw_body: bytes, header_value: str | None, secret: str) -> None:
    """Check a webhook's signature in constant time; return only if it matches.

    Raises:
        ValueError: ``secret`` is empty (a programming error, not a bad request).
        NukiWebhookSignatureError: the header is missing, malformed or does not match.
    """
    if not secret:
        msg = "the webhook secret must not be empty"
        raise ValueError(msg)
    given = (header_value or "").strip().lower()
    if not given:
        msg = f"Webhook without a {SIGNATURE_HEADER} header"
        raise NukiWebhookSignatureError(msg)
    if len(given) != _DIGEST_LENGTH or not _HEX.issuperset(given):
        msg = f"Webhook {SIGNATURE_HEADER} header is not a hex SHA-256 digest"
        raise NukiWebhookSignatureError(msg)
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        msg = "Webhook signature does not match the body"
        raise NukiWebhookSignatureError(msg)


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """A webhook body; a feature or type this library does not know stays this class."""

    feature: str
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class DeviceLogsWebhook(WebhookEvent):
    """DEVICE_LOGS: a new log entry, the push source for who did what.

    The flat body shape may lack the entry's ``id`` (then ``log.id`` is ``""``) and
    ``authId``; `complete` says whether the entry can be attributed as it stands.
    """

    log: SmartlockLog

    @property
    def complete(self) -> bool:
        """Whether the entry has its id and auth id (else fetch the lock's log page)."""
        return bool(self.log.id) and self.log.auth_id is not None


@attrs.frozen(kw_only=True)
class DeviceStatusWebhook(WebhookEvent):
    """DEVICE_STATUS: a device's new state, without who caused it."""

    smartlock_id: int
    device_type: DeviceType = DeviceType.UNKNOWN
    state: SmartlockState
    server_state: ServerState = ServerState.UNKNOWN
    server_state_code: int | None = None
    admin_pin_state: AdminPinState = AdminPinState.UNKNOWN
    admin_pin_state_code: int | None = None


@attrs.frozen(kw_only=True)
class DeviceAuthsWebhook(WebhookEvent):
    """DEVICE_AUTHS: an authorization was created, changed or (``deleted``) removed."""

    deleted: bool = False
    auth: SmartlockAuth


@attrs.frozen(kw_only=True)
class AccountUserWebhook(WebhookEvent):
    """ACCOUNT_USER: an account user was created, changed or (``deleted``) removed."""

    deleted: bool = False
    account_user: AccountUser


@attrs.frozen(kw_only=True)
class DeviceDataWebhook(WebhookEvent):
    """DEVICE_MASTERDATA or DEVICE_CONFIG: the device's new data, kept as ``raw``."""

    smartlock_id: int | None = None
    deleted: bool = False


@attrs.frozen(kw_only=True)
class ActionResultWebhook(WebhookEvent):
    """Outcome of a ``lock_advanced``/``unlock_advanced``/``action_advanced`` call.

    ``feature`` is LockAction, UnlockAction or SmartlockAction; ``error_code`` is the
    device's error as Nuki sends it (a hex string).
    """

    request_id: str
    smartlock_id: int | None = None
    success: bool = False
    error_code: str | None = None


@attrs.frozen(kw_only=True)
class AuthCreationDetail:
    """Per-lock outcome of an advanced authorization creation."""

    smartlock_id: int | None = None
    success: bool = False
    id: str | None = None
    auth_id: int | None = None
    error_code: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from one item of the ``detail`` array."""
        return cls(
            smartlock_id=optional_int(data.get("smartlockId")),
            success=parse_bool(data.get("success")),
            id=optional_str(data.get("id")),
            auth_id=optional_int(data.get("authId")),
            error_code=optional_int(data.get("errorCode")),
        )


@attrs.frozen(kw_only=True)
class AuthCreationWebhook(WebhookEvent):
    """Outcome of a ``create_smartlock_auths_advanced`` call, lock by lock."""

    request_id: str
    success: bool = False
    error_code: int | None = None
    invite_code: str | None = attrs.field(default=None, repr=redact)
    details: tuple[AuthCreationDetail, ...] = ()


def _object(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The object nested under ``key``, or the body itself when the fields are flat."""
    nested = body.get(key)
    if nested is None:
        return body
    if not isinstance(nested, Mapping):
        msg = f"{key} is not an object"
        raise TypeError(msg)
    return nested


def _request_id(body: Mapping[str, Any]) -> str:
    request_id = optional_str(body["requestId"])
    if request_id is None:
        msg = "requestId is empty"
        raise ValueError(msg)
    return request_id


def _device_logs(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    entry = _object(body, "smartlockLog")
    if entry is body or entry.get("id") is None:
        entry = {**entry, "id": entry.get("id") or ""}
    return DeviceLogsWebhook(feature=feature, log=SmartlockLog.from_api(entry), raw=body)


def _device_status(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    smartlock_id = optional_int(body["smartlockId"])
    if smartlock_id is None:
        msg = "smartlockId is empty"
        raise ValueError(msg)
    type_code = optional_int(body.get("deviceType", body.get("type")))
    device_type = (
        device_type_from(smartlock_id) if type_code is None else DeviceType.parse(type_code)
    )
    state = body.get("state")
    block = state if isinstance(state, Mapping) else body  # nested object, or flat fields
    server_state = optional_int(body.get("serverState"))
    admin_pin_state = optional_int(body.get("adminPinState"))
    return DeviceStatusWebhook(
        feature=feature,
        smartlock_id=smartlock_id,
        device_type=device_type,
        state=SmartlockState.from_api(block, device_type=device_type),
        server_state=ServerState.parse(server_state),
        server_state_code=server_state,
        admin_pin_state=AdminPinState.parse(admin_pin_state),
        admin_pin_state_code=admin_pin_state,
        raw=body,
    )


def _device_auths(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    return DeviceAuthsWebhook(
        feature=feature,
        deleted=parse_bool(body.get("deleted")),
        auth=SmartlockAuth.from_api(_object(body, "smartlockAuth")),
        raw=body,
    )


def _account_user(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    return AccountUserWebhook(
        feature=feature,
        deleted=parse_bool(body.get("deleted")),
        account_user=AccountUser.from_api(_object(body, "accountUser")),
        raw=body,
    )


def _device_data(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    return DeviceDataWebhook(
        feature=feature,
        smartlock_id=optional_int(body.get("smartlockId")),
        deleted=parse_bool(body.get("deleted")),
        raw=body,
    )


def _action_result(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    return ActionResultWebhook(
        feature=feature,
        request_id=_request_id(body),
        smartlock_id=optional_int(body.get("smartlockId")),
        success=parse_bool(body.get("success")),
        error_code=optional_str(body.get("errorCode")),
        raw=body,
    )


def _auth_creation(feature: str, body: Mapping[str, Any]) -> WebhookEvent:
    details = body.get("detail")
    if details is None:
        details = []
    if not isinstance(details, list) or not all(isinstance(d, Mapping) for d in details):
        msg = "detail is not a list of objects"
        raise TypeError(msg)
    return AuthCreationWebhook(
        feature=feature,
        request_id=_request_id(body),
        success=parse_bool(body.get("success")),
        error_code=optional_int(body.get("errorCode")),
        invite_code=optional_str(body.get("inviteCode")),
        details=tuple(AuthCreationDetail.from_api(item) for item in details),
        raw=body,
    )


_Parser = Callable[[str, Mapping[str, Any]], WebhookEvent]

_BY_FEATURE: Mapping[str, _Parser] = {
    "DEVICE_LOGS": _device_logs,
    "DEVICE_STATUS": _device_status,
    "DEVICE_AUTHS": _device_auths,
    "ACCOUNT_USER": _account_user,
    "DEVICE_MASTERDATA": _device_data,
    "DEVICE_CONFIG": _device_data,
}

_BY_TYPE: Mapping[str, _Parser] = {
    "LockAction": _action_result,
    "UnlockAction": _action_result,
    "SmartlockAction": _action_result,
    "AuthCreation": _auth_creation,
}


def _decode(raw_body: bytes) -> Mapping[str, Any]:
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        msg = f"Webhook body is not JSON ({type(err).__name__})"
        raise NukiCallbackError(msg, reason="malformed") from err
    if not isinstance(body, Mapping):
        msg = f"Webhook body is not a JSON object but {type(body).__name__}"
        raise NukiCallbackError(msg, reason="malformed")
    return body


def parse_webhook(raw_body: bytes) -> WebhookEvent:
    """Turn a (verified) webhook body into a typed event.

    Raises:
        NukiCallbackError: the body is not JSON, names neither a feature nor a type, or
            lacks what its feature needs (``reason`` is ``"malformed"``).
    """
    body = _decode(raw_body)
    feature = body.get("feature")
    kind = body.get("type")
    if isinstance(feature, str) and feature:
        name, parser = feature, _BY_FEATURE.get(feature)
    elif isinstance(kind, str) and kind:
        name, parser = kind, _BY_TYPE.get(kind)
    else:
        msg = "Webhook body has neither a feature nor a type"
        raise NukiCallbackError(msg, reason="malformed")
    if parser is None:
        _LOGGER.debug("Webhook %r is not known to this library; kept raw", name[:64])
        return WebhookEvent(feature=name, raw=body)
    try:
        return parser(name, body)
    except (KeyError, ValueError, TypeError, OverflowError, AttributeError) as err:
        msg = f"Webhook {name[:64]} body is malformed ({type(err).__name__})"
        raise NukiCallbackError(msg, reason="malformed") from err
