"""Print a Nuki Bridge's callbacks until Ctrl-C.

Starts a standalone CallbackServer, registers its URL with the bridge (replacing a
stale registration of ours), prints every callback, and removes the registration on
exit. The token comes from --bridge-token or NUKI_BRIDGE_TOKEN; never from the code.

    NUKI_BRIDGE_TOKEN=... python examples/listen_callbacks.py 192.168.1.20:8080 \
        --callback-host 192.168.1.10 --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import TYPE_CHECKING

from nukiasync import (
    CallbackServer,
    NukiAddressError,
    NukiBridgeClient,
    NukiError,
    parse_bridge_address,
)

if TYPE_CHECKING:
    from nukiasync.bridge.callbacks import BridgeCallback


def show(callback: BridgeCallback) -> None:
    door = f", door {callback.doorsensor_state_name}" if callback.doorsensor_state else ""
    print(
        f"{callback.device_type.name} {callback.nuki_id}: "
        f"{callback.lock_state.name} ({callback.state_code}){door}",
        flush=True,
    )


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    token = args.bridge_token or os.environ.get("NUKI_BRIDGE_TOKEN")
    if not token:
        print("Give the bridge token with --bridge-token or NUKI_BRIDGE_TOKEN", file=sys.stderr)
        return 2
    try:
        host, port = parse_bridge_address(args.bridge, default_port=args.bridge_port)
    except NukiAddressError as err:
        print(err, file=sys.stderr)
        return 2
    try:
        await listen(args, host, port, token)
    except NukiError as err:
        print(f"Cannot listen to the bridge: {err}", file=sys.stderr)
        return 1
    return 0


async def listen(args: argparse.Namespace, host: str, port: int, token: str) -> None:
    """Register our URL, print callbacks until Ctrl-C or --seconds, then unregister."""
    server = CallbackServer(
        show,
        host=args.callback_host,
        port=args.port,
        bridge_id=args.bridge_id,
        allowed_sources=[host],
        advertise_url=args.advertise_url,
    )
    async with NukiBridgeClient(host, token, port=port, bridge_id=args.bridge_id) as bridge:
        await bridge.devices()  # a wrong token or a dead bridge ends here, with a sentence
        async with server:
            url = server.callback_url()  # holds the path secret: do not print it
            await bridge.ensure_callback(url)
            print(f"Listening on {server.url}; Ctrl-C to stop", flush=True)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(args.seconds):
                        await asyncio.Event().wait()
            finally:
                await bridge.remove_callback_url(url)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bridge", metavar="HOST[:PORT]", help="the bridge's address")
    parser.add_argument(
        "--bridge-port", type=int, default=8080, help="port when HOST has none (default: 8080)"
    )
    parser.add_argument("--bridge-token", help="default: $NUKI_BRIDGE_TOKEN")
    parser.add_argument("--bridge-id", default="bridge", help="names our callback path")
    parser.add_argument(
        "--callback-host", required=True, help="this machine's address the bridge reaches"
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--advertise-url", help="base URL for the bridge, behind NAT/Docker")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    return parser.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
