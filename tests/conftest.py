"""Shared fixtures: the session-wide secrets canary and the blocking-call guard."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from blockbuster import blockbuster_ctx

from tests.support import canary

if TYPE_CHECKING:
    from collections.abc import Iterator

# Every logger that could see a request: ours, the HTTP stacks, asyncio.
_LOGGERS = ("", "nukiasync", "httpx", "httpcore", "aiohttp", "asyncio", "hpack")


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


# Blocking calls on the event loop: tests marked `sockets` run with blockbuster active, so
# a file read, a time.sleep or a blocking socket call made on the loop fails the test. A
# module opts in with `pytestmark = pytest.mark.sockets`; the modules below are marked here.
# (test_reliability_input is left out: hypothesis reads test sources while the loop runs.)
_SOCKET_MODULES = (
    "test_simulator_",
    "test_callback_server",
    "test_bridge_client",
    "test_examples",
    "test_log_watcher",
    "test_reliability_actions",
    "test_reliability_flood",
    "test_reliability_secrets",
)


# Blocking calls allowed on the loop: test helpers reading their own fixture files, and
# argparse's translation lookup (an os.stat) in the examples' async main(). Library code
# gets no exemption.
_MAY_BLOCK = (
    ("io.TextIOWrapper.read", "tests/support/paths.py", {"load_fixture"}),
    ("io.BufferedReader.read", "tests/support/paths.py", {"load_fixture"}),
    ("io.TextIOWrapper.read", "tests/support/bridge_standin.py", {"_fixture"}),
    ("io.BufferedReader.read", "tests/support/bridge_standin.py", {"_fixture"}),
    ("os.stat", "gettext.py", {"find"}),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of the socket-level modules `sockets`."""
    for item in items:
        if item.path.name.startswith(_SOCKET_MODULES):
            item.add_marker(pytest.mark.sockets)


@pytest.fixture(autouse=True)
def no_blocking_on_the_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Activate blockbuster for the whole test (fixtures included) when marked `sockets`."""
    if request.node.get_closest_marker("sockets") is None:
        yield
        return
    with blockbuster_ctx() as buster:
        for name, filename, functions in _MAY_BLOCK:
            buster.functions[name].can_block_in(filename, functions)
        yield
