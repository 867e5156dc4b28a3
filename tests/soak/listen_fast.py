"""``nukiasync listen`` with shorter log-reading timings, for the fast restart trials.

The stock command uses the library's default `AttributionTiming` (background reads every
60 s). An entry that no callback claimed is reported only at the next read after its grace
(see the xfail in tests/hub/test_reliability_hub_restart.py), so a restarted stock listener
needs a minute to catch up. The fast profile runs the same command with a 3 s background
interval; the soak profile runs the stock one. Usage: ``python -m tests.soak.listen_fast
listen ...``.
"""

from __future__ import annotations

import sys
from typing import Any

from nukiasync import hub
from nukiasync.cli import main
from nukiasync.hub.sources.log_watcher import AttributionTiming

FAST = AttributionTiming(first_delay=1.0, grace=2.0, background_interval=3.0)
_stock_init = hub.NukiHub.__init__


def _init(
    self: hub.NukiHub, *args: Any, timing: AttributionTiming | None = None, **kw: Any
) -> None:
    _stock_init(self, *args, timing=timing or FAST, **kw)


if __name__ == "__main__":
    hub.NukiHub.__init__ = _init  # type: ignore[method-assign]
    sys.exit(main(sys.argv[1:]))
