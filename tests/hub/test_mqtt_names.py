"""Who an MQTT announcement names: per lock, from the Web API's auths or the owner's mapping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nukiasync.errors import NukiConnectionError
from nukiasync.hub.sources.mqtt_names import MqttNames, action_name, log_action
from nukiasync.mqtt.messages import parse_lock_action_event
from nukiasync.web.models.auth import SmartlockAuth
from tests.support.log_watch import FakeTime

LOCK = (4 << 32) | 0x2BB28570
OTHER = (4 << 32) | 0x11111111


def auth(
    number: int, name: str, kind: int, smartlock_id: int = LOCK, **extra: Any
) -> SmartlockAuth:
    return SmartlockAuth.from_api(
        {"id": f"{number:024x}", "authId": number, "smartlockId": smartlock_id, "type": kind,
         "name": name, **extra}
    )  # fmt: skip


class Auths:
    """The Web API's authorization list, counting its loads; fails when told to."""

    def __init__(self, auths: list[SmartlockAuth]) -> None:
        self.auths = auths
        self.loads = 0
        self.fail = False

    async def __call__(self) -> list[SmartlockAuth]:
        self.loads += 1
        if self.fail:
            raise NukiConnectionError("down")
        return self.auths


async def test_auth_ids_are_looked_up_per_lock_and_keypad_codes_by_code_id() -> None:
    time = FakeTime()
    loader = Auths([
        auth(54321, "Alice", 0, accountUserId=7),
        auth(54321, "Mallory", 0, smartlock_id=OTHER),  # the same number on another lock
        auth(12345, "Bob's code", 13),
        auth(777, "Fob", 2),
    ])  # fmt: skip
    names = MqttNames(loader, clock=time.clock)
    assert await names.refresh()
    alice = await names.actor_for(LOCK, parse_lock_action_event("1,0,54321,0,0"))
    assert alice is not None
    assert (alice[0].name, alice[0].auth_type, alice[0].account_user_id) == ("Alice", "app", 7)
    assert alice[1].value == "app"
    auto = await names.actor_for(LOCK, parse_lock_action_event("1,0,54321,0,1"))
    assert auto is not None
    assert auto[1].value == "auto_unlock"  # for an app, Extra is the auto-unlock flag
    other = await names.actor_for(OTHER, parse_lock_action_event("1,0,54321,0,0"))
    assert other is not None
    assert other[0].name == "Mallory"
    code = await names.actor_for(LOCK, parse_lock_action_event("3,0,54399,12345,1"))
    assert code is not None
    assert (code[0].name, code[1].value) == ("Bob's code", "keypad_code")
    fob = await names.actor_for(LOCK, parse_lock_action_event("3,3,777,0,3"))
    assert fob is not None
    assert fob[1].value == "fob"
    homekit = await names.actor_for(LOCK, parse_lock_action_event("2,171,54321,0,0"))
    assert homekit is not None
    assert homekit[1].value == "accessory"


async def test_unknown_ids_refresh_at_most_once_a_minute_then_name_nobody() -> None:
    time = FakeTime()
    loader = Auths([auth(54321, "Alice", 0)])
    names = MqttNames(loader, clock=time.clock)
    await names.refresh()
    unknown = parse_lock_action_event("1,0,99999,0,0")
    assert await names.actor_for(LOCK, unknown) is None
    assert loader.loads == 1  # refreshed at start, not again within the minute
    assert await names.actor_for(LOCK, parse_lock_action_event("1,0,0,4242,1")) is None
    time.now += timedelta(seconds=61)
    loader.auths = [*loader.auths, auth(99999, "Carol", 0)]
    carol = await names.actor_for(LOCK, unknown)
    assert carol is not None
    assert carol[0].name == "Carol"
    assert loader.loads == 2
    time.now += timedelta(seconds=61)
    loader.fail = True
    assert not await names.refresh()  # a failed load keeps what was known
    assert await names.actor_for(LOCK, unknown) is not None
    assert names.unknown == 2


async def test_own_mapping_without_the_web_api() -> None:
    names = MqttNames(None, clock=FakeTime().clock, auth_names={5: "Alice"}, code_names={9: "Bob"})
    assert not await names.refresh()
    alice = await names.actor_for(LOCK, parse_lock_action_event("1,0,5,0,0"))
    bob = await names.actor_for(LOCK, parse_lock_action_event("3,0,1,9,1"))
    assert alice is not None
    assert bob is not None
    assert (alice[0].name, alice[1].value) == ("Alice", "bluetooth")
    assert (bob[0].name, bob[0].auth_type, bob[1].value) == ("Bob", "keypad_code", "keypad_code")
    assert await names.actor_for(LOCK, parse_lock_action_event("1,0,6,0,0")) is None
    assert await names.actor_for(LOCK, parse_lock_action_event("1,0,0,0,0")) is None  # no one
    button = await names.actor_for(LOCK, parse_lock_action_event("4,2,0,0,0"))
    auto_lock = await names.actor_for(LOCK, parse_lock_action_event("2,6,0,0,0"))
    assert button is not None
    assert auto_lock is not None
    assert (button[0].name, button[1].value) == ("", "button")
    assert auto_lock[1].value == "auto_lock"


def test_actions_as_the_log_names_them() -> None:
    lock_n_go = parse_lock_action_event("4,2,0,0,0")
    full_lock = parse_lock_action_event("6,0,5,0,0")
    assert log_action(lock_n_go, 4) == 4
    assert log_action(full_lock, 4) == 2  # a full lock leaves the lock locked
    assert log_action(lock_n_go, 2) == 6  # an Opener's continuous mode on
    assert log_action(parse_lock_action_event("90,2,0,0,2"), 4) is None
    assert action_name(1, 2) == "activate_rto"
    assert action_name(6, 2) == "activate_continuous_mode"
    assert action_name(3, 4) == "unlatch"
