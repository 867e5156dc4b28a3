"""Where the tests find the repository and their fixture files, wherever a test module lives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def load_fixture(name: str) -> Any:
    """Load a JSON fixture by its path under tests/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
