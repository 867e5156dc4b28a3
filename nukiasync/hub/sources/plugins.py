"""Which sources a hub's keyword arguments ask for, besides the Web API log."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nukiasync.hub.sources.base import ActionSource
    from nukiasync.hub.sources.web_log import WebLogSource
    from nukiasync.mqtt.broker import MqttSettings
    from nukiasync.web.client import NukiWebClient


def extra_sources(
    web: NukiWebClient | None,
    web_log: WebLogSource | None,
    *,
    mqtt: MqttSettings | None,
    webhook_secret: str | None,
) -> list[ActionSource]:
    """The MQTT and webhook sources asked for.

    Raises:
        ValueError: webhooks without a Web API client.
    """
    del web, web_log
    if mqtt is not None or webhook_secret is not None:
        msg = "not yet"
        raise ValueError(msg)
    return []
