"""``python -m bench``: run the benchmarks, print their tables, write bench/results/*.json.

``--only B1,B5`` picks some; ``--quick`` is a short smoke run (CI can afford it) that writes
``<name>-quick.json`` and leaves the full results alone. ``--b7-sources mqtt,webhook`` and
``--b7-seeds N`` run B7 with some of its sources or another number of seeds; such a run writes
``b7_quality-<sources>[-<N>seeds].json`` and leaves the full result alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from bench import (
    b1_ingest,
    b2_latency,
    b3_attribution,
    b4_requests,
    b5_web_client,
    b6_memory,
    b7_quality,
    b8_mqtt,
)
from bench._harness import goal, machine_info, print_table, write_result

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench._harness import Result

BENCHMARKS: dict[str, tuple[str, Callable[..., Result]]] = {
    "B1": ("b1_ingest", b1_ingest.run),
    "B2": ("b2_latency", b2_latency.run),
    "B3": ("b3_attribution", b3_attribution.run),
    "B4": ("b4_requests", b4_requests.run),
    "B5": ("b5_web_client", b5_web_client.run),
    "B6": ("b6_memory", b6_memory.run),
    "B7": ("b7_quality", b7_quality.run),
    "B8": ("b8_mqtt", b8_mqtt.run),
}
PENDING: dict[str, str] = {}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; the exit status is 0 even when a goal is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated names, e.g. B1,B5 (default: all)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--b7-sources", help="B7's hub sources, comma-separated (web_log, webhook, mqtt)"
    )
    parser.add_argument("--b7-seeds", type=int, help="B7: seeds 1..N for every source")
    args = parser.parse_args(argv)
    # Loopback only: make sure no proxy from the environment sees a request.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    names = [n.strip().upper() for n in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS and n not in PENDING]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    info = machine_info()
    print(f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")
    verdicts: list[list[object]] = []
    for name in names:
        if name in PENDING:
            verdicts.append([name, PENDING[name], "-", "-", "pending"])
            continue
        file, function = BENCHMARKS[name]
        options: dict[str, object] = {}
        if name == "B7" and (args.b7_sources or args.b7_seeds):
            sources = args.b7_sources.split(",") if args.b7_sources else None
            options = {"sources": sources, "seeds": args.b7_seeds}
            file += f"-{'+'.join(sources or ['all'])}"
            file += f"-{args.b7_seeds}seeds" if args.b7_seeds else ""
        started = time.perf_counter()
        result = function(quick=args.quick, **options)
        path = write_result(file, result, quick=args.quick)
        print(f"\n{name} took {time.perf_counter() - started:.0f} s; wrote {path}")
        for measure, verdict in result["goals"].items():
            verdicts.append(
                [name, measure, verdict["value"], verdict["goal"], goal(verdict["met"])]
            )
    verdicts += [[n, text, "-", "-", "pending"] for n, text in PENDING.items() if n not in names]
    print_table("Summary", ["benchmark", "measure", "value", "goal", "verdict"], verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
