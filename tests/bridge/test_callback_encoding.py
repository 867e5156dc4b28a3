"""Content-Encoding: any coding but identity, in any header or list item, gets 415.

Only the first header used to be checked: ``identity`` then ``gzip`` got 200. Both
transports are tested: the `CallbackServer` over a raw socket (to send repeated headers
exactly) and the webhook path of `NukiHub.handle_callback` / `CallbackServer.handle`.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from nukiasync.bridge.receiver import is_identity
from nukiasync.bridge.server import CallbackServer
from tests.support.callbacks import BODY, BRIDGE, FAST, Sink, open_raw, secret_of
from tests.support.hub import running, spoof

pytestmark = pytest.mark.sockets

CASES = [
    ([], 200),
    (["identity"], 200),
    (["Identity", "identity"], 200),
    (["identity, identity"], 200),
    (["identity", "gzip"], 415),
    (["gzip", "identity"], 415),
    (["identity, gzip"], 415),
    (["identity,br"], 415),
    (["deflate"], 415),
    (["x-unknown"], 415),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), (" IDENTITY ", True), ("identity, gzip", False), ("gzip", False),
     (["identity", "gzip"], False), (["identity", ""], True), ([], True)],
)  # fmt: skip
def test_is_identity(value: object, expected: bool) -> None:
    assert is_identity(value) is expected  # type: ignore[arg-type]


async def raw_post(port: int, path: str, encodings: list[str]) -> int:
    reader, writer = await open_raw(port, BRIDGE)
    head = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {len(BODY)}", "Connection: close"]
    head += [f"Content-Encoding: {value}" for value in encodings]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + BODY)
    async with asyncio.timeout(5):
        status_line = await reader.readline()
        await reader.read()
    writer.close()
    return int(status_line.split()[1])


@pytest.mark.parametrize(("encodings", "expected"), CASES)
async def test_server_checks_every_content_encoding(encodings: list[str], expected: int) -> None:
    sink = Sink()
    async with CallbackServer(sink, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST) as srv:
        url = srv.callback_url()
        secret_of(url)
        assert await raw_post(srv.port, urlsplit(url).path, encodings) == expected
        assert await srv.handle(BODY, BRIDGE, content_encoding=encodings) == expected
        stats = srv.receiver().stats
    assert stats.rejected["encoding"] == (2 if expected == 415 else 0)
    assert len(sink.items) == (2 if expected == 200 else 0)


async def test_hub_webhook_checks_every_content_encoding() -> None:
    async with running() as (_world, hub, _rec):
        body = spoof(0x1A2B3C4D, 1)
        for encodings, expected in CASES:
            got = await hub.handle_callback(body, "127.0.0.1", content_encoding=encodings)
            assert got == expected, encodings
            joined = ", ".join(encodings) if encodings else None
            got = await hub.handle_callback(body, "127.0.0.1", content_encoding=joined)
            assert got == expected, joined
        refused = sum(1 for _, expected in CASES if expected == 415)
        assert hub.diagnostics()["receivers"]["bridge"]["rejected"]["encoding"] == 2 * refused
