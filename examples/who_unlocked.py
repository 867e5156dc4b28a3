"""Print who locked or unlocked a door, the moment the Nuki Web API knows.

    NUKI_WEB_TOKEN=... NUKI_BRIDGE_TOKEN=... python examples/who_unlocked.py \\
        --bridge 192.168.1.20 --callback-host 192.168.1.10

Against the simulator (``nukiasync simulate`` prints the URLs and tokens):

    python examples/who_unlocked.py --bridge 127.0.0.1:PORT --web-url http://127.0.0.1:PORT \\
        --callback-host 127.0.0.1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from nukiasync import (
    ActionAttributed,
    AttributionUnavailable,
    CallbackServer,
    LockStateChanged,
    NukiAddressError,
    NukiBridgeClient,
    NukiError,
    NukiEvent,
    NukiHub,
    NukiWebClient,
    parse_bridge_address,
)
from nukiasync.const import DEFAULT_WEB_URL


def show(event: NukiEvent) -> None:
    """Subscribe before acting, so nothing is missed; print as events come."""
    if isinstance(event, LockStateChanged):
        print(f"{event.device_name}: {event.state_name}")
    elif isinstance(event, ActionAttributed):
        # event.how: one wording from the auth type and the trigger together (app, fob, ...)
        print(f"{event.device_name}: by {event.actor.name or '(no one)'} via {event.how.label}")
    elif isinstance(event, AttributionUnavailable):
        print(f"{event.device_name}: could not tell who ({event.reason})")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bridge", required=True, metavar="HOST[:PORT]")
    parser.add_argument("--callback-host", required=True, help="our address, as the bridge sees it")
    parser.add_argument("--callback-port", type=int, default=0)
    parser.add_argument("--web-url", default=DEFAULT_WEB_URL)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    args = parser.parse_args(argv)
    web_token, bridge_token = os.environ.get("NUKI_WEB_TOKEN"), os.environ.get("NUKI_BRIDGE_TOKEN")
    if not web_token or not bridge_token:
        print("Set NUKI_WEB_TOKEN and NUKI_BRIDGE_TOKEN.", file=sys.stderr)
        return 2
    try:
        host, port = parse_bridge_address(args.bridge)
    except NukiAddressError as err:
        print(f"--bridge: {err}", file=sys.stderr)
        return 2
    try:
        async with (
            NukiWebClient(web_token, base_url=args.web_url) as web,
            NukiBridgeClient(host, bridge_token, port=port) as bridge,
        ):
            # Ask both once, so a wrong token or a dead bridge is a sentence, not silence:
            # the hub itself keeps retrying and reports health events instead.
            await bridge.devices()
            await web.smartlocks()
            server = CallbackServer(host=args.callback_host, port=args.callback_port)
            async with NukiHub(web=web, bridge=bridge, callback_server=server) as hub:
                hub.subscribe(show)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(args.seconds):
                        await asyncio.Event().wait()  # until Ctrl-C (or --seconds)
    except NukiError as err:
        print(f"Cannot watch the doors: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
