"""What Nuki locks publish to the owner's MQTT broker (Nuki MQTT API 1.5), parsed.

Smart Lock 3.0 Pro and 4th-generation locks are MQTT clients themselves: they publish their
state on retained topics under ``nuki/<NUKI-ID-HEX>/`` and, before an action runs, who started
it on ``lockActionEvent``. `messages` turns those messages into typed values; `LockFeed`
listens to them and `EventPublisher` exports the hub's events, both over a reconnecting link
(the ``mqtt`` extra installs aiomqtt, which they import only when they connect).
"""

from nukiasync.mqtt.broker import LinkStats, MqttSettings
from nukiasync.mqtt.feed import DeviceMessage, FeedStats, LockFeed
from nukiasync.mqtt.messages import (
    STATE_TOPICS,
    LockActionEvent,
    MqttTrigger,
    TopicRef,
    parse_lock_action_event,
    parse_state_value,
    parse_topic,
    topic_for,
)
from nukiasync.mqtt.publisher import EventPublisher, PublisherStats

__all__ = [
    "STATE_TOPICS",
    "DeviceMessage",
    "EventPublisher",
    "FeedStats",
    "LinkStats",
    "LockActionEvent",
    "LockFeed",
    "MqttSettings",
    "MqttTrigger",
    "PublisherStats",
    "TopicRef",
    "parse_lock_action_event",
    "parse_state_value",
    "parse_topic",
    "topic_for",
]
