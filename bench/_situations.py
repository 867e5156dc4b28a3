"""B7's world and its situations: what people do to five devices, step by step, from a seed.

The world (`build_world`): four Smart Locks (one with a keypad) and an Opener on one bridge,
five people with the app on every device and a keypad code on the keypad lock; real physics
(1.2 s motor, the latch springing back after 3 s, lock 'n' go locking again after 20 s, the
Opener's strike releasing after 3 s); log lags of 1-8 s per entry, out of order, and a few
entries 10-20 s slower still. Steps (`Timeline.step`) come one after the other; follow-ons
of one step may overlap the next, as at home. Each situation is one method:

- ``plain``: one person toggles one device (sometimes the bridge then repeats the state in a
  battery callback);
- ``burst``: two or three people act within a second (other devices, or the same one);
- ``cascade``: on one lock, a change whose callback is lost, a wrong keypad code (or another
  failed attempt), a change back whose callback repeats what a receiver believes, then three
  more changes (by hand and by app): issue 13's case 1;
- ``undo``: lock, unlock within 1-2 s by someone else, lock again (the first callback lost
  half of the time): an entry whose effect was undone must not explain the last change;
- ``follow_on``: unlatch, lock 'n' go or an Opener's opening, with (half of the time) someone
  acting inside the window before the lock moves by itself;
- ``failed``: a failed attempt (rejected, wrong keypad code, blocked motor) before or after a
  success on the same lock;
- ``restart``: the correlator restarts (``restarter``, 1-2 s down) right after a change,
  someone acts while it is down, then both locks change again: an entry from the downtime
  must not be handed to the next change (without a ``restarter``, a plain step).

The ground truth is the world's (`World.changes`): `bench._truth_score` scores any
correlator against it. `tests/test_bench_situations.py` plays every situation quickly.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from nukiasync.const import LockAction, LockState, LogAction, LogState, OpenerState
from nukiasync.simulator import Knobs, World

if TYPE_CHECKING:
    import random
    from collections.abc import Awaitable, Callable

    from nukiasync.simulator import Device, Person

WEB_TOKEN = "bench-web-token-not-a-secret-0123456789abcdef"  # noqa: S105 - simulator only
BRIDGE_TOKEN = "benchtok42"  # noqa: S105 - simulator only
KEYPAD_CODE = 482913
WRONG_CODE = 111111
LOCKS = ("Door 1", "Door 2", "Door 3", "Door 4")
KEYPAD_LOCK = "Door 1"
OPENER = "Entrance"
PEOPLE = ("Ann", "Ben", "Cem", "Dana", "Eli")
SITUATIONS = {  # name: weight in a timeline
    "plain": 4,
    "burst": 2,
    "cascade": 1,
    "undo": 1,
    "follow_on": 2,
    "failed": 2,
    "restart": 1,
}


def b7_knobs(**overrides: Any) -> Knobs:
    """Real timings (the simulator's defaults) with issue 13's log lags."""
    values: dict[str, Any] = {
        "log_lag": (1.0, 8.0),
        "slow_log_chance": 0.05,
        "slow_log_lag": (10.0, 20.0),
        "web_action_delay": 0.0,
        "callback_timeout": 1.0,
    }
    values.update(overrides)
    return Knobs(**values)


def build_world(
    *, seed: int, knobs: Knobs, speed: float = 1.0, mqtt_url: str | None = None
) -> World:
    """Four locks and an Opener on one bridge, five people with the app on all of them.

    With ``mqtt_url`` the four locks (Smart Lock 3.0 Pro / 4th generation) also publish to
    that broker; the Opener has no Wi-Fi, so only the bridge reports it.
    """
    world = World(
        seed=seed,
        speed=speed,
        knobs=knobs,
        owner=PEOPLE[0],
        web_token=WEB_TOKEN,
        bridge_token=BRIDGE_TOKEN,
        mqtt_url=mqtt_url,
    )
    for name in LOCKS:
        world.add_lock(name, keypad=name == KEYPAD_LOCK, mqtt=mqtt_url is not None)
    world.add_opener(OPENER)
    devices = [*LOCKS, OPENER]
    for index, name in enumerate(PEOPLE):
        world.add_person(
            name,
            email=f"{name.lower()}@example.invalid",
            app=devices,
            keypad=[KEYPAD_LOCK],
            keypad_code=KEYPAD_CODE + index,
        )
    return world


def toggle(device: Device) -> int:
    """The action that changes the device: unlock a closed lock, else lock (Opener: RTO)."""
    if device.is_opener:
        return LockAction.LOCK if device.state == OpenerState.RTO_ACTIVE else LockAction.UNLOCK
    closed = {LockState.LOCKED, LockState.MOTOR_BLOCKED}
    return LockAction.UNLOCK if device.state in closed else LockAction.LOCK


class Timeline:
    """Plays situations on a running world; ``kinds`` maps journal seqs to their situation.

    ``sleep`` waits simulated seconds (the world's clock may run faster than real time);
    ``restarter(downtime)`` restarts the correlator under test.
    """

    def __init__(
        self,
        world: World,
        rng: random.Random,
        sleep: Callable[[float], Awaitable[Any]],
        restarter: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.world = world
        self.rng = rng
        self.sleep = sleep
        self.restarter = restarter
        self.kinds: dict[int, str] = {}

    async def step(self, kind: str) -> None:
        """Play one situation and tag the journal records it made."""
        before = len(self.world.journal)
        await getattr(self, kind)()
        for record in self.world.journal[before:]:
            self.kinds[record.seq] = kind

    def _people(self, count: int) -> list[Person]:
        return self.rng.sample(list(self.world.people.values()), count)

    def _lock(self) -> Device:
        return self.world.device(self.rng.choice(LOCKS))

    def _device(self) -> Device:
        return self.world.device(self.rng.choice([*LOCKS, OPENER]))

    async def _act(
        self,
        person: Person | None,
        device: Device,
        action: int | None = None,
        *,
        via: str = "app",
        outcome: int = LogState.SUCCESS,
        code: int | None = None,
    ) -> None:
        chosen = toggle(device) if action is None else action
        await self.world.act(person, device, chosen, via=via, outcome=outcome, code=code)

    def _lose_next_callback(self, device: Device) -> None:
        lost = self.world.knobs.drop_next_callbacks_of
        lost[device.nuki_id] = lost.get(device.nuki_id, 0) + 1

    async def _pause(self, low: float, high: float) -> None:
        await self.sleep(self.rng.uniform(low, high))

    async def plain(self) -> None:
        """One person toggles one device; now and then a battery callback repeats the state."""
        person, device = self._people(1)[0], self._device()
        await self._act(person, device)
        if self.rng.random() < 0.3:
            await self._pause(0.5, 2.0)
            self.world.set_battery(device, charge=max(5, device.battery_charge - 1))

    async def burst(self) -> None:
        """Two or three people within a second: other devices, or the same one."""
        people = self._people(self.rng.choice((2, 3)))
        same = self.rng.random() < 0.4
        device = self._device()
        devices = [device] * len(people) if same else self.rng.sample(
            [self.world.device(n) for n in (*LOCKS, OPENER)], len(people)
        )  # fmt: skip
        jobs = []
        for person, target in zip(people, devices, strict=True):
            jobs.append(asyncio.ensure_future(self._act(person, target)))
            await self._pause(0.1, 0.6)
        await asyncio.gather(*jobs)

    async def cascade(self) -> None:
        """Issue 13's case 1: a lost callback, then more changes on the same lock."""
        lock = self._lock()
        first, second = self._people(2)
        self._lose_next_callback(lock)
        await self._act(None, lock, via="manual")  # its callback is lost
        await self._pause(0.5, 2.0)
        await self._failed_attempt(second, lock)
        await self._pause(0.5, 2.0)
        await self._act(None, lock, via="manual")  # repeats what a receiver believes
        await self._pause(0.5, 3.0)
        await self._act(None, lock, via="manual")
        await self._pause(0.5, 3.0)
        await self._act(first, lock)
        await self._pause(0.5, 3.0)
        await self._act(second, lock)

    async def undo(self) -> None:
        """Lock, undone within 1-2 s by someone else, done again: entries close together."""
        lock = self._lock()
        first, second, third = self._people(3)
        if self.rng.random() < 0.5:
            self._lose_next_callback(lock)
        action = toggle(lock)
        await self._act(first, lock, action)
        await self._pause(0.3, 1.5)
        await self._act(second, lock, 3 - action)  # lock <-> unlock
        await self._pause(0.5, 3.0)
        await self._act(third, lock, action)

    async def follow_on(self) -> None:
        """A change the lock follows by itself, with or without someone acting in the window."""
        first, second = self._people(2)
        variant = self.rng.choice(("unlatch", "lock_n_go", "opener"))
        inside = self.rng.random() < 0.5
        knobs = self.world.knobs
        if variant == "opener":
            opener = self.world.device(OPENER)
            if opener.state != OpenerState.RTO_ACTIVE and self.rng.random() < 0.5:
                await self._act(first, opener, LockAction.UNLOCK)  # ring to open on
                await self._pause(0.5, 1.5)
            await self._act(first, opener, LogAction.UNLATCH)  # the strike buzzes
            if inside:  # ring to open off right after opening, before the strike releases
                await self._pause(0.2, 0.7 * knobs.opener_open_time)
                await self._act(second, opener, LockAction.LOCK)
            return
        lock = self._lock()
        if variant == "unlatch":
            await self._act(first, lock, LockAction.UNLATCH)
            window = knobs.unlatch_hold
        else:
            await self._act(first, lock, LockAction.LOCK_N_GO)
            window = knobs.lock_n_go_delay
        if inside:  # someone acts before the lock moves on by itself
            await self._pause(0.3, 0.6 * window)
            await self._act(second, lock, LockAction.LOCK)

    async def failed(self) -> None:
        """A failed attempt before or after a success on the same lock."""
        lock = self._lock()
        first, second = self._people(2)
        if self.rng.random() < 0.5:
            await self._failed_attempt(first, lock)
            await self._pause(0.5, 1.5)
            await self._act(second, lock)
        else:
            await self._act(first, lock)
            await self._pause(0.3, 1.0)
            await self._failed_attempt(second, lock)

    async def restart(self) -> None:
        """A restart right after a change, with someone acting while the correlator is down."""
        if self.restarter is None:
            await self.plain()
            return
        first, second, third, fourth = self._people(4)
        one, other = (self.world.device(n) for n in self.rng.sample(LOCKS, 2))
        await self._act(first, one)
        await self._pause(0.2, 1.0)
        down = asyncio.ensure_future(self.restarter(self.rng.uniform(1.0, 2.0)))
        await self._pause(0.2, 0.6)
        await self._act(second, other)  # while the correlator is down
        await down
        await self._pause(0.5, 2.0)
        await self._act(third, other)  # its entry, not the downtime's, explains this
        await self._pause(0.3, 1.0)
        await self._act(fourth, one)

    async def _failed_attempt(self, person: Person, lock: Device) -> None:
        """Rejected, a wrong keypad code, or a blocked motor (state 254)."""
        kinds = ["rejected", "blocked"] + (["code"] if lock.keypad else [])
        kind = self.rng.choice(kinds)
        if kind == "code":
            await self._act(person, lock, LockAction.UNLOCK, via="keypad", code=WRONG_CODE)
        elif kind == "blocked":
            await self._act(person, lock, outcome=LogState.MOTOR_BLOCKED)
        else:
            await self._act(person, lock, outcome=LogState.REJECTED)


async def play(timeline: Timeline, steps: int, spacing: tuple[float, float]) -> None:
    """Play ``steps`` situations drawn by weight, ``spacing`` simulated seconds apart."""
    kinds = list(SITUATIONS)
    weights = list(SITUATIONS.values())
    for _ in range(steps):
        await timeline.sleep(timeline.rng.uniform(*spacing))
        await timeline.step(timeline.rng.choices(kinds, weights)[0])
