"""Shared fixtures: the session-wide secrets canary and fixture loading."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests import canary

if TYPE_CHECKING:
    from collections.abc import Iterator

FIXTURES = Path(__file__).parent / "fixtures"

# Every logger that could see a request: ours, the HTTP stacks, asyncio.
_LOGGERS = ("", "nukiasync", "httpx", "httpcore", "aiohttp", "asyncio", "hpack")


def load_fixture(name: str) -> Any:
    """Load a JSON fixture by its path under tests/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class _CanaryHandler(logging.Handler):
    """Formats every record (exception text included) and looks for the canaries."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.hits: list[str] = []
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        text = self.format(record)
        for secret in canary.secrets():
            if secret in text:
                self.hits.append(f"{record.name}: {text[:300]}")


@pytest.fixture(scope="session", autouse=True)
def secrets_canary() -> Iterator[_CanaryHandler]:
    """Run the whole session with every logger at DEBUG and scan every record."""
    handler = _CanaryHandler()
    saved = {name: logging.getLogger(name).level for name in _LOGGERS}
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    assert not handler.hits, "secrets leaked into logs:\n" + "\n".join(handler.hits[:10])
