"""`nukiasync demo` and `nukiasync listen`, end to end on the simulator."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

import pytest

from nukiasync import cli
from nukiasync.cli.demo import DemoSummary, run_demo
from nukiasync.cli.output import EventPrinter, print_summary
from tests.support import canary
from tests.support.simulator import make_world

pytestmark = pytest.mark.sockets


async def test_demo_attributes_everything_it_can() -> None:
    out = io.StringIO()
    printer = EventPrinter(out)
    summary = await run_demo(printer, speed=4.0)
    assert summary.attributable >= 8
    assert summary.attributed == summary.attributable
    assert summary.log_only >= 2  # the wrong code, the lost callback
    assert summary.max_latency is not None
    assert summary.web_requests > 0
    text = out.getvalue()
    assert "Bob" in text
    assert "keypad code" in text
    assert "invalid code" in text
    assert "auto-lock" in text
    assert "manual turn" in text
    assert "system" not in text  # an app unlock reads "app", never Nuki's trigger name
    assert printer.printed == summary.events
    rows = [line for line in text.splitlines()[4:] if line]
    assert rows
    assert all(re.match(r"\d\d:\d\d:\d\d\.\d  ", row) for row in rows), rows
    # Every answer names the change it answers: same reference, same door, earlier row.
    states: dict[str, str] = {}
    for row in rows:
        door, ref = row[12:31].strip(), row[31:37].strip()
        if ref and " by " not in row:
            states[ref] = door
        elif ref:
            assert states[ref] == door, row
    # The lost callback: the state the log proves is shown, with who and how.
    # The hub may tell it as a log-only row, or as a state row from the log and its answer.
    lost = [r for r in rows if r[12:].startswith("Back door") and "from the log" in r]
    assert len(lost) == 1
    if "from the log only" in lost[0]:
        assert lost[0][37:].split()[:3] == ["unlocked", "Alice", "app"]
    else:
        ref = lost[0][31:37].strip()
        answer = next(r for r in rows if r[31:37].strip() == ref and " by " in r)
        assert answer[37:].split()[:4] == ["unlocked", "by", "Alice", "app"]
    print_summary(summary, out)
    assert f"attributed {summary.attributed} of {summary.attributable}" in out.getvalue()


def test_summary_without_attributions() -> None:
    summary = DemoSummary(
        events=0, attributable=0, attributed=0, unavailable=0, log_only=0, latencies=(),
        web_requests=0,
    )  # fmt: skip
    assert summary.median_latency is None
    out = io.StringIO()
    print_summary(summary, out)
    assert "n/a" in out.getvalue()


def test_demo_command_json(capsys) -> None:
    assert cli.main(["demo", "--json", "--speed", "6"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = {line["type"] for line in lines}
    assert {"LockStateChanged", "ActionAttributed", "LogEntryObserved"} <= kinds
    assert all("event_id" in line and "happened_at" in line for line in lines)
    hows = {line["how"] for line in lines if line["type"] == "ActionAttributed"}
    assert {"app", "keypad_code", "auto_lock", "manual"} <= hows


def test_demo_command_prints_a_table_and_a_summary(capsys) -> None:
    assert cli.main(["demo", "--speed", "0"]) == 2
    assert "--speed must be positive" in capsys.readouterr().err
    assert cli.main(["demo", "--speed", "8"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("nukiasync demo: a simulated morning")
    assert "times are device times in" in out
    assert "Summary:" in out
    assert err == ""  # log records only with -v


def test_listen_needs_something_to_listen_to(capsys, monkeypatch) -> None:
    monkeypatch.delenv("NUKI_WEB_TOKEN", raising=False)
    monkeypatch.delenv("NUKI_BRIDGE_TOKEN", raising=False)
    assert cli.main(["listen"]) == 2
    assert cli.main(["listen", "--bridge", "127.0.0.1"]) == 2
    assert "NUKI_BRIDGE_TOKEN" in capsys.readouterr().err


async def _read_until(
    stream: asyncio.StreamReader, predicate: Any, timeout: float = 15.0
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            line = await stream.readline()
            assert line, "listen ended early"
            event = json.loads(line)
            seen.append(event)
            if predicate(event):
                return seen


async def test_listen_subprocess_registers_prints_and_unregisters(tmp_path) -> None:
    async with make_world(log_lag=0.2) as world:
        port = urlsplit(world.bridge_url).port
        env = {
            **os.environ,
            "NUKI_WEB_TOKEN": canary.WEB_TOKEN,
            "NUKI_BRIDGE_TOKEN": canary.BRIDGE_TOKEN,
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nukiasync.cli", "listen", "--json",
            "--bridge", f"127.0.0.1:{port}", "--web-url", world.web_url,
            "--callback-host", "127.0.0.1", "--callback-port", "0",
            "--state-file", str(tmp_path / "state.json"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        try:
            await _read_until(proc.stdout, lambda e: e["type"] == "CallbackRegistered")
            assert len(world.bridge.callbacks) == 1
            record = await world.person("Alice").unlock("Front door", via="app")
            seen = await _read_until(proc.stdout, lambda e: e["type"] == "ActionAttributed")
            assert seen[-1]["log_entry_id"] == record.log_id
            assert seen[-1]["actor"]["name"] == "Alice"
            assert any(e["type"] == "LockStateChanged" for e in seen)
        finally:
            proc.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(proc.communicate(), 15)
        assert proc.returncode == 0, err.decode()
        assert world.bridge.callbacks == []
        for secret in canary.secrets():
            assert secret not in err.decode()
