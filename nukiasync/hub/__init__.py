"""The hub: state changes the moment a bridge reports them, then who did it.

What lives where, one question each:

- `hub`: the object users hold (`NukiHub`): start and close, subscribe, diagnostics.
- `bridge_link`: one bridge: its client, receiver, registration and self-healing watch.
- `confirm`: callbacks checked against the bridge's ``/list`` under the confirm policy.
- `devices`: device state and every state event built from a change.
- `sources/`: whatever says who acted, behind one protocol (`base.ActionSource`; `Verdicts`
  gives one outcome per change across them): the Web API log (`log_watcher` decides when to
  read and what matched, `web_log` publishes the answers), MQTT (`mqtt_source`, matched by
  `push_match`, named by `mqtt_names`) and decentral webhooks (`webhook_source`).
- `outcomes`: the events that answer "who" (attributed, unavailable, observed) and health.
- `actors`: who an authorization id is.
- `bus`, `delivery`: handing events to consumers, the outbox and the state file.

The matching rules themselves are pure and live below the hub, in `nukiasync.attribution`.
"""

from nukiasync.hub.bridge_link import (
    BridgeLink,
    BridgeWatchTiming,
    CallbackState,
    Reachability,
)
from nukiasync.hub.hub import ConfirmPolicy, NukiHub
from nukiasync.hub.sources.base import ActionSource, SourceHost
from nukiasync.hub.sources.log_watcher import AttributionTiming
from nukiasync.hub.sources.mqtt_source import MqttSource
from nukiasync.hub.sources.push_match import PushTiming
from nukiasync.hub.sources.webhook_source import WebhookSource

__all__ = [
    "ActionSource",
    "AttributionTiming",
    "BridgeLink",
    "BridgeWatchTiming",
    "CallbackState",
    "ConfirmPolicy",
    "MqttSource",
    "NukiHub",
    "PushTiming",
    "Reachability",
    "SourceHost",
    "WebhookSource",
]
