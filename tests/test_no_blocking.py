"""Nothing blocks the event loop: blockbuster is really on, and certificates load off the loop.

blockbuster patches file, socket and sleep calls, but not the C code that reads CA
certificates (``SSLContext.load_verify_locations`` and friends), so these tests watch those
calls themselves: every one made while an owned client is built and used must run in a
worker thread, never on the loop's thread.
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from blockbuster import BlockingError

from nukiasync import NukiWebClient
from nukiasync.bridge.discovery import discover_bridges
from tests.support import canary
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from nukiasync.simulator import World

pytestmark = pytest.mark.sockets

# The SSLContext methods that read certificate files or directories.
_LOADERS = ("load_verify_locations", "load_default_certs", "set_default_verify_paths")


@pytest.fixture
def cert_loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record (method, thread id) of every certificate load from now on."""
    calls: list[tuple[str, int]] = []
    for name in _LOADERS:
        real = getattr(ssl.SSLContext, name)

        def spy(self: ssl.SSLContext, *args: Any, _real: Any = real, _name: str = name) -> Any:
            calls.append((_name, threading.get_ident()))
            return _real(self, *args)

        monkeypatch.setattr(ssl.SSLContext, name, spy)
    return calls


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


async def test_blockbuster_is_active_for_socket_tests() -> None:
    with pytest.raises(BlockingError):
        time.sleep(0)  # noqa: ASYNC251 - the point of the test


async def test_the_spy_sees_a_certificate_load(cert_loads: list[tuple[str, int]]) -> None:
    ssl.create_default_context()  # on the loop, on purpose
    assert ("load_default_certs", threading.get_ident()) in cert_loads


async def test_owned_web_client_loads_certificates_off_the_loop(
    world: World, cert_loads: list[tuple[str, int]]
) -> None:
    async with NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url) as web:
        assert cert_loads == []  # construction does no I/O
        await web.smartlocks()
        await web.smartlocks()
    assert cert_loads
    assert threading.get_ident() not in {thread for _, thread in cert_loads}


async def test_discovery_loads_certificates_off_the_loop(
    world: World, cert_loads: list[tuple[str, int]]
) -> None:
    assert len(await discover_bridges(base_url=world.web_url)) == 1
    assert cert_loads
    assert threading.get_ident() not in {thread for _, thread in cert_loads}
