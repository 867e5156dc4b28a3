"""`nukiasync listen` as a person runs it: a subprocess against the simulator.

Wrong tokens, a dead bridge, a dead Web API, a refused callback registration and a busy port
each end with one sentence on stderr and their own exit status, before any table is printed;
a normal morning prints exactly the rows in tests/fixtures/cli/listen_morning.txt (times
masked). The subprocess runs with TZ=UTC so the header's zone is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shlex
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.cli import simulate
from nukiasync.simulator import builtin_scenario
from tests.support import canary
from tests.support.paths import FIXTURES, ROOT
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.sockets

GOLDEN = FIXTURES / "cli" / "listen_morning.txt"
TIME = re.compile(r"^\d\d:\d\d:\d\d\.\d(?=  )", re.MULTILINE)
LATENCY = re.compile(r"known after \d+\.\d s")
DAY = re.compile(r"^\w+day \d{1,2} \w+ \d{4};", re.MULTILINE)


def mask(text: str) -> str:
    """The lines a person sees, without what changes from run to run."""
    text = DAY.sub("DAY;", text)
    text = TIME.sub("HH:MM:SS.d", text)
    return LATENCY.sub("known after N.N s", text)


def _env(
    web_token: str = canary.WEB_TOKEN, bridge_token: str = canary.BRIDGE_TOKEN
) -> dict[str, str]:
    return {
        **os.environ,
        "NUKI_WEB_TOKEN": web_token,
        "NUKI_BRIDGE_TOKEN": bridge_token,
        "TZ": "UTC",
        "PYTHONWARNINGS": "error",
    }


def _argv(world: Any, *extra: str, module: str = "nukiasync.cli") -> list[str]:
    return [
        sys.executable, "-m", module, "listen",
        "--bridge", urlsplit(world.bridge_url).netloc, "--web-url", world.web_url,
        "--callback-host", "127.0.0.1", "--callback-port", "0", *extra,
    ]  # fmt: skip


async def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_wrong_bridge_token_is_one_sentence_and_status_3() -> None:
    async with make_world() as world:
        code, out, err = await _run(_argv(world), _env(bridge_token="wrongtoken"))
    where = urlsplit(world.bridge_url).netloc
    assert (code, out) == (3, "")
    assert err == (
        f"nukiasync listen: the bridge at {where} refused the token; give the API token shown "
        "in the Nuki app (Bridge > Manage Bridge > HTTP API) with --bridge-token or "
        "NUKI_BRIDGE_TOKEN, check that this computer's clock is right (the bridge allows 60 s), "
        "and for bridge firmware before 1.22.1 or 2.14.0 give --token-mode hashed.\n"
    )


async def test_wrong_web_token_is_one_sentence_and_status_5() -> None:
    async with make_world() as world:
        code, out, err = await _run(_argv(world), _env(web_token="wrong-web-token"))
    assert (code, out) == (5, "")
    assert err == (
        f"nukiasync listen: the Web API at {world.web_url} refused the token; create an API "
        "token at web.nuki.io (Menu > API) and give it with --web-token or NUKI_WEB_TOKEN (for "
        "the simulator, also give its --web-url).\n"
    )
    assert world.bridge.callbacks == []  # nothing registered when the start-up checks fail


async def test_dead_bridge_is_status_4_and_dead_web_api_status_6() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    async with make_world() as world:
        argv = _argv(world)
        argv[argv.index("--bridge") + 1] = f"127.0.0.1:{dead}"
        code, out, err = await _run(argv, _env())
        assert (code, out) == (4, "")
        assert err == (
            f"nukiasync listen: no bridge answers at 127.0.0.1:{dead} (connection refused); "
            "check the address given with --bridge HOST[:PORT] and that the bridge's HTTP API "
            "is enabled in the Nuki app.\n"
        )
        argv = _argv(world)
        argv[argv.index("--web-url") + 1] = f"http://127.0.0.1:{dead}"
        code, out, err = await _run(argv, _env())
    assert (code, out) == (6, "")
    assert err == (
        f"nukiasync listen: the Web API at http://127.0.0.1:{dead} cannot be used (connection "
        "refused); check the network connection and --web-url.\n"
    )


async def test_refused_registration_is_status_7() -> None:
    async with make_world() as world:
        port = urlsplit(world.bridge_url).port or 0
        async with NukiBridgeClient("127.0.0.1", canary.BRIDGE_TOKEN, port=port) as bridge:
            for slot in range(3):  # another tool holds every slot
                await bridge.add_callback(f"http://127.0.0.1:9/other-tool/{slot}")
        code, out, err = await _run(_argv(world), _env())
    assert (code, out) == (7, "")
    assert err.startswith("nukiasync listen: the bridge did not register our callback: ")
    assert "free a callback slot" in err
    assert err.count("\n") == 1


async def test_busy_callback_port_is_status_7() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with make_world() as world:
            argv = _argv(world)
            argv[argv.index("--callback-port") + 1] = str(port)
            code, out, err = await _run(argv, _env())
    assert (code, out) == (7, "")
    assert err.startswith(f"nukiasync listen: cannot receive callbacks on 127.0.0.1 port {port} (")
    assert err.endswith("choose another --callback-port, or a --callback-host this computer has.\n")


async def _read_until(stream: asyncio.StreamReader, seen: list[str], needle: str) -> None:
    async with asyncio.timeout(30):
        while not any(re.search(needle, line) for line in seen):
            line = await stream.readline()
            assert line, f"listen ended before printing {needle!r}: {seen}"
            seen.append(line.decode())


async def test_a_normal_morning_prints_the_golden_rows(tmp_path: Path) -> None:
    # listen_fast: the stock command with a 3 s background log read, so log-only rows come soon.
    async with make_world(log_lag=0.2) as world:
        argv = _argv(world, "--state-file", str(tmp_path / "state.json"),
                     module="tests.soak.listen_fast")  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=_env(), cwd=ROOT,
        )  # fmt: skip
        assert proc.stdout is not None
        seen: list[str] = []
        try:
            await _read_until(proc.stdout, seen, "health: registered")
            alice, bob = world.person("Alice"), world.person("Bob")
            await alice.unlock("Front door", via="app")
            await _read_until(proc.stdout, seen, r"by +Alice")
            await world.person("Courier").enter_code("Front door", 999999)
            await _read_until(proc.stdout, seen, "unlock failed")
            await bob.lock("Front door", via="keypad", code=canary.KEYPAD_CODE)
            await _read_until(proc.stdout, seen, r"by +Bob")
            await alice.unlock("Back door", via="manual")
            await _read_until(proc.stdout, seen, "manual turn")
        finally:
            proc.send_signal(signal.SIGINT)
            rest, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert err.decode() == ""  # no log records without -v
    text = mask("".join(seen) + rest.decode())
    assert text == await asyncio.to_thread(GOLDEN.read_text), text


class _Banner(io.StringIO):
    """Stands in for simulate's stdout; ``ready`` is set once the banner is complete."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = asyncio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "press Ctrl-C to stop" in self.getvalue():
            self.ready.set()
        return written


async def test_the_command_simulate_prints_is_the_one_that_works() -> None:
    banner = _Banner()
    scenario = await asyncio.to_thread(builtin_scenario)
    serving = asyncio.ensure_future(simulate(scenario, speed=1.0, seed=3, duration=30, out=banner))
    try:
        await asyncio.wait_for(banner.ready.wait(), 15)
        lines = banner.getvalue().splitlines()
        command = lines[lines.index("Listen to it from another terminal:") + 1].strip()
        words = shlex.split(command)
        env = {**os.environ, "TZ": "UTC"}
        while "=" in words[0]:  # NAME=value prefixes, as a shell applies them
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        assert words[:2] == ["nukiasync", "listen"]
        argv = [sys.executable, "-m", "nukiasync", *words[1:], "--duration", "2"]
        code, out, err = await _run(argv, env)
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    assert (code, err) == (0, "")
    assert "callback                 health: registered" in out


async def test_listen_into_head_stops_quietly_when_head_has_enough() -> None:
    async with make_world(log_lag=0.2) as world:
        command = " ".join(shlex.quote(word) for word in _argv(world))
        script = f'{command} | head -n 6; echo "listen=${{PIPESTATUS[0]}}" >&2'
        proc = await asyncio.create_subprocess_exec(
            "bash", "-c", script, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_env(), cwd=ROOT,
        )  # fmt: skip
        assert proc.stdout is not None
        seen: list[str] = []
        await _read_until(proc.stdout, seen, "health: registered")
        await world.person("Alice").unlock("Front door", via="app")  # a row nobody reads
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert world.bridge.callbacks == []  # it unregistered on the way out
    assert out == b""
    assert err.decode() == "listen=0\n"  # no traceback, no "Exception ignored"
