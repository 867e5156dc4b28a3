"""What Nuki locks publish to the owner's MQTT broker (Nuki MQTT API 1.5), parsed.

Smart Lock 3.0 Pro and 4th-generation locks are MQTT clients themselves: they publish their
state on retained topics under ``nuki/<NUKI-ID-HEX>/`` and, before an action runs, who started
it on ``lockActionEvent``. This package turns those messages into typed values; it opens no
connection of its own.
"""

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

__all__ = [
    "STATE_TOPICS",
    "LockActionEvent",
    "MqttTrigger",
    "TopicRef",
    "parse_lock_action_event",
    "parse_state_value",
    "parse_topic",
    "topic_for",
]
