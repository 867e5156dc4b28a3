"""One wording of "how": from the trigger and the authorization type together."""

from __future__ import annotations

import pytest

from nukiasync import How, how_of
from nukiasync.const import AuthType, LogAction, LogSource, LogTrigger, OpenerLogSource

T = LogTrigger


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        # Trigger 0 is every Bluetooth command: the authorization says which.
        ({"trigger": T.SYSTEM, "auth_type": "app"}, How.APP),
        ({"trigger": T.SYSTEM, "auth_type": AuthType.BRIDGE}, How.BRIDGE),
        ({"trigger": T.SYSTEM, "auth_type": 2}, How.FOB),
        ({"trigger": T.SYSTEM, "auth_type": 13}, How.KEYPAD_CODE),
        ({"trigger": T.SYSTEM, "auth_type": "virtual"}, How.APP),
        ({"trigger": T.SYSTEM, "auth_type": None}, How.BLUETOOTH),
        ({"trigger": T.SYSTEM, "auth_type": 99}, How.BLUETOOTH),
        ({"trigger": T.SYSTEM, "auth_type": "no-such-type"}, How.BLUETOOTH),
        ({"trigger": T.SYSTEM, "auth_type": "web"}, How.WEB),  # implied by the log, no auth
        # Trigger 3 covers fobs and automations.
        ({"trigger": T.AUTOMATIC, "auth_type": "fob"}, How.FOB),
        ({"trigger": T.AUTOMATIC, "auth_type": AuthType.Z_KEY}, How.FOB),
        ({"trigger": T.AUTOMATIC, "auth_type": "app", "auto_unlock": True}, How.AUTO_UNLOCK),
        ({"trigger": T.AUTOMATIC, "auth_type": None}, How.AUTOMATION),
        # Triggers that say it alone.
        ({"trigger": T.MANUAL, "auth_type": None}, How.MANUAL),
        ({"trigger": T.BUTTON, "auth_type": None}, How.BUTTON),
        ({"trigger": T.WEB, "auth_type": "app"}, How.WEB),
        ({"trigger": T.APP, "auth_type": None}, How.APP),
        ({"trigger": T.AUTO_LOCK, "auth_type": None}, How.AUTO_LOCK),
        ({"trigger": T.ACCESSORY, "auth_type": None}, How.ACCESSORY),
        ({"trigger": T.NUKI_MODE, "auth_type": None}, How.AUTOMATION),
        ({"trigger": T.KEYPAD, "auth_type": None}, How.KEYPAD_CODE),
        ({"trigger": T.KEYPAD_ERROR, "auth_type": None}, How.KEYPAD_CODE),
        ({"trigger": 255, "auth_type": None, "source": LogSource.FINGERPRINT}, How.FINGERPRINT),
        # What the action itself says.
        ({"trigger": 0, "auth_type": None, "action": LogAction.DOOR_OPENED}, How.DOOR_SENSOR),
        ({"trigger": 0, "auth_type": None, "action": 224}, How.DOORBELL),
        ({"trigger": 0, "auth_type": None, "opener_source": OpenerLogSource(0)}, How.DOORBELL),
        ({"trigger": 0, "auth_type": None, "opener_source": 5}, How.BRIDGE),
        ({"trigger": 0, "auth_type": None, "opener_source": 77}, How.BLUETOOTH),
        # Nothing to go on.
        ({"trigger": None, "auth_type": None}, How.UNKNOWN),
        ({"trigger": 42, "auth_type": None}, How.UNKNOWN),
    ],
)  # fmt: skip
def test_how_of(kw: dict[str, object], expected: How) -> None:
    assert how_of(**kw) is expected  # type: ignore[arg-type]


def test_labels_are_what_a_person_reads() -> None:
    assert How.MANUAL.label == "manual turn"
    assert How.KEYPAD_CODE.label == "keypad code"
    assert How.AUTO_LOCK.label == "auto-lock"
    assert How.BRIDGE.label == "bridge API"
    assert How.APP.label == "app"
    assert str(How.KEYPAD_CODE) == "keypad_code"  # the machine value, as in JSON


def test_how_survives_the_state_file_round_trip() -> None:
    from datetime import UTC, datetime

    from nukiasync.events import ActionAttributed, Actor, EventSource
    from nukiasync.hub.delivery import event_from_record, event_to_record

    event = ActionAttributed(
        event_id="a", received_at=datetime(2026, 1, 1, tzinfo=UTC), source=EventSource.WEB_LOG,
        state_event_id="s", actor=Actor(name="Bob", auth_type="fob"), action=1,
        action_name="unlock", trigger=3, trigger_name="automatic", log_entry_id="l",
        latency=1.0, how=How.FOB,
    )  # fmt: skip
    restored = event_from_record(event_to_record(event))
    assert restored == event
    assert isinstance(restored, ActionAttributed)
    assert restored.how is How.FOB
    assert restored.how.label == "fob"
    assert How("a wording from a newer version") is How.UNKNOWN


def test_an_event_built_without_how_derives_it_from_its_codes() -> None:
    from datetime import UTC, datetime

    from nukiasync.events import Actor, EventSource, LogEntryObserved

    entry = LogEntryObserved(
        event_id="l", received_at=datetime(2026, 1, 1, tzinfo=UTC), source=EventSource.WEB_LOG,
        log_entry_id="l", actor=Actor(name="Ann", auth_type="app"), action=1,
        action_name="unlock", trigger=0, trigger_name="system", succeeded=True,
        outcome_name="success",
    )  # fmt: skip
    assert entry.how is How.APP
