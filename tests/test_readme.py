"""README's Python snippets run against the simulator, so what the README says stays true.

Every ```python block is run, with the README's placeholders (tokens, 192.168.1.x) replaced
by the simulator's, unless an HTML comment right above it says why it cannot be
(``<!-- readme-snippet: skip (reason) -->``). A block that defines ``main()`` and ends with
``asyncio.run(main())`` runs as a task of the test's loop; any other block is top-level
``await`` code and runs wrapped in a coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import re
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from nukiasync.const import LockState
from tests.support import canary
from tests.support.simulator import make_world

pytestmark = pytest.mark.sockets

README = Path(__file__).parent.parent / "README.md"
BLOCK = re.compile(
    r"(?:<!-- readme-snippet: skip \((?P<skip>[^)]+)\) -->\n)?```python\n(?P<code>.*?)```",
    re.DOTALL,
)


def snippets() -> list[tuple[str, str | None]]:
    """(code, skip reason) of every Python block in README.md."""
    return [(m["code"], m["skip"]) for m in BLOCK.finditer(README.read_text())]


def localize(code: str, world: Any) -> str:
    """Point a snippet at the simulator instead of the README's example addresses."""
    port = urlsplit(world.bridge_url).port
    web = f'"{canary.WEB_TOKEN}", base_url="{world.web_url}"'
    for token in ('"WEB-API-TOKEN"', '"YOUR-API-TOKEN"'):
        code = code.replace(token, web)
    bridge = f'"127.0.0.1", "{canary.BRIDGE_TOKEN}", port={port}'
    code = code.replace('"192.168.1.20", "BRIDGE-TOKEN"', bridge)
    code = code.replace('host="192.168.1.10", port=8765', 'host="127.0.0.1", port=0')
    assert "192.168." not in code, code
    assert 'TOKEN"' not in code, code
    return code


def coroutine(code: str) -> Any:
    """The snippet as a coroutine to await in this loop."""
    namespace: dict[str, Any] = {"__name__": "readme_snippet"}
    if code.rstrip().endswith("asyncio.run(main())"):
        exec(code.rstrip().removesuffix("asyncio.run(main())"), namespace)  # noqa: S102
        return namespace["main"]()
    exec("async def main():\n" + textwrap.indent(code, "    "), namespace)  # noqa: S102
    return namespace["main"]()


class Watched(io.StringIO):
    """Captured output that sets ``seen`` once ``needle`` has been written."""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.seen = asyncio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.needle in self.getvalue():
            self.seen.set()
        return written


def test_every_block_is_run_or_says_why_not() -> None:
    blocks = snippets()
    assert len(blocks) >= 4
    skipped = [reason for _code, reason in blocks if reason]
    assert skipped == [
        "needs an MQTT broker and a lock that publishes to it",
        "needs a real bridge on the LAN and a person at its button",
    ]


async def test_readme_snippets_run_against_the_simulator() -> None:
    blocks = [code for code, reason in await asyncio.to_thread(snippets) if not reason]
    hub_block = next(code for code in blocks if "NukiHub(" in code)
    out = Watched("Front door by Alice via app")
    async with make_world(log_lag=0.2) as world:
        with contextlib.redirect_stdout(out):
            for code in blocks:
                if code is hub_block:
                    continue
                async with asyncio.timeout(20):
                    await coroutine(localize(code, world))
            # The Bridge snippet unlocked the Front door through the bridge.
            assert world.device("Front door").state == LockState.UNLOCKED
            assert "Front door" in out.getvalue()

            # The hub snippet runs until cancelled: act, wait for its lines, stop it.
            hub = asyncio.ensure_future(coroutine(localize(hub_block, world)))
            await world.wait_until(lambda: len(world.bridge.callbacks) == 1, deadline=10)
            await world.person("Alice").lock("Front door", via="app")
            await asyncio.wait_for(out.seen.wait(), 20)
            hub.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hub
    text = out.getvalue()
    assert "Front door locked" in text
    assert world.bridge.callbacks == []  # the hub removed its registration on the way out
    gc.collect()  # an unclosed client would warn now (warnings are errors)


async def test_the_example_scenario_plays_every_step() -> None:
    from nukiasync.simulator import load_scenario

    path = Path(__file__).parent.parent / "examples" / "morning.toml"
    scenario = await asyncio.to_thread(load_scenario, path)
    assert len(scenario.steps) == 8
    async with scenario.build(speed=40.0) as world:
        results = await scenario.run(world)
    assert None not in results  # every step possible in the world the file builds
    failed = [r for r in results if r is not None and r.state != 0]
    assert [(r.lock, r.state) for r in failed] == [("Front door", 224), ("Garden door", 1)]
