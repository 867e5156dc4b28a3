"""Scenario files and the ``nukiasync simulate`` command."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys
from typing import TYPE_CHECKING

import pytest

from nukiasync.cli import main, simulate
from nukiasync.simulator import Scenario, ScenarioError, builtin_scenario, load_scenario

if TYPE_CHECKING:
    from pathlib import Path

SHORT = """
name = "short"
[world]
seed = 3
[knobs]
log_lag = [0.05, 0.1]
motor_time = 0.02
[[lock]]
name = "Door"
door_sensor = true
[[lock]]
name = "Gate"
type = 2
[[person]]
name = "Ann"
email = "ann@example.invalid"
app = ["Door", "Gate"]
[[step]]
at = 0.1
who = "Ann"
does = "unlock"
lock = "Door"
[[step]]
at = 0.0
does = "ring"
lock = "Gate"
[[step]]
at = 0.2
who = "Ann"
does = "close_door"
lock = "Door"
[[step]]
at = 0.3
does = "press_button"
lock = "Door"
[[step]]
at = 0.3
who = "Ann"
does = "open_door"
"""


def test_builtin_demo_scenario() -> None:
    demo = builtin_scenario()
    assert demo.name == "demo"
    assert len(demo.steps) >= 10
    assert [s.at for s in demo.steps] == sorted(s.at for s in demo.steps)
    world = demo.build(seed=1)
    assert [d.device_type for d in world.devices] == [4, 0, 2]
    assert world.device("Front door").smartlock_id == 17618910285  # Nuki's own example


async def test_scenario_runs(tmp_path: Path) -> None:
    file = tmp_path / "short.toml"
    await asyncio.to_thread(file.write_text, SHORT, encoding="utf-8")
    scenario = await asyncio.to_thread(load_scenario, file)
    assert scenario.steps[0].does == "ring"
    async with scenario.build(speed=4) as world:
        played = await scenario.run(world)
    assert [r.action if r else None for r in played] == [224, 1, None, 2, 240]
    # closing an already closed door is refused and logged; the rest went on


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = ", "Invalid"),
        ("colour = 1", "unknown key(s) colour"),
        ("[world]\nsize = 1", "[world]: unknown key"),
        ("[knobs]\nweb_faults = 1", "[knobs]: unknown key"),
        ("[[lock]]\nname = 'x'\ntype = 1", "type 0, 2, 4 or 5"),
        ("[[lock]]\nname = 'x'\nwheels = 4", "lock 1: unknown key"),
        ("[[person]]\nname = 'x'\nage = 4", "person 1: unknown key"),
        ("[[step]]\nat = 1\ndoes = 'dance'", "unknown action 'dance'"),
        ("[[step]]\nat = 1\ndoes = 'lock'\nvia = 'owl'", "unknown via 'owl'"),
        ("[[step]]\nat = 1\ndoes = 'lock'\noutcome = 'meh'", "unknown outcome 'meh'"),
        ("[[step]]\nat = -1\ndoes = 'lock'", "'at' must be"),
        ("[[step]]\nat = 1\ndoes = 'lock'\nwhen = 2", "step 1: unknown key"),
        ("[[lock]]\nname = 'x'\n[[step]]\nat = 1\ndoes = 'lock'\nwho = 'Zed'", "nobody called"),
        ("[[lock]]\nname = 'x'\n[[step]]\nat = 1\ndoes = 'lock'\nlock = 'y'", "no device 'y'"),
        ("[[person]]\nname = 'p'\napp = ['nowhere']", "no device 'nowhere'"),
    ],
)
def test_scenario_errors(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        Scenario.from_toml(text, source="bad.toml")


def test_outcome_numbers_and_names() -> None:
    text = "[[lock]]\nname = 'x'\n[[step]]\nat = 1\ndoes = 'lock'\nvia = 'manual'\noutcome = 9\n"
    text += "[[step]]\nat = 2\ndoes = 'lock'\nvia = 'manual'\noutcome = 'motor_blocked'\n"
    scenario = Scenario.from_toml(text)
    assert [s.outcome for s in scenario.steps] == [9, 1]
    assert scenario.name == "<scenario>"


async def test_simulate_coroutine_stops_after_duration(tmp_path: Path) -> None:
    out = io.StringIO()
    scenario = Scenario.from_toml(SHORT)
    assert await simulate(scenario, speed=10, seed=5, duration=0.5, out=out) == 0
    text = out.getvalue()
    assert "Bridge API  http://127.0.0.1:" in text
    assert "Web API     http://127.0.0.1:" in text
    assert "doorbell recognition by -" in text
    assert "completed, log entry" in text
    assert "state 0" not in text
    assert "nukiasync listen --web-url http://127.0.0.1:" in text
    assert text.endswith("Stopping.\n")


class _SigintOnReady(io.StringIO):
    """Stands in for stdout and presses Ctrl-C once the simulator says it is serving."""

    def write(self, text: str) -> int:
        if "press Ctrl-C" in text:
            os.kill(os.getpid(), signal.SIGINT)
        return super().write(text)


def test_main_simulate_until_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "short.toml"
    file.write_text(SHORT, encoding="utf-8")
    out = _SigintOnReady()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["simulate", "--scenario", str(file), "--speed", "5"]) == 0
    assert "Stopping." in out.getvalue()


def test_main_builtin_with_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["simulate", "--duration", "0.2", "--seed", "1"]) == 0
    assert "scenario 'demo'" in out.getvalue()


def test_main_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", str(tmp_path / "missing.toml")]) == 2
    assert main(["simulate", "--speed", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


async def test_cli_subprocess_sigint(tmp_path: Path) -> None:
    file = tmp_path / "short.toml"
    await asyncio.to_thread(file.write_text, SHORT, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nukiasync.cli", "simulate", "--scenario", str(file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(15):
        while b"Ctrl-C" not in await process.stdout.readline():
            pass
        process.send_signal(signal.SIGINT)
        rest, err = await process.communicate()
    assert process.returncode == 0, err
    assert b"Stopping." in rest
