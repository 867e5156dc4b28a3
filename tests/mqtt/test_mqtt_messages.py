"""Parsing what Nuki locks publish to MQTT: documented examples, edges, and totality."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nukiasync import NukiError, NukiMqttMessageError
from nukiasync.const import DeviceType, DoorSensorState, LockAction, LockMode
from nukiasync.mqtt import (
    STATE_TOPICS,
    LockActionEvent,
    MqttTrigger,
    parse_lock_action_event,
    parse_state_value,
    parse_topic,
    topic_for,
)
from tests.support.paths import FIXTURES

EXAMPLES = json.loads((FIXTURES / "mqtt" / "lockActionEvent_examples.json").read_text())


def test_documented_examples_parse() -> None:
    parsed = [parse_lock_action_event(example["payload"]) for example in EXAMPLES]
    assert parsed[0] == LockActionEvent(
        action=LockAction.UNLATCH,
        action_code=3,
        trigger=MqttTrigger.SYSTEM,
        trigger_code=0,
        auth_id=54321,
        code_id=12345,
        extra=1,
    )
    # A button press without action names nobody and moves nothing.
    button = parsed[3]
    assert (button.action_code, button.auth_id, button.code_id) == (90, None, None)
    assert not button.moves_the_lock
    assert parsed[2].action is LockAction.LOCK_N_GO
    assert parsed[2].trigger is MqttTrigger.BUTTON
    assert parsed[4].auth_id == 54322
    assert parsed[4].moves_the_lock
    assert parsed[6].trigger is MqttTrigger.MQTT


def test_bytes_and_whitespace_are_accepted() -> None:
    event = parse_lock_action_event(b" 2, 172, 7, 0, 0\n")
    assert (event.action, event.trigger, event.auth_id) == (LockAction.LOCK, MqttTrigger.MQTT, 7)


def test_unknown_codes_keep_the_raw_number() -> None:
    event = parse_lock_action_event("77,99,1,2,3")
    assert (event.action, event.action_code) == (LockAction.UNKNOWN, 77)
    assert (event.trigger, event.trigger_code) == (MqttTrigger.UNKNOWN, 99)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("1,0,0,0", "fields"),
        ("1,0,0,0,0,0", "fields"),
        ("", "fields"),
        ("1,0,-5,0,0", "payload"),
        ("1,x,0,0,0", "payload"),
        ("1,0,0,0,٣", "payload"),  # a non-ASCII digit
        ("256,0,0,0,0", "out_of_range"),
        ("1,0,4294967296,0,0", "out_of_range"),
        ("1,0,99999999999,0,0", "payload"),
        (b"\xff\xfe", "payload"),
        ("1" * 300, "payload"),
        (b"1" * 300, "payload"),
    ],
)
def test_malformed_events_raise_with_a_reason(payload: str | bytes, reason: str) -> None:
    with pytest.raises(NukiMqttMessageError) as caught:
        parse_lock_action_event(payload)
    assert caught.value.reason == reason
    assert isinstance(caught.value, NukiError)


def test_topics_round_trip() -> None:
    topic = topic_for(0x2BB28570, "lockActionEvent")
    assert topic == "nuki/2BB28570/lockActionEvent"
    ref = parse_topic(topic)
    assert (ref.nuki_id, ref.name) == (0x2BB28570, "lockActionEvent")
    assert parse_topic("nuki/2bb28570/state").nuki_id == 0x2BB28570


@pytest.mark.parametrize(
    "topic",
    [
        "nuki/2BB28570",
        "nuki/2BB28570/",
        "other/2BB28570/state",
        "nuki/XYZ/state",
        "nuki/123456789/state",
        "nuki//state",
        "nuki/2BB28570/state/extra",
    ],
)
def test_foreign_topics_are_refused(topic: str) -> None:
    with pytest.raises(NukiMqttMessageError) as caught:
        parse_topic(topic)
    assert caught.value.reason == "topic"


def test_state_topics() -> None:
    assert parse_state_value("state", b"1") == 1
    assert parse_state_value("mode", "3") is LockMode.CONTINUOUS
    assert parse_state_value("doorsensorState", "2") is DoorSensorState.DOOR_CLOSED
    assert parse_state_value("deviceType", "4") is DeviceType.SMARTLOCK_3
    assert parse_state_value("batteryCritical", "false") is False
    assert parse_state_value("connected", b"true") is True
    assert parse_state_value("batteryChargeState", "87") == 87
    assert parse_state_value("name", " Front door ") == "Front door"
    for name, payload in (("batteryCritical", "maybe"), ("batteryChargeState", "101")):
        with pytest.raises(NukiMqttMessageError):
            parse_state_value(name, payload)
    with pytest.raises(NukiMqttMessageError) as caught:
        parse_state_value("commandResponse", "0")
    assert caught.value.reason == "topic"


@given(st.binary(max_size=400))
def test_event_parser_is_total(payload: bytes) -> None:
    try:
        event = parse_lock_action_event(payload)
    except NukiMqttMessageError:
        return
    assert 0 <= event.action_code <= 0xFF


@given(st.sampled_from(sorted(STATE_TOPICS)), st.binary(max_size=300))
def test_state_parser_is_total(name: str, payload: bytes) -> None:
    with contextlib.suppress(NukiMqttMessageError):
        parse_state_value(name, payload)


@given(st.text(max_size=60))
def test_topic_parser_is_total(topic: str) -> None:
    try:
        ref = parse_topic(topic)
    except NukiMqttMessageError:
        return
    assert 0 <= ref.nuki_id <= 0xFFFFFFFF
