"""parse_callback and CallbackReceiver: fixtures, malformed input, hypothesis, accounting."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nukiasync.bridge.callbacks import BridgeCallback, parse_callback
from nukiasync.bridge.receiver import CallbackReceiver, RejectReason, is_identity
from nukiasync.const import DeviceType, DoorSensorState, LockMode, LockState, OpenerState
from nukiasync.errors import NukiCallbackError
from tests.support import paths

FIXTURES = paths.FIXTURES / "callbacks"
EXAMPLES = 1000  # G1: at least 1,000 examples per CI run for each strategy


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def valid(**changes: Any) -> bytes:
    data: dict[str, Any] = json.loads(body("smartlock4_union.json"))
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


# parse_callback: documented and observed bodies


def test_smartlock_doc() -> None:
    cb = parse_callback(body("smartlock_doc.json"))
    assert cb.nuki_id == 11
    assert cb.device_type is DeviceType.SMARTLOCK
    assert cb.lock_state is LockState.LOCKED
    assert cb.state_name == "locked"
    assert cb.mode is LockMode.DOOR
    assert cb.mode_code == 2
    assert cb.battery_critical is False
    assert cb.battery_charging is False
    assert cb.battery_charge_state == 85
    assert cb.keypad_battery_critical is False
    assert cb.doorsensor_state is None
    assert cb.ringaction_timestamp is None
    assert cb.smartlock_id == 11
    assert not cb.is_opener
    assert cb.raw["stateName"] == "locked"


def test_doorsensor_doc() -> None:
    cb = parse_callback(body("smartlock_doorsensor_doc.json"))
    assert cb.doorsensor_state is DoorSensorState.DOOR_CLOSED
    assert cb.doorsensor_state_code == 2
    assert cb.doorsensor_state_name == "door closed"
    assert cb.keypad_battery_critical is None


def test_opener_doc() -> None:
    cb = parse_callback(body("opener_doc.json"))
    assert cb.is_opener
    assert cb.lock_state is OpenerState.RTO_ACTIVE
    assert cb.mode is LockMode.CONTINUOUS
    assert cb.ringaction_state is False
    assert cb.ringaction_timestamp == datetime(2020, 4, 27, 16, 13, tzinfo=UTC)
    assert cb.smartlock_id == (2 << 32) | 11
    assert cb.battery_charging is None


def test_opener_ring_converts_to_utc() -> None:
    cb = parse_callback(body("opener_ring.json"))
    assert cb.ringaction_state is True
    assert cb.lock_state is OpenerState.ONLINE
    assert cb.ringaction_timestamp == datetime(2020, 4, 27, 14, 13, tzinfo=UTC)


def test_smartlock4_union_body() -> None:
    cb = parse_callback(body("smartlock4_union.json"))
    assert cb.device_type is DeviceType.SMARTLOCK_3
    assert cb.lock_state is LockState.UNLOCKED
    assert cb.doorsensor_state is DoorSensorState.DOOR_OPENED
    assert cb.keypad_battery_critical is False
    assert cb.battery_charge_state == 72
    assert cb.smartlock_id == (4 << 32) | 1234567890


def test_doorsensor_tampered() -> None:
    cb = parse_callback(body("doorsensor_tampered.json"))
    assert cb.doorsensor_state is DoorSensorState.REMOVED
    assert cb.doorsensor_state_code == 240
    assert cb.doorsensor_state_name == "tampered"


def test_string_booleans() -> None:
    cb = parse_callback(body("string_booleans.json"))
    assert cb.battery_critical is False
    assert cb.battery_charging is True
    assert cb.keypad_battery_critical is False


def test_unknown_state_and_mode_keep_codes() -> None:
    cb = parse_callback(body("unknown_state.json"))
    assert cb.lock_state is LockState.UNKNOWN
    assert cb.state_code == 42
    assert cb.mode is LockMode.UNKNOWN
    assert cb.mode_code == 9


@pytest.mark.parametrize(
    ("device_type", "expected"),
    [
        (0, LockState.UNLOCKED),
        (3, LockState.UNLOCKED),
        (4, LockState.UNLOCKED),
        (5, LockState.UNLOCKED),
        (2, OpenerState.RTO_ACTIVE),
        (1, LockState.UNKNOWN),
        (9, LockState.UNKNOWN),
    ],
)
def test_state_enum_by_device_type(device_type: int, expected: object) -> None:
    cb = parse_callback(valid(deviceType=device_type, state=3))
    assert cb.lock_state is expected
    assert cb.state_code == 3


def test_missing_device_type_means_smartlock_and_digit_strings() -> None:
    cb = parse_callback(b'{"nukiId": "17", "state": "1"}')
    assert cb.device_type is DeviceType.SMARTLOCK
    assert cb.nuki_id == 17
    assert cb.lock_state is LockState.LOCKED


def test_repr_hides_raw_and_equality_ignores_it() -> None:
    a = parse_callback(valid())
    b = BridgeCallback.from_api({**json.loads(valid()), "extra": 1})
    assert a == b
    assert "raw" not in repr(a)


# parse_callback: malformed input, each with its reason

MALFORMED = [
    (b"\xff\xfe", "not_utf8"),
    (b"\xef\xbb\xbf" + valid(), "not_json"),
    (b"", "not_json"),
    (b"{", "not_json"),
    (b"[" * 2000 + b"]" * 2000, "not_json"),
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, "not_json"),
    (b'{"nukiId": ' + b"9" * 5000 + b', "state": 1}', "not_json"),
    (b'{"nukiId": NaN, "state": 1}', "not_json"),
    (b'{"nukiId": Infinity, "state": 1}', "not_json"),
    (b'{"nukiId": 1e999, "state": 1}', "not_json"),
    (b'{"nukiId": 1, "nukiId": 2, "state": 1}', "not_json"),
    (b"[]", "wrong_shape"),
    (b'"text"', "wrong_shape"),
    (b"null", "wrong_shape"),
    (b'{"state": 1}', "missing_field"),
    (b'{"nukiId": 1}', "missing_field"),
    (b'{"nukiId": true, "state": 1}', "wrong_type"),
    (b'{"nukiId": 1, "state": false}', "wrong_type"),
    (b'{"nukiId": 1.5, "state": 1}', "wrong_type"),
    (b'{"nukiId": "0x1", "state": 1}', "wrong_type"),
    (b'{"nukiId": [1], "state": 1}', "wrong_type"),
    (b'{"nukiId": 1, "state": 1, "stateName": 5}', "wrong_type"),
    (b'{"nukiId": 1, "state": 1, "batteryCritical": "maybe"}', "wrong_type"),
    (b'{"nukiId": 1, "state": 1, "ringactionTimestamp": "yesterday"}', "wrong_type"),
    (b'{"nukiId": 1, "state": 1, "ringactionTimestamp": 5}', "wrong_type"),
    (
        b'{"nukiId": 1, "state": 1, "ringactionTimestamp": "0001-01-01T00:00:00+01:00"}',
        "wrong_type",
    ),
    (b'{"nukiId": 4294967296, "state": 1}', "out_of_range"),
    (b'{"nukiId": -1, "state": 1}', "out_of_range"),
    (b'{"nukiId": 1, "state": 256}', "out_of_range"),
    (b'{"nukiId": 1, "state": 1, "deviceType": 16}', "out_of_range"),
    (b'{"nukiId": 1, "state": 1, "batteryChargeState": 101}', "out_of_range"),
]


@pytest.mark.parametrize(("raw", "reason"), MALFORMED)
def test_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(NukiCallbackError) as info:
        parse_callback(raw)
    assert info.value.reason == reason


# G1: the parser is total; hypothesis over bytes, JSON trees and mutations

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_TREES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)
KEYS = [*list(json.loads(body("smartlock4_union.json"))), "ringactionTimestamp", "ringactionState"]
ODD_VALUES = (
    JSON_LEAVES
    | st.sampled_from(
        [
            ...,  # key removed
            "NaN",
            "true",
            "",
            "2020-04-27T16:13:00Z",
            -1,
            256,
            2**32,
            10**30,
            [],
            {},
        ]
    )
    | JSON_TREES
)


def check_total(raw: bytes) -> None:
    try:
        result = parse_callback(raw)
    except NukiCallbackError as err:
        assert err.reason  # noqa: PT017 - hypothesis needs the plain form
    else:
        assert isinstance(result, BridgeCallback)
        assert 0 <= result.nuki_id <= 0xFFFFFFFF
        assert result.smartlock_id >= 0


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(st.binary(max_size=512))
@example(b"[" * 3000)
@example(b"\xef\xbb\xbf{}")
def test_total_on_arbitrary_bytes(raw: bytes) -> None:
    check_total(raw)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(JSON_TREES)
def test_total_on_arbitrary_json(tree: Any) -> None:
    check_total(json.dumps(tree).encode())


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(
    st.dictionaries(st.sampled_from(KEYS), ODD_VALUES, max_size=4),
    st.sampled_from(["plain", "nan", "dup", "deep", "truncate", "flip"]),
    st.integers(min_value=0, max_value=400),
)
def test_total_on_mutated_valid_bodies(changes: dict[str, Any], how: str, pos: int) -> None:
    raw = valid(**changes)
    if how == "nan":
        raw = raw.replace(b"72", b"NaN")
    elif how == "dup":
        raw = raw[:-1] + b', "state": 1}'
    elif how == "deep":
        raw = raw[:-1] + b', "x": ' + b"[" * 2100 + b"]" * 2100 + b"}"
    elif how == "truncate":
        raw = raw[: pos % (len(raw) + 1)]
    elif how == "flip" and raw:
        i = pos % len(raw)
        raw = raw[:i] + bytes([raw[i] ^ 0x80]) + raw[i + 1 :]
    check_total(raw)


# CallbackReceiver


def receiver(consumer: Any = None, **kwargs: Any) -> CallbackReceiver:
    kwargs.setdefault("allowed_sources", ["127.0.0.2"])
    return CallbackReceiver(consumer or (lambda _cb: None), **kwargs)


def assert_accounting(rcv: CallbackReceiver) -> None:
    stats = rcv.stats
    assert stats.received == stats.accepted + stats.rejected_total


async def test_receiver_delivers_in_order_sync_consumer() -> None:
    got: list[BridgeCallback] = []
    done = asyncio.Event()

    def consume(cb: BridgeCallback) -> None:
        got.append(cb)
        if len(got) == 3:
            done.set()

    async with receiver(consume, bridge_id="b1") as rcv:
        for state in (1, 2, 3):
            assert rcv.handle(valid(state=state), "127.0.0.2").status == 200
        await asyncio.wait_for(done.wait(), 2)
        assert [cb.state_code for cb in got] == [1, 2, 3]
        assert any(t.get_name() == "nukiasync.callbacks[b1]" for t in asyncio.all_tasks())
    assert rcv.stats.delivered == 3
    assert_accounting(rcv)
    assert "b1" in repr(rcv)


async def test_receiver_async_consumer_and_drain_on_close() -> None:
    got: list[int] = []
    release = asyncio.Event()

    async def consume(cb: BridgeCallback) -> None:
        await release.wait()
        got.append(cb.state_code)

    rcv = receiver(consume)
    await rcv.start()
    for state in (1, 3):
        rcv.handle(valid(state=state), "127.0.0.2")
    closing = asyncio.create_task(rcv.close())
    release.set()
    await asyncio.wait_for(closing, 2)
    assert got == [1, 3]
    assert not rcv.running
    await rcv.close()  # idempotent


async def test_receiver_consumer_errors_are_counted() -> None:
    def consume(cb: BridgeCallback) -> None:
        msg = "boom"
        raise RuntimeError(msg)

    async with receiver(consume) as rcv:
        rcv.handle(valid(), "127.0.0.2")
    assert rcv.stats.consumer_errors == 1
    assert rcv.stats.delivered == 0


async def test_receiver_drain_timeout_gives_up() -> None:
    never = asyncio.Event()

    async def consume(cb: BridgeCallback) -> None:
        await never.wait()

    rcv = receiver(consume, drain_timeout=0.05)
    await rcv.start()
    rcv.handle(valid(), "127.0.0.2")
    await asyncio.wait_for(rcv.close(), 2)
    assert rcv.stats.delivered == 0


async def test_receiver_lifecycle_errors() -> None:
    rcv = receiver()
    rcv.handle(valid(), "127.0.0.2")
    await rcv.close()  # never started: the queued callback is reported, not lost silently
    with pytest.raises(RuntimeError, match="closed"):
        await rcv.start()
    assert rcv.handle(valid(), "127.0.0.2").reason is RejectReason.OVERLOAD
    started = receiver()
    await started.start()
    with pytest.raises(RuntimeError, match="already started"):
        await started.start()
    await started.close()


def test_receiver_rejections_and_accounting() -> None:
    rcv = receiver(max_body_size=300, queue_size=1)
    assert rcv.handle(valid(), "127.0.0.3").status == 403
    assert rcv.handle(valid(), None).status == 403
    assert rcv.handle(valid(), "not an ip").status == 403
    assert rcv.handle(b"x" * 301, "127.0.0.2").status == 413
    assert rcv.handle(valid(), "127.0.0.2", content_encoding="gzip").status == 415
    assert rcv.handle(b"[]", "127.0.0.2").status == 400
    assert rcv.handle(valid(), "127.0.0.2", content_encoding=" Identity ").status == 200
    assert rcv.handle(valid(), "127.0.0.2").status == 429  # the queue is full
    assert rcv.reject(RejectReason.SECRET, "127.0.0.2").status == 404
    assert rcv.reject(RejectReason.METHOD, "127.0.0.2").status == 405
    stats = rcv.stats
    assert stats.received == 10
    assert stats.accepted == 1
    assert dict(stats.rejected) == {
        "source": 3,
        "secret": 1,
        "method": 1,
        "size": 1,
        "encoding": 1,
        "malformed": 1,
        "overload": 1,
    }
    assert_accounting(rcv)


def test_precheck() -> None:
    rcv = receiver(max_body_size=100)
    assert rcv.precheck("127.0.0.2") is None
    assert rcv.precheck("127.0.0.3") is RejectReason.SOURCE
    assert rcv.precheck("127.0.0.2", method="GET") is RejectReason.METHOD
    assert rcv.precheck("127.0.0.2", content_length=101) is RejectReason.SIZE
    assert rcv.precheck("127.0.0.2", content_encoding="br") is RejectReason.ENCODING
    assert rcv.stats.received == 0


@pytest.mark.parametrize(
    ("peer", "forwarded", "allowed"),
    [
        ("127.0.0.2", None, True),
        ("::ffff:127.0.0.2", None, True),  # IPv4-mapped IPv6 of the bridge
        ("::ffff:127.0.0.3", None, False),
        ("127.0.0.3", "127.0.0.2", False),  # X-Forwarded-For from an untrusted peer
        ("127.0.0.9", "127.0.0.2", True),  # from a trusted proxy
        ("127.0.0.9", "127.0.0.3, 127.0.0.2", True),  # rightmost untrusted hop counts
        ("127.0.0.9", "127.0.0.2, 127.0.0.3", False),
        ("127.0.0.9", "127.0.0.2, 127.0.0.9", True),  # proxies skipped
        ("127.0.0.9", "127.0.0.9", False),  # only proxies: the proxy itself posted
        ("127.0.0.9", "garbage", False),
        ("127.0.0.9", None, False),
        ("fe80::1%eth0", None, False),
    ],
)
def test_source_allow_list(peer: str, forwarded: str | None, allowed: bool) -> None:
    rcv = receiver(allowed_sources=["127.0.0.2"], trusted_proxies="127.0.0.9")
    assert rcv.allows(peer, forwarded) is allowed


def test_allow_list_networks_and_mapped_entries() -> None:
    rcv = receiver(allowed_sources=["::ffff:127.0.0.2", "10.0.0.0/8"])
    assert rcv.allows("127.0.0.2")
    assert rcv.allows("10.1.2.3")
    assert rcv.is_allowed_peer("10.1.2.3")
    assert not rcv.is_allowed_peer("127.0.0.3")
    assert not rcv.is_allowed_peer(None)


def test_receiver_arguments() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        receiver(queue_size=0)
    with pytest.raises(ValueError, match="does not appear"):
        receiver(allowed_sources=["bridge.local"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), ("identity", True), ("gzip", False), ("gzip, identity", False)],
)
def test_is_identity(value: str | None, expected: bool) -> None:
    assert is_identity(value) is expected
