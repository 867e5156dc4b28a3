"""`nukiasync listen` in this process (a worker thread with its own loop), for what the
subprocess tests cannot measure: every start-up branch, options and multi-bridge use."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from nukiasync import cli
from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.cli import listen, startup
from nukiasync.cli.output import EventPrinter, quiet_if_closed
from nukiasync.errors import NukiError
from nukiasync.events import EventSource, WebApiAvailable
from tests.support import canary
from tests.support.simulator import make_world

pytestmark = pytest.mark.sockets


def argv(world: Any, *extra: str) -> list[str]:
    return [
        "listen", "--bridge", urlsplit(world.bridge_url).netloc, "--web-url", world.web_url,
        "--callback-host", "127.0.0.1", "--callback-port", "0", *extra,
    ]  # fmt: skip


@pytest.fixture
def tokens(monkeypatch) -> None:
    monkeypatch.setenv("NUKI_WEB_TOKEN", canary.WEB_TOKEN)
    monkeypatch.setenv("NUKI_BRIDGE_TOKEN", canary.BRIDGE_TOKEN)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_start_up_failures(tokens, monkeypatch, capsys) -> None:
    dead = _free_port()
    async with make_world() as world:
        bad_bridge = argv(world, "--bridge-token", "wrongtoken")
        del bad_bridge[bad_bridge.index("--callback-host") : bad_bridge.index("--callback-port")]
        assert await asyncio.to_thread(cli.main, bad_bridge) == 3
        no_bridge = argv(world)
        no_bridge[no_bridge.index("--bridge") + 1] = f"[::1]:{dead}"
        assert await asyncio.to_thread(cli.main, no_bridge) == 4
        assert await asyncio.to_thread(cli.main, argv(world, "--web-token", "wrong")) == 5
        no_web = argv(world)
        no_web[no_web.index("--web-url") + 1] = f"http://127.0.0.1:{dead}"
        assert await asyncio.to_thread(cli.main, no_web) == 6
        world.knobs.bridge_busy_next = 10  # answers 503 to everything for a while
        assert await asyncio.to_thread(cli.main, argv(world)) == 4
        world.knobs.bridge_busy_next = 0
        port = urlsplit(world.bridge_url).port or 0
        async with NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port) as bridge:
            for slot in range(3):
                await bridge.add_callback(f"http://127.0.0.1:9/other/{slot}")
        assert await asyncio.to_thread(cli.main, argv(world)) == 7
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 6
    assert all(line.startswith("nukiasync listen: ") for line in lines)
    assert "refused the token" in lines[0]
    assert f"no bridge answers at [::1]:{dead}" in lines[1]
    assert "the Web API at" in lines[2]
    assert "cannot be used" in lines[3]
    assert "answered with an error (the bridge is busy)" in lines[4]
    assert "did not register our callback" in lines[5]
    for secret in canary.secrets():
        assert secret not in err


async def test_busy_callback_port(tokens, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        async with make_world() as world:
            args = argv(world)
            args[args.index("--callback-port") + 1] = str(taken.getsockname()[1])
            assert await asyncio.to_thread(cli.main, args) == 7
    assert "cannot receive callbacks on 127.0.0.1 port" in capsys.readouterr().err


async def test_two_bridges_json_until_duration(tokens, capsys) -> None:
    world = make_world(log_lag=0.1)
    garage = world.add_bridge("garage")
    async with world:
        args = [
            *argv(world, "--json", "--duration", "4", "-v"),
            "--bridge", urlsplit(garage.url).netloc,
            "--bridge-token", canary.BRIDGE_TOKEN, "--bridge-token", garage.token,
        ]  # fmt: skip
        run = asyncio.ensure_future(asyncio.to_thread(cli.main, args))
        await world.wait_until(lambda: len(world.bridge.callbacks) == 1, deadline=10)
        await world.person("Alice").unlock("Front door", via="app")
        assert await run == 0
        assert world.bridge.callbacks == []
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds.count("CallbackRegistered") == 2
    assert "LockStateChanged" in kinds
    assert all("happened_at" in e for e in events)
    assert "INFO" in err or "DEBUG" in err  # -v: log records on stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bridge", "127.0.0.1:x", "--bridge-token", "t"], "'127.0.0.1:x' has no valid port"),
        (["--bridge", "a", "--bridge", "b", "--bridge-token", "t", "--bridge-token", "u",
          "--bridge-token", "v"], "one --bridge-token for all bridges, or one per --bridge"),
    ],
)  # fmt: skip
def test_command_line_mistakes(args: list[str], message: str, capsys) -> None:
    assert cli.main(["listen", *args]) == 2
    assert message in capsys.readouterr().err


def test_help_shows_every_option_and_the_exit_statuses(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["listen", "--help"])
    text = capsys.readouterr().out
    for option in ("--web-url", "--token-mode", "--callback-port", "--duration", "--verbose"):
        assert option in text
    assert "SUPPRESS" not in text
    for code, meaning in listen.EXIT_CODES.items():
        assert f"{code}  {meaning}" in " ".join(text.split("\n  "))
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("nukiasync ")


def test_local_address_towards() -> None:
    assert listen._local_address_towards("127.0.0.1") == "127.0.0.1"
    assert listen._local_address_towards("::1") == "::1"


@pytest.mark.parametrize(("raised", "status"), [(NukiError("boom"), 1), (KeyboardInterrupt(), 130)])
def test_unexpected_errors_and_ctrl_c_during_start_up(
    raised: BaseException, status: int, monkeypatch, capsys
) -> None:
    async def fail(*_args: Any) -> Any:
        raise raised

    monkeypatch.setattr(startup, "check", fail)
    assert cli.main(["listen", "--web-token", "t", "--web-url", "http://127.0.0.1:9"]) == status
    assert capsys.readouterr().err == ("nukiasync listen: boom\n" if status == 1 else "")


async def test_web_api_only(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NUKI_WEB_TOKEN", canary.WEB_TOKEN)
    monkeypatch.setenv("TZ", "UTC")
    async with make_world(log_lag=0.1) as world:
        args = ["listen", "--web-url", world.web_url, "--duration", "1"]
        assert await asyncio.to_thread(cli.main, args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    header = out.splitlines()
    assert "times are device times in" in header[0]
    assert header[3].split()[:3] == ["TIME", "DOOR", "REF"]


def test_a_closed_reader_is_not_an_error(monkeypatch) -> None:
    class Gone(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", Gone())
    quiet_if_closed()  # no fileno to point at /dev/null: still quiet


async def test_printer_tells_listen_when_its_reader_is_gone() -> None:
    class Gone(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError

    printer = EventPrinter(Gone(), json_lines=True)
    stopped = asyncio.Event()
    printer.on_closed = stopped.set
    event = WebApiAvailable(event_id="w", received_at=datetime.now(UTC), source=EventSource.HUB,
                            component="web_api", available=True)  # fmt: skip
    with pytest.raises(BrokenPipeError):  # the hub must not count it as taken
        printer(event)
    assert stopped.is_set()
    assert printer.closed
    assert printer.printed == 0
