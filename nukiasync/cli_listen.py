"""``nukiasync listen``: the hub against real hardware (or the simulator's URLs).

Tokens come from the options or from ``NUKI_WEB_TOKEN`` / ``NUKI_BRIDGE_TOKEN``; the callback
is registered on start and removed on Ctrl-C. With ``--state-file`` a restarted listener
catches up from where it stopped, at least once, with the same event ids.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from typing import Any

from nukiasync.bridge.client import NukiBridgeClient
from nukiasync.bridge.server import CallbackServer
from nukiasync.cli_output import EventPrinter
from nukiasync.cli_signals import stop_on_signals
from nukiasync.const import DEFAULT_BRIDGE_PORT, DEFAULT_WEB_URL
from nukiasync.errors import NukiError
from nukiasync.hub import NukiHub
from nukiasync.web.client import NukiWebClient

CALLBACK_PORT = 8765  # a fixed default, so the URL registered with the bridge stays valid


def add_parser(commands: Any) -> None:
    """Register the ``listen`` subcommand."""
    listen = commands.add_parser(
        "listen",
        help="print who locks and unlocks, from a bridge and/or the Web API",
        description="Listen to a Nuki Bridge (callbacks) and the Web API (who did it) and print "
        "one line per event. Tokens may come from NUKI_WEB_TOKEN and NUKI_BRIDGE_TOKEN.",
    )
    listen.add_argument("--bridge", metavar="HOST[:PORT]", help="the bridge's address")
    listen.add_argument("--bridge-token", help="bridge API token (or NUKI_BRIDGE_TOKEN)")
    listen.add_argument(
        "--token-mode", choices=["encrypted", "hashed", "plain"], default="encrypted"
    )
    listen.add_argument("--web-token", help="Web API token (or NUKI_WEB_TOKEN)")
    listen.add_argument("--web-url", default=DEFAULT_WEB_URL, help=argparse.SUPPRESS)
    listen.add_argument(
        "--callback-host", help="address to listen on (default: ours towards the bridge)"
    )
    listen.add_argument("--callback-port", type=int, default=CALLBACK_PORT)
    listen.add_argument("--advertise-url", help="URL the bridge must call, if not host:port")
    listen.add_argument("--state-file", help="resume from here after a restart")
    listen.add_argument("--json", action="store_true", help="print JSON lines")
    listen.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """``nukiasync listen``."""
    web_token = args.web_token or os.environ.get("NUKI_WEB_TOKEN")
    bridge_token = args.bridge_token or os.environ.get("NUKI_BRIDGE_TOKEN")
    if args.bridge and not bridge_token:
        sys.stderr.write("nukiasync listen: --bridge needs --bridge-token or NUKI_BRIDGE_TOKEN\n")
        return 2
    if not args.bridge and not web_token:
        sys.stderr.write("nukiasync listen: give --bridge, a Web API token, or both\n")
        return 2
    try:
        return asyncio.run(_listen(args, web_token, bridge_token))
    except NukiError as err:
        sys.stderr.write(f"nukiasync listen: {err}\n")
        return 1


async def _listen(args: argparse.Namespace, web_token: str | None, bridge_token: str | None) -> int:
    web = NukiWebClient(web_token, base_url=args.web_url) if web_token else None
    bridge = server = None
    if args.bridge:
        host, _, port = args.bridge.partition(":")
        bridge = NukiBridgeClient(
            host,
            bridge_token or "",
            port=int(port) if port else DEFAULT_BRIDGE_PORT,
            token_mode=args.token_mode,
        )
        server = CallbackServer(
            host=args.callback_host or _local_address_towards(host),
            port=args.callback_port,
            advertise_url=args.advertise_url,
        )
    printer = EventPrinter(sys.stdout, json_lines=args.json)
    hub = NukiHub(web=web, bridge=bridge, callback_server=server, state_file=args.state_file)
    hub.subscribe(printer)
    try:
        with stop_on_signals() as stop:
            async with hub:
                await stop.wait()
    finally:
        if web is not None:
            await web.close()
        if bridge is not None:
            await bridge.close()
        if server is not None:
            await server.close()
    return 0


def _local_address_towards(host: str) -> str:
    """Our address on the route to the bridge (a UDP connect sends no packet)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as probe:
        try:
            probe.connect((host, DEFAULT_BRIDGE_PORT))
            return str(probe.getsockname()[0])
        except OSError:
            return "0.0.0.0"  # noqa: S104  (then --advertise-url is required)
