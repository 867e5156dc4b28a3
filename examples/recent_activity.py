"""Print who did what on your Nuki devices recently, newest first.

NUKI_WEB_TOKEN=... python examples/recent_activity.py --count 30
NUKI_WEB_TOKEN=... python examples/recent_activity.py --smartlock-id 17618910285
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
    parser.add_argument("--smartlock-id", type=int, help="one lock (default: all)")
    parser.add_argument("--count", type=int, default=20, help="entries to show")
    args = parser.parse_args(argv)
    token = os.environ.get("NUKI_WEB_TOKEN")
    if not token:
        print("Set NUKI_WEB_TOKEN to a Nuki Web API token.", file=sys.stderr)
        return 2
    try:
        async with NukiWebClient(token, base_url=args.base_url) as web:
            async for entry in web.iter_logs(args.smartlock_id, max_entries=args.count):
                who = entry.name or "-"
                outcome = "ok" if entry.succeeded else entry.state.name.lower()
                print(
                    f"{entry.date:%Y-%m-%d %H:%M:%S}  {entry.smartlock_id:>12}  "
                    f"{entry.action.name.lower():<22} {entry.trigger.name.lower():<10} "
                    f"{outcome:<14} {who}"
                )
    except NukiError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
