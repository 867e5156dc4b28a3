"""Sums up a `mutmut run` (``make mutation``): mutants per module and verdict, survivors listed.

Reads ``mutmut results --all true`` from the working directory's ``mutants/``; prints a
Markdown table and the surviving mutants (``mutmut show <name>`` prints one's diff) and
writes the same as JSON to ``mutants/summary.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path


def main() -> int:
    """Print the table; exit 0 whatever survived (a report, not a gate)."""
    mutmut = Path(sys.executable).with_name("mutmut")
    listed = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    counts: Counter[tuple[str, str]] = Counter()
    survivors: list[str] = []
    for line in listed.splitlines():
        name, _, status = line.strip().partition(": ")
        if not status:
            continue
        module = name.split(".x")[0]
        counts[module, status] += 1
        if status != "killed":
            survivors.append(f"{name}: {status}")
    modules = sorted({module for module, _ in counts})
    statuses = sorted({status for _, status in counts})
    print("| module | " + " | ".join(statuses) + " | total |")
    print("|---" * (len(statuses) + 2) + "|")
    for module in modules:
        row = [counts[module, s] for s in statuses]
        print(f"| {module} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    print("\nNot killed (see `.venv/bin/mutmut show NAME`):")
    print("\n".join(f"- {s}" for s in survivors) or "- none")
    summary = {
        "counts": {f"{m}:{s}": n for (m, s), n in sorted(counts.items())},
        "not_killed": survivors,
    }
    Path("mutants/summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
