"""nukiasync: asyncio library for Nuki smart locks, and who locked or unlocked a door."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
