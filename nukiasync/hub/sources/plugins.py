"""Which sources a hub's keyword arguments ask for, besides the Web API log.

Kept out of the hub object, so adding a kind of source never edits it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nukiasync.hub.sources.mqtt_source import MqttSource
from nukiasync.hub.sources.webhook_source import WebhookSource

if TYPE_CHECKING:
    from nukiasync.hub.sources.base import ActionSource
    from nukiasync.hub.sources.web_log import WebLogSource
    from nukiasync.mqtt.broker import MqttSettings
    from nukiasync.web.client import NukiWebClient


def extra_sources(
    web: NukiWebClient | None,
    web_log: WebLogSource | None,
    *,
    mqtt: MqttSettings | MqttSource | None,
    webhook_secret: str | None,
) -> list[ActionSource]:
    """The MQTT and webhook sources asked for.

    ``mqtt`` is a broker (names then come from the Web API's authorizations when ``web`` is
    given) or an `MqttSource` built with the owner's own names.

    Raises:
        ValueError: webhooks without a Web API client.
    """
    sources: list[ActionSource] = []
    if mqtt is not None:
        sources.append(mqtt if isinstance(mqtt, MqttSource) else MqttSource(mqtt, web=web))
    if webhook_secret is not None:
        if web_log is None:
            msg = "webhooks push Web API log entries: give the hub a web client too"
            raise ValueError(msg)
        sources.append(WebhookSource(webhook_secret, web_log))
    return sources
