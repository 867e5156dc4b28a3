"""The public names: what users import from `nukiasync`, pinned."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import nukiasync
from nukiasync import bridge, errors, web

REQUIRED = {
    # Issue "foundation": the client, the models named there, the id rule, webhooks, errors.
    "NukiWebClient", "Smartlock", "SmartlockState", "SmartlockConfig", "SmartlockLog",
    "SmartlockAuth", "AccountUser", "Account", "ApiKey", "ApiKeyToken", "DecentralWebhook",
    "WebhookLog", "Notification", "Address", "AddressUnit", "Reservation", "Service",
    "OpenerBrand", "OpenerIntercom", "Page", "smartlock_id_from", "nuki_id_from",
    "verify_webhook_signature", "NukiOAuth2", "NukiError",
    # Issue "bridge": client, callbacks, server.
    "NukiBridgeClient", "parse_callback", "BridgeCallback", "CallbackServer", "BridgeDevice",
    # Issue 12: each API has its own action vocabulary.
    "WebLockAction", "WebOpenerAction", "LockAction", "OpenerAction", "ActionOption",
    "NukiInvalidActionError",
}  # fmt: skip


def test_all_is_importable_and_complete() -> None:
    for name in nukiasync.__all__:
        assert hasattr(nukiasync, name), name
    assert set(nukiasync.__all__) >= REQUIRED
    assert len(set(nukiasync.__all__)) == len(nukiasync.__all__)


# Internals stay in their packages: users never need them, and they may change.
INTERNAL = {
    "Confirmer", "ConfirmerStats", "Correction", "DeviceSnapshot", "StateClaim", "Verdict",
    "ClaimField", "ClaimVerdict", "Confirmation", "is_confirmed", "on_shortest_path",
    "ReceiverStats", "RejectReason", "ServerStats", "is_ours",
    "callback_marker", "EventBus", "BusStats",
}  # fmt: skip


def test_internals_stay_in_their_packages() -> None:
    assert not INTERNAL & set(nukiasync.__all__)
    for name in INTERNAL - {"EventBus", "BusStats"}:
        assert hasattr(bridge, name), name
    models = set(web.__all__) | set(bridge.__all__)
    assert models - INTERNAL <= set(nukiasync.__all__)


def test_what_readme_and_examples_import_is_public() -> None:
    root = Path(__file__).parent.parent
    sources = re.findall(r"```python\n(.*?)```", (root / "README.md").read_text(), re.DOTALL)
    sources += [path.read_text() for path in sorted((root / "examples").rglob("*.py"))]
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    imported = {
        alias.name
        for source in sources
        for node in ast.walk(compile(source, "<snippet>", "exec", flags=flags))
        if isinstance(node, ast.ImportFrom) and node.module == "nukiasync"
        for alias in node.names
    }
    assert imported, "README and the examples import from nukiasync"
    assert imported <= set(nukiasync.__all__), imported - set(nukiasync.__all__)


def test_every_type_the_hub_takes_is_public() -> None:
    """``NukiHub(watch=BridgeWatchTiming(...), clock=ClockPair(...))``: importable from the root."""
    generic = {"Callable", "Sequence", "Iterable", "Any", "Awaitable", "PathLike", "Literal"}
    named = {
        word
        for param in inspect.signature(nukiasync.NukiHub).parameters.values()
        for word in re.findall(r"\b[A-Z]\w+", str(param.annotation))
        if word not in generic | {"None"}
    }
    assert {"BridgeWatchTiming", "AttributionTiming", "ClockPair", "ConfirmPolicy"} <= named
    assert named <= set(nukiasync.__all__), named - set(nukiasync.__all__)


def test_every_error_is_exported_and_a_nuki_error() -> None:
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if cls.__module__ == errors.__name__:
            assert name in nukiasync.__all__, name
            assert issubclass(cls, nukiasync.NukiError)


def test_models_have_from_api() -> None:
    for name in ("Smartlock", "SmartlockLog", "SmartlockAuth", "AccountUser", "Account",
                 "ApiKey", "ApiKeyToken", "DecentralWebhook", "WebhookLog", "Notification",
                 "Address", "AddressUnit", "Reservation", "Service", "OpenerBrand",
                 "OpenerIntercom", "BridgeDevice", "BridgeCallback"):  # fmt: skip
        assert callable(getattr(getattr(nukiasync, name), "from_api", None)), name


def test_version_has_one_source() -> None:
    from importlib.metadata import version

    assert version("nukiasync") == nukiasync.__version__
