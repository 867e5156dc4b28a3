"""``nukiasync listen``: the hub against real hardware (or the simulator's URLs).

Start-up checks the bridge and the Web API tokens before the table is printed, so a wrong
token, a dead bridge or a refused callback registration ends with one sentence on stderr
and an exit status of its own (see ``EXIT_CODES``). Later faults are table rows (``health``).
Log records go to stderr only with ``-v``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from typing import TYPE_CHECKING

from nukiasync.bridge.address import parse_bridge_address
from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.server import CallbackServer
from nukiasync.cli import sources, startup
from nukiasync.cli.output import EventPrinter, configure_logging, quiet_if_closed
from nukiasync.cli.signals import stop_on_signals
from nukiasync.const import DEFAULT_BRIDGE_PORT, DEFAULT_WEB_URL
from nukiasync.errors import NukiAddressError, NukiCallbackServerError, NukiError
from nukiasync.events import CallbackRegistered
from nukiasync.hub import NukiHub
from nukiasync.web.client import NukiWebClient

if TYPE_CHECKING:
    from nukiasync.cli.startup import Failure

CALLBACK_PORT = 8765  # a fixed default, so the URL registered with the bridge stays valid
EXIT_CODES = {
    0: "stopped by Ctrl-C, SIGTERM or --duration",
    1: "an unexpected error (the message says which)",
    2: "the command line is incomplete or wrong",
    3: "the bridge refused its token",
    4: "the bridge cannot be reached",
    5: "the Web API refused its token",
    6: "the Web API cannot be reached",
    7: "callbacks cannot be received (port in use, or the bridge refused the registration)",
    130: "interrupted by Ctrl-C during the start-up checks",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``listen`` subcommand."""
    codes = "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())
    listen = commands.add_parser(
        "listen",
        help="print who locks and unlocks, from a bridge and/or the Web API",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Listen to Nuki Bridges (callbacks: the change, at once) and the Web API "
        "(its log: who did it, seconds later) and print one row per event.\n"
        "Tokens may come from NUKI_BRIDGE_TOKEN and NUKI_WEB_TOKEN instead of the options.\n"
        "Against `nukiasync simulate`, paste the listen command it prints (it sets --web-url).",
        epilog=f"exit status:\n{codes}",
    )
    add = listen.add_argument
    add(
        "--bridge",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="a bridge's address (port 8080 by default); repeat for more bridges",
    )
    add(
        "--bridge-token",
        metavar="TOKEN",
        action="append",
        default=[],
        help="the bridge's API token, one for all bridges or one per --bridge "
        "(default: $NUKI_BRIDGE_TOKEN)",
    )
    add(
        "--token-mode",
        choices=["encrypted", "hashed", "plain"],
        default="encrypted",
        help="how the token is sent: encrypted (bridge firmware 1.22.1+ / 2.14.0+), hashed (older "
        "firmware), plain (only on a trusted network) (default: encrypted)",
    )
    add(
        "--web-token",
        metavar="TOKEN",
        help="Nuki Web API token, from web.nuki.io > API (default: $NUKI_WEB_TOKEN)",
    )
    add(
        "--web-url",
        metavar="URL",
        default=DEFAULT_WEB_URL,
        help=f"the Web API's base URL, e.g. the simulator's (default: {DEFAULT_WEB_URL})",
    )
    add(
        "--callback-host",
        metavar="ADDRESS",
        help="our address for callbacks (default: ours on the way to the bridge)",
    )
    add(
        "--callback-port",
        metavar="PORT",
        type=int,
        default=CALLBACK_PORT,
        help=f"our port for callbacks; the bridge must reach it, 0 picks a free one "
        f"(default: {CALLBACK_PORT})",
    )
    add(
        "--advertise-url",
        metavar="URL",
        help="the URL the bridge must call, when it is not HOST:PORT (NAT, Docker)",
    )
    add(
        "--state-file",
        metavar="FILE",
        help="remember what was shown; a restart catches up from there",
    )
    sources.add_options(add)
    add("--json", action="store_true", help="print JSON lines, one per event, no header")
    add(
        "--duration",
        metavar="SECONDS",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    add(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="also print log records on stderr (-vv: debug)",
    )
    listen.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """``nukiasync listen``."""
    with configure_logging(args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    web_token = args.web_token or os.environ.get("NUKI_WEB_TOKEN")
    tokens = args.bridge_token or [os.environ.get("NUKI_BRIDGE_TOKEN") or ""]
    wrong = _wrong_sources(args, web_token, tokens)
    if wrong is not None:
        return _fail(wrong, 2)
    try:
        options = sources.read_options(args, has_web=bool(web_token))
    except ValueError as err:
        return _fail(str(err), 2)
    try:
        addresses = [parse_bridge_address(text) for text in args.bridge]
    except NukiAddressError as err:
        return _fail(f"--bridge {err}", 2)
    if len(tokens) == 1:
        tokens = tokens * len(addresses)
    if addresses and not args.callback_host:
        # Before the loop starts: a host name here means a DNS lookup, which blocks.
        args.callback_host = _local_address_towards(addresses[0][0])
    try:
        given = list(zip(addresses, tokens, strict=True))
        code = asyncio.run(_listen(args, web_token, given, options))
    except BrokenPipeError:  # the reader went away while the table was printed
        code = 0
    except NukiError as err:
        return _fail(str(err), 1)
    except KeyboardInterrupt:  # Ctrl-C before the table: the start-up checks were running
        return 130
    quiet_if_closed()
    return code


async def _listen(
    args: argparse.Namespace,
    web_token: str | None,
    bridges_given: list[tuple[tuple[str, int], str]],
    options: sources.SourceOptions,
) -> int:
    web = NukiWebClient(web_token, base_url=args.web_url) if web_token else None
    many = len(bridges_given) > 1
    bridges = [
        NukiBridgeClient(
            host,
            token,
            port=port,
            token_mode=args.token_mode,
            bridge_id=f"bridge{i + 1}" if many else None,
        )
        for i, ((host, port), token) in enumerate(bridges_given)
    ]
    server = None
    if bridges:
        server = CallbackServer(
            host=args.callback_host,
            port=args.callback_port,
            advertise_url=args.advertise_url,
        )
    try:
        failure, names = await startup.check(web, bridges, args.web_url)
        if failure is not None:
            return _failed(failure)
        printer = EventPrinter(
            sys.stdout,
            json_lines=args.json,
            names=names,
            expect_who=web is not None or options.mqtt is not None,
            hold_health=True,
        )
        hub = NukiHub(
            web=web,
            bridge=bridges or None,
            callback_server=server,
            state_file=args.state_file,
            **sources.hub_options(options, web),
        )
        hub.subscribe(printer)
        async with sources.exporting(options, hub):
            return await _run_hub(args, hub, printer, server, options)
    except NukiCallbackServerError as err:  # cannot bind
        return _failed(startup.cannot_listen(args.callback_host, args.callback_port, err))
    finally:
        if web is not None:
            await web.close()
        for bridge in bridges:
            await bridge.close()
        if server is not None:
            await server.close()


async def _run_hub(
    args: argparse.Namespace,
    hub: NukiHub,
    printer: EventPrinter,
    server: CallbackServer | None,
    options: sources.SourceOptions,
) -> int:
    """Start the hub, print until stopped, close it."""
    with stop_on_signals() as stop:
        printer.on_closed = stop.set
        try:
            await hub.start()
            failure = _refused_registration(printer, server)
            if failure is not None:
                return _failed(failure)
            printer.release()
            async with sources.serving(options, hub):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(args.duration):
                        await stop.wait()
        finally:
            await hub.close()
    return 0


def _wrong_sources(
    args: argparse.Namespace, web_token: str | None, tokens: list[str]
) -> str | None:
    """What is missing or contradictory among the bridge, Web API and MQTT options."""
    if args.bridge and not all(tokens):
        return "--bridge needs --bridge-token or NUKI_BRIDGE_TOKEN"
    if not args.bridge and not web_token and not (args.mqtt or os.environ.get("NUKI_MQTT_URL")):
        return "give --bridge HOST[:PORT], a Web API token (--web-token), --mqtt, or more"
    if len(tokens) not in {1, len(args.bridge)}:
        return "give one --bridge-token for all bridges, or one per --bridge"
    return None


def _refused_registration(printer: EventPrinter, server: CallbackServer | None) -> Failure | None:
    for event in printer.held:
        if isinstance(event, CallbackRegistered) and not event.available:
            return startup.refused_registration(event, server)
    return None


def _failed(failure: Failure) -> int:
    return _fail(failure.sentence, failure.code)


def _fail(sentence: str, code: int) -> int:
    sys.stderr.write(f"nukiasync listen: {sentence}\n")
    sys.stderr.flush()
    return code


def _local_address_towards(host: str) -> str:
    """Our address on the route to the bridge (a UDP connect sends no packet)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.closing(socket.socket(family, socket.SOCK_DGRAM)) as probe:
        try:
            probe.connect((host, DEFAULT_BRIDGE_PORT))
            return str(probe.getsockname()[0])
        except OSError:
            return "0.0.0.0"  # noqa: S104  (then --advertise-url is required)
