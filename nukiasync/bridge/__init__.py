"""Nuki Bridge: the HTTP API client, token modes, models, and receiving its callbacks."""

from __future__ import annotations

from nukiasync.bridge._serving import ServerStats
from nukiasync.bridge.address import parse_bridge_address
from nukiasync.bridge.callback_urls import callback_marker, is_ours
from nukiasync.bridge.callbacks import BridgeCallback, parse_callback
from nukiasync.bridge.claims import (
    ClaimField,
    ClaimVerdict,
    Confirmation,
    DeviceSnapshot,
    StateClaim,
)
from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.confirm import (
    Confirmer,
    ConfirmerStats,
    Correction,
    is_confirmed,
)
from nukiasync.bridge.discovery import DiscoveredBridge, discover_bridges
from nukiasync.bridge.models import (
    BridgeCallbackEntry,
    BridgeDevice,
    BridgeDeviceState,
    BridgeInfo,
    BridgeLogEntry,
    BridgeScanResult,
    LockActionResult,
)
from nukiasync.bridge.pairing import request_token
from nukiasync.bridge.receiver import CallbackReceiver, ReceiverStats, RejectReason, Verdict
from nukiasync.bridge.server import CallbackServer
from nukiasync.bridge.token import TokenMode
from nukiasync.bridge.transitions import on_shortest_path

__all__ = [
    "BridgeCallback",
    "BridgeCallbackEntry",
    "BridgeDevice",
    "BridgeDeviceState",
    "BridgeInfo",
    "BridgeLogEntry",
    "BridgeScanResult",
    "CallbackReceiver",
    "CallbackServer",
    "ClaimField",
    "ClaimVerdict",
    "Confirmation",
    "Confirmer",
    "ConfirmerStats",
    "Correction",
    "DeviceSnapshot",
    "DiscoveredBridge",
    "LockActionResult",
    "NukiBridgeClient",
    "ReceiverStats",
    "RejectReason",
    "ServerStats",
    "StateClaim",
    "TokenMode",
    "Verdict",
    "callback_marker",
    "discover_bridges",
    "is_confirmed",
    "is_ours",
    "on_shortest_path",
    "parse_bridge_address",
    "parse_callback",
    "request_token",
]
