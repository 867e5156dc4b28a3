"""People act as in real life: the journal, log entries and device states the real system shows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from nukiasync.const import LogState
from nukiasync.simulator import SimClock, SimulationError, World
from tests.support import canary
from tests.support.simulator import DEADLINE, make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

FRONT_ID = (4 << 32) | 0x1A2B3C4D


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


async def until(condition: Callable[[], bool], world: World) -> None:
    await world.wait_until(condition, deadline=DEADLINE)


def entry(world: World, log_id: str | None) -> dict[str, object]:
    assert log_id is not None
    found = world.logbook.find(log_id)
    assert found is not None
    return found.web_json()


async def test_app_fob_keypad_button_manual(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    app = await alice.unlock("Front door")
    assert (app.trigger, app.auth_name, app.resulting_state) == (0, "Alice", 3)
    assert len(app.auth_id or "") == 24
    fob = await alice.lock("Front door", via="fob")
    assert (fob.trigger, fob.auth_name) == (3, "Alice")
    keypad = await bob.unlock("Front door", via="keypad")
    logged = entry(world, keypad.log_id)
    assert (logged["trigger"], logged["source"], logged["name"]) == (255, 1, "Bob")
    assert "accountUserId" not in logged  # keypad codes have no account user
    wrong = await bob.enter_code("Front door", 999999)
    logged = entry(world, wrong.log_id)
    assert (logged["state"], logged["name"], "authId" in logged) == (224, "", False)
    assert wrong.resulting_state is None
    right = await world.person("Courier").enter_code("Front door", canary.KEYPAD_CODE)
    assert right.auth_name == "Bob"
    button = await world.person("Courier").press_button("Front door")
    assert (button.action, button.trigger, button.auth_id, button.auth_name) == (2, 2, None, "")
    manual = await world.person("Courier").unlock("Front door", via="manual")
    assert (manual.trigger, manual.auth_id, manual.person) == (1, None, "Courier")
    button = await world.person("Courier").press_button("Front door")
    assert button.action == 2


async def test_unlatch_lock_n_go_and_auto_lock(world: World) -> None:
    alice = world.person("Alice")
    front = world.device("Front door")
    unlatched = await alice.unlatch("Front door")
    assert unlatched.resulting_state == 5
    await until(lambda: front.state == 3, world)  # falls back to unlocked
    lng = await alice.lock_n_go("Front door", unlatch=True)
    assert (lng.action, lng.resulting_state) == (5, 6)
    await until(lambda: front.state == 1, world)
    assert len([r for r in world.journal if r.lock == "Front door"]) == 2  # one entry for LnG
    front.auto_lock = 0.1
    await alice.unlock("Front door")
    await until(lambda: world.journal[-1].via == "auto_lock", world)
    auto = world.journal[-1]
    assert (auto.trigger, auto.person, auto.auth_id, auto.resulting_state) == (6, None, None, 1)


async def test_new_action_cancels_pending_follow_ups(world: World) -> None:
    front = world.device("Front door")
    front.auto_lock = 0.2
    alice = world.person("Alice")
    await alice.unlock("Front door")  # auto-lock pending
    await alice.lock_n_go("Front door")  # cancels it; the re-lock is pending
    await alice.lock("Front door")  # cancels that
    await asyncio.sleep(0.4)  # past both timers: nothing may fire
    assert [r.via for r in world.journal] == ["app", "app", "app"]
    assert front.state == 1


async def test_failed_attempts(world: World) -> None:
    alice = world.person("Alice")
    blocked = await alice.lock("Front door", outcome=LogState.MOTOR_BLOCKED)
    assert (blocked.state, blocked.resulting_state) == (1, 254)
    assert world.device("Front door").state == 254
    canceled = await alice.unlock("Back door", outcome=LogState.CANCELED)
    assert (canceled.state, canceled.resulting_state) == (2, None)
    assert world.device("Back door").state == 1
    button = await alice.press_button("Front door")  # motor blocked counts as closed
    assert button.action == 1


async def test_door_sensor(world: World) -> None:
    opened = await world.person("Alice").open_door("Front door")
    logged = entry(world, opened.log_id)
    assert (logged["action"], logged["trigger"], logged["name"]) == (240, 0, "")
    assert world.device("Front door").door_state == 3
    with pytest.raises(SimulationError, match="already open"):
        await world.person("Alice").open_door("Front door")
    closed = await world.door(None, "Front door", opened=False)
    assert (closed.action, closed.person) == (241, None)
    with pytest.raises(SimulationError, match="no door sensor"):
        await world.person("Alice").close_door("Back door")


async def test_opener_ring_rto_and_continuous_mode(world: World) -> None:
    opener = world.device("Entrance")
    courier = world.person("Courier")
    rang = await courier.ring("Entrance")
    logged = entry(world, rang.log_id)
    assert (logged["action"], logged["name"]) == (224, "")
    assert logged["openerLog"] == {
        "activeCm": False, "activeRto": False, "source": 0,
        "flagGeoFence": False, "flagForce": False, "flagDoorbellSuppression": False,
    }  # fmt: skip
    assert opener.ring_action_state is True
    await until(lambda: not opener.ring_action_state, world)  # resets silently
    rto = await world.person("Alice").activate_rto("Entrance")
    assert (rto.action, rto.resulting_state) == (1, 3)
    await courier.ring("Entrance")
    opened = world.journal[-1]
    assert (opened.via, opened.action, opened.resulting_state) == ("ring_to_open", 3, 5)
    assert entry(world, opened.log_id)["openerLog"]["activeRto"] is True  # type: ignore[index]
    await until(lambda: opener.state == 1, world)  # ring to open is used up
    await world.person("Alice").continuous_mode("Entrance")
    assert (opener.mode, opener.state) == (3, 3)
    await courier.ring("Entrance")
    await until(lambda: opener.state == 3 and world.journal[-1].via == "ring_to_open", world)
    await world.person("Alice").open("Entrance", via="web")
    await until(lambda: opener.state == 3, world)
    off = await world.person("Alice").continuous_mode("Entrance", on=False)
    assert (off.action, opener.mode, opener.state) == (7, 2, 1)
    await world.person("Alice").activate_rto("Entrance")
    await world.person("Alice").deactivate_rto("Entrance")
    assert opener.state == 1
    with pytest.raises(SimulationError, match="not an Opener"):
        await courier.ring("Front door")


async def test_refusals(world: World) -> None:
    courier = world.person("Courier")
    with pytest.raises(SimulationError, match="no app authorization"):
        await courier.unlock("Front door")
    with pytest.raises(SimulationError, match="no keypad"):
        await courier.enter_code("Back door", 111111)
    with pytest.raises(SimulationError, match="unknown way"):
        await courier.unlock("Front door", via="telepathy")
    with pytest.raises(SimulationError, match="not possible"):
        await world.person("Alice").lock_n_go("Entrance")
    with pytest.raises(SimulationError, match="nobody"):
        world.person("Zoe")
    with pytest.raises(SimulationError, match="no device"):
        world.device("Garage")
    assert world.device(FRONT_ID).name == "Front door"
    with pytest.raises(ValueError, match="already in the world"):
        world.add_person("Alice")
    with pytest.raises(ValueError, match="exists already"):
        world.add_lock("Copy", nuki_id=0x1A2B3C4D)
    with pytest.raises(ValueError, match="device type"):
        world.add_lock("Box", device_type=1)
    with pytest.raises(ValueError, match="needs a code"):
        world.grant("Alice", "Front door", 13)
    assert repr(courier) == "Person('Courier')"
    assert str(canary.KEYPAD_CODE) not in repr(world.auths)


async def test_lifecycle_and_tasks() -> None:
    world = make_world()
    await world.start()
    with pytest.raises(RuntimeError, match="already started"):
        await world.start()
    world.device("Front door").auto_lock = 30
    await world.person("Alice").unlock("Front door")
    pending = [t for t in asyncio.all_tasks() if t.get_name().startswith("nukiasync.simulator.")]
    assert any(t.get_name() == "nukiasync.simulator.auto_lock[Front door]" for t in pending)
    await world.close()
    await world.close()
    assert all(t.done() for t in pending)
    async with World(seed=1) as generated:
        assert len(generated.bridge.token) == 10
        assert len(generated.web_token) == 40
        assert generated.token_owner(generated.web_token) is None


async def test_failing_task_is_reported(world: World, caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    task = world.spawn(boom(), None, "test")
    with pytest.raises(RuntimeError):
        await task
    assert "simulator task nukiasync.simulator.test failed" in caplog.text


async def test_speed_and_clock() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    clock = SimClock(speed=100, start=start)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await clock.sleep(5)  # 0.05 s real
    assert loop.time() - began < 1
    assert (clock.now() - start).total_seconds() >= 5
    with pytest.raises(ValueError, match="positive"):
        SimClock(speed=0)
    world = World(speed=50)
    assert isinstance(world.clock, SimClock)
    assert world.clock.speed == 50


async def test_battery_and_visibility(world: World) -> None:
    world.set_battery("Front door", charging=True)
    assert world.device("Front door").battery_charging
    record = await world.person("Alice").unlock("Back door")
    await world.wait_visible(record)
    assert world.logbook.query(world.clock.now())[0].id == record.log_id
    seen: list[str | None] = []
    world.listeners.append(lambda r: seen.append(r.log_id))
    await world.person("Alice").lock("Back door")
    assert seen == [world.journal[-1].log_id]
