"""Print who did what on your Nuki devices recently, newest first.

NUKI_WEB_TOKEN=... python examples/recent_activity.py --count 30
NUKI_WEB_TOKEN=... python examples/recent_activity.py --smartlock-id 17618910285
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from nukiasync import NukiError, NukiWebClient, how_of
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
            names = {lock.smartlock_id: lock.name for lock in await web.smartlocks()}
            # How needs the authorization's type too: trigger 0 alone covers every app,
            # bridge and fob command over Bluetooth.
            auth_types = {auth.id: auth.type for auth in await web.auths()}
            async for entry in web.iter_logs(args.smartlock_id, max_entries=args.count):
                how = how_of(
                    trigger=entry.trigger_code,
                    auth_type=auth_types.get(entry.auth_id or ""),
                    source=entry.source_code,
                    action=entry.action_code,
                    auto_unlock=entry.auto_unlock,
                    opener_source=entry.opener_log.source_code if entry.opener_log else None,
                )
                outcome = "ok" if entry.succeeded else entry.state.name.lower()
                lock = names.get(entry.smartlock_id, str(entry.smartlock_id))
                print(
                    f"{entry.date.astimezone():%Y-%m-%d %H:%M:%S}  {lock:<18} "
                    f"{entry.action.name.lower():<22} {how.label:<12} {outcome:<14} "
                    f"{entry.name or '-'}"
                )
    except NukiError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
