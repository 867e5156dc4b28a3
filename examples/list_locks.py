"""List the smart locks of a Nuki Web API account with their state.

NUKI_WEB_TOKEN=... python examples/list_locks.py
python examples/list_locks.py --base-url http://127.0.0.1:PORT   # against the simulator
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from nukiasync import NukiError, NukiWebClient
from nukiasync.const import DEFAULT_WEB_URL


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=DEFAULT_WEB_URL, help="Web API URL")
    args = parser.parse_args(argv)
    token = os.environ.get("NUKI_WEB_TOKEN")
    if not token:
        print("Set NUKI_WEB_TOKEN to a Nuki Web API token.", file=sys.stderr)
        return 2
    try:
        async with NukiWebClient(token, base_url=args.base_url) as web:
            for lock in await web.smartlocks():
                state = lock.state.state.name if lock.state else "?"
                print(f"{lock.smartlock_id:>12}  {lock.type.name:<12} {state:<12} {lock.name}")
    except NukiError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
