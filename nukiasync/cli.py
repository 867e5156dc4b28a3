"""The ``nukiasync`` command: argument parsing and printing, nothing else.

Subcommands, one function each:

- ``demo``: the main job on the built-in simulator: a morning in two buildings, one line per
  event (who did it and how), then a summary. No setup, no hardware.
- ``listen``: the same with real hardware: a bridge, the Web API, or both.
- ``simulate``: start the simulated Bridge and Web API on 127.0.0.1, print their URLs and
  test tokens, play a scenario and serve until Ctrl-C (SIGINT or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, TextIO

from nukiasync import cli_listen
from nukiasync.cli_output import EventPrinter, print_summary
from nukiasync.cli_signals import stop_on_signals
from nukiasync.simulator import ScenarioError, builtin_scenario, load_scenario

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nukiasync.simulator import ActionRecord, Scenario, World


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: int = args.command(args)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nukiasync", description="Nuki smart locks from asyncio.")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="see who locks and unlocks, on the built-in simulator",
        description="Run the hub against a simulated morning (two bridges, the Web API) on "
        "127.0.0.1 and print one line per event, then a summary. Takes about a minute.",
    )
    demo.add_argument("--json", action="store_true", help="print JSON lines")
    demo.add_argument("--speed", type=float, default=1.0, help=argparse.SUPPRESS)
    demo.set_defaults(command=_demo)
    cli_listen.add_parser(commands)
    simulate = commands.add_parser(
        "simulate",
        help="run a simulated Bridge and Web API on 127.0.0.1",
        description="Start a simulated Nuki Bridge and Web API on 127.0.0.1, print their URLs "
        "and test tokens, play a scenario and serve until Ctrl-C.",
    )
    simulate.add_argument(
        "--scenario", metavar="FILE", help="scenario TOML file (default: built-in demo)"
    )
    simulate.add_argument(
        "--speed", type=float, default=1.0, help="timeline speed factor (default 1)"
    )
    simulate.add_argument("--seed", type=int, default=None, help="seed for ids, lags and faults")
    simulate.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds"
    )
    simulate.set_defaults(command=_simulate)
    return parser


def _demo(args: argparse.Namespace) -> int:
    """``nukiasync demo``."""
    from nukiasync.demo import run_demo  # noqa: PLC0415  (only this command needs the hub)

    printer = EventPrinter(sys.stdout, json_lines=args.json)
    if not args.json:
        sys.stdout.write(
            "nukiasync demo: a simulated morning; state at once, then who did it and how.\n"
        )
    summary = asyncio.run(run_demo(printer, speed=args.speed))
    if not args.json:
        print_summary(summary, sys.stdout)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    """``nukiasync simulate``: the scenario file is read here, before the event loop starts."""
    try:
        scenario = load_scenario(args.scenario) if args.scenario else builtin_scenario()
    except (OSError, ScenarioError) as err:
        sys.stderr.write(f"nukiasync simulate: {err}\n")
        return 2
    if args.speed <= 0:
        sys.stderr.write("nukiasync simulate: --speed must be positive\n")
        return 2
    return asyncio.run(simulate(scenario, speed=args.speed, seed=args.seed, duration=args.duration))


async def simulate(
    scenario: Scenario,
    *,
    speed: float = 1.0,
    seed: int | None = None,
    duration: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Serve ``scenario`` until SIGINT/SIGTERM or ``duration`` seconds; return 0."""
    out = out or sys.stdout
    overrides: dict[str, object] = {"speed": speed}
    if seed is not None:
        overrides["seed"] = seed
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


def _banner(world: World, scenario: Scenario, speed: float, out: TextIO) -> None:
    out.write(f"nukiasync simulator: scenario {scenario.name!r} at {speed:g}x\n")
    out.writelines(
        f"  Bridge API  {bridge.url}  token {bridge.token}  ({name})\n"
        for name, bridge in world.bridges.items()
    )
    out.write(f"  Web API     {world.web_url}  bearer token {world.web_token}\n")
    out.writelines(
        f"  {d.name:<20} smartlockId {d.smartlock_id}  nukiId {d.nuki_id} ({d.nuki_id:08X})"
        f"  deviceType {int(d.device_type)}\n"
        for d in world.devices
    )
    out.write(f"{len(scenario.steps)} steps to play; press Ctrl-C to stop.\n")
    out.flush()


def _print_record(world: World, record: ActionRecord, out: TextIO) -> None:
    elapsed = (record.started_at - world.created).total_seconds()
    who = record.person or "-"
    out.write(
        f"  t+{elapsed:6.1f}s {record.lock}: action {record.action} by {who} via {record.via}, "
        f"state {record.state}, log entry {record.log_id}\n"
    )
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
