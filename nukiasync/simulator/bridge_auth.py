"""The bridge's token checks, written from the Bridge HTTP API 1.13.3 document.

Three ways to prove the token (every endpoint but ``/auth``):

- plain: ``token=<token>``;
- hashed: ``ts`` (UTC ``YYYY-MM-DDTHH:MM:SSZ``), ``rnr`` and ``hash`` = SHA-256 hex of
  ``"ts,rnr,token"``;
- encrypted: ``ctoken`` = hex of the NaCl secretbox (XSalsa20-Poly1305, key = SHA-256 of the
  token) of ``"ts,rnr"`` under the 24-byte ``nonce`` (hex).

A time-based proof is accepted once, within 60 s of the bridge's wall clock (its own, which
may be skewed): reusing a ``ts,rnr`` pair or a nonce is refused like a wrong hash.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

if TYPE_CHECKING:
    from collections.abc import Mapping

WINDOW = 60.0  # seconds a time-based token is valid (Bridge API 1.13.3)
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class TokenChecker:
    """Checks one bridge token and remembers the proofs already used."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._used: dict[str, float] = {}

    def __repr__(self) -> str:
        return "TokenChecker(token=***)"

    def check(self, query: Mapping[str, str], now: float) -> bool:
        """Whether ``query`` carries a valid, fresh, unused proof at wall time ``now``."""
        self._used = {key: until for key, until in self._used.items() if until > now}
        if "token" in query:
            return hmac.compare_digest(query["token"].encode(), self.token.encode())
        if "ctoken" in query and "nonce" in query:
            return self._check_encrypted(query["ctoken"], query["nonce"], now)
        if {"ts", "rnr", "hash"} <= query.keys():
            text = f"{query['ts']},{query['rnr']},{self.token}"
            expected = hashlib.sha256(text.encode()).hexdigest()
            if not hmac.compare_digest(query["hash"].lower().encode(), expected.encode()):
                return False
            return self._fresh(query["ts"], query["rnr"], None, now)
        return False

    def _check_encrypted(self, ctoken: str, nonce: str, now: float) -> bool:
        key = hashlib.sha256(self.token.encode()).digest()
        try:
            plain = SecretBox(key).decrypt(bytes.fromhex(ctoken), bytes.fromhex(nonce))
            ts, rnr = plain.decode().split(",")
        except (ValueError, CryptoError):
            return False
        return self._fresh(ts, rnr, nonce.lower(), now)

    def _fresh(self, ts: str, rnr: str, nonce: str | None, now: float) -> bool:
        try:
            when = datetime.strptime(ts, TS_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return False
        keys = [f"rnr:{ts},{rnr}"] + ([f"nonce:{nonce}"] if nonce is not None else [])
        if abs(now - when) > WINDOW or any(key in self._used for key in keys):
            return False
        for key in keys:
            self._used[key] = when + WINDOW + 1
        return True
