"""Differential: whatever request the fast lane takes, aiohttp's parser reads the same way.

The lane must never accept what aiohttp would refuse, nor read a path, a length or
keep-alive differently. Hypothesis bends plain requests (header names and values, duplicates,
a missing Host, lengths, versions, paths); every one the lane takes goes to a bare aiohttp
server with the `CallbackServer`'s limits, which must answer 200 and see the same request.
Not marked ``sockets``: hypothesis reads files while the loop runs (as in
test_reliability_input).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nukiasync.bridge._fastlane import parse_head

TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
NEAR_TOKEN = TOKEN + " :\t\x00\x7f\xe4/@"
PRINTABLE = "".join(map(chr, range(0x20, 0x7F))) + "\t"
ODD = PRINTABLE + "\x00\x01\x7f\xe4\n\r"


@st.composite
def near_plain(draw: st.DrawFn) -> bytes:
    """A plain request, bent here and there: many are handed over, many are not."""

    def rare() -> bool:  # one draw in eight bends something
        return draw(st.integers(0, 7)) == 0

    path = "/nukiasync/b/s3cr3t"
    if rare():
        path = draw(st.sampled_from(["/a/./b", "/", "/a b", "/%41", "//a", "/a?b"]))
    version = draw(st.sampled_from(["HTTP/1.0", "HTTP/1.10", "http/1.1"])) if rare() else "HTTP/1.1"
    fields = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(
            st.text(st.sampled_from(NEAR_TOKEN if rare() else TOKEN), min_size=1, max_size=12)
        )
        value = draw(st.text(st.sampled_from(ODD if rare() else PRINTABLE), max_size=20))
        fields.append((name, value))
    body = draw(st.binary(max_size=40))
    length = str(len(body))
    if rare():
        length = draw(st.sampled_from([f"0{len(body)}", f" {len(body)}\t", "x", "-1", ""]))
    extra = [("Content-Length", length)]
    if not rare():
        extra.append(("Host", draw(st.sampled_from(["h", "", "127.0.0.1:80"]))))
    if draw(st.booleans()):
        connection = draw(st.sampled_from(["close", "keep-alive", "Close", "upgrade"]))
        extra.append((draw(st.sampled_from(["Connection", "connection"])), connection))
    if draw(st.booleans()):
        extra.append(("Content-Type", "application/json"))
    if rare():  # a header twice: aiohttp refuses a second Host, Content-Length, Content-Type
        extra.append(draw(st.sampled_from(fields + extra)))
    for field in extra:
        fields.insert(draw(st.integers(0, len(fields))), field)
    head = f"POST {path} {version}\r\n" + "".join(f"{n}:{v}\r\n" for n, v in fields)
    return (head + "\r\n").encode("utf-8", "surrogateescape") + body


async def test_what_the_lane_takes_aiohttp_reads_alike() -> None:
    drawn: list[bytes] = []

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(near_plain())
    def collect(raw: bytes) -> None:
        drawn.append(raw)

    collect()  # draws only: the sockets run in this loop, below
    taken = [(raw, head) for raw in drawn if isinstance(head := parse_head(bytearray(raw)), tuple)]
    assert len(taken) >= 50  # the strategy reaches the lane often enough to mean something
    seen: list[tuple[str, int | None, bool]] = []

    async def handler(request: web.BaseRequest) -> web.Response:
        await request.read()
        seen.append((request.path, request.content_length, request.keep_alive))
        return web.Response(text="OK")

    bare = web.Server(handler, access_log=None, max_line_size=2048, max_field_size=2048)
    listener = await asyncio.get_running_loop().create_server(bare, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        for raw, (path, length, close, _) in taken:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            writer.close()
            status = int(head.split()[1])
            assert status == 200, raw
            assert seen.pop() == (path, length, not close), raw
    finally:
        listener.close()
        await bare.shutdown(1.0)
        await listener.wait_closed()
