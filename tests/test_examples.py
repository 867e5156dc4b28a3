"""The examples run against the simulator's URLs, as CI runs them (decision 0009)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import canary
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from types import ModuleType

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def world() -> Any:
    async with make_world(log_lag=0.05) as w:
        yield w


async def test_list_locks(world, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NUKI_WEB_TOKEN", canary.WEB_TOKEN)
    assert await load("list_locks").main(["--base-url", world.web_url]) == 0
    out = capsys.readouterr().out
    assert "Front door" in out
    assert "Entrance" in out
    assert "OPENER" in out


async def test_recent_activity(world, monkeypatch, capsys) -> None:
    record = await world.person("Alice").unlock("Front door", via="app")
    await world.wait_visible(record)
    monkeypatch.setenv("NUKI_WEB_TOKEN", canary.WEB_TOKEN)
    assert await load("recent_activity").main(["--base-url", world.web_url, "--count", "5"]) == 0
    out = capsys.readouterr().out
    assert "unlock" in out
    assert "Alice" in out
    line = next(line for line in out.splitlines() if "Alice" in line)
    assert line.split()[2:6] == ["Front", "door", "unlock", "app"]  # how: app, never "system"


async def test_examples_need_a_token(monkeypatch, capsys) -> None:
    monkeypatch.delenv("NUKI_WEB_TOKEN", raising=False)
    assert await load("list_locks").main([]) == 2
    assert await load("recent_activity").main([]) == 2
    assert "NUKI_WEB_TOKEN" in capsys.readouterr().err


async def test_examples_report_errors(world, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NUKI_WEB_TOKEN", "wrong-token")
    assert await load("list_locks").main(["--base-url", world.web_url]) == 1
    assert await load("recent_activity").main(["--base-url", world.web_url]) == 1
    assert "Error" in capsys.readouterr().err


async def test_who_unlocked(world, monkeypatch, capsys) -> None:
    from urllib.parse import urlsplit

    monkeypatch.setenv("NUKI_WEB_TOKEN", canary.WEB_TOKEN)
    monkeypatch.setenv("NUKI_BRIDGE_TOKEN", canary.BRIDGE_TOKEN)
    example = load("who_unlocked")
    argv = [
        "--bridge", f"127.0.0.1:{urlsplit(world.bridge_url).port}", "--web-url", world.web_url,
        "--callback-host", "127.0.0.1", "--seconds", "6",
    ]  # fmt: skip
    run = asyncio.ensure_future(example.main(argv))
    await world.wait_until(lambda: len(world.bridge.callbacks) == 1, deadline=5)
    await world.person("Alice").unlock("Front door", via="app")
    assert await run == 0
    out = capsys.readouterr().out
    assert "Front door: unlocked" in out
    assert "Front door: by Alice via app" in out
    monkeypatch.delenv("NUKI_BRIDGE_TOKEN")
    assert await example.main(argv) == 2


async def test_listen_callbacks(world, monkeypatch, capsys) -> None:
    from urllib.parse import urlsplit

    monkeypatch.setenv("NUKI_BRIDGE_TOKEN", canary.BRIDGE_TOKEN)
    example = load("listen_callbacks")
    port = urlsplit(world.bridge_url).port
    argv = [
        f"127.0.0.1:{port}",
        "--callback-host",
        "127.0.0.1",
        "--seconds",
        "3",
    ]
    run = asyncio.ensure_future(example.main(argv))
    await world.wait_until(lambda: len(world.bridge.callbacks) == 1, deadline=5)
    await world.person("Alice").unlock("Front door", via="app")
    assert await run == 0
    assert world.bridge.callbacks == []
    assert "SMARTLOCK_3 439041101: UNLOCKED (3)" in capsys.readouterr().out
    monkeypatch.delenv("NUKI_BRIDGE_TOKEN")
    assert await example.main(argv) == 2


async def test_who_unlocked_fails_with_a_sentence(world, monkeypatch, capsys) -> None:
    from urllib.parse import urlsplit

    monkeypatch.setenv("NUKI_WEB_TOKEN", canary.WEB_TOKEN)
    monkeypatch.setenv("NUKI_BRIDGE_TOKEN", canary.BRIDGE_TOKEN)
    example = load("who_unlocked")
    common = ["--web-url", world.web_url, "--callback-host", "127.0.0.1", "--seconds", "30"]
    # A dead bridge: at once, not after --seconds, and not with status 0.
    async with asyncio.timeout(10):
        assert await example.main(["--bridge", "127.0.0.1:1", *common]) == 1
    assert "Cannot watch the doors: Cannot connect to bridge 127.0.0.1" in capsys.readouterr().err
    assert await example.main(["--bridge", "127.0.0.1:port", *common]) == 2
    assert "no valid port" in capsys.readouterr().err
    monkeypatch.setenv("NUKI_WEB_TOKEN", "wrong-token")
    bridge = f"127.0.0.1:{urlsplit(world.bridge_url).port}"
    async with asyncio.timeout(10):
        assert await example.main(["--bridge", bridge, *common]) == 1
    assert world.bridge.callbacks == []


async def test_listen_callbacks_takes_host_port_forms(world, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NUKI_BRIDGE_TOKEN", canary.BRIDGE_TOKEN)
    example = load("listen_callbacks")
    common = ["--callback-host", "127.0.0.1", "--seconds", "30"]
    assert await example.main(["127.0.0.1:99999", *common]) == 2
    assert "no valid port" in capsys.readouterr().err
    async with asyncio.timeout(10):
        assert await example.main(["127.0.0.1", "--bridge-port", "1", *common]) == 1
    assert "Cannot listen to the bridge:" in capsys.readouterr().err
