"""The table a person reads: times, references, health rows, widths, and the JSON lines."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from nukiasync.cli.output import EventPrinter
from nukiasync.const import DeviceType, DoorSensorState
from nukiasync.events import (
    ActionAttributed,
    Actor,
    AttributionFailure,
    AttributionUnavailable,
    BatteryChanged,
    BridgeUnreachable,
    CallbackRegistered,
    DoorSensorChanged,
    EventSource,
    Gap,
    LockStateChanged,
    LogEntryObserved,
    RingActionReceived,
    StateCorrected,
    WebApiAvailable,
)
from nukiasync.how import How

T0 = datetime(2026, 12, 5, 6, 59, 58, 300_000, tzinfo=UTC)
CET = timezone(timedelta(hours=1), "CET")
DOOR = {"smartlock_id": 17, "device_name": "Front door", "device_type": DeviceType.SMARTLOCK_3}


def base(n: int, seconds: float = 0.0, **kw: Any) -> dict[str, Any]:
    return {
        "event_id": f"e{n}",
        "received_at": T0 + timedelta(seconds=seconds),
        "source": EventSource.BRIDGE_CALLBACK,
        **kw,
    }


def changed(n: int, state: str, seconds: float = 0.0, **kw: Any) -> LockStateChanged:
    return LockStateChanged(
        **base(n, seconds, **DOOR, **kw), previous_state=None, state=3, state_name=state
    )


def attributed(n: int, state_id: str, name: str, how: How, at: datetime) -> ActionAttributed:
    return ActionAttributed(
        **base(n, 4.0, **DOOR),
        occurred_at=at,
        state_event_id=state_id,
        actor=Actor(name=name, auth_type="app"),
        action=1,
        action_name="unlock",
        trigger=0,
        trigger_name="system",
        log_entry_id=f"log{n}",
        latency=2.94,
        how=how,
    )


def printer(**kw: Any) -> tuple[EventPrinter, io.StringIO]:
    out = io.StringIO()
    return EventPrinter(out, tz=CET, **kw), out


def rows(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()[4:]  # after the header


def test_header_names_the_day_and_the_zone_once() -> None:
    p, _out = printer()
    lines = p.header_lines(T0)
    assert lines[0] == "Saturday 5 December 2026; times are device times in CET (UTC+01:00)."
    assert '"..."' in lines[1]
    assert lines[3].split() == ["TIME", "DOOR", "REF", "WHAT", "WHO", "HOW", "NOTE"]
    p, out = printer(expect_who=False)
    assert len(p.header_lines(T0)) == 3  # no legend for "..." when no one is looked up
    p(changed(1, "unlocked"))
    p(AttributionUnavailable(**base(2, **DOOR), state_event_id="e1",
                             reason=AttributionFailure.NO_WEB_API, latency=0.0))  # fmt: skip
    assert [" ".join(r.split())[11:] for r in out.getvalue().splitlines()[3:]] == [
        "Front door #1 unlocked"
    ]


def test_an_answer_names_its_change_by_reference_and_device_time() -> None:
    p, out = printer()
    p(changed(1, "unlocked"))
    p(changed(2, "locked", 1.0))
    p(attributed(3, "e2", "Bob", How.KEYPAD_CODE, T0 - timedelta(seconds=0.3)))
    p(attributed(4, "e1", "", How.MANUAL, T0.replace(microsecond=0)))
    p(attributed(5, "e-unknown", "Alice", How.APP, T0))
    p(AttributionUnavailable(**base(6, 9.0, **DOOR), state_event_id="e-other",
                             reason=AttributionFailure.TIMED_OUT, latency=45.0))  # fmt: skip
    assert [r.split("  ")[0] for r in rows(out)] == [
        "07:59:58.3", "07:59:59.3", "07:59:58.0", "07:59:58.0", "07:59:58.3", "08:00:07.3",
    ]  # fmt: skip
    first, second, bob, nobody, stray, unknown = (" ".join(r.split()) for r in rows(out))
    assert first.endswith("Front door #1 unlocked ...")
    assert second.endswith("Front door #2 locked ...")
    assert bob.endswith("Front door #2 locked by Bob keypad code known after 2.9 s")
    assert nobody.endswith("Front door #1 unlocked by (someone) manual turn known after 2.9 s")
    assert stray.endswith("Front door by Alice app known after 2.9 s")  # no change to name
    assert unknown.endswith("Front door by unknown the log did not show it in time")


def test_a_new_day_is_said_before_its_first_row() -> None:
    p, out = printer()
    p(changed(1, "unlocked"))
    p(changed(2, "locked", 24 * 3600.0))
    assert "Sunday 6 December 2026:" in out.getvalue().splitlines()


def test_health_rows_say_what_and_why_in_words() -> None:
    p, out = printer(names={17: "Front door"}, hold_health=True)
    down = BridgeUnreachable(**base(1), component="bridge", available=False,
                             detail="NukiBridgeAuthenticationError", bridge_id="house")  # fmt: skip
    p(down)
    p(CallbackRegistered(**base(2), component="callback", available=False,
                         detail="NukiCallbackSlotsFullError", bridge_id="bridge"))  # fmt: skip
    p(WebApiAvailable(**base(3), component="web_api", available=True, detail=""))
    p(CallbackRegistered(**base(4), component="callback", available=True,
                         detail="re-registered", bridge_id="bridge"))  # fmt: skip
    assert out.getvalue() == ""  # held until release: start-up may still fail
    assert p.held[0] is down
    p.release()
    p.release()  # once is enough
    bridge, callback, web, again = (" ".join(r.split()) for r in rows(out))
    assert again.endswith("callback health: registered re-registered")
    assert bridge.endswith("bridge house health: down the bridge refused the token")
    assert callback.endswith("callback health: not registered all callback slots are taken")
    assert web.endswith("Web API health: up")
    assert "bridge bridge" not in out.getvalue()


def test_every_other_kind_has_words() -> None:
    p, out = printer(names={17: "Front door", 99: "A very long door name that will not fit"})
    p(DoorSensorChanged(**base(1, **DOOR), previous_state=None,
                        state=DoorSensorState.DOOR_CLOSED, state_code=2))  # fmt: skip
    p(DoorSensorChanged(**base(2, **DOOR), previous_state=None,
                        state=DoorSensorState.CALIBRATING, state_code=5))  # fmt: skip
    p(RingActionReceived(**base(3, **DOOR)))
    p(BatteryChanged(**base(4, **DOOR), battery_charge_state=80, battery_charging=True))
    p(BatteryChanged(**base(5, **DOOR), battery_critical=True))
    p(BatteryChanged(**base(6, **DOOR), keypad_battery_critical=True))
    p(BatteryChanged(**base(7, **DOOR), battery_charge_state=15))
    p(BatteryChanged(**base(8, **DOOR)))
    p(StateCorrected(**base(9, **DOOR), wrong_state=3, state=1, state_name="locked"))
    p(Gap(**base(10), reason="consumer_overflow", dropped=3))
    p(Gap(**base(11), reason="catch_up_bound"))
    p(changed(12, "unlocked_lock_n_go", source=EventSource.BRIDGE_POLL))
    p(LockStateChanged(**base(13, smartlock_id=99), previous_state=None, state=1,
                       state_name="rto_active", attributable=False))  # fmt: skip
    p(LockStateChanged(**base(14, smartlock_id=5), previous_state=None, state=1,
                       state_name="locked"))  # fmt: skip
    text = [" ".join(r.split()) for r in rows(out)]
    assert text[0].endswith("Front door door closed door sensor")
    assert "door calibrating" in text[1]
    assert text[2].endswith("doorbell rang doorbell")
    assert text[3].endswith("battery 80% (charging)")
    assert text[4:8] == [text[4][:10] + f" Front door {w}" for w in (
        "battery critical", "keypad battery critical", "battery 15%",
        "battery ok",
    )]  # fmt: skip
    assert text[8].endswith("is locked the bridge corrected a callback")
    assert text[9].endswith("- gap 3 events skipped (this output was too slow)")
    assert text[10].endswith("- gap older log entries were not read (catch-up limit)")
    assert text[11].endswith("#1 unlocked (lock 'n' go) ... read from the bridge")
    assert "A very long door name that will not fit #2 ring to open on" in text[12]  # never cut
    assert text[12].endswith("ring to open on")  # not attributable: no "..."
    assert "device 5" in text[13]


def log_entry(n: int, **kw: Any) -> LogEntryObserved:
    fields: dict[str, Any] = {
        **DOOR,
        "log_entry_id": f"log{n}",
        "actor": Actor(name="Alice"),
        "action": 1,
        "action_name": "unlock",
        "trigger": 0,
        "trigger_name": "system",
        "succeeded": True,
        "outcome_name": "success",
        "how": How.APP,
        **kw,
    }
    return LogEntryObserved(**base(n), occurred_at=T0, **fields)


def test_log_only_rows_show_the_state_the_log_proves() -> None:
    p, out = printer()
    p(log_entry(1))
    p(log_entry(2, actor=Actor(), succeeded=False, outcome_name="invalid_code",
                how=How.KEYPAD_CODE))  # fmt: skip
    p(log_entry(3, action=3, action_name="unlatch", device_type=DeviceType.OPENER))
    p(log_entry(4, action=250, action_name="door_log_enabled", actor=Actor(), how=How.UNKNOWN))
    p(log_entry(5, action=2, action_name="lock", actor=Actor(), how=How.AUTO_LOCK))
    text = [" ".join(r.split()) for r in rows(out)]
    assert text[0].endswith("Front door unlocked Alice app from the log only")
    assert text[1].endswith("unlock failed (someone) keypad code invalid code")
    assert text[2].endswith("opened Alice app from the log only")
    assert text[3].endswith("door log enabled unknown from the log only")
    assert text[4].endswith("locked auto-lock from the log only")


def test_json_lines_carry_both_times_and_how() -> None:
    out = io.StringIO()
    p = EventPrinter(out, json_lines=True, hold_health=True)
    p(changed(1, "unlocked"))
    p(attributed(2, "e1", "Alice", How.APP, T0 - timedelta(seconds=1)))
    p(WebApiAvailable(**base(3), component="web_api", available=True, detail=""))
    p.release()
    state, answer, health = (json.loads(line) for line in out.getvalue().splitlines())
    assert state["occurred_at"] is None
    assert state["happened_at"] == state["received_at"] == T0.isoformat()
    assert answer["received_at"] == (T0 + timedelta(seconds=4)).isoformat()
    assert answer["occurred_at"] == answer["happened_at"] == "2026-12-05T06:59:57.300000+00:00"
    assert (answer["how"], answer["trigger_name"], answer["trigger"]) == ("app", "system", 0)
    assert health["type"] == "WebApiAvailable"


def test_long_words_are_cut_but_names_never() -> None:
    p, out = printer(names={17: "Front door"})
    p(attributed(1, "e0", "Alexandra von Humboldt-Schmidt", How.APP, T0))
    p(log_entry(2, succeeded=False, action_name="lock_n_go_unlatch", outcome_name="motor_blocked"))
    by, failed = rows(out)
    assert "Alexandra von Humboldt-Schmidt  app" in by
    assert "lock n go unlatch failed" in failed
    assert "\u2026" not in by
    long_what = log_entry(3, action=999, action_name="a_new_action_with_a_very_long_name")
    p(long_what)
    assert "a new action with a very lo\u2026  Alice" in rows(out)[2]  # cut, marked
