"""Known answers and freshness of the bridge's three token modes (G20)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from nacl.secret import SecretBox

from nukiasync.bridge import token as tk

# Nuki's Bridge HTTP API 1.13.3, "Token" section: token 123456, ts 2019-03-05T01:06:53Z,
# rnr 4711.
DOC_TOKEN = "123456"
DOC_NOW = datetime(2019, 3, 5, 1, 6, 53, tzinfo=UTC)
DOC_RNR = 4711
DOC_HASH = "f52eb5ce382e356c4239f8fb4d0a87402bb95b7b3124f0762b806ad7d0d01cb6"
DOC_CTOKEN = "a7f6b4df6758b92445bd5470b755b43ba41cf50af8b3f6e19368348ddfb1686291555dfd90b31f9333"
DOC_NONCE = "119c38fb6d7d707b8a45f14e688b74b8c4c1acf33643c71a"


def test_hashed_known_answer() -> None:
    params = tk.hashed_params(DOC_TOKEN, now=DOC_NOW, rnr=DOC_RNR)
    assert params == {"ts": "2019-03-05T01:06:53Z", "rnr": "4711", "hash": DOC_HASH}


def test_encrypted_known_answer_reproduces_the_documented_ctoken() -> None:
    params = tk.encrypted_params(
        DOC_TOKEN, now=DOC_NOW, rnr=DOC_RNR, nonce=bytes.fromhex(DOC_NONCE)
    )
    assert params == {"ctoken": DOC_CTOKEN, "nonce": DOC_NONCE}


def test_documented_ctoken_decrypts_with_sha256_key() -> None:
    box = SecretBox(hashlib.sha256(DOC_TOKEN.encode()).digest())
    plain = box.decrypt(bytes.fromhex(DOC_CTOKEN), bytes.fromhex(DOC_NONCE))
    assert plain == b"2019-03-05T01:06:53Z,4711"


def test_timestamp_is_utc_whole_seconds() -> None:
    vienna = timezone(timedelta(hours=1))
    when = datetime(2019, 3, 5, 2, 6, 53, 987654, tzinfo=vienna)
    assert tk.format_timestamp(when) == "2019-03-05T01:06:53Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        tk.format_timestamp(datetime(2019, 3, 5))  # noqa: DTZ001


def test_plain_mode() -> None:
    assert tk.auth_params(DOC_TOKEN, "plain") == {"token": DOC_TOKEN}


def test_auth_params_with_fixed_inputs_match_the_pure_functions() -> None:
    nonce = bytes.fromhex(DOC_NONCE)
    hashed = tk.auth_params(DOC_TOKEN, "hashed", now=DOC_NOW, rnr=DOC_RNR)
    assert hashed["hash"] == DOC_HASH
    encrypted = tk.auth_params(DOC_TOKEN, "encrypted", now=DOC_NOW, rnr=DOC_RNR, nonce=nonce)
    assert encrypted["ctoken"] == DOC_CTOKEN


def test_every_call_is_fresh() -> None:
    encrypted = [tk.auth_params(DOC_TOKEN, "encrypted") for _ in range(50)]
    assert len({p["nonce"] for p in encrypted}) == 50
    assert len({p["ctoken"] for p in encrypted}) == 50
    hashed = [tk.auth_params(DOC_TOKEN, "hashed") for _ in range(50)]
    assert len({p["rnr"] for p in hashed}) > 40  # 16-bit random numbers, rare repeats
    assert all(0 <= int(p["rnr"]) < tk.RNR_LIMIT for p in hashed)


def test_wall_time_is_used_by_default() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    params = tk.auth_params(DOC_TOKEN, "hashed")
    when = datetime.strptime(params["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= when <= datetime.now(UTC)


def test_wrong_nonce_size_and_mode_are_refused() -> None:
    with pytest.raises(ValueError, match="24 bytes"):
        tk.encrypted_params(DOC_TOKEN, now=DOC_NOW, rnr=1, nonce=b"short")
    with pytest.raises(ValueError, match="token_mode"):
        tk.auth_params(DOC_TOKEN, "rot13")  # type: ignore[arg-type]
    assert [tk.check_token_mode(m) for m in tk.TOKEN_MODES] == list(tk.TOKEN_MODES)
    assert tk.is_time_based("encrypted")
    assert tk.is_time_based("hashed")
    assert not tk.is_time_based("plain")
