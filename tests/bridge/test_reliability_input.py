"""Bad input against the live CallbackServer over raw sockets (G1, G3, G10, G11).

Every request gets a 4xx or 200, never a 5xx; nothing is delivered for invalid input; no
record at ERROR and no exception the loop saw nobody handle. The malformed corpus and the
generated requests share one server per test.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import logging
import time
import tracemalloc
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nukiasync.bridge.callbacks import parse_callback
from nukiasync.bridge.server import CallbackServer
from nukiasync.errors import NukiCallbackError
from tests.soak.harness import BRIDGE, STRANGER, Recorder, percentile, rerun_without_coverage, watch
from tests.support import canary

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.soak.harness import Watch

ALLOWED = {200, 400, 403, 404, 405, 413, 415, 429}
# Corpus entries whose body is a valid callback: the oddity is elsewhere and harmless.
VALID_DESPITE = {"header invalid utf-8", "forwarded spoof", "string state"}
VALID = json.dumps({"deviceType": 4, "nukiId": 77, "state": 3, "batteryCritical": False}).encode()
FAST = {"request_timeout": 1.0, "idle_timeout": 1.0, "shutdown_timeout": 3.0}


class Live:
    """A started server, its path, a recorder and the watch over logs and the loop."""

    def __init__(self, server: CallbackServer, recorder: Recorder, seen: Watch) -> None:
        self.server = server
        self.recorder = recorder
        self.seen = seen
        self.path = urlsplit(server.callback_url()).path
        canary.register(self.path.rsplit("/", 1)[1])

    def check_clean(self) -> None:
        assert not self.seen.records, self.seen.describe()
        assert not self.seen.unhandled, self.seen.describe()
        stats = self.server.receiver().stats
        assert stats.received == stats.accepted + stats.rejected_total
        assert stats.delivered == stats.accepted


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    recorder = Recorder()
    server = CallbackServer(recorder, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST)
    with watch(asyncio.get_running_loop()) as seen:
        async with server:
            yield Live(server, recorder, seen)


def request(
    path: str,
    body: bytes = VALID,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    length: bool = True,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body


def chunked(body: bytes, size: int = 512) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


async def send_raw(port: int, raw: bytes, source: str = BRIDGE, limit: float = 5.0) -> int | None:
    """Send bytes, return the status of the answer (None when closed without one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        async with asyncio.timeout(limit):
            try:
                writer.write(raw)
                await writer.drain()
            except OSError:  # the server answered and closed before reading it all
                pass
            try:
                line = await reader.readline()
            except OSError:
                return None
    finally:
        writer.close()
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


# The hand corpus (G3 b)


def corpus(path: str) -> list[tuple[str, bytes]]:
    deep = b"[" * 2000 + b"]" * 2000
    deep_obj = b'{"a":' * 2000 + b"1" + b"}" * 2000
    bodies = {
        "not json": b"not json",
        "truncated": VALID[:-5],
        "empty": b"",
        "whitespace": b" \r\n\t ",
        "array": b"[]",
        "string": b'"x"',
        "null": b"null",
        "number": b"1",
        "2000-deep arrays": deep,
        "2000-deep objects": deep_obj,  # 10 KB: refused by size before parsing
        "huge int": b'{"nukiId": 1' + b"0" * 4000 + b', "state": 1, "deviceType": 4}',
        "huge int 2**64": json.dumps({"nukiId": 2**64, "state": 1, "deviceType": 4}).encode(),
        "negative id": b'{"nukiId": -1, "state": 1, "deviceType": 4}',
        "NaN": b'{"nukiId": 5, "state": NaN, "deviceType": 4}',
        "Infinity": b'{"nukiId": 5, "state": 1, "batteryChargeState": Infinity}',
        "duplicate keys": b'{"nukiId": 5, "state": 1, "state": 3, "deviceType": 4}',
        "bool for int": b'{"nukiId": true, "state": 1, "deviceType": 4}',
        "string state": b'{"nukiId": 5, "state": "3", "deviceType": 4}',
        "missing state": b'{"nukiId": 5, "deviceType": 4}',
        "missing nukiId": b'{"state": 3, "deviceType": 4}',
        "BOM": b"\xef\xbb\xbf" + VALID,
        "invalid utf-8": b'{"nukiId": 5, "state": 1, "stateName": "\xff\xfe"}',
        "lone surrogate": b'{"nukiId": 5, "state": 1, "stateName": "\\ud800"}',
        "NUL": b'{"nukiId": 5,\x00 "state": 1}',
    }
    cases = [(name, request(path, body)) for name, body in bodies.items()]
    cases += [
        (f"method {m}", request(path, b"" if m in {"GET", "HEAD"} else VALID, method=m))
        for m in ("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO")
    ]
    cases += [
        ("text/plain bad body", request(path, b"state=3", headers={"Content-Type": "text/plain"})),
        (
            "multipart",
            request(path, b"--x\r\n\r\n--x--", headers={"Content-Type": "multipart/form-data"}),
        ),
        ("gzip", request(path, gzip.compress(VALID), headers={"Content-Encoding": "gzip"})),
        ("br", request(path, VALID, headers={"Content-Encoding": "br"})),
        ("oversize length", request(path, b" " * 5000)),
        (
            "length lies high",
            request(path, VALID, headers={"Content-Length": "99999"}, length=False),
        ),
        ("length negative", request(path, VALID, headers={"Content-Length": "-1"}, length=False)),
        ("length text", request(path, VALID, headers={"Content-Length": "ten"}, length=False)),
        (
            "length twice",
            request(path, VALID, headers={"Content-Length": "3"}, length=True),
        ),
        (
            "length and chunked",
            request(path, chunked(VALID), headers={"Transfer-Encoding": "chunked"}),
        ),
        (
            "chunked oversize",
            request(
                path, chunked(b" " * 8000), headers={"Transfer-Encoding": "chunked"}, length=False
            ),
        ),
        (
            "chunked bad size",
            request(
                path,
                b"zz\r\nabc\r\n0\r\n\r\n",
                headers={"Transfer-Encoding": "chunked"},
                length=False,
            ),
        ),
        (
            "chunked tiny chunks",
            request(
                path,
                chunked(b" " * 4000, 1),
                headers={"Transfer-Encoding": "chunked"},
                length=False,
            ),
        ),
        ("header flood", request(path, headers={f"X-H{i}": "v" for i in range(200)})),
        ("long header", request(path, headers={"X-Long": "v" * 10_000})),
        ("long path", request(path + "a" * 10_000)),
        ("header invalid utf-8", request(path, headers={"X-Bad": "\udcff\udcfe"})),
        ("path invalid utf-8", request(path[:-1] + "\udcff")),
        ("forwarded spoof", request(path, headers={"X-Forwarded-For": BRIDGE})),
        (
            "expect continue oversize",
            request(path, b" " * 5000, headers={"Expect": "100-continue"}),
        ),
        ("binary garbage", bytes(range(256)) * 4),
        ("http/0.9", b"GET /\r\n\r\n"),
        ("bad version", f"POST {path} HTTP/7.1\r\nContent-Length: 2\r\n\r\n{{}}".encode()),
        ("space in path", f"POST {path} x HTTP/1.1\r\nContent-Length: 0\r\n\r\n".encode()),
    ]
    return cases


@pytest.fixture
async def outside_coverage(request: pytest.FixtureRequest) -> bool:
    """True when the test already ran in a child pytest without coverage (see harness)."""
    return await rerun_without_coverage(request.node.nodeid)


@pytest.fixture
async def live_or_none(outside_coverage: bool) -> AsyncIterator[Live | None]:
    if outside_coverage:
        yield None
        return
    recorder = Recorder()
    server = CallbackServer(recorder, host="127.0.0.1", allowed_sources=[BRIDGE], **FAST)
    with watch(asyncio.get_running_loop()) as seen:
        async with server:
            yield Live(server, recorder, seen)


async def test_malformed_corpus(live_or_none: Live | None) -> None:
    if live_or_none is None:
        return  # judged in a child pytest without coverage
    live = live_or_none
    port = live.server.port
    statuses: dict[str, int | None] = {}
    for name, raw in corpus(live.path):
        statuses[name] = await send_raw(port, raw)
    statuses["stranger valid"] = await send_raw(port, request(live.path), source=STRANGER)
    print(f"\nG3 corpus: {len(statuses)} requests: {sorted(statuses.items())}")  # noqa: T201
    unexpected = {k: v for k, v in statuses.items() if v not in ALLOWED}
    assert not unexpected
    valid = {k for k, v in statuses.items() if v == 200}
    assert valid == VALID_DESPITE  # junk beside a valid body: the body decides
    assert statuses["gzip"] == statuses["br"] == 415
    assert statuses["oversize length"] == statuses["chunked oversize"] == 413
    assert statuses["2000-deep arrays"] == 400
    assert statuses["2000-deep objects"] == 413
    assert statuses["method GET"] == statuses["method PUT"] == 405
    assert statuses["stranger valid"] == 403
    await live.recorder.wait_for(len(valid))
    assert len(live.recorder.items) == len(valid)
    live.check_clean()


def test_deep_nesting_is_refused_by_the_parser_itself() -> None:
    """G1: 2,000-deep objects are refused by the parser too, when a body limit lets them in."""
    lone = b'{"nukiId": 5, "deviceType": 4, "state": 1, "stateName": "\\ud800"}'
    for body in (b'{"a":' * 2000 + b"1" + b"}" * 2000, b"[" * 100_000, lone):
        with pytest.raises(NukiCallbackError):
            parse_callback(body)


async def test_valid_body_is_judged_by_its_bytes_not_its_content_type(live: Live) -> None:
    """The bridge's Content-Type is undocumented: the body decides (refusing it is 415's job
    only for compressed bodies, decision 0001)."""
    raw = request(live.path, VALID, headers={"Content-Type": "text/plain"})
    assert await send_raw(live.server.port, raw) == 200
    await live.recorder.wait_for(1)
    live.check_clean()


# Body limits and the gzip bomb (G11)


async def test_gzip_bomb_memory_stays_flat(live: Live) -> None:
    bomb = gzip.compress(b" " * (50 * 1024 * 1024), compresslevel=9)
    framings = {
        "gzip length": request(live.path, bomb, headers={"Content-Encoding": "gzip"}),
        "gzip chunked": request(
            live.path,
            chunked(bomb, 4096),
            headers={"Content-Encoding": "gzip", "Transfer-Encoding": "chunked"},
            length=False,
        ),
        "gzip as identity": request(live.path, bomb),
        "gzip chunked as identity": request(
            live.path, chunked(bomb, 4096), headers={"Transfer-Encoding": "chunked"}, length=False
        ),
    }
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        statuses = {name: await send_raw(live.server.port, raw) for name, raw in framings.items()}
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(  # noqa: T201
        f"\nG11 gzip bomb ({len(bomb)} B inflating to 50 MiB): {statuses}, "
        f"peak {peak / 1024 / 1024:.2f} MiB above baseline"
    )
    assert statuses == {
        "gzip length": 413,  # Content-Length says too big before the encoding is looked at
        "gzip chunked": 415,
        "gzip as identity": 413,
        "gzip chunked as identity": 413,
    }
    assert peak < 10 * 1024 * 1024
    assert live.recorder.items == []
    live.check_clean()


# Slowloris (G10): 200 slow connections, the bridge still gets through


async def test_slowloris_200_connections(live: Live) -> None:
    port = live.server.port
    path = live.path
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(VALID)}\r\n".encode()
    conns = [("idle" if i % 2 else "header", STRANGER) for i in range(185)]
    conns += [("body", BRIDGE)] * 12  # the bridge's own pool holds 16
    opened = []
    started = time.monotonic()
    for kind, source in conns:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        if kind == "body":
            writer.write(head + b"\r\n" + VALID[:3])
        elif kind == "header":
            writer.write(head[:8])
        opened.append((kind, reader, writer))

    async def closed_at(reader: asyncio.StreamReader) -> float:
        try:
            while await reader.read(1024):
                pass
        except OSError:
            pass
        return time.monotonic() - started

    waits = [asyncio.create_task(closed_at(r), name="slowloris-close") for _, r, _ in opened]

    async def trickle() -> None:
        for _ in range(30):  # bounded: 3 s at most
            for kind, _, writer in opened:
                if kind != "idle" and not writer.is_closing():
                    writer.write(b"X" if kind == "header" else b" ")
            await asyncio.sleep(0.1)  # the trickle's own pace

    trickler = asyncio.create_task(trickle(), name="slowloris-trickle")
    latencies = []
    try:
        for _ in range(20):
            t0 = time.perf_counter()
            assert await send_raw(port, request(path)) == 200
            latencies.append(time.perf_counter() - t0)
        closed = await asyncio.wait_for(asyncio.gather(*waits), 5)
    finally:
        trickler.cancel()
        await asyncio.gather(trickler, *waits, return_exceptions=True)
        for _, _, writer in opened:
            writer.close()
    stats = live.server.stats.connections
    p99 = percentile(latencies, 0.99) * 1000
    print(  # noqa: T201
        f"\nG10 slowloris: {len(opened)} slow connections, refused {stats.refused}, "
        f"expired {stats.expired}, legit p99 {p99:.1f} ms, last closed after {max(closed):.2f} s"
    )
    assert p99 < 100
    assert max(closed) < FAST["request_timeout"] + 1.0 + 0.5  # deadline + 1 s (+ setup)
    assert stats.refused >= 185 - 64
    await live.recorder.wait_for(20)
    live.check_clean()


# Generated requests (G1, G3 a)

_TOKEN = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12
)
_FORBIDDEN = {"content-length", "transfer-encoding", "host", "connection", "expect"}
_HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
) | (
    st.binary(max_size=60).map(
        lambda b: bytes(c for c in b if c not in b"\r\n\x00").decode("latin-1")
    )
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_CALLBACK_KEYS = ["nukiId", "deviceType", "state", "mode", "batteryCritical", "doorsensorState"]


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "callback", "callback", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(_JSON)).encode()
    body = {
        "nukiId": draw(st.integers(0, 2**32)),
        "deviceType": 4,
        "state": draw(st.integers(0, 255)),
    }
    if kind == "mutated":
        key = draw(st.sampled_from(_CALLBACK_KEYS))
        body[key] = draw(_JSON)
    return json.dumps(body).encode()


@st.composite
def requests(draw: st.DrawFn, path: str) -> tuple[str, bytes, str]:
    method = draw(
        st.one_of(
            st.just("POST"),
            st.just("POST"),
            st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
            _TOKEN,
        )
    )
    where = draw(st.sampled_from(["right", "right", "wrong", "prefix", "random"]))
    target = {
        "right": path,
        "wrong": path[:-4] + "AAAA",
        "prefix": path.rsplit("/", 1)[0] + "/",
        "random": "/" + draw(st.text(alphabet="abc/%.-_~0123456789", max_size=40)),
    }[where]
    headers = draw(
        st.dictionaries(
            _TOKEN.filter(lambda h: h.lower() not in _FORBIDDEN), _HEADER_VALUE, max_size=6
        )
    )
    body = draw(bodies())
    framing = draw(st.sampled_from(["length", "length", "chunked"]))
    if framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        raw = request(target, chunked(body, 64), method=method, headers=headers, length=False)
    else:
        raw = request(target, body, method=method, headers=headers)
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), None)
    valid = method == "POST" and where == "right" and encoding in {None, "", "identity"}
    if valid:
        try:
            parse_callback(body)
        except NukiCallbackError:
            valid = False
    # Control characters in a header value break HTTP itself: aiohttp's parser says 400.
    clean = all(
        c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F) for v in headers.values() for c in v
    )
    expect = ("200" if clean else "400") if valid else "refused"
    return method, raw, expect


GENERATED = 400


async def test_generated_requests(live_or_none: Live | None) -> None:
    """Hypothesis draws requests; each goes over a real socket from 127.0.0.2 or .3."""
    if live_or_none is None:
        return  # judged in a child pytest without coverage
    live = live_or_none
    results: list[tuple[bytes, str, str]] = []
    port = live.server.port

    @settings(
        max_examples=GENERATED,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests(live.path), st.sampled_from([BRIDGE, BRIDGE, BRIDGE, STRANGER]))
    def generated(drawn: tuple[str, bytes, str], source: str) -> None:
        _, raw, expect = drawn
        results.append((raw, source, expect if source == BRIDGE else "refused"))

    generated()  # draws only: the sockets run in this loop, below
    sent: list[tuple[int | None, str]] = []
    for raw, source, expect in results:
        sent.append((await send_raw(port, raw, source=source), expect))
    statuses = sorted({s for s, _ in sent}, key=str)
    accepted = sum(1 for s, _ in sent if s == 200)
    print(f"\nG1/G3 generated: {len(sent)} requests, statuses {statuses}, {accepted} valid")  # noqa: T201
    assert all(s in ALLOWED for s, _ in sent), [s for s, _ in sent if s not in ALLOWED]
    wrong = [
        (status, expect, raw[:300])
        for (status, expect), (raw, _, _) in zip(sent, results, strict=True)
        if (status == 200) != (expect == "200") or (expect == "400" and status != 400)
    ]
    assert not wrong
    await live.recorder.wait_for(accepted)
    assert len(live.recorder.items) == accepted
    live.check_clean()


def test_no_error_level_logging_configured_away() -> None:
    """The watch really sees ERROR records (else the checks above prove nothing)."""
    with watch() as seen:
        logging.getLogger("nukiasync.test").error("seen")
    assert len(seen.records) == 1


def test_protocol_log_quiets_parse_errors_only(caplog: pytest.LogCaptureFixture) -> None:
    """ProtocolLog: parse errors become one DEBUG line; everything else passes unchanged."""
    from aiohttp.http_exceptions import BadStatusLine

    from nukiasync.bridge._serving import ProtocolLog

    log = ProtocolLog(logging.getLogger("aiohttp.server"))
    secret = canary.register("protocolLogSecret0123456789")
    parse_error = BadStatusLine(f"POST /nukiasync/bridge/{secret} HTTP/7.1")
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        log.exception("Error handling request from %s", "127.0.0.3", exc_info=parse_error)  # noqa: LOG004
        log.debug("Error handling request from %s", "127.0.0.3", exc_info=parse_error)
        try:
            raise parse_error
        except BadStatusLine:
            log.exception("Error handling request from %s", "127.0.0.3")
            import sys

            log.exception("Error handling request from %s", "127.0.0.3", exc_info=sys.exc_info())  # noqa: G202
        log.debug("Ignored premature client disconnection")
        log.exception("Unhandled exception", exc_info=RuntimeError("a bug of ours"))  # noqa: LOG004
        assert log.isEnabledFor(logging.DEBUG)  # anything else goes to the logger
    levels = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert levels == [
        ("DEBUG", "Malformed request from 127.0.0.3: BadStatusLine"),
        ("DEBUG", "Malformed request from 127.0.0.3: BadStatusLine"),
        ("DEBUG", "Malformed request from 127.0.0.3: BadStatusLine"),
        ("DEBUG", "Malformed request from 127.0.0.3: BadStatusLine"),
        ("DEBUG", "Ignored premature client disconnection"),
        ("ERROR", "Unhandled exception"),
    ]
    assert secret not in caplog.text
