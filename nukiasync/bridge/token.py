"""The Bridge HTTP API's three ways to send the API token, as pure functions.

Every endpoint except ``/auth`` needs one of (Bridge HTTP API 1.13.3, "Token"):

- ``encrypted`` (default, bridge firmware 1.22.1 / 2.14.0 and newer): ``ctoken`` and
  ``nonce``, the hex of a NaCl ``crypto_secretbox`` (XSalsa20-Poly1305) of
  ``"<ts>,<rnr>"`` keyed with the raw SHA-256 of the token. The token never travels.
- ``hashed`` (deprecated by Nuki): ``ts``, ``rnr`` and
  ``hash = sha256("<ts>,<rnr>,<token>")``.
- ``plain``: ``token=`` in the query; anyone on the LAN path can read it.

Both time-based modes are valid for 60 s of the *bridge's* clock and only once, so every
request (retries included) gets a fresh ``rnr`` and nonce from :mod:`secrets`, and the
timestamp always comes from wall time (decision 0007). Tests pass ``now``, ``rnr`` and
``nonce`` to check the documented known answers.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Final, Literal, get_args

from nacl.secret import SecretBox

from nukiasync.clock import utcnow

TokenMode = Literal["encrypted", "hashed", "plain"]
TOKEN_MODES: Final[tuple[str, ...]] = get_args(TokenMode)

# rnr is documented as a random number; existing clients send 0..65535, which every
# firmware accepts. Collisions only matter within one second and one token.
RNR_LIMIT = 1 << 16
# XSalsa20-Poly1305 takes a 24-byte nonce; random nonces of this size never repeat in
# practice.
NONCE_SIZE = SecretBox.NONCE_SIZE


def format_timestamp(now: datetime) -> str:
    """Format a time as the bridge expects it: UTC, ``YYYY-MM-DDTHH:MM:SSZ``.

    Raises:
        ValueError: ``now`` is naive (its time zone would be a guess).
    """
    if now.tzinfo is None:
        msg = "now must be timezone-aware"
        raise ValueError(msg)
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hashed_params(token: str, *, now: datetime, rnr: int) -> dict[str, str]:
    """Return the ``ts``, ``rnr`` and ``hash`` query parameters of the hashed mode."""
    ts = format_timestamp(now)
    digest = hashlib.sha256(f"{ts},{rnr},{token}".encode()).hexdigest()
    return {"ts": ts, "rnr": str(rnr), "hash": digest}


def encrypted_params(token: str, *, now: datetime, rnr: int, nonce: bytes) -> dict[str, str]:
    """Return the ``ctoken`` and ``nonce`` query parameters of the encrypted mode.

    Raises:
        ValueError: the nonce is not 24 bytes long.
    """
    if len(nonce) != NONCE_SIZE:
        msg = f"nonce must be {NONCE_SIZE} bytes, got {len(nonce)}"
        raise ValueError(msg)
    key = hashlib.sha256(token.encode()).digest()
    plaintext = f"{format_timestamp(now)},{rnr}".encode()
    ciphertext = SecretBox(key).encrypt(plaintext, nonce).ciphertext
    return {"ctoken": ciphertext.hex(), "nonce": nonce.hex()}


def plain_params(token: str) -> dict[str, str]:
    """Return the ``token`` query parameter of the plain mode."""
    return {"token": token}


def check_token_mode(mode: str) -> TokenMode:
    """Return ``mode`` if it is one of the three token modes.

    Raises:
        ValueError: unknown mode.
    """
    if mode == "encrypted":
        return "encrypted"
    if mode == "hashed":
        return "hashed"
    if mode == "plain":
        return "plain"
    msg = f"token_mode must be one of {', '.join(TOKEN_MODES)}, got {mode!r}"
    raise ValueError(msg)


def auth_params(
    token: str,
    mode: TokenMode,
    *,
    now: datetime | None = None,
    rnr: int | None = None,
    nonce: bytes | None = None,
) -> dict[str, str]:
    """Return fresh authentication query parameters for one request.

    ``now``, ``rnr`` and ``nonce`` default to wall time and :mod:`secrets`; pass them
    only to reproduce a known answer.

    Raises:
        ValueError: unknown mode or a malformed nonce.
    """
    mode = check_token_mode(mode)
    if mode == "plain":
        return plain_params(token)
    when = now if now is not None else utcnow()
    number = rnr if rnr is not None else secrets.randbelow(RNR_LIMIT)
    if mode == "hashed":
        return hashed_params(token, now=when, rnr=number)
    box_nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_SIZE)
    return encrypted_params(token, now=when, rnr=number, nonce=box_nonce)


def is_time_based(mode: TokenMode) -> bool:
    """Tell whether a 401 in this mode may mean clock skew as well as a wrong token."""
    return mode != "plain"
