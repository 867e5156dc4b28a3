"""``python -m nukiasync.cli``: the same as the ``nukiasync`` command."""

from __future__ import annotations

import sys

from nukiasync.cli import main

sys.exit(main())
