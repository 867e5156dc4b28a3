"""``nukiasync simulate``: serve a simulated Bridge and Web API, and say how to use them.

The banner prints what a person needs to point a tool at this world, ready to paste: the
``nukiasync listen`` command, a pynuki snippet and a nukiasync snippet, with this run's
ports and test tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from nukiasync.cli.signals import stop_on_signals
from nukiasync.const import LogAction, LogState
from nukiasync.errors import NukiError
from nukiasync.mqtt.broker import MqttSettings, load_aiomqtt
from nukiasync.simulator import ScenarioError, builtin_scenario, load_scenario

if TYPE_CHECKING:
    import argparse

    from nukiasync.simulator import ActionRecord, Scenario, World


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``simulate`` subcommand."""
    simulate = commands.add_parser(
        "simulate",
        help="run a simulated Bridge and Web API on 127.0.0.1",
        description="Start a simulated Nuki Bridge and Web API on 127.0.0.1, print their URLs, "
        "test tokens and a ready-to-paste `nukiasync listen` command, play a scenario and "
        "serve until Ctrl-C. The scenario file format is described in README.md "
        "(Scenario files); examples/morning.toml is a complete example.",
    )
    simulate.add_argument(
        "--scenario", metavar="FILE", help="scenario TOML file (default: the built-in demo)"
    )
    simulate.add_argument(
        "--speed", type=float, default=1.0, help="timeline speed factor (default: 1)"
    )
    simulate.add_argument(
        "--seed", type=int, default=None, help="seed for ids, lags and faults (default: random)"
    )
    simulate.add_argument(
        "--duration",
        metavar="SECONDS",
        type=float,
        default=None,
        help="stop after this many seconds (default: serve until Ctrl-C)",
    )
    simulate.add_argument(
        "--mqtt",
        metavar="URL",
        default=None,
        help="MQTT broker (mqtt://[user:password@]host[:port]) that the Smart Lock 3.0 Pro / "
        "4th and 5th generation locks publish to, as Nuki's MQTT API 1.5 (needs the mqtt extra)",
    )
    simulate.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """``nukiasync simulate``: the scenario file is read here, before the event loop starts."""
    try:
        scenario = load_scenario(args.scenario) if args.scenario else builtin_scenario()
    except (OSError, ScenarioError) as err:
        sys.stderr.write(f"nukiasync simulate: {err}\n")
        return 2
    if args.speed <= 0:
        sys.stderr.write("nukiasync simulate: --speed must be positive\n")
        return 2
    mqtt_url = getattr(args, "mqtt", None)
    if mqtt_url is not None:
        try:
            MqttSettings.from_url(mqtt_url)
            load_aiomqtt()
        except NukiError as err:
            sys.stderr.write(f"nukiasync simulate: {err}\n")
            return 2
    return asyncio.run(
        simulate(
            scenario, speed=args.speed, seed=args.seed, duration=args.duration, mqtt_url=mqtt_url
        )
    )


async def simulate(
    scenario: Scenario,
    *,
    speed: float = 1.0,
    seed: int | None = None,
    duration: float | None = None,
    out: TextIO | None = None,
    mqtt_url: str | None = None,
) -> int:
    """Serve ``scenario`` until SIGINT/SIGTERM or ``duration`` seconds; return 0."""
    out = out or sys.stdout
    overrides: dict[str, object] = {"speed": speed}
    if seed is not None:
        overrides["seed"] = seed
    if mqtt_url is not None:
        overrides["mqtt_url"] = mqtt_url
    world = scenario.build(**overrides)
    with stop_on_signals() as stop:
        async with world:
            _banner(world, scenario, speed, out)
            world.listeners.append(lambda record: _print_record(world, record, out))
            world.spawn(scenario.run(world), None, "cli.scenario")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(duration):
                    await stop.wait()
            out.write("Stopping.\n")
    out.flush()
    return 0


def listen_command(world: World) -> str:
    """The ``nukiasync listen`` command for this world, ready to paste into a shell."""
    tokens = {sim.token for sim in world.bridges.values()}
    words = ["NUKI_WEB_TOKEN=" + shlex.quote(world.web_token)]
    if len(tokens) == 1:
        words.append("NUKI_BRIDGE_TOKEN=" + shlex.quote(next(iter(tokens))))
    words += ["nukiasync", "listen", "--web-url", world.web_url]
    for sim in world.bridges.values():
        words += ["--bridge", urlsplit(sim.url).netloc]
        if len(tokens) > 1:
            words += ["--bridge-token", shlex.quote(sim.token)]
    words += ["--callback-host", "127.0.0.1", "--callback-port", "0"]
    return " ".join(words)


def snippets(world: World) -> str:
    """Pynuki and nukiasync snippets that read this world's first bridge and the Web API."""
    name, sim = next(iter(world.bridges.items()))
    port = urlsplit(sim.url).port
    return (
        f"  pynuki ({name}):\n"
        f"    from pynuki import NukiBridge\n"
        f"    print(NukiBridge('127.0.0.1', token={sim.token!r}, port={port}).locks)\n"
        f"  Python (nukiasync):\n"
        f"    import asyncio, nukiasync\n"
        f"    async def main():\n"
        f"        async with nukiasync.NukiBridgeClient('127.0.0.1', {sim.token!r}, "
        f"port={port}) as bridge:\n"
        f"            print(await bridge.devices())\n"
        f"        async with nukiasync.NukiWebClient({world.web_token!r}, "
        f"base_url={world.web_url!r}) as web:\n"
        f"            print(await web.smartlocks())\n"
        f"    asyncio.run(main())\n"
    )


def _banner(world: World, scenario: Scenario, speed: float, out: TextIO) -> None:
    out.write(f"nukiasync simulator: scenario {scenario.name!r} at {speed:g}x\n")
    out.writelines(
        f"  Bridge API  {bridge.url}  token {bridge.token}  ({name})\n"
        for name, bridge in world.bridges.items()
    )
    out.write(f"  Web API     {world.web_url}  bearer token {world.web_token}\n")
    if world.mqtt.settings is not None:
        mqtt = ", ".join(d.name for d in world.devices if d.mqtt) or "none"
        out.write(f"  MQTT        {world.mqtt.settings.origin}  publishing: {mqtt}\n")
    out.writelines(
        f"  {d.name:<20} smartlockId {d.smartlock_id}  nukiId {d.nuki_id} ({d.nuki_id:08X})"
        f"  deviceType {int(d.device_type)}\n"
        for d in world.devices
    )
    out.write(f"Listen to it from another terminal:\n  {listen_command(world)}\n")
    out.write(f"Or read it from Python:\n{snippets(world)}")
    out.write(f"{len(scenario.steps)} steps to play; press Ctrl-C to stop.\n")
    out.flush()


def outcome(state: int) -> str:
    """The log's completion code in words: ``completed`` or ``failed: motor blocked``."""
    parsed = LogState.parse(state)
    if parsed is LogState.SUCCESS:
        return "completed"
    name = parsed.name.lower().replace("_", " ") if parsed is not LogState.UNKNOWN else str(state)
    return f"failed: {name}"


def _action(code: int) -> str:
    action = LogAction.parse(code)
    return str(code) if action is LogAction.UNKNOWN else action.name.lower().replace("_", " ")


def _print_record(world: World, record: ActionRecord, out: TextIO) -> None:
    elapsed = (record.started_at - world.created).total_seconds()
    who = record.person or "-"
    entry = f"log entry {record.log_id}" if record.log_id else "no log entry"
    out.write(
        f"  t+{elapsed:6.1f}s {record.lock}: {_action(record.action)} by {who} via {record.via}, "
        f"{outcome(record.state)}, {entry}\n"
    )
    out.flush()
