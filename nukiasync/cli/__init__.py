"""The ``nukiasync`` command: argument parsing and printing, nothing else.

Subcommands, one module each:

- ``demo``: the main job on the built-in simulator: a morning in two buildings, one line per
  event (when, which door, what, who did it and how), then a summary. No setup, no hardware.
- ``listen`` (``cli/listen.py``): the same with real hardware: a bridge, the Web API, or both.
- ``simulate`` (``cli/simulate.py``): the simulated Bridge and Web API on 127.0.0.1, with the
  ``listen`` command that reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from nukiasync import __version__
from nukiasync.cli import listen
from nukiasync.cli import simulate as simulate_command
from nukiasync.cli.output import (
    EventPrinter,
    configure_logging,
    print_summary,
    quiet_if_closed,
)
from nukiasync.cli.simulate import simulate

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main", "simulate"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: int = args.command(args)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nukiasync",
        description="Nuki smart locks from asyncio: who locked or unlocked a door, as it happens.",
        epilog="Start with `nukiasync demo`; `nukiasync COMMAND --help` tells more.",
    )
    parser.add_argument("--version", action="version", version=f"nukiasync {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="see who locks and unlocks, on the built-in simulator",
        description="Run the hub against a simulated morning (two bridges, the Web API) on "
        "127.0.0.1 and print one line per event, then a summary. Takes about a minute.",
    )
    demo.add_argument("--json", action="store_true", help="print JSON lines, one per event")
    demo.add_argument("--speed", type=float, default=1.0, help="timeline speed factor (default: 1)")
    demo.add_argument(
        "-v", "--verbose", action="count", default=0, help="also print log records on stderr"
    )
    demo.set_defaults(command=_demo)
    listen.add_parser(commands)
    simulate_command.add_parser(commands)
    return parser


def _demo(args: argparse.Namespace) -> int:
    """``nukiasync demo``."""
    from nukiasync.cli.demo import build_world, run_demo  # noqa: PLC0415  (only here)

    if args.speed <= 0:
        sys.stderr.write("nukiasync demo: --speed must be positive\n")
        return 2
    world = build_world(speed=args.speed)
    names = {device.smartlock_id: device.name for device in world.devices}
    printer = EventPrinter(sys.stdout, json_lines=args.json, names=names)
    if not args.json:
        sys.stdout.write(
            "nukiasync demo: a simulated morning; each change at once, then who did it and how.\n"
        )
    try:
        with configure_logging(args.verbose):
            summary = asyncio.run(run_demo(printer, speed=args.speed, world=world))
        if not args.json:
            print_summary(summary, sys.stdout)
    except BrokenPipeError:  # nukiasync demo | head
        pass
    quiet_if_closed()
    return 0
