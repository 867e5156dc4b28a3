"""Fixtures of the callback server tests: a server on loopback and the sink it feeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nukiasync.bridge.server import CallbackServer
from tests.support.callbacks import BRIDGE, FAST, Sink, secret_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def sink() -> Sink:
    return Sink()


@pytest.fixture
async def server(sink: Sink) -> AsyncIterator[CallbackServer]:
    srv = CallbackServer(sink, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST)
    async with srv:
        secret_of(srv.callback_url())
        yield srv
