"""Parse the topics and payloads of the Nuki MQTT API 1.5.

Payloads come from the LAN broker, unsigned, so every parser here is total: it returns a value
or raises `NukiMqttMessageError` with a short ``reason``; nothing else escapes. Codes of state,
mode and door sensor are the Bridge API's, so the same tolerant enums serve both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

from nukiasync.const import (
    DeviceType,
    DoorSensorState,
    LockAction,
    LockMode,
    TolerantIntEnum,
)
from nukiasync.errors import NukiMqttMessageError

if TYPE_CHECKING:
    from collections.abc import Callable

TOPIC_ROOT: Final = "nuki"
_MAX_PAYLOAD = 256  # every Nuki payload is a short number, CSV line or name
_FIELD_MAX = 0xFFFFFFFF  # auth and code ids are 32-bit on the device

REASON_TOPIC = "topic"
REASON_PAYLOAD = "payload"
REASON_FIELDS = "fields"
REASON_RANGE = "out_of_range"


class MqttTrigger(TolerantIntEnum):
    """What started an action announced on ``lockActionEvent`` (not the log's trigger)."""

    UNKNOWN = -1
    SYSTEM = 0  # also Bluetooth commands from the app
    RESERVED = 1
    BUTTON = 2
    AUTOMATIC = 3  # e.g. time control; Nuki's own fob example uses it too
    AUTO_LOCK = 6
    HOMEKIT = 171  # HomeKit or Matter
    MQTT = 172


# lockActionEvent actions beyond LockAction: a fob or button pressed without an action.
FOB_WITHOUT_ACTION: Final = 80
BUTTON_WITHOUT_ACTION: Final = 90


@attrs.frozen(kw_only=True)
class TopicRef:
    """Which device a topic belongs to, and which of its values it carries."""

    nuki_id: int
    name: str


@attrs.frozen(kw_only=True)
class LockActionEvent:
    """``LockAction,Trigger,AuthID,CodeID,Extra``: an action about to run, and who started it.

    ``auth_id`` is the device-side authorization id (the Web API's ``SmartlockAuth.authId``),
    None when nobody is named (a button press). ``code_id`` is the keypad code's id, None when
    unknown. ``extra`` is the auto-unlock flag, the number of presses, or the keypad source.
    """

    action: LockAction
    action_code: int
    trigger: MqttTrigger
    trigger_code: int
    auth_id: int | None
    code_id: int | None
    extra: int

    @property
    def moves_the_lock(self) -> bool:
        """Whether the action changes the lock's state (a press without action does not)."""
        return self.action is not LockAction.UNKNOWN


def topic_for(nuki_id: int, name: str) -> str:
    """The topic a device publishes ``name`` on; the id is upper-case hex, as Nuki shows it."""
    return f"{TOPIC_ROOT}/{nuki_id:08X}/{name}"


def parse_topic(topic: str) -> TopicRef:
    """Split ``nuki/<HEX>/<name>``.

    Raises:
        NukiMqttMessageError: not a Nuki device topic.
    """
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != TOPIC_ROOT or not parts[2]:
        msg = "not a Nuki device topic"
        raise NukiMqttMessageError(msg, reason=REASON_TOPIC)
    hex_id = parts[1]
    if not 1 <= len(hex_id) <= 8 or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        msg = "the topic's device id is not hexadecimal"
        raise NukiMqttMessageError(msg, reason=REASON_TOPIC)
    return TopicRef(nuki_id=int(hex_id, 16), name=parts[2])


def _text(payload: bytes | str) -> str:
    if isinstance(payload, bytes):
        if len(payload) > _MAX_PAYLOAD:
            msg = "payload too long"
            raise NukiMqttMessageError(msg, reason=REASON_PAYLOAD)
        try:
            return payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            msg = "payload is not UTF-8"
            raise NukiMqttMessageError(msg, reason=REASON_PAYLOAD) from None
    if len(payload) > _MAX_PAYLOAD:
        msg = "payload too long"
        raise NukiMqttMessageError(msg, reason=REASON_PAYLOAD)
    return payload.strip()


def _number(text: str, *, high: int = _FIELD_MAX) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        msg = "expected a non-negative integer"
        raise NukiMqttMessageError(msg, reason=REASON_PAYLOAD)
    value = int(text)
    if value > high:
        msg = "number out of range"
        raise NukiMqttMessageError(msg, reason=REASON_RANGE)
    return value


def parse_lock_action_event(payload: bytes | str) -> LockActionEvent:
    """Parse a ``lockActionEvent`` payload.

    Raises:
        NukiMqttMessageError: not five comma-separated non-negative integers in range.
    """
    fields = _text(payload).split(",")
    if len(fields) != 5:
        msg = "expected five comma-separated fields"
        raise NukiMqttMessageError(msg, reason=REASON_FIELDS)
    action, trigger, auth_id, code_id, extra = (_number(field.strip()) for field in fields)
    if action > 0xFF or trigger > 0xFF or extra > 0xFF:
        msg = "action, trigger and extra are bytes"
        raise NukiMqttMessageError(msg, reason=REASON_RANGE)
    return LockActionEvent(
        action=LockAction.parse(action),
        action_code=action,
        trigger=MqttTrigger.parse(trigger),
        trigger_code=trigger,
        auth_id=auth_id or None,
        code_id=code_id or None,
        extra=extra,
    )


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    msg = "expected true or false"
    raise NukiMqttMessageError(msg, reason=REASON_PAYLOAD)


def _byte(text: str) -> int:
    return _number(text, high=0xFF)


def _percent(text: str) -> int:
    return _number(text, high=100)


def _device_type(text: str) -> DeviceType:
    return DeviceType.parse(_number(text, high=0xF))


def _mode(text: str) -> LockMode:
    return LockMode.parse(_byte(text))


def _door(text: str) -> DoorSensorState:
    return DoorSensorState.parse(_byte(text))


def _name(text: str) -> str:
    return text


# Retained state topics and how to read them. ``state`` stays an integer: whether it is a
# LockState or an OpenerState depends on ``deviceType``, which may arrive later.
STATE_TOPICS: Final[dict[str, Callable[[str], object]]] = {
    "deviceType": _device_type,
    "name": _name,
    "firmware": _name,
    "mode": _mode,
    "state": _byte,
    "batteryCritical": _boolean,
    "batteryChargeState": _percent,
    "batteryCharging": _boolean,
    "keypadBatteryCritical": _boolean,
    "doorsensorState": _door,
    "doorsensorBatteryCritical": _boolean,
    "serverConnected": _boolean,
    "connected": _boolean,
}


def parse_state_value(name: str, payload: bytes | str) -> object:
    """Parse the payload of a state topic named ``name`` (see `STATE_TOPICS`).

    Raises:
        NukiMqttMessageError: an unknown topic name, or a payload of the wrong form.
    """
    parser = STATE_TOPICS.get(name)
    if parser is None:
        msg = "not a state topic"
        raise NukiMqttMessageError(msg, reason=REASON_TOPIC)
    return parser(_text(payload))
